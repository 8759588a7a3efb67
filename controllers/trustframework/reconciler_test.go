package trustframework

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
	"github.com/idaop/ida-operator/controllers/conditions"
)

func TestReadiness(t *testing.T) {
	tf := &idav1alpha1.TrustFramework{ObjectMeta: metav1.ObjectMeta{Name: "jp-aml", Generation: 3}, Spec: idav1alpha1.TrustFrameworkSpec{Identifier: "jp_aml"}}
	cases := []struct {
		name      string
		problems  field.ErrorList
		providers []string
		want      conditions.Outcome
	}{
		{"valid", nil, []string{"identity/bank"}, conditions.True(idav1alpha1.ReasonReconciled, "trust framework jp_aml is valid; 1 provider(s) reference it")},
		{"every problem named", field.ErrorList{field.Required(field.NewPath("spec", "claims").Index(2), "not registered"), field.Forbidden(field.NewPath("spec", "evidence").Index(0), "listed twice")}, nil,
			conditions.False(idav1alpha1.ReasonInvalidSpec, "fix the spec; providers will not offer this framework until then: spec.claims[2]: not registered; spec.evidence[0]: listed twice")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := readiness(tf, tc.problems, tc.providers)
			if got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			status := desiredStatus(tf, got, tc.providers)
			c := conditions.Find(status.Conditions, idav1alpha1.ConditionReady)
			if status.ObservedGeneration != 3 || c.ObservedGeneration != 3 || c.Reason != string(tc.want.Reason) || int(status.ProviderCount) != len(tc.providers) {
				t.Fatalf("status = %+v", status)
			}
		})
	}
}
