package config

import (
	"slices"
	"testing"

	"github.com/idaop/ida-operator/runtime/ida"
)

// A trust framework that vouches for authority makes discovery say so:
// the claim in claims_in_verified_claims_supported and the Authority
// Claims draft's authority_claims_supported; without one, neither.
func TestRenderDiscoveryAuthorityClaims(t *testing.T) {
	p := testProvider()
	if _, ok := render(t, p)["authority_claims_supported"]; ok {
		t.Error("authority_claims_supported advertised with no framework listing authority")
	}
	p.IDA.TrustFrameworks = append(p.IDA.TrustFrameworks, ida.TrustFramework{
		Identifier: "jp_gbizid_v1", AssuranceLevels: []string{"ial1", "ial2"},
		Claims: []string{"family_name", "given_name", "birthdate", "authority"}, RequiredElements: []string{"assurance_level"},
	})
	doc := render(t, p)
	if doc["authority_claims_supported"] != true {
		t.Errorf("authority_claims_supported = %v", doc["authority_claims_supported"])
	}
	var inVC []string
	for _, c := range doc["claims_in_verified_claims_supported"].([]any) {
		inVC = append(inVC, c.(string))
	}
	if !slices.Contains(inVC, "authority") {
		t.Errorf("claims_in_verified_claims_supported = %v", inVC)
	}
}
