package op

import (
	"slices"
	"testing"

	"github.com/idaop/ida-operator/runtime/ida"
)

func TestConsentClaims(t *testing.T) {
	raw := `{"userinfo":{"email":null,"verified_claims":[{"verification":{"trust_framework":{"value":"de_aml"}},"claims":{"given_name":{"purpose":"greeting"}}}]},
	"id_token":{"verified_claims":{"verification":{"trust_framework":{"values":["eidas"]}},"claims":{"given_name":null}}}}`
	got := requestedClaims(raw, []string{ida.ScopeJPAgeOver18})
	if len(got) != 3 {
		t.Fatalf("%+v", got)
	}
	if got[0].Name != "email" || got[0].Verified || got[1].Name != "given_name" || got[1].Purpose != "greeting" ||
		!slices.Equal(got[1].TrustFrameworks, []string{"de_aml", "eidas"}) || got[2].Name != "age_18_or_over" {
		t.Fatalf("%+v", got)
	}
}
