package op

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/idaop/ida-operator/runtime/config"
)

// idToken signs claims with the provider's own ES256 key, as an ID token.
func (f *fixture) idToken(claims map[string]any) string {
	f.t.Helper()
	raw := map[string]json.RawMessage{}
	for k, v := range claims {
		raw[k], _ = json.Marshal(v)
	}
	sv := f.p.served.Load()
	tok, err := f.p.signJWT(sv, config.ES256, raw, f.clock.now())
	if err != nil {
		f.t.Fatal(err)
	}
	return tok
}

// encryptedHint has the shape of a compact JWE.
const encryptedHint = "eyJhbGciOiJFQ0RILUVTIn0..aXY.Y2lwaGVy.dGFn"

// TestIDTokenHintChecks: a hint is one of this provider's ID tokens (OIDC
// Core §3.1.2.1), expired or not; its subject is kept for the decision.
func TestIDTokenHintChecks(t *testing.T) {
	f := newFixture(t)
	sv := f.p.served.Load()
	now := f.clock.now()
	cases := []struct {
		name, hint, code, sub string
	}{
		{"no hint", "", "", ""},
		{"an ID token of this provider", f.idToken(map[string]any{"iss": f.issuer, "sub": "alice-sub", "aud": clientBasic}), "", "alice-sub"},
		{"an expired ID token is still a hint", f.idToken(map[string]any{"iss": f.issuer, "sub": "alice-sub", "exp": now.Add(-1e12).Unix()}), "", "alice-sub"},
		{"another issuer", f.idToken(map[string]any{"iss": "https://other.example", "sub": "alice-sub"}), "invalid_request", ""},
		{"no subject", f.idToken(map[string]any{"iss": f.issuer}), "invalid_request", ""},
		{"signed by another key", f.signES256(mustKey(t), "k1", "JWT", map[string]any{"iss": f.issuer, "sub": "alice-sub"}), "invalid_request", ""},
		{"not a JWT", "not-a-jwt", "invalid_request", ""},
		{"an encrypted ID token", encryptedHint, "invalid_request", ""},
	}
	if _, err := sv.ownIDTokenSubject(encryptedHint, now); err == nil || !strings.Contains(err.Error(), "send the signed ID token inside it") {
		t.Errorf("an encrypted hint: %v", err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := validAuthzParams()
			if tc.hint != "" {
				v.Set("id_token_hint", tc.hint)
			}
			a := readAuthzRequest(v)
			a.p, a.sv = f.p, sv
			if got := codeOf(runAuthzChecks(a)); got != tc.code {
				t.Fatalf("got %q, want %q", got, tc.code)
			}
			if tc.code == "" && a.req.HintSubject != tc.sub {
				t.Fatalf("hint subject %q, want %q", a.req.HintSubject, tc.sub)
			}
		})
	}
}

// TestPromptNoneWithHint: prompt=none answers with a code only for the
// user the hint names; for another user it is login_required, never a
// code for whoever happens to be signed in.
func TestPromptNoneWithHint(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	u, _ := f.authorizeURL(clientBasic, nil)
	if q := f.signIn(b, u); q.Get("code") == "" {
		t.Fatalf("sign-in: %v", q)
	}
	same := f.idToken(map[string]any{"iss": f.issuer, "sub": testSubject, "aud": clientBasic})
	u, _ = f.authorizeURL(clientBasic, url.Values{"prompt": {"none"}, "id_token_hint": {same}})
	if q := redirectParams(t, f.get(b, u)); q.Get("code") == "" {
		t.Fatalf("prompt=none, hint for the signed-in user: %v", q)
	}
	other := f.idToken(map[string]any{"iss": f.issuer, "sub": "someone-else", "aud": clientBasic})
	u, _ = f.authorizeURL(clientBasic, url.Values{"prompt": {"none"}, "id_token_hint": {other}})
	if q := redirectParams(t, f.get(b, u)); q.Get("error") != "login_required" || q.Get("code") != "" {
		t.Fatalf("prompt=none, hint for another user: %v", q)
	}
	u, _ = f.authorizeURL(clientBasic, url.Values{"id_token_hint": {other}})
	if pg := f.get(b, u); pg.interaction == "" {
		t.Fatalf("hint for another user without prompt=none: want the login page, got %d %q", pg.status, pg.location)
	}
}
