package op

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/idaop/ida-operator/internal/idatest"
	"github.com/idaop/ida-operator/internal/specdir"
	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/grants"
)

// dpopTransport adds a fresh DPoP proof to every request it carries, as a
// DPoP-aware client library does.
type dpopTransport struct {
	f *fixture
}

func (d dpopTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	u := *r.URL
	u.RawQuery = ""
	r.Header.Set("DPoP", d.f.proof(r.Method, u.String(), ""))
	return http.DefaultTransport.RoundTrip(r)
}

const claimsRequest = `{
  "userinfo": {"verified_claims": {"verification": {"trust_framework": null},
    "claims": {"given_name": {"purpose": "To address you by name"}, "birthdate": null}}},
  "id_token": {"verified_claims": {"verification": {"trust_framework": {"value": "de_aml"}},
    "claims": {"family_name": null}}}
}`

// TestCodeFlowPARPrivateKeyJWTDPoP is the FAPI-style flow end to end: PAR
// with private_key_jwt and a DPoP proof, sign-in and consent through the
// forms with a cookie jar, the code exchanged by golang.org/x/oauth2, the
// ID token verified by go-oidc, UserInfo with verified_claims over DPoP,
// then refresh-token rotation and its replay detection.
func TestCodeFlowPARPrivateKeyJWTDPoP(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	verifier, challenge := pkce()
	nonce := "n-" + grants.NewSecret()[:10]

	// PAR.
	form := assertionParams(f.assertion(nil))
	for k, v := range map[string]string{
		"response_type": "code", "client_id": clientFAPI, "redirect_uri": redirectURI,
		"scope": "openid email offline_access", "state": "xyz", "nonce": nonce,
		"code_challenge": challenge, "code_challenge_method": "S256",
		"claims": claimsRequest, "purpose": "To open your account",
	} {
		form.Set(k, v)
	}
	resp := f.post(config.PathPAR, form, map[string]string{"DPoP": f.proof("POST", f.url(config.PathPAR), "")})
	par := decode(t, resp)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PAR: %d %v", resp.StatusCode, par)
	}
	requestURI, _ := par["request_uri"].(string)
	if !strings.HasPrefix(requestURI, requestURIPrefix) || par["expires_in"].(float64) < 60 || par["expires_in"].(float64) > 90 {
		t.Fatalf("PAR response: %v", par)
	}

	// Front channel: login and consent pages.
	b := f.browser()
	authz := f.url(config.PathAuthorize) + "?" + url.Values{"client_id": {clientFAPI}, "request_uri": {requestURI}}.Encode()
	pg := f.get(b, authz)
	if pg.status != http.StatusOK || !strings.Contains(pg.body, `name="password"`) {
		t.Fatalf("login page: %d %.300s", pg.status, pg.body)
	}
	pg = f.submit(b, pathLogin, pg, url.Values{"username": {testUsername}, "password": {testPassword}})
	for _, want := range []string{"Client " + clientFAPI, "To open your account", "To address you by name", "decision"} {
		if !strings.Contains(pg.body, want) {
			t.Errorf("consent page lacks %q", want)
		}
	}
	pg = f.submit(b, pathConsent, pg, url.Values{"decision": {"approve"}})
	q := redirectParams(t, pg)
	if q.Get("state") != "xyz" || q.Get("iss") != f.issuer || q.Get("code") == "" {
		t.Fatalf("redirect: %v", q)
	}
	// The request_uri is one-time.
	if again := f.get(f.browser(), authz); again.status != http.StatusBadRequest || !strings.Contains(again.body, "invalid_request_uri") {
		t.Fatalf("reused request_uri: %d %.200s", again.status, again.body)
	}

	// Token: golang.org/x/oauth2 with private_key_jwt and DPoP.
	oidcProv, err := oidc.NewProvider(ctx, f.issuer)
	if err != nil {
		t.Fatal(err)
	}
	conf := oauth2.Config{
		ClientID: clientFAPI, RedirectURL: redirectURI, Scopes: []string{oidc.ScopeOpenID, "email"},
		Endpoint: oauth2.Endpoint{AuthURL: oidcProv.Endpoint().AuthURL, TokenURL: oidcProv.Endpoint().TokenURL, AuthStyle: oauth2.AuthStyleInParams},
	}
	dctx := context.WithValue(ctx, oauth2.HTTPClient, &http.Client{Transport: dpopTransport{f}})
	tok, err := conf.Exchange(dctx, q.Get("code"), oauth2.VerifierOption(verifier),
		oauth2.SetAuthURLParam("client_assertion_type", clientAssertionType),
		oauth2.SetAuthURLParam("client_assertion", f.assertion(nil)))
	if err != nil {
		t.Fatal(err)
	}
	if tok.TokenType != "DPoP" || tok.RefreshToken == "" {
		t.Fatalf("token_type %q, refresh token present %v", tok.TokenType, tok.RefreshToken != "")
	}

	// ID token: go-oidc.
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := oidcProv.Verifier(&oidc.Config{ClientID: clientFAPI}).Verify(ctx, rawID)
	if err != nil {
		t.Fatal(err)
	}
	if idt.Nonce != nonce || idt.Subject != testSubject {
		t.Fatalf("nonce %q sub %q", idt.Nonce, idt.Subject)
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Fatalf("at_hash: %v", err)
	}
	var idClaims struct {
		VerifiedClaims json.RawMessage `json:"verified_claims"`
		AuthTime       int64           `json:"auth_time"`
		SID            string          `json:"sid"`
	}
	if err := idt.Claims(&idClaims); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(idClaims.VerifiedClaims), `"family_name":"Meier"`) || strings.Contains(string(idClaims.VerifiedClaims), "given_name") {
		t.Fatalf("ID token verified_claims: %s", idClaims.VerifiedClaims)
	}
	if idClaims.AuthTime == 0 || idClaims.SID == "" {
		t.Fatalf("auth_time %d sid %q", idClaims.AuthTime, idClaims.SID)
	}
	validateVerifiedClaims(t, idClaims.VerifiedClaims)

	// UserInfo over DPoP.
	ui := f.dpopUserinfo(tok.AccessToken, "")
	if ui.status != http.StatusOK {
		t.Fatalf("userinfo: %d %v", ui.status, ui.body)
	}
	vc, _ := json.Marshal(ui.body["verified_claims"])
	if ui.body["sub"] != testSubject || ui.body["email"] != "janedoe@example.com" ||
		!strings.Contains(string(vc), `"given_name":"Max"`) || !strings.Contains(string(vc), `"birthdate":"1956-01-28"`) {
		t.Fatalf("userinfo body: %v", ui.body)
	}
	validateVerifiedClaims(t, vc)
	// A DPoP-bound token presented as Bearer is refused.
	if resp, body := f.userinfo(tok.AccessToken); resp.StatusCode != http.StatusUnauthorized || body["error"] != "invalid_token" {
		t.Fatalf("bound token as Bearer: %d %v", resp.StatusCode, body)
	}

	// The audit log names the claims, never their values.
	logs := f.logs.String()
	if !strings.Contains(logs, `"logger":"audit"`) || !strings.Contains(logs, `"given_name"`) || !strings.Contains(logs, "To open your account") {
		t.Fatalf("audit event missing: %s", logs)
	}
	for _, secret := range []string{"Max", "Meier", "1956-01-28", tok.AccessToken, tok.RefreshToken, q.Get("code"), testPassword} {
		if strings.Contains(logs, secret) {
			t.Fatalf("logs contain a value or secret %q", secret)
		}
	}

	// Refresh with rotation.
	ts := conf.TokenSource(context.WithValue(ctx, oauth2.HTTPClient, &http.Client{Transport: assertionTransport{f: f, next: dpopTransport{f}}}), &oauth2.Token{RefreshToken: tok.RefreshToken})
	tok2, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	if tok2.RefreshToken == "" || tok2.RefreshToken == tok.RefreshToken || tok2.AccessToken == tok.AccessToken {
		t.Fatal("refresh did not rotate")
	}
	if ui := f.dpopUserinfo(tok2.AccessToken, ""); ui.status != http.StatusOK {
		t.Fatalf("userinfo after refresh: %d %v", ui.status, ui.body)
	}
	// Replaying the rotated refresh token revokes the grant.
	old := assertionParams(f.assertion(nil))
	old.Set("grant_type", "refresh_token")
	old.Set("refresh_token", tok.RefreshToken)
	resp = f.post(config.PathToken, old, map[string]string{"DPoP": f.proof("POST", f.url(config.PathToken), "")})
	wantError(t, resp, decode(t, resp), http.StatusBadRequest, "invalid_grant")
	if ui := f.dpopUserinfo(tok2.AccessToken, ""); ui.status != http.StatusUnauthorized {
		t.Fatalf("token of a revoked grant still works: %d", ui.status)
	}
	newer := assertionParams(f.assertion(nil))
	newer.Set("grant_type", "refresh_token")
	newer.Set("refresh_token", tok2.RefreshToken)
	resp = f.post(config.PathToken, newer, map[string]string{"DPoP": f.proof("POST", f.url(config.PathToken), "")})
	wantError(t, resp, decode(t, resp), http.StatusBadRequest, "invalid_grant")
}

// assertionTransport adds a fresh client assertion to token requests, for
// oauth2's TokenSource, which has no per-request parameters.
type assertionTransport struct {
	f    *fixture
	next http.RoundTripper
}

func (a assertionTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body == nil {
		return a.next.RoundTrip(r)
	}
	buf := new(strings.Builder)
	if _, err := copyBody(buf, r); err != nil {
		return nil, err
	}
	form, _ := url.ParseQuery(buf.String())
	for k, v := range assertionParams(a.f.assertion(nil)) {
		form[k] = v
	}
	body := form.Encode()
	r = r.Clone(r.Context())
	r.Body = readCloser(body)
	r.ContentLength = int64(len(body))
	return a.next.RoundTrip(r)
}

type dpopResult struct {
	status int
	body   map[string]any
	header http.Header
}

// dpopUserinfo calls UserInfo with the DPoP scheme and a proof; a non-empty
// proof overrides the fresh one.
func (f *fixture) dpopUserinfo(token, proof string) dpopResult {
	f.t.Helper()
	if proof == "" {
		proof = f.proof("GET", f.url(config.PathUserInfo), token)
	}
	req, _ := http.NewRequest(http.MethodGet, f.url(config.PathUserInfo), nil)
	req.Header.Set("Authorization", "DPoP "+token)
	req.Header.Set("DPoP", proof)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	return dpopResult{status: resp.StatusCode, body: decode(f.t, resp), header: resp.Header}
}

// validateVerifiedClaims checks released verified_claims against the
// project's schema and, when the spec folder is there, the official one as
// an extra check; the Japanese profile's __response_metadata is set aside.
func validateVerifiedClaims(t *testing.T, vc json.RawMessage) {
	t.Helper()
	own, err := idatest.VerifiedClaimsSchema()
	if err != nil {
		t.Fatal(err)
	}
	if err := idatest.Validate(own, vc); err != nil {
		t.Fatalf("verified_claims does not validate against the project's schema: %v\n%s", err, vc)
	}
	if dir, _ := specdir.Find(); dir != "" {
		official, err := idatest.OfficialVerifiedClaimsSchema(dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := idatest.Validate(official, vc); err != nil {
			t.Fatalf("verified_claims does not validate against the official schema (extra check): %v\n%s", err, vc)
		}
	}
}
