package op

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/grants"
)

// TestDescribeToken: what a caller learns of an access token (RFC 7662
// §2.2): everything when it is active and the caller's, active: false and
// nothing else otherwise.
func TestDescribeToken(t *testing.T) {
	f := newFixture(t, func(s *config.Snapshot) { s.Clients[clientSigned].ResourceServer = true })
	sv := f.p.served.Load()
	now := time.Unix(1_800_000_000, 0)
	rec := func() *grants.Token {
		return &grants.Token{Info: grants.Info{ClientID: clientBasic, Subject: "sub-1", Scope: "openid email"},
			IssuedAt: now.Unix() - 10, ExpiresAt: now.Unix() + 60}
	}
	cases := []struct {
		name   string
		caller string
		rec    func() *grants.Token
		active bool
	}{
		{"the caller's active token", clientBasic, rec, true},
		{"unknown, revoked or spent", clientBasic, func() *grants.Token { return nil }, false},
		{"another client's token", clientPost, rec, false},
		{"another client's token, to a resource server", clientSigned, rec, true},
		{"expired, at its expiry second", clientBasic, func() *grants.Token { r := rec(); r.ExpiresAt = now.Unix(); return r }, false},
		{"its client disabled", clientDisabled, func() *grants.Token { r := rec(); r.ClientID = clientDisabled; return r }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := describeToken(sv, sv.clients[tc.caller], tc.rec(), now)
			if got.Active != tc.active {
				t.Fatalf("active %v, want %v", got.Active, tc.active)
			}
			if !got.Active && !reflect.DeepEqual(*got, introspection{}) {
				t.Fatalf("an inactive answer says more: %+v", got)
			}
			if got.Active && (got.Subject != "sub-1" || got.Scope != "openid email" || got.Issuer != sv.issuer ||
				got.IssuedAt != now.Unix()-10 || got.TokenType != "Bearer" || got.Cnf != nil || string(got.Audience) != `"`+sv.issuer+`"`) {
				t.Fatalf("active answer %+v", got)
			}
		})
	}
	api := rec()
	api.Resources = []string{"https://api.bank.example/", "urn:bank:payments"}
	if got := describeToken(sv, sv.clients[clientBasic], api, now); string(got.Audience) != `["https://api.bank.example/","urn:bank:payments"]` {
		t.Fatalf("a token for two resources has aud %s", got.Audience)
	}
	bound := rec()
	bound.JKT = "thumb"
	if got := describeToken(sv, sv.clients[clientBasic], bound, now); got.TokenType != "DPoP" || got.Cnf == nil || got.Cnf.JKT != "thumb" {
		t.Fatalf("a DPoP-bound token: %+v", got)
	}
}

// TestIntrospection: the endpoint answers its own client about a live
// token, active: false once the token is revoked, and refuses a caller
// that does not authenticate.
func TestIntrospection(t *testing.T) {
	f := newFixture(t)
	code, verifier := f.codeFor(clientBasic, nil)
	_, tok := f.exchange(clientBasic, code, verifier)
	at := tok["access_token"].(string)
	ask := func(auth map[string]string, token string) (*http.Response, map[string]any) {
		resp := f.post(config.PathIntrospect, url.Values{"token": {token}}, auth)
		return resp, decode(t, resp)
	}
	resp, body := ask(basicAuth(clientBasic, testSecret), at)
	if resp.StatusCode != http.StatusOK || body["active"] != true || body["client_id"] != clientBasic || body["sub"] != testSubject ||
		body["scope"] != "openid email" || body["iss"] != f.issuer || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("own live token: %d %v", resp.StatusCode, body)
	}
	if _, body := ask(basicAuth(clientSigned, testSecret), at); body["active"] != false || len(body) != 1 {
		t.Fatalf("another client's token: %v", body)
	}
	if resp, body := ask(nil, at); resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_client" {
		t.Fatalf("without client authentication: %d %v", resp.StatusCode, body)
	}
	if resp, body := ask(basicAuth(clientBasic, testSecret), ""); resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_request" {
		t.Fatalf("without a token: %d %v", resp.StatusCode, body)
	}
	f.post(config.PathRevoke, url.Values{"token": {at}}, basicAuth(clientBasic, testSecret))
	if _, body := ask(basicAuth(clientBasic, testSecret), at); body["active"] != false {
		t.Fatalf("a revoked token: %v", body)
	}

	// A refresh token is never described, even to its own client; an
	// access token is not once it has expired.
	code, verifier = f.codeFor(clientPost, url.Values{"scope": {"openid offline_access"}})
	_, tok = postForm(f, config.PathToken, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI},
		"code_verifier": {verifier}, "client_id": {clientPost}, "client_secret": {testSecret}})
	own := func(token string) map[string]any {
		_, body := postForm(f, config.PathIntrospect, url.Values{"token": {token}, "client_id": {clientPost}, "client_secret": {testSecret}})
		return body
	}
	rt, _ := tok["refresh_token"].(string)
	if body := own(rt); rt == "" || body["active"] != false || len(body) != 1 {
		t.Fatalf("a refresh token (%q): %v", rt, body)
	}
	at = tok["access_token"].(string)
	if body := own(at); body["active"] != true {
		t.Fatalf("a live access token: %v", body)
	}
	f.clock.advance(10*time.Minute + time.Second)
	if body := own(at); body["active"] != false || len(body) != 1 {
		t.Fatalf("an expired access token: %v", body)
	}
}

// TestIntrospectionJWT: asked for application/token-introspection+jwt,
// the answer is a JWT of that typ signed with the provider's key, for the
// caller, with the answer as its token_introspection claim (RFC 9701).
func TestIntrospectionJWT(t *testing.T) {
	f := newFixture(t)
	code, verifier := f.codeFor(clientBasic, nil)
	_, tok := f.exchange(clientBasic, code, verifier)
	at := tok["access_token"].(string)
	for _, accept := range []string{"application/token-introspection+jwt", "application/json;q=0.5, application/token-introspection+jwt"} {
		resp := f.post(config.PathIntrospect, url.Values{"token": {at}}, map[string]string{
			"Authorization": basicAuth(clientBasic, testSecret)["Authorization"], "Accept": accept,
		})
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/token-introspection+jwt" {
			t.Fatalf("Accept %q: %d %s %s", accept, resp.StatusCode, resp.Header.Get("Content-Type"), raw)
		}
		parsed, err := jwt.ParseSigned(string(raw), []jose.SignatureAlgorithm{jose.ES256})
		if err != nil {
			t.Fatal(err)
		}
		if typ := parsed.Headers[0].ExtraHeaders[jose.HeaderType]; typ != "token-introspection+jwt" {
			t.Fatalf("typ %v", typ)
		}
		key := publishedKey(t, f, parsed.Headers[0].KeyID)
		var std jwt.Claims
		var body struct {
			TI map[string]any `json:"token_introspection"`
		}
		if err := parsed.Claims(key, &std, &body); err != nil {
			t.Fatalf("signature: %v", err)
		}
		if std.Issuer != f.issuer || !std.Audience.Contains(clientBasic) || std.IssuedAt == nil ||
			body.TI["active"] != true || body.TI["sub"] != testSubject {
			t.Fatalf("claims %+v %v", std, body.TI)
		}
	}
}

// publishedKey is the provider's public key kid from its JWKS.
func publishedKey(t *testing.T, f *fixture, kid string) any {
	t.Helper()
	resp, err := http.Get(f.url(config.PathJWKS))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	keys := set.Key(kid)
	if len(keys) != 1 {
		t.Fatalf("kid %q not published", kid)
	}
	return keys[0].Key
}
