package runtime_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/idaop/ida-operator/test/internal/rptest"
)

const (
	shopPurpose        = "To deliver your order to your verified address"
	shopAddressPurpose = "To send your order to where you live"
	shopNamePurpose    = "To print your name on the parcel"
	// goOIDCClaims asks for verified claims in the ID token (uk_tfida) and
	// in UserInfo (jp_aml).
	goOIDCClaims = `{
  "id_token": {"verified_claims": {
    "verification": {"trust_framework": {"value": "uk_tfida"}, "assurance_level": null, "time": null},
    "claims": {"given_name": {"purpose": "` + shopNamePurpose + `"}, "family_name": null, "birthdate": null}
  }},
  "userinfo": {"verified_claims": {
    "verification": {"trust_framework": {"value": "jp_aml"}},
    "claims": {"address": {"purpose": "` + shopAddressPurpose + `"}, "family_name#ja-Kana-JP": null}
  }}
}`
)

func randomString() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// goRP is a relying party built on go-oidc and x/oauth2.
type goRP struct {
	provider *oidc.Provider
	oauth    *oauth2.Config
	verifier *oidc.IDTokenVerifier
	state    string
	nonce    string
	pkce     string
	// accessToken is the one finish obtained.
	accessToken string
}

func newGoRP(t *testing.T, ctx context.Context, e *env, clientID string) *goRP {
	t.Helper()
	// go-oidc checks that discovery's issuer is the one asked for.
	p, err := oidc.NewProvider(ctx, e.issuer)
	if err != nil {
		t.Fatalf("go-oidc discovery: %v", err)
	}
	rp := &goRP{
		provider: p,
		oauth: &oauth2.Config{
			ClientID: clientID, ClientSecret: e.cfg.clientSecret,
			Endpoint:    p.Endpoint(),
			RedirectURL: e.cb.RedirectURI(),
			Scopes:      []string{oidc.ScopeOpenID, "profile", "email"},
		},
		// The verifier fetches the published JWKS and checks the signature,
		// iss, aud and exp; algorithms come from discovery.
		verifier: p.Verifier(&oidc.Config{ClientID: clientID}),
		state:    randomString(),
		nonce:    randomString(),
		pkce:     oauth2.GenerateVerifier(),
	}
	if rp.oauth.Endpoint.AuthStyle != oauth2.AuthStyleAutoDetect && rp.oauth.Endpoint.AuthStyle != oauth2.AuthStyleInHeader {
		t.Logf("auth style %v", rp.oauth.Endpoint.AuthStyle)
	}
	rp.oauth.Endpoint.AuthStyle = oauth2.AuthStyleInHeader // client_secret_basic
	return rp
}

func (rp *goRP) authCodeURL(claims, purpose string) string {
	opts := []oauth2.AuthCodeOption{oidc.Nonce(rp.nonce), oauth2.S256ChallengeOption(rp.pkce)}
	if claims != "" {
		opts = append(opts, oauth2.SetAuthURLParam("claims", claims))
	}
	if purpose != "" {
		opts = append(opts, oauth2.SetAuthURLParam("purpose", purpose))
	}
	return rp.oauth.AuthCodeURL(rp.state, opts...)
}

// finish redeems the code and verifies the ID token; it returns the ID
// token's claims, its algorithm and the UserInfo claims.
func (rp *goRP) finish(t *testing.T, ctx context.Context, e *env, cb *url.URL) (idClaims map[string]any, alg string, userinfo map[string]any) {
	t.Helper()
	q := cb.Query()
	if q.Get("error") != "" {
		t.Fatalf("authorization error: %s: %s", q.Get("error"), q.Get("error_description"))
	}
	if q.Get("state") != rp.state {
		t.Fatalf("state = %q, want %q", q.Get("state"), rp.state)
	}
	if q.Get("iss") != e.issuer {
		t.Errorf("iss = %q, want %q (RFC 9207)", q.Get("iss"), e.issuer)
	}
	tok, err := rp.oauth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(rp.pkce))
	if err != nil {
		t.Fatalf("x/oauth2 code exchange: %v", err)
	}
	rp.accessToken = tok.AccessToken
	if !strings.EqualFold(tok.TokenType, "Bearer") {
		t.Errorf("token_type = %q, want Bearer", tok.TokenType)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		t.Fatal("the token response has no id_token")
	}
	idt, err := rp.verifier.Verify(ctx, raw)
	if err != nil {
		t.Fatalf("go-oidc rejected the ID token: %v", err)
	}
	if idt.Nonce != rp.nonce {
		t.Errorf("nonce = %q, want %q", idt.Nonce, rp.nonce)
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil && idt.AccessTokenHash != "" {
		t.Errorf("at_hash: %v", err)
	}
	if err := idt.Claims(&idClaims); err != nil {
		t.Fatal(err)
	}
	hdr, _ := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[0])
	var h struct {
		Alg string `json:"alg"`
	}
	_ = json.Unmarshal(hdr, &h)

	ui, err := rp.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("go-oidc UserInfo: %v", err)
	}
	if ui.Subject != idt.Subject {
		t.Errorf("UserInfo sub %q != ID token sub %q", ui.Subject, idt.Subject)
	}
	if err := ui.Claims(&userinfo); err != nil {
		t.Fatal(err)
	}
	return idClaims, h.Alg, userinfo
}

func checkGoOIDCClaims(t *testing.T, e *env, idc, ui map[string]any) {
	t.Helper()
	if n := rptest.ValidateVerifiedClaims(t, e.specDir, "ID token", idc) + rptest.ValidateVerifiedClaims(t, e.specDir, "UserInfo", ui); n == 0 {
		t.Fatalf("no verified_claims\nID token: %v\nUserInfo: %v", idc, ui)
	}
	if d := rptest.DatasetUnder(idc, "uk_tfida"); d == nil {
		t.Errorf("ID token has no uk_tfida verified_claims: %v", idc)
	} else {
		c, _ := d["claims"].(map[string]any)
		v, _ := d["verification"].(map[string]any)
		if c["given_name"] != "Taro" || c["birthdate"] != "1985-04-12" || v["assurance_level"] != "medium" {
			t.Errorf("ID token uk_tfida dataset = %v", d)
		}
	}
	if d := rptest.DatasetUnder(ui, "jp_aml"); d == nil {
		t.Errorf("UserInfo has no jp_aml verified_claims: %v", ui)
	} else if c, _ := d["claims"].(map[string]any); c["family_name#ja-Kana-JP"] != "ヤマダ" || c["address"] == nil {
		t.Errorf("UserInfo jp_aml claims = %v", c)
	}
}

// TestGoOIDCWithChromium: x/oauth2 builds the authorization URL (PKCE,
// nonce, claims, purpose); headless Chromium signs in, sees the purposes on
// the consent page and consents; x/oauth2 redeems the code with
// client_secret_basic and go-oidc verifies the ES256 ID token against the
// published JWKS and reads UserInfo.
func TestGoOIDCWithChromium(t *testing.T) {
	t.Parallel()
	e := getEnv(t)
	e.dumpLogsOnFailure(t)
	br := getBrowser(t)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()

	rp := newGoRP(t, ctx, e, clientBasic)
	got := e.cb.Expect(rp.state)
	tab := br.Tab(t, 30*time.Second)
	// prompt=consent: the page is checked and pictured, whatever an
	// earlier flow of the same request left remembered.
	pages := signInWithBrowser(t, e, tab, rp.authCodeURL(goOIDCClaims, shopPurpose)+"&prompt=consent", "approve", true)

	if !strings.Contains(pages.LoginText, e.cfg.clientNames[clientBasic]) {
		t.Errorf("login page does not name the client %q:\n%s", e.cfg.clientNames[clientBasic], pages.LoginText)
	}
	for _, s := range []string{shopPurpose, shopAddressPurpose, shopNamePurpose, e.cfg.clientNames[clientBasic]} {
		if !strings.Contains(pages.ConsentText, s) {
			t.Errorf("consent page does not show %q:\n%s", s, pages.ConsentText)
		}
	}
	saveScreenshot(t, e.root, "login.png", pages.LoginPNG)
	saveScreenshot(t, e.root, "consent.png", pages.ConsentPNG)

	cb := rptest.Wait(t, got, 10*time.Second)
	idc, alg, ui := rp.finish(t, ctx, e, cb)
	if alg != "ES256" {
		t.Errorf("ID token alg = %s, want ES256", alg)
	}
	checkGoOIDCClaims(t, e, idc, ui)
}

// TestGoOIDCSigningAlgorithms: clients that registered PS256 and RS256 ID
// tokens, and one that registered PS256-signed UserInfo; go-oidc verifies
// each against the published JWKS (for a signed UserInfo response too). The
// pages are walked by a cookie-jar Go client.
func TestGoOIDCSigningAlgorithms(t *testing.T) {
	t.Parallel()
	e := getEnv(t)
	e.dumpLogsOnFailure(t)
	for _, tc := range []struct{ name, client, idTokenAlg string }{
		{"PS256 ID token", clientPS256, "PS256"},
		{"RS256 ID token", clientRS256, "RS256"},
		{"PS256 UserInfo", clientSignedUserInfo, "ES256"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			rp := newGoRP(t, ctx, e, tc.client)
			got := e.cb.Expect(rp.state)
			formSignIn(t, rp.authCodeURL(goOIDCClaims, shopPurpose), demoPassword)
			idc, alg, ui := rp.finish(t, ctx, e, rptest.Wait(t, got, 5*time.Second))
			if alg != tc.idTokenAlg {
				t.Errorf("ID token alg = %s, want %s", alg, tc.idTokenAlg)
			}
			checkGoOIDCClaims(t, e, idc, ui)
		})
	}
}

var (
	hiddenInteraction = regexp.MustCompile(`name="interaction" value="([^"]+)"`)
	hiddenCSRF        = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
	formAction        = regexp.MustCompile(`<form method="post" action="([^"]+)"`)
)

// formSignIn is a plain HTTP user agent with cookies: it reads the login
// and consent forms, posts them, and follows the redirect to the relying
// party's callback server. A consent given before is remembered: then the
// redirect follows the login form.
func formSignIn(t *testing.T, authorizationURL, password string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	get := func(resp *http.Response, err error) (string, *http.Response) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b), resp
	}
	page, resp := get(c.Get(authorizationURL))
	if strings.HasSuffix(resp.Request.URL.Path, "/cb") {
		return // answered at once, with a code or an error: the caller reads which
	}
	submit := func(page string, base *url.URL, fields url.Values) (string, *http.Response) {
		t.Helper()
		ia, csrf, act := hiddenInteraction.FindStringSubmatch(page), hiddenCSRF.FindStringSubmatch(page), formAction.FindStringSubmatch(page)
		if ia == nil || csrf == nil || act == nil {
			t.Fatalf("no form on the page (%s):\n%.1000s", base, page)
		}
		fields.Set("interaction", ia[1])
		fields.Set("csrf_token", csrf[1])
		target, err := base.Parse(strings.ReplaceAll(act[1], "&amp;", "&"))
		if err != nil {
			t.Fatal(err)
		}
		return get(c.PostForm(target.String(), fields))
	}
	page, resp = submit(page, resp.Request.URL, url.Values{"username": {"demo"}, "password": {password}})
	if !strings.HasSuffix(resp.Request.URL.Path, "/cb") {
		// No consent page when the person approved the request before.
		page, resp = submit(page, resp.Request.URL, url.Values{"decision": {"approve"}})
	}
	if !strings.HasSuffix(resp.Request.URL.Path, "/cb") || resp.StatusCode != http.StatusOK {
		t.Fatalf("consent did not end at the redirect URI: %d %s\n%.500s", resp.StatusCode, resp.Request.URL, page)
	}
}

// TestChromiumRefusesConsent: the user signs in and refuses; the relying
// party gets error=access_denied with its state and the issuer (RFC 9207).
func TestChromiumRefusesConsent(t *testing.T) {
	t.Parallel()
	e := getEnv(t)
	e.dumpLogsOnFailure(t)
	br := getBrowser(t)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()

	rp := newGoRP(t, ctx, e, clientBasic)
	got := e.cb.Expect(rp.state)
	tab := br.Tab(t, 30*time.Second)
	pages := signInWithBrowser(t, e, tab, rp.authCodeURL(goOIDCClaims, shopPurpose)+"&prompt=consent", "deny", false)
	if !strings.Contains(pages.ConsentText, shopPurpose) {
		t.Errorf("consent page does not show the purpose:\n%s", pages.ConsentText)
	}
	q := rptest.Wait(t, got, 10*time.Second).Query()
	if q.Get("error") != "access_denied" || q.Get("state") != rp.state || q.Get("iss") != e.issuer || q.Get("code") != "" {
		t.Errorf("refusal: want error=access_denied, state=%s, iss=%s and no code; got %v", rp.state, e.issuer, q)
	}
}
