package identityprovider

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
)

var keysRotated = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "ida_operator_signing_keys_rotated_total",
	Help: "Signing keys that became active, by algorithm.",
}, []string{"alg"})

// nextRotation is when each provider's next key starts signing: an alert
// compares it with the time (config/prometheus, IDASigningKeyRotationOverdue).
var nextRotation = prometheus.NewGaugeVec(prometheus.GaugeOpts{
	Name: "ida_operator_signing_key_next_rotation_timestamp_seconds",
	Help: "When the provider's next signing key is due to start signing, in Unix seconds.",
}, []string{"namespace", "identityprovider"})

// keyStoreFailures counts reconciles that needed the PKCS#11 token and
// could not use it; KeysReady says which provider and why.
var keyStoreFailures = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "ida_operator_key_store_failures_total",
	Help: "Reconciles that had to make or delete a signing key in a PKCS#11 token and could not, by reason (KeyStoreUnavailable, KeyStorePINNotFound, KeyStoreUnsupported, KeyStoreFailed).",
}, []string{"reason"})

func init() {
	metrics.Registry.MustRegister(keysRotated, nextRotation, keyStoreFailures)
}

func recordNextRotation(idp *idav1alpha1.IdentityProvider, at time.Time) {
	if at.IsZero() {
		nextRotation.DeleteLabelValues(idp.Namespace, idp.Name)
		return
	}
	nextRotation.WithLabelValues(idp.Namespace, idp.Name).Set(float64(at.Unix()))
}

// forgetProvider drops the series of a deleted provider.
func forgetProvider(namespace, name string) {
	nextRotation.DeleteLabelValues(namespace, name)
}
