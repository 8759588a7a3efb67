package relyingparty

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	registrationsWritten = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "ida_operator_client_registrations_written_total",
		Help: "Client registrations created or updated.",
	})
	refusedTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ida_operator_relying_parties_refused_total",
		Help: "RelyingParties refused by their provider, by reason.",
	}, []string{"reason"})
)

func init() {
	metrics.Registry.MustRegister(registrationsWritten, refusedTotal)
}
