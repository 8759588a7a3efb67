package controllers_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
	"github.com/idaop/ida-operator/internal/controlplane"
	"github.com/idaop/ida-operator/internal/monitoring"
)

// The operator exports what its alerts and dashboard query: when each
// provider's next key is due (the status's nextRotationTime, to the
// second), gone with the provider; and the names in config/prometheus and
// config/grafana owned by the operator all exist.
func TestOperatorMetricsForAlerts(t *testing.T) {
	ctx := context.Background()
	createNamespace(t, "idp-metrics", nil)
	readyFramework(t, "metrics-aml", "metrics_aml", "given_name")
	idp := newProvider("idp-metrics", "bank", idav1alpha1.TrustFrameworkSelection{Names: []string{"metrics-aml"}})
	create(t, idp)
	got := waitCondition(t, idp, idav1alpha1.ConditionKeysReady, metav1.ConditionTrue, idav1alpha1.ReasonKeysGenerated)
	if got.Status.Keys.NextRotationTime == nil {
		t.Fatal("status.keys.nextRotationTime is empty")
	}
	const name = "ida_operator_signing_key_next_rotation_timestamp_seconds"
	gauge := func() (float64, error) {
		mfs, err := metrics.Registry.Gather()
		if err != nil {
			return 0, err
		}
		for _, mf := range mfs {
			if mf.GetName() != name {
				continue
			}
			for _, m := range mf.GetMetric() {
				labels := map[string]string{}
				for _, l := range m.GetLabel() {
					labels[l.GetName()] = l.GetValue()
				}
				if labels["namespace"] == "idp-metrics" && labels["identityprovider"] == "bank" {
					return m.GetGauge().GetValue(), nil
				}
			}
		}
		return 0, fmt.Errorf("no %s series for idp-metrics/bank", name)
	}
	want := float64(got.Status.Keys.NextRotationTime.Unix())
	eventually(t, 10*time.Second, func() error {
		v, err := gauge()
		if err == nil && v != want {
			err = fmt.Errorf("%s = %v, want %v (status.keys.nextRotationTime)", name, v, want)
		}
		return err
	})

	root, err := controlplane.ProjectRoot()
	if err != nil {
		t.Fatal(err)
	}
	used, err := monitoring.UsedMetrics(root)
	if err != nil {
		t.Fatal(err)
	}
	exported, err := monitoring.Exported(metrics.Registry)
	if err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{"ida_operator_", "controller_runtime_"} {
		if missing := monitoring.Missing(used, prefix, exported); len(missing) > 0 {
			t.Errorf("config/prometheus or config/grafana name metrics the operator does not export: %v", missing)
		}
	}

	// A deleted provider's series goes: no alert for a provider that is gone.
	if err := k8s.Delete(ctx, got); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		if _, err := gauge(); err == nil {
			return fmt.Errorf("%s still has the deleted provider", name)
		}
		return nil
	})
}
