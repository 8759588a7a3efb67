package op

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/idaop/ida-operator/runtime/authn"
	"github.com/idaop/ida-operator/runtime/config"
)

const (
	acrPwd = "urn:bank:acr:pwd"
	acrMFA = "urn:bank:acr:mfa"
)

// withLevels declares a password level (the default) and a two-factor one.
func withLevels(s *config.Snapshot) {
	s.Provider.Authentication = authn.Policy{
		Levels: []authn.Level{
			{ACR: acrPwd, Methods: [][]string{{authn.MethodPassword}}},
			{ACR: acrMFA, Methods: [][]string{{authn.MethodPassword, authn.MethodOTP}}},
		},
		DefaultLevel: acrPwd,
	}
}

// idTokenClaims reads an ID token's payload; its signature is checked by
// the tests that verify tokens (flow_test.go), not here.
func idTokenClaims(t testing.TB, body map[string]any) map[string]any {
	t.Helper()
	tok, _ := body["id_token"].(string)
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("no ID token in %v", body)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func amrOf(c map[string]any) []string {
	var out []string
	list, _ := c["amr"].([]any)
	for _, v := range list {
		s, _ := v.(string)
		out = append(out, s)
	}
	return out
}

// TestIDTokenStatesTheLevel: a password sign-in gets the default level's
// acr (an unknown acr_values value is voluntary), amr [pwd] and auth_time;
// without levels the ID token has amr and auth_time but no acr.
func TestIDTokenStatesTheLevel(t *testing.T) {
	t.Run("levels", func(t *testing.T) {
		f := newFixture(t, withLevels)
		code, verifier := f.codeFor(clientBasic, url.Values{"acr_values": {"urn:unknown " + acrPwd}})
		resp, body := f.exchange(clientBasic, code, verifier)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("token: %d %v", resp.StatusCode, body)
		}
		c := idTokenClaims(t, body)
		if c["acr"] != acrPwd || !slices.Equal(amrOf(c), []string{"pwd"}) {
			t.Fatalf("acr %v amr %v", c["acr"], c["amr"])
		}
		if at, _ := c["auth_time"].(float64); int64(at) != f.clock.now().Unix() {
			t.Fatalf("auth_time %v, want %d", c["auth_time"], f.clock.now().Unix())
		}
	})
	t.Run("JWT access token", func(t *testing.T) {
		// RFC 9068 §2.2.1: the access token says how the person signed in
		// too, as the ID token does.
		f := newFixture(t, withLevels, func(s *config.Snapshot) { s.Provider.Tokens.AccessTokenFormat = config.AccessTokenJWT })
		code, verifier := f.codeFor(clientBasic, nil)
		_, body := f.exchange(clientBasic, code, verifier)
		c := idTokenClaims(t, map[string]any{"id_token": body["access_token"]})
		if c["acr"] != acrPwd || !slices.Equal(amrOf(c), []string{"pwd"}) || c["auth_time"] == nil {
			t.Fatalf("access token acr %v amr %v auth_time %v", c["acr"], c["amr"], c["auth_time"])
		}
	})
	t.Run("no levels", func(t *testing.T) {
		f := newFixture(t)
		code, verifier := f.codeFor(clientBasic, url.Values{"acr_values": {acrMFA}})
		_, body := f.exchange(clientBasic, code, verifier)
		c := idTokenClaims(t, body)
		if _, ok := c["acr"]; ok || !slices.Equal(amrOf(c), []string{"pwd"}) {
			t.Fatalf("acr %v amr %v", c["acr"], c["amr"])
		}
	})
}

// TestUnreachableLevel: a level whose methods the provider cannot offer
// (one-time codes with the HTTP user source without factors)
// ends an essential request with unmet_authentication_requirements at
// once; a voluntary one falls back to the strongest reachable level.
func TestUnreachableLevel(t *testing.T) {
	f := newFixture(t, withLevels, func(s *config.Snapshot) {
		// The fixture's users stay the builtin ones; the configured type
		// is what decides which methods are offered.
		s.Provider.Users = config.UserSource{Type: config.UsersHTTP, HTTP: &config.HTTPUsers{URL: "https://kyc.example"}}
	})
	u, _ := f.authorizeURL(clientBasic, url.Values{"claims": {`{"id_token":{"acr":{"essential":true,"value":"` + acrMFA + `"}}}`}})
	pg := f.get(f.browser(), u)
	if q := redirectParams(t, pg); q.Get("error") != "unmet_authentication_requirements" {
		t.Fatalf("essential: %v", q)
	}
	code, verifier := f.codeFor(clientBasic, url.Values{"acr_values": {acrMFA}})
	_, body := f.exchange(clientBasic, code, verifier)
	if c := idTokenClaims(t, body); c["acr"] != acrPwd {
		t.Fatalf("fallback acr %v", c["acr"])
	}
}

// vcGivenName asks for a verified given_name in the ID token and UserInfo.
const vcGivenName = `{"id_token":{"verified_claims":{"verification":{"trust_framework":null},"claims":{"given_name":null}}},` +
	`"userinfo":{"verified_claims":{"verification":{"trust_framework":null},"claims":{"given_name":null}}}}`

// passwordThenPage signs in with the password and returns the next page.
func (f *fixture) passwordThenPage(extra url.Values) *page {
	f.t.Helper()
	b := f.browser()
	u, _ := f.authorizeURL(clientBasic, extra)
	pg := f.get(b, u)
	return f.submit(b, pathLogin, pg, url.Values{"username": {testUsername}, "password": {testPassword}})
}

// TestVerifiedClaimsLevel: with spec.authentication.verifiedClaimsLevel,
// a request for verified_claims is stepped up to that level (one without
// them is not), and a grant below the level gets none, in the ID token or
// at UserInfo, though it was made before the level was set.
func TestVerifiedClaimsLevel(t *testing.T) {
	f := newFixture(t, withLevels)
	vc := url.Values{"claims": {vcGivenName}}
	before, beforeVerifier := f.codeFor(clientBasic, vc)
	after, afterVerifier := f.codeFor(clientBasic, vc)
	_, body := f.exchange(clientBasic, before, beforeVerifier)
	if _, ok := idTokenClaims(t, body)["verified_claims"]; !ok {
		t.Fatalf("no level set: want verified_claims in the ID token: %v", idTokenClaims(t, body))
	}

	f.snap.Provider.Authentication.VerifiedClaimsLevel = acrMFA
	if err := f.p.Apply(f.snap); err != nil {
		t.Fatal(err)
	}
	_, body = f.exchange(clientBasic, after, afterVerifier)
	c := idTokenClaims(t, body)
	if _, ok := c["verified_claims"]; ok || c["acr"] != acrPwd {
		t.Fatalf("a password-only grant got verified_claims in its ID token: %v", c)
	}
	_, ui := f.userinfo(body["access_token"].(string))
	if _, ok := ui["verified_claims"]; ok || ui["sub"] != testSubject {
		t.Fatalf("a password-only grant got verified_claims at UserInfo: %v", ui)
	}

	if pg := f.passwordThenPage(vc); !strings.Contains(pg.body, `id="otp-secret"`) {
		t.Fatalf("a request for verified claims is not stepped up: %d %.400s", pg.status, pg.body)
	}
	if pg := f.passwordThenPage(nil); strings.Contains(pg.body, `id="otp-secret"`) {
		t.Fatal("a request without verified claims was stepped up")
	}
	u, _ := f.authorizeURL(clientBasic, url.Values{"claims": {`{"id_token":{"acr":{"essential":true,"value":"` + acrPwd + `"},` + vcGivenName[len(`{"id_token":{`):]}})
	if q := redirectParams(t, f.get(f.browser(), u)); q.Get("error") != "unmet_authentication_requirements" {
		t.Fatalf("verified claims with an essential password level: %v", q)
	}
}

// TestClientMinimumLevel: a client's minimum level steps every sign-in up
// to it, and an essential acr below it cannot be met.
func TestClientMinimumLevel(t *testing.T) {
	f := newFixture(t, withLevels, func(s *config.Snapshot) { s.Clients[clientBasic].MinimumACR = acrMFA })
	if pg := f.passwordThenPage(nil); !strings.Contains(pg.body, `id="otp-secret"`) {
		t.Fatalf("a password sign-in for the client is not stepped up: %d %.400s", pg.status, pg.body)
	}
	if pg := f.passwordThenPage(url.Values{"acr_values": {acrPwd}}); !strings.Contains(pg.body, `id="otp-secret"`) {
		t.Fatal("a voluntary weaker level lowered the client's minimum")
	}
	u, _ := f.authorizeURL(clientBasic, url.Values{"claims": {`{"id_token":{"acr":{"essential":true,"value":"` + acrPwd + `"}}}`}})
	if q := redirectParams(t, f.get(f.browser(), u)); q.Get("error") != "unmet_authentication_requirements" {
		t.Fatalf("an essential level below the client's minimum: %v", q)
	}
}

// TestTrustFrameworkLevel: a TrustFramework's required level steps up a
// request that can release verified claims for a client that may receive
// that framework's, and a grant below it gets none of that framework's,
// though made before the level was set; a level set for another
// framework changes nothing here.
func TestTrustFrameworkLevel(t *testing.T) {
	f := newFixture(t, withLevels)
	vc := url.Values{"claims": {vcGivenName}}
	other, otherVerifier := f.codeFor(clientBasic, vc)
	before, beforeVerifier := f.codeFor(clientBasic, vc)

	f.snap.Provider.Authentication.TrustFrameworkLevels = map[string]string{"eidas": acrMFA}
	if err := f.p.Apply(f.snap); err != nil {
		t.Fatal(err)
	}
	_, body := f.exchange(clientBasic, other, otherVerifier)
	if _, ok := idTokenClaims(t, body)["verified_claims"]; !ok {
		t.Fatal("another framework's level withheld de_aml's verified claims")
	}
	if pg := f.passwordThenPage(vc); strings.Contains(pg.body, `id="otp-secret"`) {
		t.Fatal("another framework's level stepped the request up")
	}

	f.snap.Provider.Authentication.TrustFrameworkLevels = map[string]string{"de_aml": acrMFA}
	if err := f.p.Apply(f.snap); err != nil {
		t.Fatal(err)
	}
	_, body = f.exchange(clientBasic, before, beforeVerifier)
	if c := idTokenClaims(t, body); c["verified_claims"] != nil {
		t.Fatalf("a password-only grant got de_aml's verified claims: %v", c)
	}
	if _, ui := f.userinfo(body["access_token"].(string)); ui["verified_claims"] != nil || ui["sub"] != testSubject {
		t.Fatalf("a password-only grant got de_aml's verified claims at UserInfo: %v", ui)
	}
	if pg := f.passwordThenPage(vc); !strings.Contains(pg.body, `id="otp-secret"`) {
		t.Fatalf("a request for de_aml's verified claims is not stepped up: %d %.400s", pg.status, pg.body)
	}
	if pg := f.passwordThenPage(nil); strings.Contains(pg.body, `id="otp-secret"`) {
		t.Fatal("a request without verified claims was stepped up")
	}
}
