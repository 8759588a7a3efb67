package config

import (
	"strings"
	"testing"
)

func TestExternalClaimsValidate(t *testing.T) {
	good := func() *ExternalClaims {
		return &ExternalClaims{Sources: []ExternalClaimSource{{
			Issuer: "https://kyc.example", JWKSURI: "https://kyc.example/jwks", TrustFrameworks: []string{"de_aml"},
		}}}
	}
	p := testProvider()
	p.ExternalClaims = good()
	if err := p.Validate(); err != nil {
		t.Fatalf("valid sources refused: %v", err)
	}
	cases := []struct {
		name   string
		change func(x *ExternalClaims)
		want   string
	}{
		{"an http issuer", func(x *ExternalClaims) { x.Sources[0].Issuer = "http://kyc.example" }, "external_claims.sources[0].issuer: \"http://kyc.example\" must use https"},
		{"an issuer twice", func(x *ExternalClaims) { x.Sources = append(x.Sources, x.Sources[0]) }, "external_claims.sources[1].issuer: \"https://kyc.example\" is listed twice"},
		{"an http jwks_uri", func(x *ExternalClaims) { x.Sources[0].JWKSURI = "http://kyc.example/jwks" }, "external_claims.sources[0].jwks_uri: \"http://kyc.example/jwks\" must be an absolute https URL"},
		{"no jwks_uri", func(x *ExternalClaims) { x.Sources[0].JWKSURI = "" }, "external_claims.sources[0].jwks_uri"},
		{"no trust frameworks", func(x *ExternalClaims) { x.Sources[0].TrustFrameworks = nil }, "external_claims.sources[0].trust_frameworks: must list the trust frameworks"},
		{"a framework the provider does not offer", func(x *ExternalClaims) { x.Sources[0].TrustFrameworks = []string{"nist_800_63A"} }, "external_claims.sources[0].trust_frameworks[0]: \"nist_800_63A\" is not a trust framework the provider offers"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := testProvider()
			p.ExternalClaims = good()
			c.change(p.ExternalClaims)
			err := AsError(p.Validate())
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
}

func TestRenderDiscoveryExternalClaims(t *testing.T) {
	p := testProvider()
	doc := render(t, p)
	if _, ok := doc["claim_types_supported"]; ok {
		t.Error("claim_types_supported advertised without external claim sources")
	}
	p.ExternalClaims = &ExternalClaims{Sources: []ExternalClaimSource{{
		Issuer: "https://kyc.example", JWKSURI: "https://kyc.example/jwks", TrustFrameworks: []string{"de_aml"},
	}}}
	doc = render(t, p)
	got, _ := doc["claim_types_supported"].([]any)
	if len(got) != 3 || got[0] != "normal" || got[1] != "aggregated" || got[2] != "distributed" {
		t.Errorf("claim_types_supported = %v", doc["claim_types_supported"])
	}
}
