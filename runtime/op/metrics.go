package op

import (
	"errors"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idaop/ida-operator/runtime/store"
)

// metrics are the provider's Prometheus metrics; a nil *metrics records
// nothing.
type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	tokens   *prometheus.CounterVec
	released *prometheus.CounterVec
	security *prometheus.CounterVec
	store    *prometheus.CounterVec
	children sync.Map // outcomeKey → *endpointMetrics
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	if reg == nil {
		return nil, nil
	}
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "ida", Subsystem: "op", Name: "requests_total",
			Help: "Requests by endpoint and outcome (ok, an OAuth error code, client_error or server_error).",
		}, []string{"endpoint", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "ida", Subsystem: "op", Name: "request_duration_seconds",
			Help:    "Request latency by endpoint.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"endpoint"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "ida", Subsystem: "op", Name: "tokens_issued_total",
			Help: "Tokens issued by type (access_token, refresh_token, id_token).",
		}, []string{"type"}),
		released: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "ida", Subsystem: "op", Name: "verified_claims_released_total",
			Help: "verified_claims objects released, by trust framework.",
		}, []string{"trust_framework"}),
		security: newSecurityEventsCounter(),
		store: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "ida", Subsystem: "op", Name: "store_failures_total",
			Help: "Requests answered temporarily_unavailable because the session store failed: full (over its budget), unreplicated (too few Redis replicas acknowledged a write) or unavailable (anything else: unreachable, a failover in progress).",
		}, []string{"reason"}),
	}
	// Series of known label values start at zero, so rates and alerts
	// (config/prometheus) see them before the first event.
	for _, kind := range []string{"access_token", "refresh_token", "id_token"} {
		m.tokens.WithLabelValues(kind)
	}
	for _, reason := range []string{"full", "unreplicated", "unavailable"} {
		m.store.WithLabelValues(reason)
	}
	for _, event := range []string{eventLoginFailed, eventLoginLocked, eventClientAuthFailed, eventReplay} {
		m.security.WithLabelValues(event)
	}
	for _, c := range []prometheus.Collector{m.requests, m.latency, m.tokens, m.released, m.security, m.store} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) observe(endpoint, outcome string, d time.Duration) {
	if m == nil {
		return
	}
	k := outcomeKey{endpoint, outcome}
	c, ok := m.children.Load(k)
	if !ok {
		// Label values are bounded (endpoints, OAuth error codes), so
		// is this map.
		c, _ = m.children.LoadOrStore(k, &endpointMetrics{
			requests: m.requests.WithLabelValues(endpoint, outcome),
			latency:  m.latency.WithLabelValues(endpoint),
		})
	}
	em := c.(*endpointMetrics)
	em.requests.Inc()
	em.latency.Observe(d.Seconds())
}

// outcomeKey and endpointMetrics spare each request the label lookups.
type outcomeKey struct{ endpoint, outcome string }

type endpointMetrics struct {
	requests prometheus.Counter
	latency  prometheus.Observer
}

func (m *metrics) tokenIssued(kind string) {
	if m == nil {
		return
	}
	m.tokens.WithLabelValues(kind).Inc()
}

func (m *metrics) verifiedClaimsReleased(tf string) {
	if m == nil {
		return
	}
	m.released.WithLabelValues(tf).Inc()
}

// storeFailed counts a request the store failed, by why.
func (m *metrics) storeFailed(err error) {
	if m == nil {
		return
	}
	reason := "unavailable"
	switch {
	case errors.Is(err, store.ErrFull):
		reason = "full"
	case errors.Is(err, store.ErrUnreplicated):
		reason = "unreplicated"
	}
	m.store.WithLabelValues(reason).Inc()
}
