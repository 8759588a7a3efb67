package identityprovider

import (
	"slices"
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
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

func TestDisruptionBudgetFollowsTheFewestReplicas(t *testing.T) {
	for _, tc := range []struct {
		name     string
		replicas *int32
		as       *idav1alpha1.AutoscalingSpec
		least    int32
		pdb      bool
	}{
		{"default one replica", nil, nil, 1, false},
		{"two replicas", ptr.To[int32](2), nil, 2, true},
		{"no replicas", ptr.To[int32](0), nil, 0, false},
		{"autoscaling from one: a PDB would block drains at one pod", ptr.To[int32](3), &idav1alpha1.AutoscalingSpec{MaxReplicas: 5}, 1, false},
		{"autoscaling from two", ptr.To[int32](1), &idav1alpha1.AutoscalingSpec{MinReplicas: ptr.To[int32](2), MaxReplicas: 5}, 2, true},
	} {
		idp := &idav1alpha1.IdentityProvider{Spec: idav1alpha1.IdentityProviderSpec{Runtime: idav1alpha1.RuntimeSpec{Replicas: tc.replicas, Autoscaling: tc.as}}}
		if got := leastReplicas(idp); got != tc.least {
			t.Errorf("%s: least replicas %d, want %d", tc.name, got, tc.least)
		}
		if got := wantsPDB(idp); got != tc.pdb {
			t.Errorf("%s: PDB %v, want %v", tc.name, got, tc.pdb)
		}
	}
}

func TestHPASpec(t *testing.T) {
	idp := &idav1alpha1.IdentityProvider{
		ObjectMeta: metav1.ObjectMeta{Name: "bank"},
		Spec:       idav1alpha1.IdentityProviderSpec{Runtime: idav1alpha1.RuntimeSpec{Autoscaling: &idav1alpha1.AutoscalingSpec{MaxReplicas: 4}}},
	}
	spec := hpaSpec(idp)
	if spec.ScaleTargetRef.Kind != "Deployment" || spec.ScaleTargetRef.Name != "bank" || *spec.MinReplicas != 1 || spec.MaxReplicas != 4 {
		t.Errorf("hpa %+v", spec)
	}
	m := spec.Metrics[0]
	if m.Resource.Name != corev1.ResourceCPU || m.Resource.Target.Type != autoscalingv2.UtilizationMetricType || *m.Resource.Target.AverageUtilization != 70 {
		t.Errorf("metric %+v", m.Resource)
	}
	idp.Spec.Runtime.Autoscaling.TargetCPUUtilizationPercentage = ptr.To[int32](55)
	if got := *hpaSpec(idp).Metrics[0].Resource.Target.AverageUtilization; got != 55 {
		t.Errorf("target %d, want 55", got)
	}
}

// Probes and metrics are on the ops port, which the Service and any route
// to it leave out.
func TestOpsPortIsKeptOffTheService(t *testing.T) {
	idp := &idav1alpha1.IdentityProvider{ObjectMeta: metav1.ObjectMeta{Namespace: "identity", Name: "bank"}}
	c := podTemplate(idp, "ghcr.io/idaop/ida-operator:dev", "h").Spec.Containers[0]
	if c.LivenessProbe.HTTPGet.Port.StrVal != "ops" || c.ReadinessProbe.HTTPGet.Port.StrVal != "ops" {
		t.Errorf("probes on %v and %v, want ops", c.LivenessProbe.HTTPGet.Port, c.ReadinessProbe.HTTPGet.Port)
	}
	if !slices.Contains(c.Args, "--ops-listen=:8081") || len(c.Ports) != 2 || c.Ports[1].Name != "ops" || c.Ports[1].ContainerPort != 8081 {
		t.Errorf("args %v ports %v", c.Args, c.Ports)
	}
	if p := servicePorts(); len(p) != 1 || p[0].Port != 8080 {
		t.Errorf("service ports %v", p)
	}
}
