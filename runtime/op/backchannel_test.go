package op

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/idaop/ida-operator/runtime/config"
)

// TestLogoutTokenClaims is the logout token's rule (Back-Channel Logout
// 1.0 §2.4): its members, a short lifetime, never a nonce.
func TestLogoutTokenClaims(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	for _, c := range []struct {
		name, sub, sid string
		want           map[string]any
	}{
		{"sub and sid", "u-1", "s-1", map[string]any{"sub": "u-1", "sid": "s-1"}},
		{"pairwise sub", "pw_AbC-9", "s-2", map[string]any{"sub": "pw_AbC-9", "sid": "s-2"}},
		{"sid only", "", "s-3", map[string]any{"sid": "s-3"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			raw, err := marshalRawObject(logoutTokenClaims("https://op.example", "rp-1", c.sub, c.sid, "jti-1", now))
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatal(err)
			}
			want := map[string]any{
				"iss": "https://op.example", "aud": "rp-1", "jti": "jti-1",
				"iat": float64(now.Unix()), "exp": float64(now.Add(2 * time.Minute).Unix()),
				"events": map[string]any{backchannelEvent: map[string]any{}},
			}
			for k, v := range c.want {
				want[k] = v
			}
			if len(got) != len(want) {
				t.Errorf("members %v, want %v", got, want)
			}
			for k, v := range want {
				if g, _ := json.Marshal(got[k]); string(g) != mustJSON(v) {
					t.Errorf("%s = %s, want %s", k, g, mustJSON(v))
				}
			}
			if _, ok := got["nonce"]; ok {
				t.Error("a logout token with a nonce")
			}
		})
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// rpEndpoint is a relying party's back-channel logout endpoint.
type rpEndpoint struct {
	*httptest.Server
	mu     sync.Mutex
	tokens []string
	// answer gives the status of the n-th request (from 1).
	answer func(n int) int
	hold   chan struct{} // when set, each request waits on it
}

func newRPEndpoint(t *testing.T) *rpEndpoint {
	e := &rpEndpoint{answer: func(int) int { return http.StatusOK }}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e.hold != nil {
			<-e.hold
		}
		b, _ := io.ReadAll(r.Body)
		v, _ := url.ParseQuery(string(b))
		e.mu.Lock()
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			v.Set("logout_token", "bad request: "+r.Method+" "+r.Header.Get("Content-Type"))
		}
		e.tokens = append(e.tokens, v.Get("logout_token"))
		n := len(e.tokens)
		e.mu.Unlock()
		w.WriteHeader(e.answer(n))
	}))
	t.Cleanup(e.Close)
	return e
}

func (e *rpEndpoint) received() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.tokens...)
}

// withBackchannel registers endpoints for clientBasic and clientPost
// and allows loopback egress (the test's relying parties run there).
func withBackchannel(basic, post *rpEndpoint, allowLoopback bool) func(*config.Snapshot) {
	return func(s *config.Snapshot) {
		withPostLogout(s)
		s.Clients[clientBasic].BackchannelLogoutURI = basic.URL + "/bc"
		s.Clients[clientPost].BackchannelLogoutURI = post.URL + "/bc"
		if allowLoopback {
			s.Provider.Egress = config.Egress{AllowedCIDRs: []string{"127.0.0.0/8"}}
		}
	}
}

// checkLogoutToken verifies a logout token as a relying party does
// (Back-Channel Logout 1.0 §2.6) and returns its claims.
func checkLogoutToken(t *testing.T, f *fixture, raw, clientID string) map[string]any {
	t.Helper()
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256, jose.PS256})
	if err != nil {
		t.Fatalf("logout token %q: %v", raw, err)
	}
	if typ := tok.Headers[0].ExtraHeaders[jose.HeaderType]; typ != "logout+jwt" {
		t.Errorf("typ %v", typ)
	}
	var std jwt.Claims
	var all map[string]any
	if err := tok.Claims(publishedKey(t, f, tok.Headers[0].KeyID), &std, &all); err != nil {
		t.Fatalf("signature: %v", err)
	}
	if err := std.ValidateWithLeeway(jwt.Expected{Issuer: f.issuer, AnyAudience: jwt.Audience{clientID}, Time: f.clock.now()}, 0); err != nil {
		t.Errorf("claims: %v", err)
	}
	ev, _ := all["events"].(map[string]any)
	if _, ok := ev[backchannelEvent]; !ok || std.ID == "" || all["sid"] == nil || all["nonce"] != nil {
		t.Errorf("logout token %v", all)
	}
	return all
}

func rawIDTokenClaims(t *testing.T, idt string) map[string]any {
	t.Helper()
	tok, err := jwt.ParseSigned(idt, []jose.SignatureAlgorithm{jose.ES256, jose.PS256})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := tok.UnsafeClaimsWithoutVerification(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestBackchannelLogout: a session signs in at two clients; logging out
// through one sends each a logout token with the sid and sub of its ID
// token.
func TestBackchannelLogout(t *testing.T) {
	basic, post := newRPEndpoint(t), newRPEndpoint(t)
	reg := prometheus.NewRegistry()
	f := newFixtureWith(t, func(o *Options) { o.Metrics = reg }, withBackchannel(basic, post, true))
	b := f.browser()
	idtBasic := f.signedInWithIDToken(b, clientBasic)
	idtPost := f.signedInWithIDToken(b, clientPost) // the same session, a consent more
	if a, p := rawIDTokenClaims(t, idtBasic), rawIDTokenClaims(t, idtPost); a["sid"] == nil || a["sid"] != p["sid"] {
		t.Fatalf("sid: %v and %v", a["sid"], p["sid"])
	}
	pg := f.get(b, f.endSessionURL(url.Values{"id_token_hint": {idtBasic}, "post_logout_redirect_uri": {postLogoutURI}, "state": {"s"}}))
	if pg.status != http.StatusSeeOther {
		t.Fatalf("logout: %d %.300s", pg.status, pg.body)
	}
	// The page waited for the first tries: both are in.
	for _, c := range []struct {
		ep  *rpEndpoint
		id  string
		idt string
	}{{basic, clientBasic, idtBasic}, {post, clientPost, idtPost}} {
		got := c.ep.received()
		if len(got) != 1 {
			t.Fatalf("%s received %d logout tokens", c.id, len(got))
		}
		lt, idc := checkLogoutToken(t, f, got[0], c.id), rawIDTokenClaims(t, c.idt)
		if lt["sid"] != idc["sid"] || lt["sub"] != idc["sub"] {
			t.Errorf("%s: logout token sid/sub %v/%v, ID token %v/%v", c.id, lt["sid"], lt["sub"], idc["sid"], idc["sub"])
		}
	}
	if n := testutil.ToFloat64(f.p.backchannel.outcomes.WithLabelValues(bclDelivered)); n != 2 {
		t.Errorf("delivered %v", n)
	}
	if q := f.silent(b); q.Get("error") != "login_required" {
		t.Fatalf("after logout: %v", q)
	}
}

// TestBackchannelRetriesAndFailures: a 5xx is tried again with backoff,
// a 4xx is not; a relying party on an address egress does not allow is
// never called; failures are a metric and a log line without the person.
func TestBackchannelRetriesAndFailures(t *testing.T) {
	basic, post := newRPEndpoint(t), newRPEndpoint(t)
	basic.answer = func(n int) int {
		if n < 3 {
			return http.StatusServiceUnavailable
		}
		return http.StatusNoContent
	}
	post.answer = func(int) int { return http.StatusBadRequest }
	reg := prometheus.NewRegistry()
	f := newFixtureWith(t, func(o *Options) { o.Metrics = reg }, withBackchannel(basic, post, true))
	b := f.browser()
	idt := f.signedInWithIDToken(b, clientBasic)
	f.signedInWithIDToken(b, clientPost)
	f.get(b, f.endSessionURL(url.Values{"id_token_hint": {idt}}))
	f.p.backchannel.wg.Wait()
	if n := len(basic.received()); n != 3 {
		t.Errorf("basic: %d tries, want 3 (two 503s, then 204)", n)
	}
	if n := len(post.received()); n != 1 {
		t.Errorf("post: %d tries after a 400, want 1", n)
	}
	o := f.p.backchannel.outcomes
	if d, fl := testutil.ToFloat64(o.WithLabelValues(bclDelivered)), testutil.ToFloat64(o.WithLabelValues(bclFailed)); d != 1 || fl != 1 {
		t.Errorf("delivered %v, failed %v", d, fl)
	}

	// Without the egress allow list, loopback is refused.
	basic2, post2 := newRPEndpoint(t), newRPEndpoint(t)
	f = newFixtureWith(t, func(o *Options) { o.Metrics = prometheus.NewRegistry() }, withBackchannel(basic2, post2, false))
	b = f.browser()
	idt = f.signedInWithIDToken(b, clientBasic)
	f.get(b, f.endSessionURL(url.Values{"id_token_hint": {idt}}))
	f.p.backchannel.wg.Wait()
	if n := len(basic2.received()); n != 0 {
		t.Errorf("a loopback URI was called without the allow list")
	}
	if n := testutil.ToFloat64(f.p.backchannel.outcomes.WithLabelValues(bclForbidden)); n != 1 {
		t.Errorf("forbidden %v", n)
	}
	logs := f.logs.String()
	if !strings.Contains(logs, `"back-channel logout failed"`) || !strings.Contains(logs, `"outcome":"forbidden"`) {
		t.Errorf("no log event of the failure:\n%s", logs)
	}
	if strings.Contains(logs, testSubject) || strings.Contains(logs, testUsername) || strings.Contains(logs, "logout_token") {
		t.Errorf("the log names the person or the token:\n%s", logs)
	}
}

// TestBackchannelSlowRelyingParty: the person's page does not wait for a
// relying party that does not answer beyond a short bound.
func TestBackchannelSlowRelyingParty(t *testing.T) {
	basic, post := newRPEndpoint(t), newRPEndpoint(t)
	basic.hold = make(chan struct{})
	f := newFixture(t, withBackchannel(basic, post, true))
	b := f.browser()
	idt := f.signedInWithIDToken(b, clientBasic)
	start := time.Now()
	pg := f.get(b, f.endSessionURL(url.Values{"id_token_hint": {idt}, "post_logout_redirect_uri": {postLogoutURI}}))
	took := time.Since(start)
	close(basic.hold)
	if pg.status != http.StatusSeeOther || took > backchannelWait+time.Second {
		t.Fatalf("logout took %v (status %d) behind a relying party that does not answer", took, pg.status)
	}
	f.p.backchannel.wg.Wait()
}

// TestOldestSessionEndedWithBackchannel: a person's sessions are bounded;
// the one ended by a new sign-in tells its clients.
func TestOldestSessionEndedWithBackchannel(t *testing.T) {
	basic, post := newRPEndpoint(t), newRPEndpoint(t)
	f := newFixture(t, withBackchannel(basic, post, true), func(s *config.Snapshot) { s.Provider.Sessions.MaxPerUser = 2 })
	first := f.browser()
	idt := f.signedInWithIDToken(first, clientBasic)
	f.signedInWithIDToken(f.browser(), clientBasic)
	if len(basic.received()) != 0 {
		t.Fatal("logout token with sessions within the bound")
	}
	f.signedInWithIDToken(f.browser(), clientBasic) // a third: the first ends
	f.p.backchannel.wg.Wait()
	got := basic.received()
	if len(got) != 1 {
		t.Fatalf("%d logout tokens, want 1 for the oldest session", len(got))
	}
	if lt := checkLogoutToken(t, f, got[0], clientBasic); lt["sid"] != rawIDTokenClaims(t, idt)["sid"] {
		t.Errorf("logout token for sid %v, want the first session's", lt["sid"])
	}
	if q := f.silent(first); q.Get("error") != "login_required" {
		t.Fatalf("the oldest session still works: %v", q)
	}
}

// TestEndSessionsOfAPerson: ending a person's sessions together ends
// them in every browser and tells each client each session signed in to.
func TestEndSessionsOfAPerson(t *testing.T) {
	basic, post := newRPEndpoint(t), newRPEndpoint(t)
	f := newFixture(t, withBackchannel(basic, post, true))
	b1, b2 := f.browser(), f.browser()
	f.signedInWithIDToken(b1, clientBasic)
	f.signedInWithIDToken(b2, clientBasic)
	f.signedInWithIDToken(b2, clientPost)
	if err := f.p.endSessionsOf(t.Context(), f.p.served.Load(), testSubject); err != nil {
		t.Fatal(err)
	}
	f.p.backchannel.wg.Wait()
	if len(basic.received()) != 2 || len(post.received()) != 1 {
		t.Fatalf("logout tokens: basic %d (want 2), post %d (want 1)", len(basic.received()), len(post.received()))
	}
	for _, b := range []*http.Client{b1, b2} {
		if q := f.silent(b); q.Get("error") != "login_required" {
			t.Fatalf("a session survived: %v", q)
		}
	}
}

// TestSignInAgainKeepsTheSession: the same person signing in again
// (prompt=login) keeps the session's sid and clients: no relying party is
// logged out by it, and a later logout still reaches them.
func TestSignInAgainKeepsTheSession(t *testing.T) {
	basic, post := newRPEndpoint(t), newRPEndpoint(t)
	f := newFixture(t, withBackchannel(basic, post, true))
	b := f.browser()
	first := f.signedInWithIDToken(b, clientBasic)
	u, verifier := f.authorizeURL(clientPost, url.Values{"prompt": {"login"}})
	pg := f.submit(b, pathLogin, f.get(b, u), url.Values{"username": {testUsername}, "password": {testPassword}})
	if pg.location == "" {
		pg = f.submit(b, pathConsent, pg, url.Values{"decision": {"approve"}})
	}
	q := redirectParams(t, pg)
	body := decode(t, f.post(config.PathToken, url.Values{
		"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {redirectURI}, "code_verifier": {verifier},
		"client_id": {clientPost}, "client_secret": {testSecret},
	}, nil))
	idt, _ := body["id_token"].(string)
	if a, b := rawIDTokenClaims(t, first)["sid"], rawIDTokenClaims(t, idt)["sid"]; a == nil || a != b {
		t.Fatalf("sid before and after signing in again: %v, %v", a, b)
	}
	f.p.backchannel.wg.Wait()
	if n := len(basic.received()); n != 0 {
		t.Fatalf("signing in again sent %d logout tokens", n)
	}
	f.get(b, f.endSessionURL(url.Values{"id_token_hint": {idt}}))
	f.p.backchannel.wg.Wait()
	if len(basic.received()) != 1 || len(post.received()) != 1 {
		t.Fatalf("logout tokens after signing in again: basic %d, post %d", len(basic.received()), len(post.received()))
	}
}
