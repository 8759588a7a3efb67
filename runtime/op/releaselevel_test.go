package op

import (
	"encoding/json"
	"testing"

	"github.com/idaop/ida-operator/runtime/authn"
	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/grants"
	"github.com/idaop/ida-operator/runtime/ida"
)

// TestWithholdBelowLevel: of several verified_claims objects, only those
// whose framework's level the sign-in misses are withheld, with their
// releases; one object, or all, withheld leaves no member.
func TestWithholdBelowLevel(t *testing.T) {
	sv := &served{provider: &config.Provider{Authentication: authn.Policy{
		Levels:               []authn.Level{{ACR: acrPwd, Methods: [][]string{{"pwd"}}}, {ACR: acrMFA, Methods: [][]string{{"pwd", "otp"}}}},
		DefaultLevel:         acrPwd,
		TrustFrameworkLevels: map[string]string{"jp_aml": acrMFA},
	}}}
	de := `{"verification":{"trust_framework":"de_aml"},"claims":{"given_name":"Max"}}`
	jp := `{"verification":{"trust_framework":"jp_aml"},"claims":{"given_name":"Taro"}}`
	rel := []ida.Release{{TrustFramework: "de_aml"}, {TrustFramework: "jp_aml"}}
	for _, tc := range []struct {
		name    string
		vc      string
		rel     []ida.Release
		amr     []string
		want    string // "" for no member
		wantRel int
	}{
		{"both kept at the framework's level", "[" + de + "," + jp + "]", rel, []string{"pwd", "otp", "mfa"}, "[" + de + "," + jp + "]", 2},
		{"the framework below its level withheld", "[" + de + "," + jp + "]", rel, []string{"pwd"}, "[" + de + "]", 1},
		{"a single object withheld", jp, rel[1:], []string{"pwd"}, "", 0},
		{"a single object kept", de, rel[:1], []string{"pwd"}, de, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			claims := map[string]json.RawMessage{"verified_claims": json.RawMessage(tc.vc), "sub": json.RawMessage(`"s"`)}
			got := withholdBelowLevel(sv, &grants.Info{AMR: tc.amr}, claims, tc.rel)
			vc, ok := claims["verified_claims"]
			switch {
			case tc.want == "" && ok:
				t.Fatalf("want no verified_claims, got %s", vc)
			case tc.want != "" && string(vc) != tc.want:
				t.Fatalf("verified_claims %s, want %s", vc, tc.want)
			case len(got) != tc.wantRel:
				t.Fatalf("releases %v, want %d", got, tc.wantRel)
			case claims["sub"] == nil:
				t.Fatal("another claim went")
			}
		})
	}
}
