package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/idaop/ida-operator/internal/monitoring"
)

// config/prometheus renders the two PodMonitors and the PrometheusRule,
// and the API server accepts them with the Prometheus Operator's CRDs.
func TestMonitoringRendersAndIsAccepted(t *testing.T) {
	objs := render(t, "prometheus")
	kinds := map[string]int{}
	for _, u := range objs {
		kinds[u.GetKind()]++
		if u.GetNamespace() != operatorNamespace || u.GetLabels()["app.kubernetes.io/part-of"] != "ida-operator" {
			t.Errorf("%s %s: namespace %q labels %v", u.GetKind(), u.GetName(), u.GetNamespace(), u.GetLabels())
		}
	}
	if kinds["PodMonitor"] != 2 || kinds["PrometheusRule"] != 1 || len(objs) != 3 {
		t.Errorf("config/prometheus renders %v, want 2 PodMonitors and 1 PrometheusRule", kinds)
	}
	// The runtime's PodMonitor selects the pods the operator makes, on the
	// port the runtime's metrics are on.
	pm := find(objs, "PodMonitor", operatorNamespace, "ida-operator-runtime")
	if pm == nil {
		t.Fatal("no PodMonitor ida-operator-runtime")
	}
	sel, _, _ := unstructured.NestedStringMap(pm.Object, "spec", "selector", "matchLabels")
	if sel["app.kubernetes.io/name"] != "ida-runtime" {
		t.Errorf("runtime PodMonitor selects %v", sel)
	}
	dryRunAll(t, objs)
}

// Every alert passes promtool's checks and its unit tests
// (config/prometheus/alerts.test.yaml).
func TestAlertsPassPromtool(t *testing.T) {
	out, err := exec.Command(filepath.Join(root, "hack", "promtool.sh")).Output()
	if err != nil {
		t.Fatalf("hack/promtool.sh: %v", err)
	}
	promtool := strings.TrimSpace(string(out))
	groups, err := monitoring.RuleGroups(root)
	if err != nil {
		t.Fatal(err)
	}
	rules, err := yaml.Marshal(map[string]any{"groups": groups})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tests, err := os.ReadFile(filepath.Join(root, monitoring.RuleTestsFile))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"rules.yaml": rules, "alerts.test.yaml": tests} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{{"check", "rules", "rules.yaml"}, {"test", "rules", "alerts.test.yaml"}} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
