package op

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the provider's Prometheus metrics; a nil *metrics records
// nothing.
type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	tokens   *prometheus.CounterVec
	released *prometheus.CounterVec
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
	}
	for _, c := range []prometheus.Collector{m.requests, m.latency, m.tokens, m.released} {
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
	m.requests.WithLabelValues(endpoint, outcome).Inc()
	m.latency.WithLabelValues(endpoint).Observe(d.Seconds())
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
