package relyingparty

import (
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
)

// The logout fields reach the registration, and a problem with one is
// named by its spec path.
func TestRegistrationLogoutFields(t *testing.T) {
	rp := &idav1alpha1.RelyingParty{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "app"}}
	rp.Spec.RedirectURIs = []string{"https://app.example/cb"}
	rp.Spec.GrantTypes = []idav1alpha1.GrantType{"authorization_code"}
	rp.Spec.ResponseTypes = []idav1alpha1.ResponseType{"code"}
	rp.Spec.ClientAuthentication.Method = idav1alpha1.ClientSecretBasic
	rp.Spec.PostLogoutRedirectURIs = []string{"https://app.example/bye"}
	rp.Spec.BackchannelLogoutURI = "https://app.example/bc"
	rp.Spec.BackchannelLogoutSessionRequired = true
	reg := Registration(rp, "")
	if !slices.Equal(reg.PostLogoutRedirectURIs, rp.Spec.PostLogoutRedirectURIs) || reg.BackchannelLogoutURI != rp.Spec.BackchannelLogoutURI || !reg.BackchannelLogoutSessionRequired {
		t.Fatalf("registration %+v", reg)
	}
	if p := CheckRegistration(rp); p != nil {
		t.Fatalf("a sound registration has problems: %v", p)
	}
	// Admission refuses these too; a RelyingParty stored before that rule
	// still gets a reason naming the field.
	rp.Spec.PostLogoutRedirectURIs = []string{"https://app.example/bye", "http://app.example/bye"}
	rp.Spec.BackchannelLogoutURI = "http://app.example/bc"
	errs := CheckRegistration(rp)
	if len(errs) != 2 || errs[0].Field != "spec.postLogoutRedirectURIs[1]" || errs[1].Field != "spec.backchannelLogoutURI" {
		t.Fatalf("problems = %v", errs)
	}
}
