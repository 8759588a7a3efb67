package op

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idaop/ida-operator/runtime/authn"
)

var otpSecretRE = regexp.MustCompile(`<code id="otp-secret">([A-Z2-7]+)</code>`)

func (f *fixture) otpCode(secret string, at time.Time) string {
	f.t.Helper()
	c, err := authn.TOTPCode(secret, at)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// approveIfAsked answers a consent page when one is shown.
func (f *fixture) approveIfAsked(b *http.Client, pg *page) *page {
	f.t.Helper()
	if pg.location == "" && strings.Contains(pg.body, `name="decision"`) {
		return f.submit(b, pathConsent, pg, url.Values{"decision": {"approve"}})
	}
	return pg
}

func wantCodePage(t *testing.T, pg *page, errText string) {
	t.Helper()
	if pg.status != http.StatusOK || !strings.Contains(pg.body, `action="`+tenantPath+pathOTP+`"`) {
		t.Fatalf("want the code page, got %d %q: %.400s", pg.status, pg.location, pg.body)
	}
	if errText != "" && !strings.Contains(pg.body, errText) {
		t.Fatalf("code page without %q: %.600s", errText, pg.body)
	}
}

// TestTOTPEnrolAndStepUp: an RP asks for the two-factor level. A user
// without a generator enrols after the password (the first code confirms
// it; a wrong one does not); the ID token says mfa. Later, a password-only
// session asked for that level gets the code page only: a replayed code,
// an expired one and a wrong one are refused, the current one is taken.
// prompt=none never shows the page.
func TestTOTPEnrolAndStepUp(t *testing.T) {
	f := newFixture(t, withLevels)
	mfa := url.Values{"acr_values": {acrMFA}}

	// Enrolment after the password.
	b := f.browser()
	u, verifier := f.authorizeURL(clientBasic, mfa)
	pg := f.get(b, u)
	pg = f.submit(b, pathLogin, pg, url.Values{"username": {testUsername}, "password": {testPassword}})
	m := otpSecretRE.FindStringSubmatch(pg.body)
	if m == nil || !strings.Contains(pg.body, "otpauth://totp/") {
		t.Fatalf("want the enrolment page with a secret and its URI: %.600s", pg.body)
	}
	secret := m[1]
	pg = f.submit(b, pathOTPEnrol, pg, url.Values{"code": {"000000"}})
	if !strings.Contains(pg.body, "That code did not work") || !strings.Contains(pg.body, secret) {
		t.Fatalf("a wrong first code: want the same enrolment page with an error: %.600s", pg.body)
	}
	enrolledAt := f.clock.now()
	pg = f.approveIfAsked(b, f.submit(b, pathOTPEnrol, pg, url.Values{"code": {f.otpCode(secret, enrolledAt)}}))
	q := redirectParams(t, pg)
	resp, body := f.exchange(clientBasic, q.Get("code"), verifier)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token: %d %v", resp.StatusCode, body)
	}
	c := idTokenClaims(t, body)
	if c["acr"] != acrMFA || !slices.Equal(amrOf(c), []string{"pwd", "otp", "mfa"}) {
		t.Fatalf("after enrolment: acr %v amr %v", c["acr"], c["amr"])
	}
	// The secret is stored sealed, never in the clear.
	sealed, err := f.p.grants.TOTP(context.Background(), testSubject)
	if err != nil || len(sealed) == 0 || strings.Contains(string(sealed), secret) {
		t.Fatalf("stored factor %q, %v: want it sealed", sealed, err)
	}
	if _, err := f.p.served.Load().openFactor("someone-else", sealed); err == nil {
		t.Fatal("a sealed factor opened for another user")
	}

	// The same browser meets the level: no page.
	u, _ = f.authorizeURL(clientBasic, mfa)
	if q := redirectParams(t, f.get(b, u)); q.Get("code") == "" {
		t.Fatalf("a two-factor session asked again: %v", q)
	}

	// A password-only session.
	b2 := f.browser()
	f.signIn(b2, must(f.authorizeURL(clientBasic, nil)))
	u, _ = f.authorizeURL(clientBasic, url.Values{"acr_values": {acrMFA}, "prompt": {"none"}})
	if q := redirectParams(t, f.get(b2, u)); q.Get("error") != "interaction_required" {
		t.Fatalf("prompt=none with a step-up needed: %v", q)
	}
	u, verifier = f.authorizeURL(clientBasic, mfa)
	pg = f.get(b2, u)
	wantCodePage(t, pg, "")
	if strings.Contains(pg.body, `name="password"`) {
		t.Fatal("the step-up asks for the password again")
	}
	// The code used at enrolment, again: refused.
	pg = f.submit(b2, pathOTP, pg, url.Values{"code": {f.otpCode(secret, enrolledAt)}})
	wantCodePage(t, pg, "That code did not work")
	// Expired: two steps old.
	f.clock.advance(authn.TOTPPeriod)
	pg = f.submit(b2, pathOTP, pg, url.Values{"code": {f.otpCode(secret, f.clock.now().Add(-2*authn.TOTPPeriod))}})
	wantCodePage(t, pg, "That code did not work")
	// Three failures lock the code step (the sign-in throttle).
	pg = f.submit(b2, pathOTP, pg, url.Values{"code": {"12345x"}})
	wantCodePage(t, pg, "That code did not work")
	pg = f.submit(b2, pathOTP, pg, url.Values{"code": {f.otpCode(secret, f.clock.now())}})
	wantCodePage(t, pg, "Too many wrong codes")
	time.Sleep(1100 * time.Millisecond) // the first lock is 1 s, on the store's clock
	pg = f.approveIfAsked(b2, f.submit(b2, pathOTP, pg, url.Values{"code": {f.otpCode(secret, f.clock.now())}}))
	q = redirectParams(t, pg)
	_, body = f.exchange(clientBasic, q.Get("code"), verifier)
	c = idTokenClaims(t, body)
	if c["acr"] != acrMFA || !slices.Equal(amrOf(c), []string{"pwd", "otp", "mfa"}) {
		t.Fatalf("after the step-up: acr %v amr %v", c["acr"], c["amr"])
	}
}

func must(u, _ string) string { return u }

// TestStaleEnrolmentPage: an enrolment page opened while the user had no
// generator cannot replace the one enrolled meanwhile in another browser
// (someone who knows the password must not swap the factor for theirs).
func TestStaleEnrolmentPage(t *testing.T) {
	f := newFixture(t, withLevels)
	mfa := url.Values{"acr_values": {acrMFA}}
	enrolPage := func() (*http.Client, *page, string) {
		b := f.browser()
		u, _ := f.authorizeURL(clientBasic, mfa)
		pg := f.submit(b, pathLogin, f.get(b, u), url.Values{"username": {testUsername}, "password": {testPassword}})
		m := otpSecretRE.FindStringSubmatch(pg.body)
		if m == nil {
			t.Fatalf("no enrolment page: %.400s", pg.body)
		}
		return b, pg, m[1]
	}
	attacker, stale, attackerSecret := enrolPage()
	user, pg, userSecret := enrolPage()
	redirectParams(t, f.approveIfAsked(user, f.submit(user, pathOTPEnrol, pg, url.Values{"code": {f.otpCode(userSecret, f.clock.now())}})))

	pg = f.submit(attacker, pathOTPEnrol, stale, url.Values{"code": {f.otpCode(attackerSecret, f.clock.now())}})
	if pg.status != http.StatusBadRequest || !strings.Contains(pg.body, "set up for this account meanwhile") {
		t.Fatalf("a stale enrolment page was accepted: %d %q %.400s", pg.status, pg.location, pg.body)
	}
	sealed, err := f.p.grants.TOTP(context.Background(), testSubject)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := f.p.served.Load().openFactor(testSubject, sealed); err != nil || got != userSecret {
		t.Fatal("the user's factor was replaced")
	}
}
