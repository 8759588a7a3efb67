package relyingparty

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
	"github.com/idaop/ida-operator/controllers/conditions"
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
		reason idav1alpha1.ConditionReason
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
			if d.True != tc.want || d.Reason != tc.reason {
				t.Fatalf("got %v/%s (%s), want %v/%s", d.True, d.Reason, d.Message, tc.want, tc.reason)
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
	rp.Spec.Security.MinimumAuthenticationLevel = "urn:bank:acr:mfa" // the provider declares no levels

	got := fixTheSpec(CheckOffered(rp, p))
	for _, want := range []string{
		`spec.security.minimumAuthenticationLevel: "urn:bank:acr:mfa" is not one of the provider's authentication levels`,
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
	errs := CheckRegistration(rp)
	if len(errs) == 0 || errs[0].Field != "spec.clientAuthentication.jwks" {
		got := fixTheSpec(errs)
		t.Fatalf("problems = %q, want the first naming spec.clientAuthentication.jwks", got)
	}
}

func TestAccept(t *testing.T) {
	offering := &config.Provider{
		Issuer:            "https://id.bank.example",
		SigningAlgorithms: []string{"ES256"},
		IDA:               ida.Policy{TrustFrameworks: []ida.TrustFramework{{Identifier: "jp_aml", Claims: []string{"birthdate"}}}},
	}
	idp := &idav1alpha1.IdentityProvider{ObjectMeta: metav1.ObjectMeta{Namespace: "identity", Name: "bank"}}
	idp.Spec.AllowedRelyingParties.Namespaces.From = idav1alpha1.NamespacesFromSame
	sound := func(ns string) *idav1alpha1.RelyingParty {
		rp := &idav1alpha1.RelyingParty{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "app"}}
		rp.Spec.ProviderRef = idav1alpha1.ProviderReference{Name: "bank", Namespace: "identity"}
		rp.Spec.RedirectURIs = []string{"https://app.example/cb"}
		rp.Spec.GrantTypes = []idav1alpha1.GrantType{"authorization_code"}
		rp.Spec.ResponseTypes = []idav1alpha1.ResponseType{"code"}
		rp.Spec.ClientAuthentication.Method = idav1alpha1.ClientSecretBasic
		rp.Spec.VerifiedClaims = idav1alpha1.VerifiedClaimsPolicy{TrustFrameworks: []string{"jp_aml"}, Claims: []idav1alpha1.ClaimName{"birthdate"}}
		return rp
	}
	asks := func(change func(*idav1alpha1.RelyingParty)) *idav1alpha1.RelyingParty {
		rp := sound("identity")
		change(rp)
		return rp
	}
	ns := func(name string) *corev1.Namespace {
		return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	}
	cases := []struct {
		name     string
		rp       *idav1alpha1.RelyingParty
		in       attachment
		want     bool
		reason   idav1alpha1.ConditionReason
		mentions string
	}{
		{"everything offered", sound("identity"), attachment{idp, ns("identity"), offering, ""}, true, idav1alpha1.ReasonAccepted, "accepts"},
		{"refusal first, configuration unread", sound("team"), attachment{idp, ns("team"), nil, "unreadable"}, false, idav1alpha1.ReasonNotAllowedByProvider, "does not exist or does not accept"},
		{"no rendered configuration", sound("identity"), attachment{idp, ns("identity"), nil, "the provider has no rendered configuration yet"},
			false, idav1alpha1.ReasonProviderConfigUnavailable, "no rendered configuration"},
		{"unsound registration before what is offered", asks(func(rp *idav1alpha1.RelyingParty) {
			rp.Spec.ResponseTypes = nil
			rp.Spec.Scopes = []string{"not-offered"}
		}), attachment{idp, ns("identity"), offering, ""}, false, idav1alpha1.ReasonInvalidSpec, "spec.responseTypes"},
		{"encryption asked of a signature key", asks(func(rp *idav1alpha1.RelyingParty) {
			rp.Spec.ClientAuthentication.JWKS = &apiextensionsv1.JSON{Raw: []byte(`{"keys":[{"kty":"EC","crv":"P-256","use":"sig","kid":"s1",` +
				`"x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}`)}
			rp.Spec.Security.IDTokenEncryptedResponseAlg = "ECDH-ES"
		}), attachment{idp, ns("identity"), offering, ""}, false, idav1alpha1.ReasonInvalidSpec,
			`spec.security.idTokenEncryptedResponseAlg: jwks: no key can encrypt with ECDH-ES (it needs a public EC key on P-256, P-384 or P-521 whose use is "enc" or absent): keys[0] (kid "s1") has use "sig"`},
		{"encryption with an encryption key", asks(func(rp *idav1alpha1.RelyingParty) {
			rp.Spec.ClientAuthentication.JWKS = &apiextensionsv1.JSON{Raw: []byte(`{"keys":[{"kty":"EC","crv":"P-256","use":"enc","kid":"e1",` +
				`"x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}`)}
			rp.Spec.Security.IDTokenEncryptedResponseAlg = "ECDH-ES"
			rp.Spec.Security.UserInfoEncryptedResponseAlg = "ECDH-ES+A128KW"
		}), attachment{idp, ns("identity"), offering, ""}, true, idav1alpha1.ReasonAccepted, "accepts"},
		{"claim not offered", asks(func(rp *idav1alpha1.RelyingParty) {
			rp.Spec.VerifiedClaims.Claims = []idav1alpha1.ClaimName{"nationalities"}
		}), attachment{idp, ns("identity"), offering, ""}, false, idav1alpha1.ReasonNotOfferedByProvider, `spec.verifiedClaims.claims[0]: "nationalities"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := accept(tc.rp, tc.in)
			if got.True != tc.want || got.Reason != tc.reason || !strings.Contains(got.Message, tc.mentions) {
				t.Fatalf("got %v/%s (%s), want %v/%s mentioning %q", got.True, got.Reason, got.Message, tc.want, tc.reason, tc.mentions)
			}
		})
	}
}

func TestReadiness(t *testing.T) {
	status := func(steps ...conditions.Outcome) *idav1alpha1.RelyingPartyStatus {
		s := &idav1alpha1.RelyingPartyStatus{ClientID: "team.app", CredentialsSecretName: "app-oidc-credentials"}
		for i, typ := range []idav1alpha1.ConditionType{idav1alpha1.ConditionAccepted, idav1alpha1.ConditionSectorReady, idav1alpha1.ConditionCredentialsReady, idav1alpha1.ConditionRegistered}[:len(steps)] {
			conditions.Set(&s.Conditions, 1, typ, steps[i])
		}
		return s
	}
	accepted := conditions.True(idav1alpha1.ReasonAccepted, "accepted")
	sector := conditions.True(idav1alpha1.ReasonSectorResolved, "public")
	creds := conditions.True(idav1alpha1.ReasonSecretGenerated, "creds")
	cases := []struct {
		name   string
		status *idav1alpha1.RelyingPartyStatus
		want   conditions.Outcome
	}{
		{"registered", status(accepted, sector, creds, conditions.True(idav1alpha1.ReasonRegistrationWritten, "registered")),
			conditions.True(idav1alpha1.ReasonReconciled, "client team.app is registered; credentials are in Secret app-oidc-credentials")},
		{"registered but disabled", status(accepted, sector, creds, conditions.True(idav1alpha1.ReasonDisabled, "disabled")),
			conditions.False(idav1alpha1.ReasonDisabled, "disabled")},
		{"waiting for a Secret", status(accepted, sector, conditions.False(idav1alpha1.ReasonSecretNotFound, "waiting"), conditions.False(idav1alpha1.ReasonSecretNotFound, "not registered")),
			conditions.False(idav1alpha1.ReasonSecretNotFound, "CredentialsReady: waiting")},
		{"a lying sector identifier URI", status(accepted, conditions.False(idav1alpha1.ReasonSectorIdentifierMismatch, "add it"), creds),
			conditions.False(idav1alpha1.ReasonSectorIdentifierMismatch, "SectorReady: add it")},
		{"refused", status(conditions.False(idav1alpha1.ReasonNotAllowedByProvider, "ask"), sector, creds),
			conditions.False(idav1alpha1.ReasonNotAllowedByProvider, "Accepted: ask")},
		{"nothing evaluated", status(), conditions.False(idav1alpha1.ReasonPending, "Accepted is not evaluated yet")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := readiness(tc.status); got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}
