package relyingparty

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/ida"
)

func TestAdmit(t *testing.T) {
	provider := func(from idav1alpha1.FromNamespaces, sel *metav1.LabelSelector) *idav1alpha1.IdentityProvider {
		idp := &idav1alpha1.IdentityProvider{ObjectMeta: metav1.ObjectMeta{Namespace: "identity", Name: "bank"}}
		idp.Spec.AllowedRelyingParties.Namespaces = idav1alpha1.RelyingPartyNamespaces{From: from, Selector: sel}
		return idp
	}
	rpIn := func(ns string) *idav1alpha1.RelyingParty {
		return &idav1alpha1.RelyingParty{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "app"},
			Spec:       idav1alpha1.RelyingPartySpec{ProviderRef: idav1alpha1.ProviderReference{Name: "bank", Namespace: "identity"}},
		}
	}
	partner := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team", Labels: map[string]string{"partner": "true"}}}
	other := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team"}}
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"partner": "true"}}

	cases := []struct {
		name   string
		rp     *idav1alpha1.RelyingParty
		idp    *idav1alpha1.IdentityProvider
		ns     *corev1.Namespace
		want   bool
		reason string
	}{
		{"same namespace under Same", rpIn("identity"), provider(idav1alpha1.NamespacesFromSame, nil), other, true, idav1alpha1.ReasonAccepted},
		{"other namespace under Same", rpIn("team"), provider(idav1alpha1.NamespacesFromSame, nil), other, false, idav1alpha1.ReasonNotAllowedByProvider},
		{"other namespace under All", rpIn("team"), provider(idav1alpha1.NamespacesFromAll, nil), other, true, idav1alpha1.ReasonAccepted},
		{"matching labels under Selector", rpIn("team"), provider(idav1alpha1.NamespacesFromSelector, sel), partner, true, idav1alpha1.ReasonAccepted},
		{"other labels under Selector", rpIn("team"), provider(idav1alpha1.NamespacesFromSelector, sel), other, false, idav1alpha1.ReasonNotAllowedByProvider},
		{"missing provider elsewhere", rpIn("team"), nil, other, false, idav1alpha1.ReasonNotAllowedByProvider},
		{"missing provider here", rpIn("identity"), nil, other, false, idav1alpha1.ReasonProviderNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := Admit(tc.rp, tc.idp, tc.ns)
			if d.Accepted != tc.want || d.Reason != tc.reason {
				t.Fatalf("got %v/%s (%s), want %v/%s", d.Accepted, d.Reason, d.Message, tc.want, tc.reason)
			}
		})
	}
	// A refusal and a missing provider must read the same across namespaces.
	refused := Admit(rpIn("team"), provider(idav1alpha1.NamespacesFromSame, nil), other)
	missing := Admit(rpIn("team"), nil, other)
	if refused != missing {
		t.Fatalf("refusal reveals the provider:\n%+v\n%+v", refused, missing)
	}
}

func TestCheckOffered(t *testing.T) {
	p := &config.Provider{
		Issuer:            "https://id.bank.example",
		SigningAlgorithms: []string{"ES256"},
		Security:          config.Security{Profile: config.ProfileFAPI2},
		IDA:               ida.Policy{TrustFrameworks: []ida.TrustFramework{{Identifier: "jp_aml", Claims: []string{"birthdate", "family_name"}}}},
	}
	rp := &idav1alpha1.RelyingParty{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "app"}}
	rp.Spec.RedirectURIs = []string{"https://app.example/cb", "http://app.example/cb", "http://127.0.0.1:8080/cb"}
	rp.Spec.Scopes = []string{"openid", "jp_oidf_ida"}
	rp.Spec.ClientAuthentication.Method = idav1alpha1.ClientSecretBasic
	rp.Spec.VerifiedClaims = idav1alpha1.VerifiedClaimsPolicy{TrustFrameworks: []string{"jp_aml", "de_aml"}, Claims: []idav1alpha1.ClaimName{"family_name#ja-Kana-JP", "nationalities"}}

	got := strings.Join(CheckOffered(rp, p), "\n")
	for _, want := range []string{
		"spec.redirectURIs[1]:",
		"spec.clientAuthentication.method:",
		`spec.scopes[1]: "jp_oidf_ida"`,
		`spec.verifiedClaims.trustFrameworks[1]: "de_aml"`,
		`spec.verifiedClaims.claims[1]: "nationalities"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack %q:\n%s", want, got)
		}
	}
	for _, unwanted := range []string{"redirectURIs[0]", "redirectURIs[2]", "trustFrameworks[0]", "claims[0]", "scopes[0]"} {
		if strings.Contains(got, unwanted) {
			t.Errorf("problems wrongly name %q:\n%s", unwanted, got)
		}
	}
}

func TestCheckRegistration(t *testing.T) {
	rp := &idav1alpha1.RelyingParty{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "app"}}
	rp.Spec.RedirectURIs = []string{"https://app.example/cb"}
	rp.Spec.GrantTypes = []idav1alpha1.GrantType{"authorization_code"}
	rp.Spec.ResponseTypes = []idav1alpha1.ResponseType{"code"}
	rp.Spec.ClientAuthentication.Method = idav1alpha1.ClientSecretBasic
	if p := CheckRegistration(rp); p != nil {
		t.Fatalf("a sound registration has problems: %v", p)
	}
	// YAML 1.1 reads an unquoted `y:` key as true: the JWK loses its y.
	rp.Spec.ClientAuthentication = idav1alpha1.ClientAuthentication{Method: idav1alpha1.PrivateKeyJWT,
		JWKS: &apiextensionsv1.JSON{Raw: []byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"9I9W0EI4_DSQPJ2BWlVj65a31Rp_7keQULTJd68-Bdo","true":"DQBfzxU99tKISe4SLK1HZe5bh_UQk4EsCtFLNcymtmE"}]}`)}}
	got := strings.Join(CheckRegistration(rp), "\n")
	if !strings.HasPrefix(got, "spec.clientAuthentication.jwks:") {
		t.Fatalf("problems = %q, want one naming spec.clientAuthentication.jwks", got)
	}
}
