// Package monitoring reads the alert rules of config/prometheus and the
// dashboard of config/grafana, so the tests of each component can check
// that the metrics those name are ones the component really exports.
package monitoring

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"sigs.k8s.io/yaml"
)

// Paths below the project's root.
var (
	RulesFile     = filepath.Join("config", "prometheus", "prometheusrule.yaml")
	RuleTestsFile = filepath.Join("config", "prometheus", "alerts.test.yaml")
	DashboardFile = filepath.Join("config", "grafana", "ida-operator.json")
)

// Owners are the metric name prefixes, each exported by one component
// whose tests scrape it; "up" is written by Prometheus itself.
var Owners = map[string]string{
	"ida_op_":             "the runtime's provider (runtime/op)",
	"ida_store_":          "the runtime's memory store (internal/runtimecmd)",
	"ida_users_":          "the runtime's HTTP user source (runtime/users)",
	"ida_operator_":       "the operator's controllers",
	"controller_runtime_": "controller-runtime in the operator's manager",
}

// Rule is one alerting rule.
type Rule struct {
	Alert       string            `json:"alert"`
	Expr        string            `json:"expr"`
	For         string            `json:"for"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

// Group is a rule group as Prometheus reads it.
type Group struct {
	Name  string `json:"name"`
	Rules []Rule `json:"rules"`
}

// RuleGroups are the groups of the PrometheusRule in config/prometheus.
func RuleGroups(root string) ([]Group, error) {
	data, err := os.ReadFile(filepath.Join(root, RulesFile))
	if err != nil {
		return nil, err
	}
	// Strict, so a misspelt rule field (an "annotation") is an error.
	var pr struct {
		APIVersion string          `json:"apiVersion"`
		Kind       string          `json:"kind"`
		Metadata   json.RawMessage `json:"metadata"`
		Spec       struct {
			Groups []Group `json:"groups"`
		} `json:"spec"`
	}
	if err := yaml.UnmarshalStrict(data, &pr); err != nil {
		return nil, fmt.Errorf("%s: %w", RulesFile, err)
	}
	return pr.Spec.Groups, nil
}

// DashboardExprs are the PromQL expressions of the dashboard's panels and
// template variables.
func DashboardExprs(root string) ([]string, error) {
	data, err := os.ReadFile(filepath.Join(root, DashboardFile))
	if err != nil {
		return nil, err
	}
	var d struct {
		Panels []struct {
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Query json.RawMessage `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("%s: %w", DashboardFile, err)
	}
	var exprs []string
	for _, p := range d.Panels {
		for _, t := range p.Targets {
			exprs = append(exprs, t.Expr)
		}
	}
	for _, v := range d.Templating.List {
		var q struct {
			Query string `json:"query"`
		}
		if json.Unmarshal(v.Query, &q) == nil && q.Query != "" {
			exprs = append(exprs, q.Query)
		}
	}
	return exprs, nil
}

// metricName finds names of series in PromQL: an identifier that is
// followed by a selector or a range, or stands alone, and is not a
// function, keyword or label name. The project's names all have an owner
// prefix, so matching those prefixes is exact enough.
var metricName = regexp.MustCompile(`\b(?:ida_[a-z0-9_]+|controller_runtime_[a-z0-9_]+|up)\b`)

// UsedMetrics are the metric names the alerts and the dashboard query,
// sorted.
func UsedMetrics(root string) ([]string, error) {
	groups, err := RuleGroups(root)
	if err != nil {
		return nil, err
	}
	exprs, err := DashboardExprs(root)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		for _, r := range g.Rules {
			exprs = append(exprs, r.Expr)
		}
	}
	var names []string
	for _, e := range exprs {
		for _, m := range metricName.FindAllString(e, -1) {
			if !slices.Contains(names, m) {
				names = append(names, m)
			}
		}
	}
	slices.Sort(names)
	return names, nil
}

// Exported are the sample names g exposes (a histogram's _bucket, _sum
// and _count included).
func Exported(g prometheus.Gatherer) (map[string]bool, error) {
	mfs, err := g.Gather()
	if err != nil {
		return nil, err
	}
	return names(mfs), nil
}

// ExportedText are the sample names of a scrape in the text format.
func ExportedText(r io.Reader) (map[string]bool, error) {
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, err
	}
	mfs := make([]*dto.MetricFamily, 0, len(fams))
	for _, mf := range fams {
		mfs = append(mfs, mf)
	}
	return names(mfs), nil
}

func names(mfs []*dto.MetricFamily) map[string]bool {
	out := map[string]bool{}
	for _, mf := range mfs {
		if len(mf.GetMetric()) == 0 {
			continue
		}
		out[mf.GetName()] = true
		if mf.GetType() == dto.MetricType_HISTOGRAM {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				out[mf.GetName()+s] = true
			}
		}
	}
	return out
}

// Missing are the used names with prefix that exported does not hold.
func Missing(used []string, prefix string, exported map[string]bool) []string {
	var out []string
	for _, n := range used {
		if strings.HasPrefix(n, prefix) && !exported[n] {
			out = append(out, n)
		}
	}
	return out
}
