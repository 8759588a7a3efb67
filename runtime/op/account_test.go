package op

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/grants"
)

// postAuth is client_secret_post's form fields.
func postAuth(clientID string, form url.Values) url.Values {
	form.Set("client_id", clientID)
	form.Set("client_secret", testSecret)
	return form
}

// TestAccountPage: the account page asks a visitor to sign in first (the
// login page, no client), then lists what was shared; its withdrawal form
// is refused without its CSRF token, from another browser, or for another
// session, and otherwise revokes the relying party's tokens: the refresh
// token gets invalid_grant, introspection says inactive, UserInfo 401;
// then prompt=none gets consent_required.
func TestAccountPage(t *testing.T) {
	f := newFixture(t)
	b := f.browser()

	// Not signed in: the login page, for no client.
	pg := f.get(b, f.url(pathAccount))
	if pg.status != http.StatusOK || !strings.Contains(pg.body, `name="password"`) || !strings.Contains(pg.body, "Sign in to continue.") {
		t.Fatalf("account page without a session: %d %.300s", pg.status, pg.body)
	}
	pg = f.submit(b, pathLogin, pg, url.Values{"username": {testUsername}, "password": {testPassword}})
	if pg.status != http.StatusSeeOther || pg.location != tenantPath+pathAccount {
		t.Fatalf("after signing in: %d %q", pg.status, pg.location)
	}
	if pg = f.get(b, f.url(pathAccount)); !strings.Contains(pg.body, "You have not shared information") {
		t.Fatalf("a new person's page: %.500s", pg.body)
	}

	// Consent to rp-post in the same browser (signed in: the consent page
	// only), then tokens and a UserInfo release.
	u, verifier := f.authorizeURL(clientPost, url.Values{"scope": {"openid email offline_access"}})
	pg = f.get(b, u)
	q := redirectParams(t, f.submit(b, pathConsent, pg, url.Values{"decision": {"approve"}}))
	resp := f.post(config.PathToken, postAuth(clientPost, url.Values{
		"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {redirectURI}, "code_verifier": {verifier},
	}), nil)
	tok := decode(t, resp)
	at, rt := tok["access_token"].(string), tok["refresh_token"].(string)
	if resp.StatusCode != http.StatusOK || at == "" || rt == "" {
		t.Fatalf("tokens: %d %v", resp.StatusCode, tok)
	}
	if resp, body := f.userinfo(at); resp.StatusCode != http.StatusOK {
		t.Fatalf("UserInfo: %d %v", resp.StatusCode, body)
	}

	pg = f.get(b, f.url(pathAccount))
	for _, want := range []string{"Client " + clientPost, "You agreed on", "Your email address", "Email address", "on request", `name="client_id" value="` + clientPost + `"`} {
		if !strings.Contains(pg.body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}

	// Refused forms change nothing.
	bad := *pg
	bad.csrf = "wrong"
	if got := f.submit(b, pathWithdraw, &bad, url.Values{"client_id": {clientPost}}); got.status != http.StatusBadRequest {
		t.Errorf("a wrong CSRF token: %d", got.status)
	}
	if got := f.submit(f.browser(), pathWithdraw, pg, url.Values{"client_id": {clientPost}}); got.status != http.StatusBadRequest {
		t.Errorf("the form from another browser: %d", got.status)
	}
	if got := f.submit(b, pathWithdraw, pg, url.Values{"client_id": {""}}); got.status != http.StatusBadRequest {
		t.Errorf("no client_id: %d", got.status)
	}
	if got := f.submit(b, pathConsent, pg, url.Values{"decision": {"approve"}}); got.status != http.StatusBadRequest {
		t.Errorf("the account page's interaction at the consent form: %d", got.status)
	}
	if resp, _ := f.userinfo(at); resp.StatusCode != http.StatusOK {
		t.Fatalf("a refused form revoked the token: %d", resp.StatusCode)
	}

	// Withdraw.
	got := f.submit(b, pathWithdraw, pg, url.Values{"client_id": {clientPost}})
	if got.status != http.StatusSeeOther || !strings.HasPrefix(got.location, tenantPath+pathAccount+"?") || !strings.Contains(got.location, "withdrawn="+clientPost) {
		t.Fatalf("withdrawal: %d %q %.300s", got.status, got.location, got.body)
	}
	if pg := f.get(b, f.url(got.location[len(tenantPath):])); !strings.Contains(pg.body, `role="status"`) || strings.Contains(pg.body, `name="client_id"`) {
		t.Errorf("after withdrawal: %.800s", pg.body)
	}
	resp = f.post(config.PathToken, postAuth(clientPost, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}), nil)
	body := decode(t, resp)
	wantError(t, resp, body, http.StatusBadRequest, "invalid_grant")
	resp = f.post(config.PathIntrospect, postAuth(clientPost, url.Values{"token": {at}}), nil)
	if body := decode(t, resp); resp.StatusCode != http.StatusOK || body["active"] != false {
		t.Errorf("introspection after withdrawal: %d %v", resp.StatusCode, body)
	}
	if resp, body := f.userinfo(at); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("UserInfo after withdrawal: %d %v", resp.StatusCode, body)
	}
	u, _ = f.authorizeURL(clientPost, url.Values{"scope": {"openid email offline_access"}, "prompt": {"none"}})
	if q := redirectParams(t, f.get(b, u)); q.Get("error") != "consent_required" {
		t.Errorf("prompt=none after withdrawal: %v", q)
	}
}

// Withdrawing consent at the account page logs that relying party out of
// the person's sessions (Back-Channel Logout 1.0), and no other: the
// person stays signed in here and at the other relying party.
func TestWithdrawalLogsOutThatRelyingParty(t *testing.T) {
	basic, post := newRPEndpoint(t), newRPEndpoint(t)
	f := newFixtureWith(t, nil, withBackchannel(basic, post, true))
	b := f.browser()
	f.signedInWithIDToken(b, clientBasic)
	idtPost := f.signedInWithIDToken(b, clientPost)

	pg := f.get(b, f.url(pathAccount))
	if got := f.submit(b, pathWithdraw, pg, url.Values{"client_id": {clientPost}}); got.status != http.StatusSeeOther {
		t.Fatalf("withdrawal: %d %.300s", got.status, got.body)
	}
	got := post.received()
	if len(got) != 1 {
		t.Fatalf("%s received %d logout tokens, want 1", clientPost, len(got))
	}
	lt, idc := checkLogoutToken(t, f, got[0], clientPost), rawIDTokenClaims(t, idtPost)
	if lt["sid"] != idc["sid"] || lt["sub"] != idc["sub"] {
		t.Errorf("logout token sid/sub %v/%v, ID token %v/%v", lt["sid"], lt["sub"], idc["sid"], idc["sub"])
	}
	if n := len(basic.received()); n != 0 {
		t.Errorf("%s, whose consent stands, received %d logout tokens", clientBasic, n)
	}
	// Still signed in: a silent authorization at the other client works.
	if q := f.silent(b); q.Get("code") == "" {
		t.Errorf("after the withdrawal, the session is gone: %v", q)
	}
}

func TestSessionsAt(t *testing.T) {
	sessions := []grants.UserSession{
		{SID: "s1", Clients: []grants.SignedInClient{{ClientID: "a", Subject: "x"}, {ClientID: "b", Subject: "y"}}},
		{SID: "s2", Clients: []grants.SignedInClient{{ClientID: "a", Subject: "x"}}},
		{SID: "s3"},
	}
	for _, c := range []struct {
		client string
		want   []string // sid/sub
	}{
		{"b", []string{"s1/y"}},
		{"a", []string{"s1/x", "s2/x"}},
		{"c", nil},
	} {
		var got []string
		for _, us := range sessionsAt(sessions, c.client) {
			if len(us.Clients) != 1 || us.Clients[0].ClientID != c.client {
				t.Errorf("%s: session %s names clients %v", c.client, us.SID, us.Clients)
			}
			got = append(got, us.SID+"/"+us.Clients[0].Subject)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.client, got, c.want)
		}
	}
	if len(sessions[0].Clients) != 2 {
		t.Error("sessionsAt changed its input")
	}
}
