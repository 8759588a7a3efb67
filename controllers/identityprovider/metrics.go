package identityprovider

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

var keysRotated = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "ida_operator_signing_keys_rotated_total",
	Help: "Signing keys that became active, by algorithm.",
}, []string{"alg"})

func init() {
	metrics.Registry.MustRegister(keysRotated)
}
