package monitoring

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/idaop/ida-operator/internal/controlplane"
)

// Every metric the alerts and the dashboard name belongs to a component
// whose tests check it is exported, and the extraction finds the ones a
// reader sees at a glance.
func TestUsedMetricsHaveOwners(t *testing.T) {
	root, err := controlplane.ProjectRoot()
	if err != nil {
		t.Fatal(err)
	}
	used, err := UsedMetrics(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"up", "ida_op_requests_total", "ida_op_request_duration_seconds_bucket", "ida_operator_signing_key_next_rotation_timestamp_seconds", "ida_users_http_calls_total"} {
		if !slices.Contains(used, want) {
			t.Errorf("UsedMetrics lacks %s: %v", want, used)
		}
	}
	for _, n := range used {
		owned := n == "up"
		for prefix := range Owners {
			owned = owned || strings.HasPrefix(n, prefix)
		}
		if !owned {
			t.Errorf("%s has no owner prefix in Owners", n)
		}
	}
}

// Every alert has a runbook section in docs/monitoring.md that its
// runbook_url points at, a severity, and a promtool test.
func TestEveryAlertHasARunbookAndATest(t *testing.T) {
	root, err := controlplane.ProjectRoot()
	if err != nil {
		t.Fatal(err)
	}
	groups, err := RuleGroups(root)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(root, "docs", "monitoring.md"))
	if err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile(filepath.Join(root, RuleTestsFile))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range groups {
		for _, r := range g.Rules {
			n++
			anchor := strings.ToLower(r.Alert)
			if !strings.HasSuffix(r.Annotations["runbook_url"], "docs/monitoring.md#"+anchor) {
				t.Errorf("%s: runbook_url %q does not point at docs/monitoring.md#%s", r.Alert, r.Annotations["runbook_url"], anchor)
			}
			if !strings.Contains(string(doc), "\n### "+r.Alert+"\n") {
				t.Errorf("%s: docs/monitoring.md has no section \"### %s\"", r.Alert, r.Alert)
			}
			if s := r.Labels["severity"]; s != "critical" && s != "warning" {
				t.Errorf("%s: severity %q", r.Alert, s)
			}
			if !strings.Contains(string(tests), "alertname: "+r.Alert+"\n") {
				t.Errorf("%s: no test in %s", r.Alert, RuleTestsFile)
			}
		}
	}
	if n < 10 {
		t.Fatalf("%d alerts read; the rules file was not parsed", n)
	}
}
