package op

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/ui"
)

const postLogoutURI = "https://rp.example.com/bye"

// withPostLogout registers postLogoutURI for clientBasic and clientPost.
func withPostLogout(s *config.Snapshot) {
	for _, id := range []string{clientBasic, clientPost} {
		s.Clients[id].PostLogoutRedirectURIs = []string{postLogoutURI}
	}
}

// signedInWithIDToken signs a browser in at client and returns its ID token.
func (f *fixture) signedInWithIDToken(b *http.Client, clientID string) string {
	f.t.Helper()
	u, verifier := f.authorizeURL(clientID, nil)
	pg := f.get(b, u)
	if strings.Contains(pg.body, `name="password"`) {
		pg = f.submit(b, pathLogin, pg, url.Values{"username": {testUsername}, "password": {testPassword}})
	}
	if pg.location == "" { // a session already: the consent page only
		pg = f.submit(b, pathConsent, pg, url.Values{"decision": {"approve"}})
	}
	q := redirectParams(f.t, pg)
	var body map[string]any
	if clientID == clientPost {
		resp := f.post(config.PathToken, url.Values{
			"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {redirectURI}, "code_verifier": {verifier},
			"client_id": {clientPost}, "client_secret": {testSecret},
		}, nil)
		body = decode(f.t, resp)
	} else {
		_, body = f.exchange(clientID, q.Get("code"), verifier)
	}
	idt, _ := body["id_token"].(string)
	if idt == "" {
		f.t.Fatalf("no ID token: %v", body)
	}
	return idt
}

func (f *fixture) endSessionURL(v url.Values) string {
	return f.url(config.PathEndSession) + "?" + v.Encode()
}

// TestEndSessionChecks: each rule of the request, without HTTP.
func TestEndSessionChecks(t *testing.T) {
	f := newFixture(t, withPostLogout)
	sv := f.p.served.Load()
	idt := f.signedInWithIDToken(f.browser(), clientBasic)
	for _, c := range []struct {
		name string
		l    logoutRequest
		want string // "" passes
	}{
		{"nothing: asks the person", logoutRequest{}, ""},
		{"hint names the client", logoutRequest{idTokenHint: idt, postLogoutRedirectURI: postLogoutURI}, ""},
		{"client_id alone", logoutRequest{clientID: clientBasic, postLogoutRedirectURI: postLogoutURI}, ""},
		{"hint not a JWT", logoutRequest{idTokenHint: "abc"}, "id_token_hint is not a JWT"},
		{"hint changed", logoutRequest{idTokenHint: idt[:len(idt)-4] + "AAAA"}, "id_token_hint signature does not verify"},
		{"client_id not the hint's audience", logoutRequest{idTokenHint: idt, clientID: clientPost}, "client_id is not the audience"},
		{"unknown client", logoutRequest{clientID: "nobody"}, "unknown client_id"},
		{"redirect without a client", logoutRequest{postLogoutRedirectURI: postLogoutURI}, "needs id_token_hint or client_id"},
		{"redirect not registered", logoutRequest{clientID: clientBasic, postLogoutRedirectURI: postLogoutURI + "/"}, "not registered"},
		{"redirect of another client", logoutRequest{clientID: clientSigned, postLogoutRedirectURI: postLogoutURI}, "not registered"},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := c.l
			l.sv, l.now = sv, f.clock.now()
			err := runChecks(&l, endSessionChecks)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.want != "" && (err == nil || err.Code != "invalid_request" || !strings.Contains(err.Description, c.want)):
				t.Fatalf("want invalid_request %q, got %v", c.want, err)
			}
		})
	}
}

// TestRPInitiatedLogout: a hint of this session signs out at once, even
// expired, and returns to the registered URI with state; then prompt=none
// finds no session.
func TestRPInitiatedLogout(t *testing.T) {
	f := newFixture(t, withPostLogout)
	b := f.browser()
	idt := f.signedInWithIDToken(b, clientBasic)
	f.clock.advance(10 * time.Minute) // the ID token has expired
	pg := f.get(b, f.endSessionURL(url.Values{"id_token_hint": {idt}, "post_logout_redirect_uri": {postLogoutURI}, "state": {"s-1"}}))
	if pg.status != http.StatusSeeOther || pg.location != postLogoutURI+"?state=s-1" {
		t.Fatalf("logout: %d %q: %.300s", pg.status, pg.location, pg.body)
	}
	if q := f.silent(b); q.Get("error") != "login_required" {
		t.Fatalf("after logout: %v", q)
	}
	// Again, now without a session: still back to the client.
	pg = f.get(b, f.endSessionURL(url.Values{"id_token_hint": {idt}, "post_logout_redirect_uri": {postLogoutURI}}))
	if pg.status != http.StatusSeeOther || pg.location != postLogoutURI {
		t.Fatalf("logout without a session: %d %q", pg.status, pg.location)
	}
}

// TestLogoutConfirmation: a request that cannot be tied to the session
// (no hint, or another session's) asks the person; staying keeps the
// session, signing out ends it and shows the signed-out page; POST works
// as GET.
func TestLogoutConfirmation(t *testing.T) {
	f := newFixture(t, withPostLogout)
	other := f.signedInWithIDToken(f.browser(), clientBasic) // another browser's session
	b := f.browser()
	f.signedInWithIDToken(b, clientBasic)
	for _, req := range []url.Values{{}, {"id_token_hint": {other}}, {"client_id": {clientBasic}, "ui_locales": {"ja"}}} {
		pg := f.get(b, f.endSessionURL(req))
		if pg.status != http.StatusOK || !strings.Contains(pg.body, `value="`+ui.DecisionLogout+`"`) || pg.interaction == "" {
			t.Fatalf("%v: want the confirmation page, got %d: %.300s", req, pg.status, pg.body)
		}
		if req.Get("ui_locales") == "ja" && !strings.Contains(pg.body, "ログアウトしますか") {
			t.Errorf("ui_locales=ja: %.300s", pg.body)
		}
		stay := f.submit(b, pathLogoutConfirm, pg, url.Values{ui.FieldLogout: {ui.DecisionStay}})
		if stay.status != http.StatusOK || !strings.Contains(stay.body, "still signed in") && !strings.Contains(stay.body, "ログインしたまま") {
			t.Fatalf("stay: %d %.300s", stay.status, stay.body)
		}
		if q := f.silent(b); q.Get("code") == "" {
			t.Fatalf("staying signed in ended the session: %v", q)
		}
	}
	resp, err := b.PostForm(f.url(config.PathEndSession), url.Values{"client_id": {clientBasic}, "post_logout_redirect_uri": {postLogoutURI}, "state": {"s-2"}})
	if err != nil {
		t.Fatal(err)
	}
	pg := readPage(t, resp)
	if pg.interaction == "" {
		t.Fatalf("POST: want the confirmation page, got %d: %.300s", pg.status, pg.body)
	}
	if csp := pg.resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://rp.example.com") {
		t.Errorf("the page's form may not redirect to the post-logout URI: %s", csp)
	}
	// A forged answer: the seal does not open.
	if bad := f.submit(b, pathLogoutConfirm, &page{interaction: pg.interaction + "x"}, url.Values{ui.FieldLogout: {ui.DecisionLogout}}); bad.status != http.StatusBadRequest || bad.location != "" {
		t.Fatalf("forged confirmation: %d %q", bad.status, bad.location)
	}
	out := f.submit(b, pathLogoutConfirm, pg, url.Values{ui.FieldLogout: {ui.DecisionLogout}})
	if out.status != http.StatusSeeOther || out.location != postLogoutURI+"?state=s-2" {
		t.Fatalf("confirmed: %d %q %.300s", out.status, out.location, out.body)
	}
	if q := f.silent(b); q.Get("error") != "login_required" {
		t.Fatalf("after confirmed logout: %v", q)
	}

	// Without a post-logout URI: the signed-out page.
	f.signedInWithIDToken(b, clientBasic)
	pg = f.get(b, f.endSessionURL(url.Values{}))
	out = f.submit(b, pathLogoutConfirm, pg, url.Values{ui.FieldLogout: {ui.DecisionLogout}})
	if out.status != http.StatusOK || !strings.Contains(out.body, "You are signed out") {
		t.Fatalf("signed-out page: %d %.300s", out.status, out.body)
	}
	// The confirmation of an ended session does not end the next one.
	f.signedInWithIDToken(b, clientBasic)
	if again := f.submit(b, pathLogoutConfirm, pg, url.Values{ui.FieldLogout: {ui.DecisionLogout}}); again.status != http.StatusBadRequest {
		t.Fatalf("an old confirmation ended a new session: %d", again.status)
	}
}

// TestLogoutErrorsArePages: a bad request is an error page, never a
// redirect, and ends nothing.
func TestLogoutErrorsArePages(t *testing.T) {
	f := newFixture(t, withPostLogout)
	b := f.browser()
	idt := f.signedInWithIDToken(b, clientBasic)
	for _, v := range []url.Values{
		{"id_token_hint": {idt}, "post_logout_redirect_uri": {"https://evil.example/"}, "state": {"x"}},
		{"id_token_hint": {idt}, "post_logout_redirect_uri": {postLogoutURI + "?x=1"}},
		{"id_token_hint": {idt}, "client_id": {clientPost}, "post_logout_redirect_uri": {postLogoutURI}},
		{"id_token_hint": {"not-a-token"}, "post_logout_redirect_uri": {postLogoutURI}},
		{"post_logout_redirect_uri": {postLogoutURI}},
	} {
		pg := f.get(b, f.endSessionURL(v))
		if pg.status != http.StatusBadRequest || pg.location != "" || !strings.Contains(pg.body, "invalid_request") {
			t.Errorf("%v: %d %q %.200s", v, pg.status, pg.location, pg.body)
		}
	}
	if q := f.silent(b); q.Get("code") == "" {
		t.Fatalf("a refused logout ended the session: %v", q)
	}
}
