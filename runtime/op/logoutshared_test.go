package op

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/idaop/ida-operator/runtime/store"
	"github.com/idaop/ida-operator/runtime/store/storetest"
)

// TestLogoutAcrossRuntimes: two runtimes share one Redis. A browser signs
// in at one runtime for one client and at the other for a second client;
// a logout at the second ends the session at both, and the second sends
// logout tokens to both clients, including the one the first runtime
// signed in to.
func TestLogoutAcrossRuntimes(t *testing.T) {
	rs, err := store.NewRedis(t.Context(), store.RedisOptions{Address: storetest.StartRedis(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rs.Close() })
	basic, post := newRPEndpoint(t), newRPEndpoint(t)
	f := newFixtureWith(t, func(o *Options) { o.Store = rs }, withBackchannel(basic, post, true))
	p2, err := New(Options{Store: rs, Users: mustBuiltin(t), UI: f.p.ui, Now: f.clock.now})
	if err != nil {
		t.Fatal(err)
	}
	if err := p2.Apply(f.snap); err != nil {
		t.Fatal(err)
	}
	srv2 := httptest.NewServer(p2.Handler())
	t.Cleanup(srv2.Close)
	at2 := func(u string) string { return strings.Replace(u, f.srv.URL, srv2.URL, 1) }

	b := f.browser()
	idt := f.signedInWithIDToken(b, clientBasic) // at the first runtime
	u, _ := f.authorizeURL(clientPost, nil)
	pg := f.get(b, at2(u)) // the second runtime knows the session: consent only
	if pg.interaction == "" || strings.Contains(pg.body, `name="password"`) {
		t.Fatalf("second runtime: want the consent page, got %d %.300s", pg.status, pg.body)
	}
	if q := redirectParams(t, f.submit(b, pathConsent, pg, url.Values{"decision": {"approve"}})); q.Get("code") == "" {
		t.Fatalf("consent: %v", q)
	}

	out := f.get(b, at2(f.endSessionURL(url.Values{"id_token_hint": {idt}, "post_logout_redirect_uri": {postLogoutURI}, "state": {"s"}})))
	if out.status != http.StatusSeeOther || out.location != postLogoutURI+"?state=s" {
		t.Fatalf("logout at the second runtime: %d %q %.300s", out.status, out.location, out.body)
	}
	p2.backchannel.wg.Wait()
	if len(basic.received()) != 1 || len(post.received()) != 1 {
		t.Fatalf("logout tokens: basic %d, post %d", len(basic.received()), len(post.received()))
	}
	checkLogoutToken(t, f, basic.received()[0], clientBasic)
	checkLogoutToken(t, f, post.received()[0], clientPost)
	if q := f.silent(b); q.Get("error") != "login_required" {
		t.Fatalf("the first runtime still has the session: %v", q)
	}
	if l, _ := f.p.grants.SessionsOf(t.Context(), testSubject); len(l) != 0 {
		t.Fatalf("sessions left: %+v", l)
	}
}
