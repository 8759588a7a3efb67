package runtime_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/idaop/ida-operator/runtime/authn"
	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/test/internal/fixture"
	"github.com/idaop/ida-operator/test/internal/rptest"
)

const levelPasskey = "urn:bank:acr:passkey"

var (
	passkeyOnce sync.Once
	passkeyEnv  *env
	passkeyErr  error
)

// getPasskeyEnv starts, on first use, a runtime at localhost (WebAuthn
// needs a domain) whose levels a passkey alone meets: the password level
// and one that needs a passkey.
func getPasskeyEnv(t *testing.T) *env {
	t.Helper()
	passkeyOnce.Do(func() { passkeyEnv, passkeyErr = startEnvAt("localhost", writePasskeyConfigDir) })
	if passkeyErr != nil {
		t.Fatal(passkeyErr)
	}
	return passkeyEnv
}

func writePasskeyConfigDir(dir, issuer, redirectURI string) (*generated, error) {
	g := &generated{dir: dir, clientNames: map[string]string{clientBasic: "Demo Bank (go-oidc)"}}
	var err error
	if g.clientSecret, err = config.NewClientSecret(); err != nil {
		return nil, err
	}
	c := fixture.Client(clientBasic, g.clientNames[clientBasic], "team-a", redirectURI, g.clientSecret, "openid", "profile", "email")
	p := fixture.Provider(issuer, []string{config.ES256}, 10*time.Minute, time.Minute)
	p.Authentication = authn.Policy{
		Levels: []authn.Level{
			{ACR: levelPwd, Methods: [][]string{{"pwd"}, {"passkey"}}},
			{ACR: levelPasskey, Methods: [][]string{{"passkey"}}},
		},
		DefaultLevel: levelPwd,
	}
	if err := fixture.WriteConfigDir(dir, p, demoPassword, c); err != nil {
		return nil, err
	}
	return g, nil
}

// TestPasskeyWithChromium: Chromium with its WebAuthn virtual
// authenticator (a platform authenticator with resident keys and user
// verification, through the DevTools WebAuthn domain). A relying party
// (x/oauth2, go-oidc) asks for the passkey level: the user signs in with
// the password and is asked to add a passkey, which the authenticator
// creates; go-oidc verifies the ID token: acr the passkey level, amr pwd,
// hwk, user, mfa. The session cookie is cleared (signed out); the login
// page's passkey button alone (no username) signs in again: amr hwk,
// user, mfa.
func TestPasskeyWithChromium(t *testing.T) {
	e := getPasskeyEnv(t)
	e.dumpLogsOnFailure(t)
	br := getBrowser(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	redirect := e.cb.RedirectURI() + "?"

	tab := br.Tab(t, 60*time.Second)
	browserStep(t, tab, "open a page", chromedp.Do(tab, chromedp.Navigate("about:blank")))
	_, err := chromedp.Call(tab, webauthn.Enable, webauthn.EnableParams{})
	browserStep(t, tab, "enable the WebAuthn domain", err)
	_, err = chromedp.Call(tab, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
		Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21,
		Transport:      webauthn.AuthenticatorTransportInternal,
		HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
	}})
	browserStep(t, tab, "add a virtual authenticator", err)

	// Password, then the passkey the level needs.
	rp := newGoRP(t, ctx, e, clientBasic)
	got := e.cb.Expect(rp.state)
	u := rp.oauth.AuthCodeURL(rp.state, oauth2.SetAuthURLParam("nonce", rp.nonce), oauth2.S256ChallengeOption(rp.pkce),
		oauth2.SetAuthURLParam("acr_values", levelPasskey))
	browserStep(t, tab, "open the authorization URL", chromedp.Do(tab, chromedp.Navigate(u), chromedp.WaitVisible(chromedp.CSS("#username"))))
	browserStep(t, tab, "sign in", chromedp.Do(tab,
		chromedp.SendKeys(chromedp.CSS("#username"), "demo"),
		chromedp.SendKeys(chromedp.CSS("#password"), demoPassword),
	))
	_, err = chromedp.RunResponse(tab, chromedp.Click(chromedp.CSS("form button[type=submit]")))
	browserStep(t, tab, "submit the password", err)
	browserStep(t, tab, "wait for the passkey page", chromedp.Do(tab, chromedp.WaitVisible(chromedp.CSS("#passkey-go"))))
	png, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
	browserStep(t, tab, "screenshot the passkey page", err)
	saveScreenshot(t, e.root, "passkey-enrol.png", png)
	// The keyboard: the button has the focus, Enter presses it.
	browserStep(t, tab, "add the passkey", chromedp.Do(tab, chromedp.SendKeys(chromedp.CSS("#passkey-go"), "\r")))
	waitForConsentOrRedirect(t, tab, redirect)
	approveIfAsked(t, tab, redirect)
	idc, _, _ := rp.finish(t, ctx, e, rptest.Wait(t, got, 15*time.Second))
	checkLevel(t, idc, levelPasskey, []string{"pwd", "hwk", "user", "mfa"})

	// Signed out: the session cookie goes; the authenticator stays.
	_, err = chromedp.Call(tab, network.ClearBrowserCookies, cdp.Empty{})
	browserStep(t, tab, "clear the cookies", err)

	// The passkey alone, from the login page.
	rp2 := newGoRP(t, ctx, e, clientBasic)
	got2 := e.cb.Expect(rp2.state)
	browserStep(t, tab, "open the authorization URL again", chromedp.Do(tab, chromedp.Navigate(rp2.authCodeURL("", "")), chromedp.WaitVisible(chromedp.CSS("#passkey-sign-in"))))
	png, err = chromedp.Run(tab, chromedp.FullScreenshot(100))
	browserStep(t, tab, "screenshot the login page", err)
	saveScreenshot(t, e.root, "login-passkey.png", png)
	browserStep(t, tab, "sign in with the passkey", chromedp.Do(tab, chromedp.Click(chromedp.CSS("#passkey-sign-in"))))
	waitForConsentOrRedirect(t, tab, redirect)
	approveIfAsked(t, tab, redirect)
	idc, _, _ = rp2.finish(t, ctx, e, rptest.Wait(t, got2, 15*time.Second))
	// No level asked: the strongest the sign-in meets.
	checkLevel(t, idc, levelPasskey, []string{"hwk", "user", "mfa"})
	if amr := idc["amr"].([]any); slices.Contains(amr, any("pwd")) {
		t.Fatalf("a passkey sign-in says pwd: %v", amr)
	}

	// The factor page lists the passkey; the keyboard removes it.
	browserStep(t, tab, "open the factor page", chromedp.Do(tab, chromedp.Navigate(e.issuer+"/account/factors"), chromedp.WaitVisible(chromedp.CSS("ul.factors button"))))
	text, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS("main")))
	browserStep(t, tab, "read the factor page", err)
	if !strings.Contains(text, "Passkey on one device") {
		t.Fatalf("the factor page does not list the passkey: %s", text)
	}
	png, err = chromedp.Run(tab, chromedp.FullScreenshot(100))
	browserStep(t, tab, "screenshot the factor page", err)
	saveScreenshot(t, e.root, "factors.png", png)
	browserStep(t, tab, "remove the passkey", chromedp.Do(tab, chromedp.Focus(chromedp.CSS("ul.factors button")), chromedp.SendKeys(chromedp.CSS("ul.factors button"), "\r")))
	browserStep(t, tab, "wait for the notice", chromedp.Do(tab, chromedp.WaitVisible(chromedp.CSS("#factors-notice")), chromedp.WaitVisible(chromedp.CSS("#no-passkeys"))))
}

// waitForConsentOrRedirect waits until the browser left the provider's
// passkey step: the consent page, or the relying party.
func waitForConsentOrRedirect(t *testing.T, tab context.Context, redirectPrefix string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		loc, err := chromedp.Run(tab, chromedp.Location())
		if err == nil && len(loc) >= len(redirectPrefix) && loc[:len(redirectPrefix)] == redirectPrefix {
			return
		}
		ok, err := chromedp.Run(tab, chromedp.Evaluate[bool](`document.querySelector('button[value="approve"]') !== null`))
		if err == nil && ok {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	browserStep(t, tab, "wait for the consent page or the redirect", context.DeadlineExceeded)
}
