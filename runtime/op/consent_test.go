package op

import (
	"slices"
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
