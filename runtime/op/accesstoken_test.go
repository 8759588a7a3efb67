package op

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/grants"
)

// TestJWTAccessTokens: with the JWT format an access token is an at+jwt
// (RFC 9068) that verifies with the provider's published keys and says
// who, for whom and for what; it still works at UserInfo, and revoking it
// makes introspection say inactive and UserInfo refuse it.
func TestJWTAccessTokens(t *testing.T) {
	f := newFixture(t, func(s *config.Snapshot) {
		s.Provider.Tokens.AccessTokenFormat = config.AccessTokenJWT
		s.Provider.Tokens.AccessTokenAudience = "https://api.bank.example"
	})
	code, verifier := f.codeFor(clientBasic, nil)
	_, tok := f.exchange(clientBasic, code, verifier)
	at, _ := tok["access_token"].(string)

	parsed, err := jwt.ParseSigned(at, []jose.SignatureAlgorithm{jose.ES256, jose.PS256})
	if err != nil {
		t.Fatalf("not a JWT: %v (%q)", err, at)
	}
	if typ := parsed.Headers[0].ExtraHeaders[jose.HeaderType]; typ != "at+jwt" {
		t.Fatalf("typ %v, want at+jwt", typ)
	}
	key := publishedKey(t, f, parsed.Headers[0].KeyID)
	var std jwt.Claims
	var extra struct {
		ClientID string `json:"client_id"`
		Scope    string `json:"scope"`
		AuthTime int64  `json:"auth_time"`
	}
	if err := parsed.Claims(key, &std, &extra); err != nil {
		t.Fatalf("signature: %v", err)
	}
	if err := std.Validate(jwt.Expected{Issuer: f.issuer, Subject: testSubject, AnyAudience: jwt.Audience{"https://api.bank.example"}, Time: f.clock.now()}); err != nil {
		t.Fatalf("claims: %v", err)
	}
	if extra.ClientID != clientBasic || extra.Scope != "openid email" || extra.AuthTime == 0 || std.ID == "" ||
		std.Expiry.Time().Sub(std.IssuedAt.Time()) != 10*time.Minute {
		t.Fatalf("claims: %+v %+v", std, extra)
	}

	if resp, body := f.userinfo(at); resp.StatusCode != http.StatusOK || body["sub"] != testSubject {
		t.Fatalf("UserInfo with a JWT access token: %d %v", resp.StatusCode, body)
	}
	f.post(config.PathRevoke, url.Values{"token": {at}}, basicAuth(clientBasic, testSecret))
	in := decode(t, f.post(config.PathIntrospect, url.Values{"token": {at}}, basicAuth(clientBasic, testSecret)))
	if in["active"] != false {
		t.Fatalf("introspection of a revoked JWT access token: %v", in)
	}
	if resp, _ := f.userinfo(at); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("UserInfo with a revoked JWT access token: %d", resp.StatusCode)
	}
	if strings.Count(at, ".") != 2 {
		t.Fatal("not a compact JWS")
	}
}

// TestJWTAccessTokenDPoP: a DPoP-bound JWT access token carries the
// proof's key thumbprint as cnf.jkt (RFC 9449 §6.1).
func TestJWTAccessTokenDPoP(t *testing.T) {
	f := newFixture(t, func(s *config.Snapshot) { s.Provider.Tokens.AccessTokenFormat = config.AccessTokenJWT })
	sv := f.p.served.Load()
	info := &grants.Info{ClientID: clientFAPI, Subject: testSubject, Scope: "openid"}
	at, err := f.p.newAccessToken(sv, sv.clients[clientFAPI], info, "thumbprint-1", f.clock.now())
	if err != nil {
		t.Fatal(err)
	}
	payload := decodeJWTPayload(t, at)
	if !strings.Contains(payload, `"cnf":{"jkt":"thumbprint-1"}`) || !strings.Contains(payload, `"aud":"`+f.issuer+`"`) {
		t.Fatalf("payload %s: want cnf.jkt and the issuer as the default audience", payload)
	}
}

// TestAccessTokenFormatPerClient: a client's format overrides the
// provider's, both ways.
func TestAccessTokenFormatPerClient(t *testing.T) {
	f := newFixture(t, func(s *config.Snapshot) {
		s.Provider.Tokens.AccessTokenFormat = config.AccessTokenJWT
		s.Clients[clientPost].AccessTokenFormat = config.AccessTokenOpaque
		s.Clients[clientSigned].AccessTokenFormat = config.AccessTokenJWT
	})
	for client, jwtWanted := range map[string]bool{clientBasic: true, clientPost: false, clientSigned: true} {
		code, verifier := f.codeFor(client, nil)
		var resp *http.Response
		var tok map[string]any
		if client == clientPost {
			resp, tok = postForm(f, config.PathToken, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI},
				"code_verifier": {verifier}, "client_id": {client}, "client_secret": {testSecret}})
		} else {
			resp, tok = f.exchange(client, code, verifier)
		}
		at, _ := tok["access_token"].(string)
		if isJWT := strings.Count(at, ".") == 2; resp.StatusCode != 200 || isJWT != jwtWanted {
			t.Errorf("%s: status %d, access token %q is a JWT: %v, want %v", client, resp.StatusCode, at, isJWT, jwtWanted)
		}
	}
}
