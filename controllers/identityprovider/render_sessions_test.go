package identityprovider

import (
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
)

// Session timeouts reach the runtime, defaulted when the API server has
// not; so does the egress allow list.
func TestRenderSessionsAndEgress(t *testing.T) {
	idp, tfs := minimalRenderable()
	p, err := RenderProvider(idp, tfs)
	if err != nil {
		t.Fatal(err)
	}
	if s := p.Sessions; s.IdleTimeout.Duration != 30*time.Minute || s.AbsoluteLifetime.Duration != 12*time.Hour || s.MaxPerUser != 16 {
		t.Errorf("default sessions rendered as %+v", s)
	}
	idp.Spec.Sessions = idav1alpha1.SessionsSpec{IdleTimeout: &metav1.Duration{Duration: 15 * time.Minute}, AbsoluteLifetime: &metav1.Duration{Duration: 8 * time.Hour}, MaxPerUser: 4}
	idp.Spec.Egress = &idav1alpha1.EgressSpec{AllowedCIDRs: []string{"10.0.0.0/8"}, AllowedHosts: []string{"rp.team-a.svc"}}
	if p, err = RenderProvider(idp, tfs); err != nil {
		t.Fatal(err)
	}
	if s := p.Sessions; s.IdleTimeout.Duration != 15*time.Minute || s.AbsoluteLifetime.Duration != 8*time.Hour || s.MaxPerUser != 4 {
		t.Errorf("sessions rendered as %+v", s)
	}
	if e := p.Egress; !slices.Equal(e.AllowedCIDRs, []string{"10.0.0.0/8"}) || !slices.Equal(e.AllowedHosts, []string{"rp.team-a.svc"}) {
		t.Errorf("egress rendered as %+v", e)
	}
}

// minimalRenderable is the smallest provider RenderProvider accepts, with
// one trust framework.
func minimalRenderable() (*idav1alpha1.IdentityProvider, []idav1alpha1.TrustFramework) {
	idp := &idav1alpha1.IdentityProvider{
		ObjectMeta: metav1.ObjectMeta{Name: "idp", Namespace: "ns"},
		Spec: idav1alpha1.IdentityProviderSpec{
			Issuer: "https://idp.example",
			Users:  idav1alpha1.UserSourceSpec{Type: idav1alpha1.UserSourceBuiltin, Builtin: &idav1alpha1.BuiltinUserSource{SecretRef: idav1alpha1.LocalSecretReference{Name: "users"}}},
		},
	}
	return idp, []idav1alpha1.TrustFramework{{Spec: idav1alpha1.TrustFrameworkSpec{Identifier: "jp_aml", Claims: []idav1alpha1.ClaimName{"given_name"}}}}
}
