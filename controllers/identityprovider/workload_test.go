package identityprovider

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestDefaultPullPolicy(t *testing.T) {
	for image, want := range map[string]corev1.PullPolicy{
		"ghcr.io/idaop/ida-operator:dev":      corev1.PullIfNotPresent,
		"ghcr.io/idaop/ida-operator":          corev1.PullAlways,
		"ghcr.io/idaop/ida-operator:latest":   corev1.PullAlways,
		"localhost:5000/ida-operator":         corev1.PullAlways,
		"localhost:5000/ida-operator:v1":      corev1.PullIfNotPresent,
		"ghcr.io/idaop/ida-operator@sha256:0": corev1.PullIfNotPresent,
	} {
		if got := defaultPullPolicy(image); got != want {
			t.Errorf("%s: %s, want %s", image, got, want)
		}
	}
}
