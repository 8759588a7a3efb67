package runtime_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/ida"
	"github.com/idaop/ida-operator/runtime/users"
	"github.com/idaop/ida-operator/test/internal/fixture"
	"github.com/idaop/ida-operator/test/internal/rptest"
)

// startAuthorityEnv starts a runtime of its own whose provider also offers
// gBizID (config/trustframeworks/jp-gbizid-v1.yaml), under which the demo
// user represents a company (the authority claim); it stops with the test.
func startAuthorityEnv(t *testing.T) *env {
	t.Helper()
	e, err := startEnv(writeAuthorityConfigDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.close)
	return e
}

func writeAuthorityConfigDir(dir, issuer, redirectURI string) (*generated, error) {
	g := &generated{dir: dir, clientNames: map[string]string{clientBasic: "Demo Bank business accounts (go-oidc)"}}
	var err error
	if g.clientSecret, err = config.NewClientSecret(); err != nil {
		return nil, err
	}
	c := fixture.Client(clientBasic, g.clientNames[clientBasic], "team-a", redirectURI, g.clientSecret, "openid", "profile", "email")
	c.TrustFrameworks = append(c.TrustFrameworks, "jp_gbizid_v1")
	c.VerifiedClaims = append(c.VerifiedClaims, "authority")
	p := fixture.Provider(issuer, []string{config.ES256}, 10*time.Minute, time.Minute)
	p.IDA.TrustFrameworks = append(p.IDA.TrustFrameworks, ida.TrustFramework{
		Identifier: "jp_gbizid_v1", AssuranceLevels: []string{"ial1", "ial2"},
		Claims:           []string{"family_name", "given_name", "birthdate", "address", "authority"},
		RequiredElements: []string{"assurance_level"},
	})
	if err := fixture.WriteConfigDir(dir, p, demoPassword, c); err != nil {
		return nil, err
	}
	return g, nil
}

// TestAuthorityWithChromium: a bank's relying party (x/oauth2, go-oidc)
// asks which company the person represents as gBizID Prime; headless
// Chromium signs in and reads on the consent page whom they act for; the
// discovery document advertises authority, and UserInfo carries exactly
// the requested members of the authority claim, valid against the IDA
// schema.
func TestAuthorityWithChromium(t *testing.T) {
	t.Parallel()
	e := startAuthorityEnv(t)
	e.dumpLogsOnFailure(t)
	br := getBrowser(t)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()

	disc := discoveryDocument(t, e)
	inVC, _ := json.Marshal(disc["claims_in_verified_claims_supported"])
	if disc["authority_claims_supported"] != true || !strings.Contains(string(inVC), `"authority"`) {
		t.Errorf("discovery: authority_claims_supported %v, claims_in_verified_claims_supported %s", disc["authority_claims_supported"], inVC)
	}

	const claims = `{"userinfo":{"verified_claims":{"verification":{"trust_framework":{"value":"jp_gbizid_v1"},"assurance_level":null},
	  "claims":{"family_name":null,"authority":{"applies_to":{"organization_name":null,"registration_number":null},
	  "permission":[{"role":{"value":"prime"}}]}}}}}`
	rp := newGoRP(t, ctx, e, clientBasic)
	got := e.cb.Expect(rp.state)
	tab := br.Tab(t, 30*time.Second)
	pages := signInWithBrowser(t, e, tab, rp.authCodeURL(claims, "To open a business account"), "approve", false)
	for _, s := range []string{"Your authority to act for a company or another person", "You act for " + users.DemoCompany} {
		if !strings.Contains(pages.ConsentText, s) {
			t.Errorf("consent page does not show %q:\n%s", s, pages.ConsentText)
		}
	}

	cb := rptest.Wait(t, got, 10*time.Second)
	_, _, ui := rp.finish(t, ctx, e, cb)
	if rptest.ValidateVerifiedClaims(t, e.specDir, "UserInfo", ui) == 0 {
		t.Fatalf("UserInfo has no verified_claims: %v", ui)
	}
	d := rptest.DatasetUnder(ui, "jp_gbizid_v1")
	if d == nil {
		t.Fatalf("UserInfo has no jp_gbizid_v1 verified_claims: %v", ui["verified_claims"])
	}
	got2, _ := json.Marshal(d)
	want := `{"claims":{"authority":{"applies_to":{"organization_name":"` + users.DemoCompany + `","registration_number":"1010001000000"},` +
		`"permission":[{"role":"prime"}]},"family_name":"山田"},"verification":{"assurance_level":"ial2","trust_framework":"jp_gbizid_v1"}}`
	if string(got2) != want {
		t.Errorf("UserInfo jp_gbizid_v1 dataset\n got %s\nwant %s", got2, want)
	}
}
