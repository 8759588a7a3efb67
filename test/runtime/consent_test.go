package runtime_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/test/internal/fixture"
	"github.com/idaop/ida-operator/test/internal/rptest"
)

const clientConsent = "rp-consent"

var (
	consentOnce sync.Once
	consentEnv  *env
	consentErr  error
)

// getConsentEnv starts, on first use, a runtime of its own, so the consents
// this file's tests give stay out of the other tests' way.
func getConsentEnv(t *testing.T) *env {
	t.Helper()
	consentOnce.Do(func() { consentEnv, consentErr = startEnv(writeConsentConfigDir) })
	if consentErr != nil {
		t.Fatal(consentErr)
	}
	return consentEnv
}

func writeConsentConfigDir(dir, issuer, redirectURI string) (*generated, error) {
	g := &generated{dir: dir, clientNames: map[string]string{clientConsent: "Demo Savings (go-oidc)"}}
	var err error
	if g.clientSecret, err = config.NewClientSecret(); err != nil {
		return nil, err
	}
	c := fixture.Client(clientConsent, g.clientNames[clientConsent], "team-a", redirectURI, g.clientSecret, "openid", "profile", "email", "offline_access")
	p := fixture.Provider(issuer, []string{config.ES256}, 10*time.Minute, time.Minute)
	if err := fixture.WriteConfigDir(dir, p, demoPassword, c); err != nil {
		return nil, err
	}
	return g, nil
}

// verifiedNames asks for verified claims at UserInfo under jp_aml.
func verifiedNames(names ...string) string {
	claims := map[string]any{}
	for _, n := range names {
		claims[n] = map[string]any{"purpose": "To check who opens the account"}
	}
	b, _ := json.Marshal(map[string]any{"userinfo": map[string]any{"verified_claims": map[string]any{
		"verification": map[string]any{"trust_framework": map[string]any{"value": "jp_aml"}},
		"claims":       claims,
	}}})
	return string(b)
}

// consentRP is a go-oidc relying party asking for a refresh token too.
func consentRP(t *testing.T, ctx context.Context, e *env) *goRP {
	rp := newGoRP(t, ctx, e, clientConsent)
	rp.oauth.Scopes = append(rp.oauth.Scopes, "offline_access")
	return rp
}

// landsAt navigates the tab to u and reports whether it ended at the
// relying party's redirect URI (true) or on a consent page (false).
func landsAt(t *testing.T, tab context.Context, u, redirectPrefix string) bool {
	t.Helper()
	browserStep(t, tab, "open "+u, chromedp.Do(tab, chromedp.Navigate(u)))
	browserStep(t, tab, "wait for the redirect or the consent page", chromedp.Do(tab, chromedp.Poll[chromedp.Void](
		`location.href.startsWith(`+jsString(redirectPrefix)+`) || document.querySelector('button[value="approve"]') !== null`,
		chromedp.WithPollingTimeout(15*time.Second))))
	loc, err := chromedp.Run(tab, chromedp.Location())
	browserStep(t, tab, "read the location", err)
	return strings.HasPrefix(loc, redirectPrefix)
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestRememberedConsentWithChromium: a person approves a relying party's
// request once; the same request again, in the same browser, comes back
// with a code and no consent page; prompt=consent asks anyway, and so
// does a request for one more verified claim. The person then opens
// {issuer}/account/shared in a new browser context: it asks them to sign in
// first (no relying party involved), then shows the relying party, what
// was agreed and what was released; withdrawing there revokes the tokens:
// the refresh token gets invalid_grant (x/oauth2), the access token is
// inactive at introspection and refused at UserInfo (go-oidc); the next
// authorization asks for consent again. A screenshot of the page goes to
// docs/screenshots with -update-screenshots.
func TestRememberedConsentWithChromium(t *testing.T) {
	e := getConsentEnv(t)
	e.dumpLogsOnFailure(t)
	br := getBrowser(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	redirect := e.cb.RedirectURI() + "?"
	purpose := "Open a savings account"

	// First authorization: login and consent.
	rp1 := consentRP(t, ctx, e)
	got := e.cb.Expect(rp1.state)
	tab := br.Tab(t, 90*time.Second)
	pages := signInWithBrowser(t, e, tab, rp1.authCodeURL(verifiedNames("given_name"), purpose), "approve", false)
	if !strings.Contains(pages.ConsentText, "Given name") {
		t.Fatalf("the consent page does not show the verified claim: %s", pages.ConsentText)
	}
	cb := rptest.Wait(t, got, 10*time.Second)
	tok1 := exchange(t, ctx, rp1, cb)
	ui1 := rp1.userInfo(t, ctx, tok1)
	if ui1["verified_claims"] == nil {
		t.Fatalf("UserInfo released no verified claims: %v", ui1)
	}

	// The same request again: no consent page, a code at once.
	rp2 := consentRP(t, ctx, e)
	got2 := e.cb.Expect(rp2.state)
	if !landsAt(t, tab, rp2.authCodeURL(verifiedNames("given_name"), purpose), redirect) {
		t.Fatal("the consent page came again for the request the person approved")
	}
	exchange(t, ctx, rp2, rptest.Wait(t, got2, 10*time.Second))

	// prompt=consent always asks.
	rp3 := consentRP(t, ctx, e)
	if landsAt(t, tab, rp3.authCodeURL(verifiedNames("given_name"), purpose)+"&prompt=consent", redirect) {
		t.Fatal("prompt=consent did not show the consent page")
	}

	// One more verified claim: asked again, the new claim shown.
	rp4 := consentRP(t, ctx, e)
	got4 := e.cb.Expect(rp4.state)
	if landsAt(t, tab, rp4.authCodeURL(verifiedNames("given_name", "family_name"), purpose), redirect) {
		t.Fatal("a request for more claims did not show the consent page")
	}
	text, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS("main")))
	browserStep(t, tab, "read the consent page", err)
	if !strings.Contains(text, "Family name") {
		t.Fatalf("the consent page does not show the new claim: %s", text)
	}
	_, err = chromedp.RunResponse(tab, chromedp.Click(chromedp.CSS(`button[value="approve"]`)))
	browserStep(t, tab, "approve", err)
	tok4 := exchange(t, ctx, rp4, rptest.Wait(t, got4, 10*time.Second))
	if ui4 := rp4.userInfo(t, ctx, tok4); ui4["verified_claims"] == nil {
		t.Fatalf("UserInfo released no verified claims: %v", ui4)
	}

	// The account page in a new browser context: sign in first.
	account := e.issuer + "/account/shared"
	tab2 := br.Tab(t, 60*time.Second)
	browserStep(t, tab2, "open the account page", chromedp.Do(tab2, chromedp.Navigate(account), chromedp.WaitVisible(chromedp.CSS("#username"))))
	browserStep(t, tab2, "sign in", chromedp.Do(tab2,
		chromedp.SendKeys(chromedp.CSS("#username"), "demo"),
		chromedp.SendKeys(chromedp.CSS("#password"), demoPassword),
	))
	_, err = chromedp.RunResponse(tab2, chromedp.Click(chromedp.CSS("form button[type=submit]")))
	browserStep(t, tab2, "submit the password", err)
	browserStep(t, tab2, "wait for the account page", chromedp.Do(tab2, chromedp.WaitVisible(chromedp.CSS("section.party"))))
	loc, _ := chromedp.Run(tab2, chromedp.Location())
	if !strings.HasPrefix(loc, account) {
		t.Fatalf("after signing in the browser is at %s, not the account page", loc)
	}
	text, err = chromedp.Run(tab2, chromedp.Text(chromedp.CSS("main")))
	browserStep(t, tab2, "read the account page", err)
	for _, want := range []string{"Demo Savings (go-oidc)", "You agreed on", purpose, "Given name", "Family name", "Verified information", "on request", "Withdraw consent for Demo Savings (go-oidc)"} {
		if !strings.Contains(text, want) {
			t.Errorf("the account page lacks %q:\n%s", want, text)
		}
	}
	// The withdrawal button is reached from the keyboard: Tab moves focus
	// to it (the page has no other focusable element before it).
	browserStep(t, tab2, "tab to the button", chromedp.Do(tab2, chromedp.KeyEvent("\t")))
	focused, err := chromedp.Run(tab2, chromedp.Evaluate[string](`document.activeElement ? document.activeElement.textContent : ""`))
	browserStep(t, tab2, "read the focus", err)
	if !strings.Contains(focused, "Withdraw consent") {
		t.Errorf("Tab focused %q, not the withdrawal button", focused)
	}
	png, err := chromedp.Run(tab2, chromedp.FullScreenshot(100))
	browserStep(t, tab2, "screenshot the account page", err)
	saveScreenshot(t, e.root, "account-shared.png", png)
	// In Japanese (text only: the test machine may lack Japanese fonts).
	browserStep(t, tab2, "open the page in Japanese", chromedp.Do(tab2, chromedp.Navigate(account+"?ui_locales=ja"), chromedp.WaitVisible(chromedp.CSS("section.party"))))
	text, err = chromedp.Run(tab2, chromedp.Text(chromedp.CSS("main")))
	browserStep(t, tab2, "read the Japanese page", err)
	for _, want := range []string{"提供した情報", "同意した日時", "Demo Savings (go-oidc) への同意を撤回する"} {
		if !strings.Contains(text, want) {
			t.Errorf("the Japanese page lacks %q:\n%s", want, text)
		}
	}
	browserStep(t, tab2, "back to English", chromedp.Do(tab2, chromedp.Navigate(account), chromedp.WaitVisible(chromedp.CSS("section.party"))))

	// Withdraw, with the keyboard: Enter on the focused button.
	browserStep(t, tab2, "focus the button", chromedp.Do(tab2, chromedp.Focus(chromedp.CSS("section.party form button"))))
	_, err = chromedp.RunResponse(tab2, chromedp.KeyEvent("\r"))
	browserStep(t, tab2, "withdraw", err)
	browserStep(t, tab2, "wait for the confirmation", chromedp.Do(tab2, chromedp.WaitVisible(chromedp.CSS(`[role="status"]`))))
	text, err = chromedp.Run(tab2, chromedp.Text(chromedp.CSS("main")))
	browserStep(t, tab2, "read the page after withdrawal", err)
	if !strings.Contains(text, "is withdrawn") || strings.Contains(text, "Withdraw consent for") {
		t.Errorf("after withdrawal the page says:\n%s", text)
	}

	// The relying party's tokens no longer work.
	_, err = rp1.oauth.TokenSource(ctx, &oauth2.Token{RefreshToken: tok1.RefreshToken, Expiry: time.Now().Add(-time.Minute)}).Token()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Errorf("refreshing after withdrawal: %v, want invalid_grant", err)
	}
	if active := introspectActive(t, ctx, e, tok4.AccessToken); active {
		t.Error("the access token is still active at introspection after withdrawal")
	}
	if _, err := rp4.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok4)); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("UserInfo after withdrawal: %v, want 401", err)
	}

	// And the next authorization asks again.
	rp5 := consentRP(t, ctx, e)
	if landsAt(t, tab, rp5.authCodeURL(verifiedNames("given_name"), purpose), redirect) {
		t.Fatal("after withdrawal a code came without the consent page")
	}
}

// exchange checks the authorization response and redeems its code.
func exchange(t *testing.T, ctx context.Context, rp *goRP, cb *url.URL) *oauth2.Token {
	t.Helper()
	q := cb.Query()
	if q.Get("error") != "" || q.Get("state") != rp.state {
		t.Fatalf("authorization response: %s", cb)
	}
	tok, err := rp.oauth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(rp.pkce))
	if err != nil {
		t.Fatalf("x/oauth2 code exchange: %v", err)
	}
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token")
	}
	return tok
}

// userInfo reads UserInfo with a token, through go-oidc.
func (rp *goRP) userInfo(t *testing.T, ctx context.Context, tok *oauth2.Token) map[string]any {
	t.Helper()
	info, err := rp.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("go-oidc UserInfo: %v", err)
	}
	var claims map[string]any
	if err := info.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

// introspectActive asks the introspection endpoint (RFC 7662) about a token, as
// the consent client, and returns "active".
func introspectActive(t *testing.T, ctx context.Context, e *env, token string) bool {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.issuer+config.PathIntrospect, strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientConsent, e.cfg.clientSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("introspection: %d %v", resp.StatusCode, err)
	}
	return out["active"] == true
}
