package op

import (
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/grants"
)

// clientJAR signs its requests with the same key as clientFAPI and needs
// neither PAR nor DPoP.
const clientJAR = "rp-jar"

func jarFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixture(t, func(s *config.Snapshot) {
		c := *s.Clients[clientFAPI]
		c.ClientID, c.RequirePAR, c.RequireDPoP = clientJAR, false, false
		s.Clients[clientJAR] = &c
	})
}

// ageCheck defines a custom transformed claim: accepted only in an
// integrity-protected request (ASC §9.1).
const ageCheck = `{"_asc": {"transformed_claims": {"adult": {"claim": "birthdate", "fn": ["years_ago", ["gte", 18]]}}},
  "id_token": {"verified_claims": {"verification": {"trust_framework": null}, "claims": {":adult": null, "family_name": null}}}}`

// requestObject is a request object of clientID signed with key; edit
// changes its claims.
func (f *fixture) requestObject(clientID string, key *ecdsa.PrivateKey, params map[string]any, edit func(map[string]any)) string {
	f.t.Helper()
	now := f.clock.now()
	cl := map[string]any{"iss": clientID, "aud": f.issuer, "exp": now.Add(5 * time.Minute).Unix(), "nbf": now.Unix(),
		"iat": now.Unix(), "jti": grants.NewSecret(), "client_id": clientID}
	for k, v := range params {
		cl[k] = v
	}
	if edit != nil {
		edit(cl)
	}
	return f.signES256(key, "k1", "oauth-authz-req+jwt", cl)
}

// authzParams is an authorization request as request object claims.
func authzParams(challenge string) map[string]any {
	return map[string]any{"response_type": "code", "redirect_uri": redirectURI, "scope": "openid", "state": "st-signed",
		"nonce": "n-signed", "code_challenge": challenge, "code_challenge_method": "S256", "purpose": "To check your age"}
}

// A signed request object is the authorization request: its parameters
// count and the ones beside it do not, and it is integrity protected like
// a pushed request, so a custom transformed claim is accepted in it and
// refused in a plain query.
func TestRequestObjectAtTheAuthorizationEndpoint(t *testing.T) {
	f := jarFixture(t)
	plain, _ := f.authorizeURL(clientJAR, url.Values{"claims": {ageCheck}})
	if q := redirectParams(t, f.get(f.browser(), plain)); q.Get("error") != "invalid_request" || !strings.Contains(q.Get("error_description"), "pushed or signed") {
		t.Fatalf("custom transformed claims in a plain query: %v", q)
	}

	verifier, challenge := pkce()
	params := authzParams(challenge)
	var claims map[string]any
	mustUnmarshal(t, ageCheck, &claims)
	params["claims"] = claims
	obj := f.requestObject(clientJAR, f.clientKey, params, nil)
	u := f.url(config.PathAuthorize) + "?" + url.Values{
		"client_id": {clientJAR}, "request": {obj},
		"state": {"st-outer"}, "scope": {"openid email"}, "redirect_uri": {"https://evil.example/cb"},
	}.Encode()
	b := f.browser()
	login := f.get(b, u)
	if login.status != http.StatusOK || login.interaction == "" {
		t.Fatalf("authorize with a request object: %d %.300s", login.status, login.body)
	}
	consent := f.submit(b, pathLogin, login, url.Values{"username": {testUsername}, "password": {testPassword}})
	if !strings.Contains(consent.body, "To check your age") {
		t.Fatalf("the consent page does not show the request object's purpose: %.500s", consent.body)
	}
	q := redirectParams(t, f.submit(b, pathConsent, consent, url.Values{"decision": {"approve"}}))
	if q.Get("state") != "st-signed" || q.Get("code") == "" {
		t.Fatalf("redirect %v: want the request object's state and a code", q)
	}
	form := assertionParams(f.assertion(func(c *jwt.Claims) { c.Issuer, c.Subject = clientJAR, clientJAR }))
	for k, v := range map[string]string{"client_id": clientJAR, "grant_type": "authorization_code", "code": q.Get("code"),
		"redirect_uri": redirectURI, "code_verifier": verifier} {
		form.Set(k, v)
	}
	resp := f.post(config.PathToken, form, nil)
	tok := decode(t, resp)
	if resp.StatusCode != http.StatusOK || tok["scope"] != "openid" {
		t.Fatalf("token: %d %v (scope must be the request object's)", resp.StatusCode, tok)
	}
	idt, _ := tok["id_token"].(string)
	payload := decodeJWTPayload(t, idt)
	if !strings.Contains(payload, `":adult":true`) || payload == "" {
		t.Fatalf("the ID token lacks the transformed claim: %s", payload)
	}
}

func TestRequestObjectRefusals(t *testing.T) {
	f := jarFixture(t)
	_, challenge := pkce()
	other := mustKey(t)
	now := f.clock.now()
	for _, tc := range []struct {
		name   string
		obj    string
		outer  url.Values
		code   string
		reason string
	}{
		{"another key", f.requestObject(clientJAR, other, authzParams(challenge), nil), nil, "invalid_request_object", "signature"},
		{"iss of another client", f.requestObject(clientJAR, f.clientKey, authzParams(challenge), func(c map[string]any) { c["iss"] = clientFAPI }), nil, "invalid_request_object", "iss"},
		{"aud of another provider", f.requestObject(clientJAR, f.clientKey, authzParams(challenge), func(c map[string]any) { c["aud"] = "https://other.example" }), nil, "invalid_request_object", "aud"},
		{"expired", f.requestObject(clientJAR, f.clientKey, authzParams(challenge), func(c map[string]any) { c["exp"] = now.Add(-time.Hour).Unix() }), nil, "invalid_request_object", "expired"},
		{"no exp", f.requestObject(clientJAR, f.clientKey, authzParams(challenge), func(c map[string]any) { delete(c, "exp") }), nil, "invalid_request_object", "exp"},
		{"two hours", f.requestObject(clientJAR, f.clientKey, authzParams(challenge), func(c map[string]any) { c["exp"] = now.Add(2 * time.Hour).Unix() }), nil, "invalid_request_object", "60 minutes"},
		{"not yet valid", f.requestObject(clientJAR, f.clientKey, authzParams(challenge), func(c map[string]any) { c["nbf"] = now.Add(time.Hour).Unix() }), nil, "invalid_request_object", "nbf"},
		{"client_id of another client", f.requestObject(clientJAR, f.clientKey, authzParams(challenge), func(c map[string]any) { c["client_id"] = clientFAPI }), nil, "invalid_request_object", "client_id"},
		{"nested request", f.requestObject(clientJAR, f.clientKey, authzParams(challenge), func(c map[string]any) { c["request"] = "x" }), nil, "invalid_request_object", "another"},
		{"unsigned", "eyJhbGciOiJub25lIn0.e30.", nil, "invalid_request_object", "accepted algorithm"},
		{"with request_uri", f.requestObject(clientJAR, f.clientKey, authzParams(challenge), nil), url.Values{"request_uri": {requestURIPrefix + "x"}}, "invalid_request", "request_uri"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := url.Values{"client_id": {clientJAR}, "request": {tc.obj}}
			for k, vs := range tc.outer {
				v[k] = vs
			}
			pg := f.get(f.browser(), f.url(config.PathAuthorize)+"?"+v.Encode())
			if pg.status != http.StatusBadRequest || pg.location != "" || !strings.Contains(pg.body, tc.code) || !strings.Contains(pg.body, tc.reason) {
				t.Fatalf("want an error page with %s (%s), got %d %q %.400s", tc.code, tc.reason, pg.status, pg.location, pg.body)
			}
		})
	}
}

// PAR takes a request object too; the pushed request it becomes is used
// like any other, and a bad one is refused in JSON.
func TestRequestObjectPushed(t *testing.T) {
	f := jarFixture(t)
	_, challenge := pkce()
	push := func(obj string) (*http.Response, map[string]any) {
		form := assertionParams(f.assertion(nil))
		form.Set("request", obj)
		resp := f.post(config.PathPAR, form, nil)
		return resp, decode(t, resp)
	}
	resp, body := push(f.requestObject(clientFAPI, f.clientKey, authzParams(challenge), nil))
	ru, _ := body["request_uri"].(string)
	if resp.StatusCode != http.StatusCreated || ru == "" {
		t.Fatalf("PAR with a request object: %d %v", resp.StatusCode, body)
	}
	pg := f.get(f.browser(), f.url(config.PathAuthorize)+"?"+url.Values{"client_id": {clientFAPI}, "request_uri": {ru}}.Encode())
	if pg.status != http.StatusOK || pg.interaction == "" {
		t.Fatalf("authorize with the pushed request object: %d %.300s", pg.status, pg.body)
	}
	resp, body = push(f.requestObject(clientFAPI, mustKey(t), authzParams(challenge), nil))
	if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_request_object" {
		t.Fatalf("PAR with a request object signed by another key: %d %v", resp.StatusCode, body)
	}

	// A claims parameter as large as a plain request may carry fits in a
	// request object too; a larger one is refused like a plain one.
	withClaims := func(n int) map[string]any {
		params := authzParams(challenge)
		params["claims"] = map[string]any{"userinfo": map[string]any{"given_name": map[string]any{"purpose": strings.Repeat("p", 300)}},
			"x_padding": strings.Repeat("x", n)}
		return params
	}
	resp, body = push(f.requestObject(clientFAPI, f.clientKey, withClaims(maxClaimsBytes-1024), nil))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PAR with a request object carrying a %d-byte claims parameter: %d %v", maxClaimsBytes-1024, resp.StatusCode, body)
	}
	resp, body = push(f.requestObject(clientFAPI, f.clientKey, withClaims(maxClaimsBytes), nil))
	if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_request" {
		t.Fatalf("PAR with a request object carrying an oversized claims parameter: %d %v", resp.StatusCode, body)
	}
}

func mustUnmarshal(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatal(err)
	}
}

// decodeJWTPayload returns a JWT's payload JSON, unverified.
func decodeJWTPayload(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWT: %q", token)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRequestObjectParamValues(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want string
	}{
		{"openid email", "openid email"},
		{float64(86400), "86400"},
		{true, "true"},
		{map[string]any{"userinfo": map[string]any{"email": nil}}, `{"userinfo":{"email":null}}`},
		{[]any{"https://api.example"}, `["https://api.example"]`},
	} {
		if got, ok := paramValue(tc.in); !ok || got != tc.want {
			t.Errorf("paramValue(%v) = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
}
