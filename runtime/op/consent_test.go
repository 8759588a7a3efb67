package op

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/idaop/ida-operator/runtime/grants"
	"github.com/idaop/ida-operator/runtime/ui"
)

// TestConsentClaims: the consent page lists what the IDA engine reads from
// the request, as the client's engine compiles it; a request that no
// longer compiles lists nothing.
func TestConsentClaims(t *testing.T) {
	p, sv := servedFor(t)
	c := sv.clients[clientBasic]
	cases := []struct {
		name, claims string
		want         []ui.ConsentClaim
	}{
		{"claims and verified claims with purpose and trust framework",
			`{"userinfo":{"email":null,"verified_claims":{"verification":{"trust_framework":{"value":"de_aml"}},"claims":{"given_name":{"purpose":"to greet you"}}}}}`,
			[]ui.ConsentClaim{{Name: "email"}, {Name: "given_name", Purpose: "to greet you", Verified: true, TrustFrameworks: []string{"de_aml"}}}},
		{"no claims parameter", "", []ui.ConsentClaim{}},
		{"a claims parameter the client may no longer send", `{"userinfo":`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := p.consentClaims(c, &grants.Request{ClientID: clientBasic, Scope: "openid email", Claims: tc.claims})
			if !slices.EqualFunc(got, tc.want, func(a, b ui.ConsentClaim) bool {
				return a.Name == b.Name && a.Purpose == b.Purpose && a.Verified == b.Verified && slices.Equal(a.TrustFrameworks, b.TrustFrameworks)
			}) || (tc.want == nil) != (got == nil) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestConsentPageSaysHowYouSignedIn: when verified claims are to be shared
// the consent page says how the person signed in; otherwise it does not.
func TestConsentPageSaysHowYouSignedIn(t *testing.T) {
	f := newFixture(t)
	verified := `{"userinfo":{"verified_claims":{"verification":{"trust_framework":null},"claims":{"given_name":null}}}}`
	for name, tc := range map[string]struct {
		claims string
		shown  bool
	}{
		"verified claims": {verified, true},
		"no claims":       {"", false},
	} {
		t.Run(name, func(t *testing.T) {
			b := f.browser()
			u, _ := f.authorizeURL(clientBasic, url.Values{"claims": {tc.claims}})
			consent := f.submit(b, pathLogin, f.get(b, u), url.Values{"username": {testUsername}, "password": {testPassword}})
			if consent.status != http.StatusOK || !strings.Contains(consent.body, `name="decision"`) {
				t.Fatalf("no consent page: %d %.300s", consent.status, consent.body)
			}
			if got := strings.Contains(consent.body, "How you signed in</h2>\n<p>Password</p>"); got != tc.shown {
				t.Fatalf("sign-in methods shown: %v, want %v\n%s", got, tc.shown, consent.body)
			}
		})
	}
}
