package op

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/idaop/ida-operator/runtime/store"
)

// TestStoreFailuresCounted: every store failure that becomes a 503 is
// counted by why, wrapped as the grants layer wraps them.
func TestStoreFailuresCounted(t *testing.T) {
	reg := prometheus.NewRegistry()
	f := newFixtureWith(t, func(o *Options) { o.Metrics = reg })
	for _, err := range []error{
		fmt.Errorf("grants: issue: %w", store.ErrFull),
		fmt.Errorf("store: redis set: %w: 0 of 1 replicas", store.ErrUnreplicated),
		errors.New("dial tcp 10.0.0.7:6379: connect: connection refused"),
		errors.New("redis: nil master"),
	} {
		if oe := f.p.storeFailed(err); oe.Code != "temporarily_unavailable" || oe.Status != http.StatusServiceUnavailable {
			t.Fatalf("storeFailed(%v) = %+v", err, oe)
		}
	}
	for reason, want := range map[string]float64{"full": 1, "unreplicated": 1, "unavailable": 2} {
		if got := testutil.ToFloat64(f.p.metrics.store.WithLabelValues(reason)); got != want {
			t.Errorf("store_failures_total{reason=%q} = %v, want %v", reason, got, want)
		}
	}
}
