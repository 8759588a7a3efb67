package op

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idaop/ida-operator/runtime/authn"
	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/store"
	"github.com/idaop/ida-operator/runtime/store/storetest"
)

const acrPasskey = "urn:bank:acr:passkey"

// withPasskeys serves the provider at localhost (WebAuthn needs a domain
// for its RP ID) with levels a passkey alone meets: the password level
// and the two-factor one list it, and one level needs it.
func withPasskeys(s *config.Snapshot) {
	s.Provider.Issuer = strings.Replace(s.Provider.Issuer, "127.0.0.1", "localhost", 1)
	s.Provider.Authentication = authn.Policy{
		Levels: []authn.Level{
			{ACR: acrPwd, Methods: [][]string{{authn.MethodPassword}, {authn.MethodPasskey}}},
			{ACR: acrMFA, Methods: [][]string{{authn.MethodPassword, authn.MethodOTP}, {authn.MethodPasskey}}},
			{ACR: acrPasskey, Methods: [][]string{{authn.MethodPasskey}}},
		},
		DefaultLevel: acrPwd,
	}
}

// newPasskeyFixture is a fixture withPasskeys, its issuer the localhost one.
func newPasskeyFixture(t testing.TB, opt func(*Options)) *fixture {
	f := newFixtureWith(t, opt, withPasskeys)
	f.issuer = f.snap.Provider.Issuer
	return f
}

// origin is the issuer's origin, where the browser runs the ceremonies.
func (f *fixture) origin() string {
	u, _ := url.Parse(f.issuer)
	return u.Scheme + "://" + u.Host
}

// submitAt posts a page's form to path at a runtime's base URL.
func (f *fixture) submitAt(b *http.Client, base, path string, pg *page, fields url.Values) *page {
	f.t.Helper()
	form := url.Values{"interaction": {pg.interaction}, "csrf_token": {pg.csrf}}
	for k, v := range fields {
		form[k] = v
	}
	resp, err := b.PostForm(base+path, form)
	if err != nil {
		f.t.Fatal(err)
	}
	return readPage(f.t, resp)
}

// tokenLevel exchanges the code of a redirect and returns acr and amr.
func (f *fixture) tokenLevel(pg *page, verifier string) (string, []string) {
	f.t.Helper()
	q := redirectParams(f.t, pg)
	resp, body := f.exchange(clientBasic, q.Get("code"), verifier)
	if resp.StatusCode != http.StatusOK {
		f.t.Fatalf("token: %d %v", resp.StatusCode, body)
	}
	c := idTokenClaims(f.t, body)
	acr, _ := c["acr"].(string)
	return acr, amrOf(c)
}

func wantPage(t testing.TB, pg *page, action, text string) {
	t.Helper()
	if pg.status != http.StatusOK || !strings.Contains(pg.body, `action="`+tenantPath+action+`"`) {
		t.Fatalf("want the page posting to %s, got %d %q: %.600s", action, pg.status, pg.location, pg.body)
	}
	if text != "" && !strings.Contains(pg.body, text) {
		t.Fatalf("page without %q: %.800s", text, pg.body)
	}
}

// enrolPasskey: a password sign-in asked for the passkey level gets the
// passkey registration page (no other factor asked), whose answer
// counts: the ID token has the level and pwd, the key, user, mfa.
func enrolPasskey(t testing.TB, f *fixture, b *http.Client, key *softKey) {
	t.Helper()
	u, verifier := f.authorizeURL(clientBasic, url.Values{"acr_values": {acrPasskey}})
	pg := f.get(b, u)
	pg = f.submit(b, pathLogin, pg, url.Values{"username": {testUsername}, "password": {testPassword}})
	wantPage(t, pg, pathPasskeyEnrol, "Add a passkey")
	opts := key.parse(pageOptions(pg.body))
	if opts.PublicKey.AuthenticatorSelection.ResidentKey != "required" || opts.PublicKey.AuthenticatorSelection.UserVerification != "required" {
		t.Fatalf("registration options: want a discoverable credential with user verification: %s", pageOptions(pg.body))
	}
	if csp := pg.resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Fatalf("the passkey page's policy: %q", csp)
	}
	pg = f.approveIfAsked(b, f.submit(b, pathPasskeyEnrol, pg, url.Values{"credential": {key.create(pageOptions(pg.body))}}))
	acr, amr := f.tokenLevel(pg, verifier)
	want := []string{"pwd", authn.PasskeyMethod(key.synced), "user", "mfa"}
	if acr != acrPasskey || !slices.Equal(amr, want) {
		t.Fatalf("after enrolment: acr %q amr %v, want %q %v", acr, amr, acrPasskey, want)
	}
}

// TestPasskeyEnrolAndSignIn: a passkey added in a step-up signs in alone
// (a discoverable credential, from the login page, no username) and
// steps up a password session. An answer used twice, one without user
// verification and a key nobody enrolled are refused.
func TestPasskeyEnrolAndSignIn(t *testing.T) {
	f := newPasskeyFixture(t, nil)
	key := newSoftKey(t, f.origin(), true)
	enrolPasskey(t, f, f.browser(), key)
	// Stored sealed: the record names neither the user nor the key.
	sealed, err := f.p.grants.Passkeys(context.Background(), testSubject)
	if err != nil || strings.Contains(string(sealed), b64(key.id)) || strings.Contains(string(sealed), testSubject) {
		t.Fatalf("stored passkeys %q, %v: want them sealed", sealed, err)
	}

	// A passkey alone, from the login page of a new browser.
	b := f.browser()
	u, verifier := f.authorizeURL(clientBasic, nil)
	login := f.get(b, u)
	wantPage(t, login, pathPasskeyLogin, "Sign in with a passkey")
	if !strings.Contains(login.body, `src="`+tenantPath+`/ui/passkey.`) {
		t.Fatalf("the login page loads no passkey script: %.600s", login.body)
	}
	answer := key.get(pageOptions(login.body))
	pg := f.approveIfAsked(b, f.submit(b, pathPasskeyLogin, login, url.Values{"credential": {answer}}))
	acr, amr := f.tokenLevel(pg, verifier)
	if acr != acrPasskey || !slices.Equal(amr, []string{"swk", "user", "mfa"}) {
		t.Fatalf("passkey sign-in: acr %q amr %v", acr, amr)
	}

	// The same answer again: its challenge was spent.
	pg = f.submit(f.browser(), pathPasskeyLogin, login, url.Values{"credential": {answer}})
	if pg.location != "" {
		t.Fatalf("a replayed passkey answer signed in: %q", pg.location)
	}
	// The interaction cookie belongs to b: another browser gets the error page.
	pg = f.submit(b, pathPasskeyLogin, login, url.Values{"credential": {answer}})
	wantPage(t, pg, pathLogin, "That passkey did not work here")

	// No user verification, a key nobody enrolled, garbage: refused.
	b = f.browser()
	u, _ = f.authorizeURL(clientBasic, nil)
	pg = f.get(b, u)
	noUV := *key
	noUV.noUV = true
	for name, answer := range map[string]func(string) string{
		"no user verification": noUV.get,
		"an unknown key":       newSoftKey(t, f.origin(), true).get,
		"another origin":       (&softKey{t: t, priv: key.priv, id: key.id, handle: key.handle, origin: "http://evil.example", synced: true}).get,
		"not JSON":             func(string) string { return "{" },
	} {
		pg = f.submit(b, pathPasskeyLogin, pg, url.Values{"credential": {answer(pageOptions(pg.body))}})
		// Refused; from the third failure on, the sign-in throttle's lock.
		if pg.location != "" || !strings.Contains(pg.body, "That passkey did not work here") && !strings.Contains(pg.body, "Too many failed attempts") {
			t.Fatalf("%s: want the login page with an error, got %d %q: %.400s", name, pg.status, pg.location, pg.body)
		}
	}

	time.Sleep(1100 * time.Millisecond) // the first lock is 1 s, on the store's clock

	// A password session stepped up to the passkey level: the passkey
	// prompt (the user has one), which lists the user's key.
	b = f.browser()
	f.signIn(b, must(f.authorizeURL(clientBasic, nil)))
	u, verifier = f.authorizeURL(clientBasic, url.Values{"acr_values": {acrPasskey}})
	pg = f.get(b, u)
	wantPage(t, pg, pathPasskey, "Use your passkey")
	if !strings.Contains(pageOptions(pg.body), b64(key.id)) {
		t.Fatalf("the prompt does not allow the user's key: %s", pageOptions(pg.body))
	}
	pg = f.approveIfAsked(b, f.submit(b, pathPasskey, pg, url.Values{"credential": {key.get(pageOptions(pg.body))}}))
	acr, amr = f.tokenLevel(pg, verifier)
	if acr != acrPasskey || !slices.Equal(amr, []string{"pwd", "swk", "user", "mfa"}) {
		t.Fatalf("passkey step-up: acr %q amr %v", acr, amr)
	}
}

// TestPasskeyLoginButtonOnlyWhereItReaches: a request whose level a
// passkey does not meet gets no passkey button; an issuer at an IP
// address (no WebAuthn RP ID) offers none at all.
func TestPasskeyLoginButtonOnlyWhereItReaches(t *testing.T) {
	f := newPasskeyFixture(t, nil)
	f.snap.Provider.Authentication.Levels = append(f.snap.Provider.Authentication.Levels,
		authn.Level{ACR: "urn:bank:acr:otp", Methods: [][]string{{authn.MethodPassword, authn.MethodOTP}}})
	if err := f.p.Apply(f.snap); err != nil {
		t.Fatal(err)
	}
	u, _ := f.authorizeURL(clientBasic, url.Values{"acr_values": {"urn:bank:acr:otp"}})
	if pg := f.get(f.browser(), u); pageOptions(pg.body) != "" || strings.Contains(pg.resp.Header.Get("Content-Security-Policy"), "script-src") {
		t.Fatalf("a passkey button where a passkey does not reach the level: %.600s", pg.body)
	}
	plain := newFixture(t)
	u, _ = plain.authorizeURL(clientBasic, nil)
	if pg := plain.get(plain.browser(), u); pageOptions(pg.body) != "" {
		t.Fatal("an issuer at an IP address offers passkeys")
	}
}

// TestPasskeyAcrossRuntimes: two runtimes behind one Redis; a passkey
// enrolled through one signs in alone at the other, and its use is
// recorded where the first sees it.
func TestPasskeyAcrossRuntimes(t *testing.T) {
	rs, err := store.NewRedis(t.Context(), store.RedisOptions{Address: storetest.StartRedis(t), Prefix: "ida:"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rs.Close() })
	f := newPasskeyFixture(t, func(o *Options) { o.Store = rs })
	p2, err := New(Options{Store: rs, Users: mustBuiltin(t), UI: f.p.ui, Now: f.clock.now})
	if err != nil {
		t.Fatal(err)
	}
	if err := p2.Apply(f.snap); err != nil {
		t.Fatal(err)
	}
	srv2 := httptest.NewServer(p2.Handler())
	t.Cleanup(srv2.Close)
	base2 := srv2.URL + tenantPath

	key := newSoftKey(t, f.origin(), false) // device-bound: hwk
	enrolPasskey(t, f, f.browser(), key)

	b := f.browser()
	u, verifier := f.authorizeURL(clientBasic, nil)
	pg := f.get(b, strings.Replace(u, f.issuer, base2, 1))
	wantPage(t, pg, pathPasskeyLogin, "Sign in with a passkey")
	pg = f.submitAt(b, base2, pathPasskeyLogin, pg, url.Values{"credential": {key.get(pageOptions(pg.body))}})
	if pg.location == "" && strings.Contains(pg.body, `name="decision"`) {
		pg = f.submitAt(b, base2, pathConsent, pg, url.Values{"decision": {"approve"}})
	}
	acr, amr := f.tokenLevel(pg, verifier)
	if acr != acrPasskey || !slices.Equal(amr, []string{"hwk", "user", "mfa"}) {
		t.Fatalf("passkey sign-in at the second runtime: acr %q amr %v", acr, amr)
	}
	rec, err := f.p.loadPasskeys(context.Background(), f.p.served.Load(), testSubject)
	if err != nil || len(rec.Keys) != 1 || rec.Keys[0].Credential.Authenticator.SignCount != key.counter {
		t.Fatalf("the first runtime sees %+v, %v; want the key with counter %d", rec, err, key.counter)
	}
}

// TestPasskeyOffer: after a password sign-in, a user without a second
// factor is offered a passkey and may skip it; accepted, it counts for
// the sign-in; a user who has one is not offered another. An offer
// cannot be skipped where the level needs the passkey.
func TestPasskeyOffer(t *testing.T) {
	f := newPasskeyFixture(t, nil)
	password := url.Values{"username": {testUsername}, "password": {testPassword}}

	b := f.browser()
	u, verifier := f.authorizeURL(clientBasic, nil)
	pg := f.submit(b, pathLogin, f.get(b, u), password)
	wantPage(t, pg, pathPasskeyEnrol, "Not now")
	pg = f.approveIfAsked(b, f.submit(b, pathPasskeyEnrol, pg, url.Values{"skip": {"1"}}))
	if acr, amr := f.tokenLevel(pg, verifier); acr != acrPwd || !slices.Equal(amr, []string{"pwd"}) {
		t.Fatalf("skipped: acr %q amr %v", acr, amr)
	}

	b = f.browser()
	u, verifier = f.authorizeURL(clientBasic, nil)
	pg = f.submit(b, pathLogin, f.get(b, u), password)
	wantPage(t, pg, pathPasskeyEnrol, "Not now")
	key := newSoftKey(t, f.origin(), true)
	pg = f.approveIfAsked(b, f.submit(b, pathPasskeyEnrol, pg, url.Values{"credential": {key.create(pageOptions(pg.body))}}))
	if _, amr := f.tokenLevel(pg, verifier); !slices.Equal(amr, []string{"pwd", "swk", "user", "mfa"}) {
		t.Fatalf("accepted: amr %v", amr)
	}

	b = f.browser()
	u, _ = f.authorizeURL(clientBasic, nil)
	pg = f.approveIfAsked(b, f.submit(b, pathLogin, f.get(b, u), password))
	if redirectParams(t, pg).Get("code") == "" {
		t.Fatal("a user with a passkey was offered another")
	}

	// A required enrolment shows no skip, and a posted skip is refused.
	g := newPasskeyFixture(t, nil)
	b = g.browser()
	u, _ = g.authorizeURL(clientBasic, url.Values{"acr_values": {acrPasskey}})
	pg = g.submit(b, pathLogin, g.get(b, u), password)
	wantPage(t, pg, pathPasskeyEnrol, "Add a passkey")
	if strings.Contains(pg.body, "Not now") {
		t.Fatal("a required passkey can be skipped")
	}
	if pg = g.submit(b, pathPasskeyEnrol, pg, url.Values{"skip": {"1"}}); pg.status != http.StatusBadRequest || pg.location != "" {
		t.Fatalf("a posted skip of a required passkey: %d %q", pg.status, pg.location)
	}
}
