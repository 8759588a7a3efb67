package op

import (
	"context"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/grants"
	"github.com/idaop/ida-operator/runtime/store"
)

// countingStore counts the writes of sessions.
type countingStore struct {
	store.Store
	sessionPuts atomic.Int64
}

func (c *countingStore) Put(ctx context.Context, kind store.Kind, key string, v []byte, ttl time.Duration) error {
	if kind == store.KindSession {
		c.sessionPuts.Add(1)
	}
	return c.Store.Put(ctx, kind, key, v, ttl)
}

func withSessions(idle, absolute time.Duration) func(*config.Snapshot) {
	return func(s *config.Snapshot) {
		s.Provider.Sessions = config.Sessions{IdleTimeout: config.Duration{Duration: idle}, AbsoluteLifetime: config.Duration{Duration: absolute}}
	}
}

// silent asks for a code with prompt=none and returns the answer's
// parameters: a code while the session lasts, login_required after.
func (f *fixture) silent(b *http.Client) url.Values {
	f.t.Helper()
	u, _ := f.authorizeURL(clientBasic, url.Values{"prompt": {"none"}})
	return redirectParams(f.t, f.get(b, u))
}

// TestSessionIdleTimeout: a session unused for the idle timeout is signed
// out; each use moves the idle clock on, writing the session at most once
// a minute.
func TestSessionIdleTimeout(t *testing.T) {
	cs := &countingStore{}
	f := newFixtureWith(t, func(o *Options) { cs.Store = o.Store; o.Store = cs }, withSessions(30*time.Minute, 12*time.Hour))
	b := f.browser()
	u, _ := f.authorizeURL(clientBasic, nil)
	f.signIn(b, u)
	for i := range 3 {
		f.clock.advance(29 * time.Minute)
		if q := f.silent(b); q.Get("code") == "" {
			t.Fatalf("use %d, 29 minutes after the last: %v", i, q)
		}
	}
	// Uses within a minute of each other write nothing.
	before := cs.sessionPuts.Load()
	for range 3 {
		f.clock.advance(10 * time.Second)
		if q := f.silent(b); q.Get("code") == "" {
			t.Fatalf("use within a minute: %v", q)
		}
	}
	if n := cs.sessionPuts.Load() - before; n != 0 {
		t.Errorf("%d session writes for uses within a minute", n)
	}
	f.clock.advance(30 * time.Minute)
	if q := f.silent(b); q.Get("error") != "login_required" {
		t.Fatalf("after 30 idle minutes: %v", q)
	}
}

// TestSessionAbsoluteLifetime: however active, a session ends at its
// absolute lifetime.
func TestSessionAbsoluteLifetime(t *testing.T) {
	f := newFixture(t, withSessions(time.Hour, 2*time.Hour))
	b := f.browser()
	u, _ := f.authorizeURL(clientBasic, nil)
	f.signIn(b, u)
	for range 2 {
		f.clock.advance(55 * time.Minute)
		if q := f.silent(b); q.Get("code") == "" {
			t.Fatalf("active session within its lifetime: %v", q)
		}
	}
	f.clock.advance(11 * time.Minute)
	if q := f.silent(b); q.Get("error") != "login_required" {
		t.Fatalf("after the absolute lifetime: %v", q)
	}
}

// TestSessionEnded is the rule on its own.
func TestSessionEnded(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	s := func(seen int64) *grants.Session {
		return &grants.Session{AuthTime: t0.Unix(), ExpiresAt: t0.Add(12 * time.Hour).Unix(), LastSeen: seen}
	}
	for _, c := range []struct {
		name  string
		sess  *grants.Session
		at    time.Duration
		ended bool
	}{
		{"fresh", s(t0.Unix()), time.Minute, false},
		{"idle just under", s(t0.Unix()), 30*time.Minute - time.Second, false},
		{"idle reached", s(t0.Unix()), 30 * time.Minute, true},
		{"idle measured from last use", s(t0.Add(5 * time.Hour).Unix()), 5*time.Hour + 29*time.Minute, false},
		{"written before LastSeen: from sign-in", s(0), 31 * time.Minute, true},
		{"absolute end though used", s(t0.Add(12*time.Hour - time.Minute).Unix()), 12 * time.Hour, true},
	} {
		if got := sessionEnded(c.sess, 30*time.Minute, t0.Add(c.at)); got != c.ended {
			t.Errorf("%s: ended = %v", c.name, got)
		}
	}
}

// TestIDTokensCarrySID: every ID token of a session, at the code grant and
// after a refresh, carries the session's sid (Back-Channel Logout 1.0
// §2.4 ties logout tokens to it).
func TestIDTokensCarrySID(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	u, verifier := f.authorizeURL(clientPost, url.Values{"scope": {"openid offline_access"}})
	q := f.signIn(b, u)
	body := decode(t, f.post(config.PathToken, url.Values{
		"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {redirectURI}, "code_verifier": {verifier},
		"client_id": {clientPost}, "client_secret": {testSecret},
	}, nil))
	live, err := f.p.grants.SessionsOf(t.Context(), testSubject)
	if err != nil || len(live) != 1 {
		t.Fatalf("sessions %+v %v", live, err)
	}
	idt, _ := body["id_token"].(string)
	if sid := rawIDTokenClaims(t, idt)["sid"]; sid != live[0].SID {
		t.Fatalf("code grant ID token sid %v, session %s", sid, live[0].SID)
	}
	rt, _ := body["refresh_token"].(string)
	body = decode(t, f.post(config.PathToken, url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {clientPost}, "client_secret": {testSecret},
	}, nil))
	idt, _ = body["id_token"].(string)
	if idt == "" {
		t.Fatalf("no ID token after refresh: %v", body)
	}
	if sid := rawIDTokenClaims(t, idt)["sid"]; sid != live[0].SID {
		t.Fatalf("refreshed ID token sid %v, session %s", sid, live[0].SID)
	}
}
