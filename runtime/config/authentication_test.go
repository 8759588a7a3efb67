package config

import (
	"slices"
	"strings"
	"testing"

	"github.com/idaop/ida-operator/runtime/authn"
)

func bankLevels() authn.Policy {
	return authn.Policy{
		Levels: []authn.Level{
			{ACR: "urn:bank:acr:pwd", Methods: [][]string{{"pwd"}}},
			{ACR: "urn:bank:acr:mfa", Methods: [][]string{{"pwd", "otp"}}},
		},
		DefaultLevel:        "urn:bank:acr:pwd",
		VerifiedClaimsLevel: "urn:bank:acr:mfa",
	}
}

// TestAuthenticationValidate: the levels' rules, the same the CRD checks
// at admission, and the user source's reach.
func TestAuthenticationValidate(t *testing.T) {
	p := testProvider()
	p.Authentication = bankLevels()
	if err := AsError(p.Validate()); err != nil {
		t.Fatalf("bank levels: %v", err)
	}
	withFactors := testProvider()
	withFactors.Authentication = bankLevels()
	withFactors.Authentication.DefaultLevel = "urn:bank:acr:mfa"
	withFactors.Users = UserSource{Type: UsersHTTP, HTTP: &HTTPUsers{URL: "https://kyc.svc", Factors: true}}
	if err := AsError(withFactors.Validate()); err != nil {
		t.Fatalf("an HTTP user source keeping factors reaches a two-factor default: %v", err)
	}
	if got := withFactors.AuthenticationMethods(); !slices.Equal(got, []string{"pwd", "otp", "passkey"}) {
		t.Fatalf("methods of an HTTP source keeping factors: %v", got)
	}
	for _, c := range []struct {
		name   string
		change func(p *Provider)
		want   string
	}{
		{"acr twice", func(p *Provider) { p.Authentication.Levels[1].ACR = "urn:bank:acr:pwd" }, `authentication.levels[1].acr: "urn:bank:acr:pwd" is listed twice`},
		{"acr with a space", func(p *Provider) { p.Authentication.Levels[0].ACR = "bank pwd" }, `authentication.levels[0].acr: "bank pwd" must be 1 to 256 printable ASCII characters without spaces`},
		{"no combinations", func(p *Provider) { p.Authentication.Levels[0].Methods = nil }, "authentication.levels[0].methods: must list 1 to 8 method combinations"},
		{"empty combination", func(p *Provider) { p.Authentication.Levels[0].Methods = [][]string{{}} }, "authentication.levels[0].methods[0]: a combination names at least one method"},
		{"unknown method", func(p *Provider) { p.Authentication.Levels[0].Methods = [][]string{{"sms"}} }, `authentication.levels[0].methods[0][0]: supported values: "pwd", "otp"`},
		{"method twice", func(p *Provider) { p.Authentication.Levels[1].Methods = [][]string{{"otp", "otp"}} }, `authentication.levels[1].methods[0][1]: "otp" is listed twice`},
		{"default not a level", func(p *Provider) { p.Authentication.DefaultLevel = "urn:x" }, `authentication.default_level: "urn:x" must be the acr of one of the levels (urn:bank:acr:pwd, urn:bank:acr:mfa)`},
		{"verified claims level not a level", func(p *Provider) { p.Authentication.VerifiedClaimsLevel = "urn:x" }, `authentication.verified_claims_level: "urn:x" must be the acr of one of the levels`},
		{"default without levels", func(p *Provider) { p.Authentication.Levels = nil }, "authentication.default_level: needs levels"},
		{"a trust framework's level not a level", func(p *Provider) { p.Authentication.TrustFrameworkLevels = map[string]string{"de_aml": "urn:x"} }, `authentication.trust_framework_levels[de_aml]: trust framework de_aml requires the level "urn:x", which is not one of the provider's levels (urn:bank:acr:pwd, urn:bank:acr:mfa): declare it in spec.authentication.levels`},
		{"a trust framework's level without levels", func(p *Provider) {
			p.Authentication = authn.Policy{TrustFrameworkLevels: map[string]string{"de_aml": "urn:bank:acr:mfa"}}
		}, `trust framework de_aml requires the level "urn:bank:acr:mfa", but the provider declares no levels`},
		{"a default the HTTP user source cannot reach", func(p *Provider) {
			p.Users = UserSource{Type: UsersHTTP, HTTP: &HTTPUsers{URL: "https://kyc.svc"}}
			p.Authentication.DefaultLevel = "urn:bank:acr:mfa"
		}, `authentication.default_level: "urn:bank:acr:mfa" needs a method the user source cannot offer (it offers pwd); every sign-in would fail`},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := testProvider()
			p.Authentication = bankLevels()
			c.change(p)
			err := AsError(p.Validate())
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to contain %q", err, c.want)
			}
		})
	}
}

// TestClientMinimumLevel: a client's minimum level is one of the
// provider's levels.
func TestClientMinimumLevel(t *testing.T) {
	p := testProvider()
	p.Authentication = bankLevels()
	c := &Client{MinimumACR: "urn:bank:acr:mfa", TokenEndpointAuthMethod: AuthClientSecretBasic}
	if errs := p.CheckClient(c); len(errs) != 0 {
		t.Fatalf("a declared level refused: %v", errs)
	}
	c.MinimumACR = "urn:bank:acr:high"
	err := AsError(p.CheckClient(c))
	if want := `minimum_acr: "urn:bank:acr:high" is not one of the provider's authentication levels (urn:bank:acr:pwd, urn:bank:acr:mfa)`; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want %q", err, want)
	}
}

// TestRenderDiscoveryACRValues: acr_values_supported lists the levels,
// weakest first, and only when there are levels.
func TestRenderDiscoveryACRValues(t *testing.T) {
	p := testProvider()
	if _, ok := render(t, p)["acr_values_supported"]; ok {
		t.Error("acr_values_supported without levels")
	}
	p.Authentication = bankLevels()
	got, _ := render(t, p)["acr_values_supported"].([]any)
	want := []any{"urn:bank:acr:pwd", "urn:bank:acr:mfa"}
	if !slices.Equal(got, want) {
		t.Errorf("acr_values_supported = %v, want %v", got, want)
	}
}
