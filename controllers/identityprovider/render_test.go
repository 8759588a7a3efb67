package identityprovider

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
)

// Every security switch of the spec reaches the runtime's configuration.
func TestRenderSecurity(t *testing.T) {
	idp := &idav1alpha1.IdentityProvider{
		ObjectMeta: metav1.ObjectMeta{Name: "idp", Namespace: "ns"},
		Spec: idav1alpha1.IdentityProviderSpec{
			Issuer: "https://idp.example/tenant-a",
			Users:  idav1alpha1.UserSourceSpec{Type: idav1alpha1.UserSourceBuiltin, Builtin: &idav1alpha1.BuiltinUserSource{SecretRef: idav1alpha1.LocalSecretReference{Name: "users"}}},
			Security: idav1alpha1.SecuritySpec{
				Profile:                            idav1alpha1.SecurityProfileDefault,
				RequirePushedAuthorizationRequests: true,
				RequireDPoP:                        true,
				RequireDPoPNonce:                   true,
			},
		},
	}
	tfs := []idav1alpha1.TrustFramework{{Spec: idav1alpha1.TrustFrameworkSpec{Identifier: "jp_aml", Claims: []idav1alpha1.ClaimName{"given_name"}}}}
	p, err := RenderProvider(idp, tfs)
	if err != nil {
		t.Fatal(err)
	}
	if s := p.Security; !s.RequirePAR || !s.RequireDPoP || !s.RequireDPoPNonce {
		t.Fatalf("rendered security %+v", s)
	}
	if e := p.EffectiveSecurity(); !e.RequireDPoPNonce {
		t.Fatalf("effective security %+v", e)
	}
	idp.Spec.Security.RequireDPoPNonce = false
	if p, err = RenderProvider(idp, tfs); err != nil || p.Security.RequireDPoPNonce {
		t.Fatalf("nonce off: %v %+v", err, p.Security)
	}
}
