package runtime_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/test/internal/fixture"
	"github.com/idaop/ida-operator/test/internal/rptest"
)

// Clients of the logout runtime: client_secret_basic, each with the
// callbacks server as redirect and post-logout URI and its own
// back-channel logout endpoint.
const (
	clientLogoutA = "rp-logout-openid-client"
	clientLogoutB = "rp-logout-go"
)

// backchannelEndpoint records the logout tokens a relying party receives.
type backchannelEndpoint struct {
	*httptest.Server
	mu     sync.Mutex
	tokens []string
	got    chan struct{}
}

func newBackchannelEndpoint(t *testing.T) *backchannelEndpoint {
	e := &backchannelEndpoint{got: make(chan struct{}, 8)}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		v, _ := url.ParseQuery(string(b))
		if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") || v.Get("logout_token") == "" {
			http.Error(w, "want a form-encoded logout_token", http.StatusBadRequest)
			return
		}
		e.mu.Lock()
		e.tokens = append(e.tokens, v.Get("logout_token"))
		e.mu.Unlock()
		e.got <- struct{}{}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(e.Close)
	return e
}

func (e *backchannelEndpoint) received() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.tokens...)
}

// writeLogoutConfigDir registers the two clients; the provider allows
// loopback egress, where the test's back-channel endpoints run.
func writeLogoutConfigDir(bcA, bcB string) func(dir, issuer, redirectURI string) (*generated, error) {
	return func(dir, issuer, redirectURI string) (*generated, error) {
		g := &generated{dir: dir, clientNames: map[string]string{clientLogoutA: "Demo Bank (openid-client)", clientLogoutB: "Demo Shop (Go)"}}
		var err error
		if g.clientSecret, err = config.NewClientSecret(); err != nil {
			return nil, err
		}
		a := fixture.Client(clientLogoutA, g.clientNames[clientLogoutA], "team-a", redirectURI, g.clientSecret, "openid", "profile")
		b := fixture.Client(clientLogoutB, g.clientNames[clientLogoutB], "team-a", redirectURI, g.clientSecret, "openid", "profile")
		a.PostLogoutRedirectURIs, a.BackchannelLogoutURI = []string{redirectURI}, bcA
		b.PostLogoutRedirectURIs, b.BackchannelLogoutURI, b.BackchannelLogoutSessionRequired = []string{redirectURI}, bcB, true
		p := fixture.Provider(issuer, []string{config.ES256}, 10*time.Minute, time.Minute)
		p.Egress = config.Egress{AllowedCIDRs: []string{"127.0.0.0/8"}}
		if err := fixture.WriteConfigDir(dir, p, demoPassword, a, b); err != nil {
			return nil, err
		}
		return g, nil
	}
}

// TestLogoutWithChromium: Chromium signs in at openid-client's relying
// party, then at a second relying party through the session (no login
// page); openid-client's buildEndSessionUrl logs out through the first.
// The browser lands on the registered post-logout URI with its state; the
// second relying party's back-channel endpoint gets a logout token that
// go-jose verifies against the provider's JWKS, with the back-channel
// rules (typ, events, sid and sub of its ID token, no nonce); both
// sessions are gone, server-side too; a post-logout URI that is not
// registered gets an error page, not a redirect; a logout without a hint
// asks the person, who answers with the keyboard.
func TestLogoutWithChromium(t *testing.T) {
	t.Parallel()
	bcA, bcB := newBackchannelEndpoint(t), newBackchannelEndpoint(t)
	e, err := startEnv(writeLogoutConfigDir(bcA.URL+"/backchannel", bcB.URL+"/backchannel"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.close)
	e.dumpLogsOnFailure(t)
	br := getBrowser(t)
	tab := br.Tab(t, 90*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// 1. openid-client's relying party: the login and consent pages.
	rp := rptest.StartNodeRP(t, ctx, e.root, "ISSUER="+e.issuer, "CLIENT_ID="+clientLogoutA, "CLIENT_SECRET="+e.cfg.clientSecret,
		"REDIRECT_URI="+e.cb.RedirectURI(), "SCOPE=openid profile", "DPOP=0", "PAR=0", "EXPOSE_TOKENS=1",
		"POST_LOGOUT_REDIRECT_URI="+e.cb.RedirectURI())
	authz := rp.Next(t, "authorize")
	got := e.cb.Expect(authz["state"].(string))
	signInWithBrowser(t, e, tab, authz["authorization_url"].(string), "approve", false)
	rp.Send(t, rptest.Wait(t, got, 10*time.Second).String())
	res := rp.Next(t, "result")
	idcA, _ := res["id_token_claims"].(map[string]any)
	logout := rp.Next(t, "end_session")
	if logout["end_session_endpoint"] != e.issuer+config.PathEndSession {
		t.Errorf("discovery's end_session_endpoint = %v", logout["end_session_endpoint"])
	}

	// 2. The second relying party: the session signs in, only consent.
	b := rptest.NewClient(e.issuer, clientLogoutB, e.cfg.clientSecret, e.cb.RedirectURI())
	b.Scope = "openid profile"
	reqB := b.NewRequest("")
	got = e.cb.Expect(reqB.State)
	pages := rptest.Flow{URL: b.AuthorizationURL(reqB), Decision: "approve", RedirectPrefix: e.cb.RedirectURI() + "?"}.Run(t, tab)
	if pages.LoginShown {
		t.Fatal("the second relying party got a login page: the session was not used")
	}
	code, err := b.CodeFrom(rptest.Wait(t, got, 10*time.Second), reqB)
	if err != nil {
		t.Fatal(err)
	}
	tokB, err := b.Exchange(code, reqB)
	if err != nil {
		t.Fatal(err)
	}
	idB, err := rptest.NewVerifier(e.issuer, e.issuer+config.PathJWKS).Verify(tokB.IDToken, clientLogoutB)
	if err != nil {
		t.Fatal(err)
	}
	if idB.Claims["sid"] == nil || idB.Claims["sid"] != idcA["sid"] {
		t.Fatalf("sid of the two ID tokens: %v and %v", idcA["sid"], idB.Claims["sid"])
	}
	session := rptest.SessionCookie(t, tab, e.issuer)
	if session == nil {
		t.Fatal("no session cookie after signing in")
	}

	// 3. A post-logout URI that is not registered: an error page there.
	bad := e.issuer + config.PathEndSession + "?" + url.Values{"client_id": {clientLogoutB}, "post_logout_redirect_uri": {"https://evil.example/"}, "state": {"x"}}.Encode()
	browserStep(t, tab, "open a logout with a foreign post-logout URI", chromedp.Do(tab, chromedp.Navigate(bad)))
	loc, err := chromedp.Run(tab, chromedp.Location())
	browserStep(t, tab, "read the location", err)
	body, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS("main")))
	browserStep(t, tab, "read the error page", err)
	if !strings.HasPrefix(loc, e.issuer+config.PathEndSession) || !strings.Contains(body, "post_logout_redirect_uri is not registered") {
		t.Fatalf("foreign post-logout URI: the browser is at %s: %.500s", loc, body)
	}

	// 4. Logout through the first relying party's end_session URL.
	got = e.cb.Expect(logout["state"].(string))
	browserStep(t, tab, "open the end-session URL", chromedp.Do(tab, chromedp.Navigate(logout["url"].(string))))
	back := rptest.Wait(t, got, 10*time.Second)
	if back.Path != "/cb" || back.Query().Get("state") != logout["state"] {
		t.Errorf("after logout the browser is at %s", back)
	}

	// 5. The second relying party's back-channel endpoint got a logout token.
	select {
	case <-bcB.got:
	case <-time.After(10 * time.Second):
		t.Fatal("no logout token at the second relying party's back-channel endpoint")
	}
	tokens := bcB.received()
	lt := verifyLogoutToken(t, e, tokens[0], clientLogoutB)
	if lt["sid"] != idB.Claims["sid"] || lt["sub"] != idB.Claims["sub"] {
		t.Errorf("logout token sid/sub %v/%v, the ID token's %v/%v", lt["sid"], lt["sub"], idB.Claims["sid"], idB.Claims["sub"])
	}
	if len(tokens) != 1 {
		t.Errorf("%d logout tokens at the second relying party", len(tokens))
	}

	// 6. Both sessions are gone: prompt=none in the browser, and the old
	// cookie at the server.
	for _, id := range []string{clientLogoutA, clientLogoutB} {
		c := rptest.NewClient(e.issuer, id, e.cfg.clientSecret, e.cb.RedirectURI())
		c.Scope = "openid profile"
		r := c.NewRequest("none")
		got := e.cb.Expect(r.State)
		browserStep(t, tab, "prompt=none after logout", chromedp.Do(tab, chromedp.Navigate(c.AuthorizationURL(r))))
		if q := rptest.Wait(t, got, 10*time.Second).Query(); q.Get("error") != "login_required" {
			t.Errorf("%s: prompt=none after logout: %v", id, q)
		}
		c.Session = session
		if _, _, err := c.CodeWithSession(); err == nil || !strings.Contains(err.Error(), "login_required") {
			t.Errorf("%s: the old session cookie still signs in: %v", id, err)
		}
	}

	// 7. Without a hint the person confirms, with the keyboard.
	confirmLogoutWithKeyboard(t, e, tab)
}

// confirmLogoutWithKeyboard signs in at the second relying party again,
// then opens the end-session endpoint without a hint: the
// confirmation page comes, its "sign out" button has the focus, and Enter
// signs out to the signed-out page.
func confirmLogoutWithKeyboard(t *testing.T, e *env, tab context.Context) {
	t.Helper()
	b := rptest.NewClient(e.issuer, clientLogoutB, e.cfg.clientSecret, e.cb.RedirectURI())
	b.Scope = "openid profile"
	r := b.NewRequest("")
	got := e.cb.Expect(r.State)
	signInWithBrowser(t, e, tab, b.AuthorizationURL(r), "approve", false)
	rptest.Wait(t, got, 10*time.Second)

	u := e.issuer + config.PathEndSession + "?" + url.Values{"client_id": {clientLogoutB}, "ui_locales": {"en"}}.Encode()
	browserStep(t, tab, "open the end-session endpoint without a hint", chromedp.Do(tab, chromedp.Navigate(u),
		chromedp.WaitVisible(chromedp.CSS(`button[value="logout"]`))))
	text, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS("main")))
	browserStep(t, tab, "read the confirmation page", err)
	if !strings.Contains(text, "Demo Shop (Go) asks to sign you out") {
		t.Errorf("confirmation page: %s", text)
	}
	png, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
	browserStep(t, tab, "screenshot the confirmation page", err)
	saveScreenshot(t, e.root, "logout-confirm.png", png)
	focused, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.activeElement.value || ""`))
	browserStep(t, tab, "read the focused element", err)
	if focused != "logout" {
		t.Errorf("the focus is on %q, not on the sign-out button", focused)
	}
	_, err = chromedp.RunResponse(tab, chromedp.KeyEvent("\r"))
	browserStep(t, tab, "press Enter", err)
	text, err = chromedp.Run(tab, chromedp.Text(chromedp.CSS("main")))
	browserStep(t, tab, "read the signed-out page", err)
	if !strings.Contains(text, "You are signed out") {
		t.Errorf("after Enter: %s", text)
	}
	r = b.NewRequest("none")
	got = e.cb.Expect(r.State)
	browserStep(t, tab, "prompt=none after the confirmed logout", chromedp.Do(tab, chromedp.Navigate(b.AuthorizationURL(r))))
	if q := rptest.Wait(t, got, 10*time.Second).Query(); q.Get("error") != "login_required" {
		t.Errorf("prompt=none after the confirmed logout: %v", q)
	}
}

// verifyLogoutToken checks a logout token as a relying party must (OIDC
// Back-Channel Logout 1.0 §2.6) and returns its claims.
func verifyLogoutToken(t *testing.T, e *env, raw, clientID string) map[string]any {
	t.Helper()
	resp, err := http.Get(e.issuer + config.PathJWKS)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256, jose.PS256, jose.RS256})
	if err != nil {
		t.Fatalf("logout token: %v", err)
	}
	h := tok.Headers[0]
	if h.ExtraHeaders[jose.HeaderType] != "logout+jwt" {
		t.Errorf("logout token typ %v, want logout+jwt", h.ExtraHeaders[jose.HeaderType])
	}
	keys := set.Key(h.KeyID)
	if len(keys) != 1 {
		t.Fatalf("logout token kid %q is not in the JWKS", h.KeyID)
	}
	var std jwt.Claims
	var all map[string]any
	if err := tok.Claims(keys[0].Key, &std, &all); err != nil {
		t.Fatalf("logout token signature: %v", err)
	}
	if err := std.ValidateWithLeeway(jwt.Expected{Issuer: e.issuer, AnyAudience: jwt.Audience{clientID}, Time: time.Now()}, 30*time.Second); err != nil {
		t.Errorf("logout token: %v", err)
	}
	ev, _ := all["events"].(map[string]any)
	if _, ok := ev["http://schemas.openid.net/event/backchannel-logout"]; !ok {
		t.Errorf("logout token events %v", all["events"])
	}
	if std.ID == "" || std.IssuedAt == nil || std.Expiry == nil || all["sid"] == nil || all["sub"] == nil {
		t.Errorf("logout token lacks jti, iat, exp, sid or sub: %v", all)
	}
	if _, ok := all["nonce"]; ok {
		t.Error("logout token has a nonce")
	}
	return all
}
