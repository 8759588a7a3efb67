package users

import "github.com/prometheus/client_golang/prometheus"

// Outcomes of a call to the HTTP user source, as counted.
const (
	callOK        = "ok"        // the service answered below 500
	callFailure   = "failure"   // network error, timeout or 5xx
	callRefused   = "refused"   // the circuit breaker was open: no call went out
	callAbandoned = "abandoned" // the caller gave up first
)

// httpCalls counts calls of every HTTP source of the process: a source is
// rebuilt when its configuration changes, the count goes on.
var httpCalls = prometheus.NewCounterVec(prometheus.CounterOpts{
	Namespace: "ida", Subsystem: "users", Name: "http_calls_total",
	Help: "Calls to the HTTP user source by outcome: ok, failure (network error, timeout, 5xx), refused (circuit breaker open) or abandoned (the request gave up first).",
}, []string{"outcome"})

// RegisterMetrics registers the user sources' metrics with reg, every
// outcome at zero so that rates and alerts see the series from the start.
func RegisterMetrics(reg prometheus.Registerer) error {
	for _, o := range []string{callOK, callFailure, callRefused, callAbandoned} {
		httpCalls.WithLabelValues(o)
	}
	return reg.Register(httpCalls)
}

func countCall(o outcome) {
	switch o {
	case outcomeSuccess:
		httpCalls.WithLabelValues(callOK).Inc()
	case outcomeFailure:
		httpCalls.WithLabelValues(callFailure).Inc()
	default:
		httpCalls.WithLabelValues(callAbandoned).Inc()
	}
}
