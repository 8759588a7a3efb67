package runtime_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"
	"golang.org/x/oauth2"

	"github.com/idaop/ida-operator/runtime/authn"
	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/test/internal/fixture"
	"github.com/idaop/ida-operator/test/internal/rptest"
)

const (
	levelPwd = "urn:bank:acr:pwd"
	levelMFA = "urn:bank:acr:mfa"
)

var (
	levelsOnce sync.Once
	levelsEnv  *env
	levelsErr  error
)

// getLevelsEnv starts, on first use, a runtime whose provider declares a
// password level (the default) and a two-factor one.
func getLevelsEnv(t *testing.T) *env {
	t.Helper()
	levelsOnce.Do(func() { levelsEnv, levelsErr = startEnv(writeLevelsConfigDir) })
	if levelsErr != nil {
		t.Fatal(levelsErr)
	}
	return levelsEnv
}

func writeLevelsConfigDir(dir, issuer, redirectURI string) (*generated, error) {
	g := &generated{dir: dir, clientNames: map[string]string{clientBasic: "Demo Bank (go-oidc)"}}
	var err error
	if g.clientSecret, err = config.NewClientSecret(); err != nil {
		return nil, err
	}
	c := fixture.Client(clientBasic, g.clientNames[clientBasic], "team-a", redirectURI, g.clientSecret, "openid", "profile", "email")
	p := fixture.Provider(issuer, []string{config.ES256}, 10*time.Minute, time.Minute)
	p.Authentication = authn.Policy{
		Levels: []authn.Level{
			{ACR: levelPwd, Methods: [][]string{{"pwd"}}},
			{ACR: levelMFA, Methods: [][]string{{"pwd", "otp"}}},
		},
		DefaultLevel: levelPwd,
	}
	if err := fixture.WriteConfigDir(dir, p, demoPassword, c); err != nil {
		return nil, err
	}
	return g, nil
}

// browserStep fails the test with the page's text when a browser step fails.
func browserStep(t *testing.T, tab context.Context, what string, err error) {
	t.Helper()
	if err != nil {
		loc, _ := chromedp.Run(tab, chromedp.Location())
		body, _ := chromedp.Run(tab, chromedp.Text(chromedp.CSS("body")))
		t.Fatalf("browser: %s: %v\nat %s\npage text: %.1500s", what, err, loc, body)
	}
}

// enterCode types a code into the code page and submits it.
func enterCode(t *testing.T, tab context.Context, code string) {
	t.Helper()
	browserStep(t, tab, "type the code", chromedp.Do(tab, chromedp.SendKeys(chromedp.CSS("#code"), code)))
	_, err := chromedp.RunResponse(tab, chromedp.Click(chromedp.CSS("form button[type=submit]")))
	browserStep(t, tab, "submit the code", err)
}

// approveIfAsked clicks approve when the consent page came.
func approveIfAsked(t *testing.T, tab context.Context, redirectPrefix string) {
	t.Helper()
	loc, err := chromedp.Run(tab, chromedp.Location())
	browserStep(t, tab, "read the location", err)
	if strings.HasPrefix(loc, redirectPrefix) {
		return
	}
	_, err = chromedp.RunResponse(tab, chromedp.Click(chromedp.CSS(`button[value="approve"]`)))
	browserStep(t, tab, "approve", err)
}

func mfaURL(rp *goRP) string {
	return rp.oauth.AuthCodeURL(rp.state, oauth2.SetAuthURLParam("nonce", rp.nonce), oauth2.S256ChallengeOption(rp.pkce),
		oauth2.SetAuthURLParam("acr_values", levelMFA))
}

func checkLevel(t *testing.T, idc map[string]any, wantACR string, wantAMR []string) {
	t.Helper()
	var amr []string
	for _, v := range idc["amr"].([]any) {
		amr = append(amr, v.(string))
	}
	if idc["acr"] != wantACR || !slices.Equal(amr, wantAMR) {
		t.Fatalf("ID token acr %v amr %v, want %s %v", idc["acr"], idc["amr"], wantACR, wantAMR)
	}
	at, _ := idc["auth_time"].(float64)
	if d := time.Since(time.Unix(int64(at), 0)); d < 0 || d > time.Minute {
		t.Fatalf("auth_time %v is not the sign-in just made", idc["auth_time"])
	}
}

// TestTOTPStepUpWithChromium: a relying party (x/oauth2, go-oidc) asks for
// the two-factor level. Chromium signs in with the password, is offered
// the authenticator setup (a QR code and the key: the test reads the key
// from the page and makes codes with pquerna/otp, as an app would), confirms it with a first code
// and consents; go-oidc verifies the ID token: acr the two-factor level,
// amr pwd, otp, mfa, auth_time now. Then a password-only session in
// another browser context asks for the same level: only the code is asked.
func TestTOTPStepUpWithChromium(t *testing.T) {
	e := getLevelsEnv(t)
	e.dumpLogsOnFailure(t)
	br := getBrowser(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	redirect := e.cb.RedirectURI() + "?"

	// Enrolment after the password.
	rp := newGoRP(t, ctx, e, clientBasic)
	got := e.cb.Expect(rp.state)
	tab := br.Tab(t, 40*time.Second)
	browserStep(t, tab, "open the authorization URL", chromedp.Do(tab, chromedp.Navigate(mfaURL(rp)), chromedp.WaitVisible(chromedp.CSS("#username"))))
	browserStep(t, tab, "sign in", chromedp.Do(tab,
		chromedp.SendKeys(chromedp.CSS("#username"), "demo"),
		chromedp.SendKeys(chromedp.CSS("#password"), demoPassword),
	))
	_, err := chromedp.RunResponse(tab, chromedp.Click(chromedp.CSS("form button[type=submit]")))
	browserStep(t, tab, "submit the password", err)
	browserStep(t, tab, "wait for the authenticator setup", chromedp.Do(tab, chromedp.WaitVisible(chromedp.CSS("#otp-secret"))))
	secret, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS("#otp-secret")))
	browserStep(t, tab, "read the setup key", err)
	uri, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS("#otp-uri")))
	browserStep(t, tab, "read the setup link", err)
	if !strings.HasPrefix(uri, "otpauth://totp/") || !strings.Contains(uri, "secret="+secret) {
		t.Fatalf("setup link %q does not carry the key %q", uri, secret)
	}
	// The QR code shows: the page's policy lets its data: image load.
	qrWidth, err := chromedp.Run(tab, chromedp.Evaluate[int](`document.querySelector(".qr img").naturalWidth`))
	browserStep(t, tab, "read the QR code", err)
	if qrWidth != 200 {
		t.Fatalf("the QR code did not load (natural width %d)", qrWidth)
	}
	png, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
	browserStep(t, tab, "screenshot the setup page", err)
	saveScreenshot(t, e.root, "otp-enrol.png", png)
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	enterCode(t, tab, code)
	approveIfAsked(t, tab, redirect)
	idc, _, _ := rp.finish(t, ctx, e, rptest.Wait(t, got, 10*time.Second))
	checkLevel(t, idc, levelMFA, []string{"pwd", "otp", "mfa"})

	// A password-only session, then the two-factor level: the code only.
	rp2 := newGoRP(t, ctx, e, clientBasic)
	got2 := e.cb.Expect(rp2.state)
	tab2 := br.Tab(t, 40*time.Second)
	signInWithBrowser(t, e, tab2, rp2.authCodeURL("", ""), "approve", false)
	idc, _, _ = rp2.finish(t, ctx, e, rptest.Wait(t, got2, 10*time.Second))
	checkLevel(t, idc, levelPwd, []string{"pwd"})

	rp3 := newGoRP(t, ctx, e, clientBasic)
	got3 := e.cb.Expect(rp3.state)
	browserStep(t, tab2, "open the two-factor request", chromedp.Do(tab2, chromedp.Navigate(mfaURL(rp3)), chromedp.WaitVisible(chromedp.CSS("#code"))))
	hasPassword, err := chromedp.Run(tab2, chromedp.Evaluate[bool](`document.querySelector("#password") !== null`))
	browserStep(t, tab2, "look for a password field", err)
	if hasPassword {
		t.Fatal("the step-up asks for the password again")
	}
	png, err = chromedp.Run(tab2, chromedp.FullScreenshot(100))
	browserStep(t, tab2, "screenshot the code page", err)
	saveScreenshot(t, e.root, "otp.png", png)
	// The enrolment's code again: refused, the same page with an error.
	enterCode(t, tab2, code)
	browserStep(t, tab2, "wait for the refusal", chromedp.Do(tab2, chromedp.WaitVisible(chromedp.CSS("#otp-error"))))
	// The next step's code (within the skew of one step).
	next, err := totp.GenerateCode(secret, time.Now().Add(authn.TOTPPeriod))
	if err != nil {
		t.Fatal(err)
	}
	enterCode(t, tab2, next)
	approveIfAsked(t, tab2, redirect)
	idc, _, _ = rp3.finish(t, ctx, e, rptest.Wait(t, got3, 10*time.Second))
	checkLevel(t, idc, levelMFA, []string{"pwd", "otp", "mfa"})
}
