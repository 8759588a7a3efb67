package users

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/idaop/ida-operator/runtime/config"
)

const (
	testToken    = "kyc-token-123"
	testPassword = "correct horse"
	testSubject  = "sub/ject 1" // needs escaping in the path
)

// kyc is a fake KYC system that keeps to the documented contract.
type kyc struct {
	t       *testing.T
	lookups atomic.Int32
	auths   atomic.Int32
	// fail, when set, answers a request instead of the contract.
	fail func(w http.ResponseWriter, r *http.Request) bool
}

func (k *kyc) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+testToken {
		http.Error(w, "no token", http.StatusForbidden)
		return
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/kyc/authenticate":
		k.auths.Add(1)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/kyc/users/"):
		k.lookups.Add(1)
	default:
		http.NotFound(w, r)
		return
	}
	if k.fail != nil && k.fail(w, r) {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if r.Method == http.MethodPost {
		if r.Header.Get("Content-Type") != "application/json" {
			k.t.Errorf("Content-Type = %q", r.Header.Get("Content-Type"))
		}
		var body struct{ Username, Password string }
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			k.t.Errorf("decoding: %v", err)
		}
		if body.Username != "ada" || body.Password != testPassword {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"subject": testSubject})
		return
	}
	if got := r.URL.EscapedPath(); got != "/kyc/users/sub%2Fject%201" && got != "/kyc/users/nobody" {
		k.t.Errorf("path = %q", got)
	}
	if strings.HasSuffix(r.URL.Path, "/nobody") {
		http.NotFound(w, r)
		return
	}
	w.Write([]byte(`{"username":"ada","claims":{"name":"Ada"},"verified_claims":` + testVerified + `,"future_member":1}`))
}

// fakeClock is an injected clock for the breaker.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	k      *kyc
	srv    *httptest.Server
	h      *HTTP
	clock  *fakeClock
	sleeps []time.Duration
}

func newFixture(t *testing.T, timeout time.Duration) *fixture {
	t.Helper()
	f := &fixture{k: &kyc{t: t}, clock: &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}}
	f.srv = httptest.NewServer(f.k)
	t.Cleanup(f.srv.Close)
	f.h = NewHTTP(config.HTTPUsers{URL: f.srv.URL + "/kyc/", Timeout: config.Duration{Duration: timeout}}, testToken, f.srv.Client())
	f.h.breaker.now = f.clock.Now
	f.h.sleep = func(_ context.Context, d time.Duration) error {
		f.sleeps = append(f.sleeps, d)
		return nil
	}
	return f
}

// assertClean checks that an error says nothing secret or personal.
func assertClean(t *testing.T, err error) {
	t.Helper()
	for _, s := range []string{testToken, testPassword, "sub/ject", "sub%2Fject", "Ada"} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error %q reveals %q", err, s)
		}
	}
}

func TestHTTPSuccess(t *testing.T) {
	f := newFixture(t, time.Second)
	u, err := f.h.Authenticate(context.Background(), "ada", testPassword)
	if err != nil {
		t.Fatal(err)
	}
	if u.Subject != testSubject || u.Username != "ada" || string(u.Claims["name"]) != `"Ada"` {
		t.Errorf("user = %+v", u)
	}
	if !strings.Contains(string(u.Dataset), `"verified_claims"`) {
		t.Errorf("dataset = %s", u.Dataset)
	}
	if f.k.auths.Load() != 1 || f.k.lookups.Load() != 1 {
		t.Errorf("calls: auth %d lookup %d", f.k.auths.Load(), f.k.lookups.Load())
	}
}

func TestHTTPInvalidCredentials(t *testing.T) {
	f := newFixture(t, time.Second)
	_, err := f.h.Authenticate(context.Background(), "ada", "wrong")
	if !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("got %v", err)
	}
	if _, err := f.h.Authenticate(context.Background(), "", ""); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("empty: %v", err)
	}
	if f.k.auths.Load() != 1 {
		t.Errorf("empty credentials reached the KYC system")
	}
	// 401s are answers: they never open the breaker.
	for range 10 {
		f.h.Authenticate(context.Background(), "ada", "wrong")
	}
	if s := f.h.breaker.current(); s != breakerClosed {
		t.Errorf("breaker %s after 401s", s)
	}
}

func TestHTTPNotFound(t *testing.T) {
	f := newFixture(t, time.Second)
	if _, err := f.h.Lookup(context.Background(), "nobody"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("got %v", err)
	}
	if _, err := f.h.Lookup(context.Background(), ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("empty subject: %v", err)
	}
	if f.k.lookups.Load() != 1 {
		t.Errorf("lookups = %d, want 1 (404 is not retried)", f.k.lookups.Load())
	}
}

func TestHTTPRetryAfter500(t *testing.T) {
	f := newFixture(t, time.Second)
	var n atomic.Int32
	f.k.fail = func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodGet && n.Add(1) <= 2 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return true
		}
		return false
	}
	u, err := f.h.Lookup(context.Background(), testSubject)
	if err != nil {
		t.Fatal(err)
	}
	if u.Username != "ada" || f.k.lookups.Load() != 3 {
		t.Errorf("user %q after %d lookups", u.Username, f.k.lookups.Load())
	}
	if len(f.sleeps) != 2 {
		t.Fatalf("sleeps = %v", f.sleeps)
	}
	// Jittered within [d/2, d) of 100 ms, then 200 ms.
	for i, d := range f.sleeps {
		hi := retryBase << i
		if d < hi/2 || d >= hi {
			t.Errorf("backoff %d = %s, want in [%s, %s)", i, d, hi/2, hi)
		}
	}
}

func TestHTTPGivesUpAfterRetries(t *testing.T) {
	f := newFixture(t, time.Second)
	f.k.fail = func(w http.ResponseWriter, r *http.Request) bool {
		http.Error(w, "boom "+testToken, http.StatusInternalServerError)
		return true
	}
	_, err := f.h.Lookup(context.Background(), testSubject)
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "unexpected status 500") {
		t.Fatalf("got %v", err)
	}
	assertClean(t, err)
	if f.k.lookups.Load() != 3 {
		t.Errorf("lookups = %d, want 3", f.k.lookups.Load())
	}
}

func TestHTTPPostNotRetried(t *testing.T) {
	f := newFixture(t, time.Second)
	f.k.fail = func(w http.ResponseWriter, r *http.Request) bool {
		http.Error(w, "boom", http.StatusBadGateway)
		return true
	}
	_, err := f.h.Authenticate(context.Background(), "ada", testPassword)
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("got %v", err)
	}
	assertClean(t, err)
	if f.k.auths.Load() != 1 {
		t.Errorf("authenticate called %d times", f.k.auths.Load())
	}
}

func TestHTTPTimeout(t *testing.T) {
	f := newFixture(t, 50*time.Millisecond)
	f.k.fail = func(w http.ResponseWriter, r *http.Request) bool {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
		return true
	}
	start := time.Now()
	_, err := f.h.Lookup(context.Background(), testSubject)
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "no answer within 50ms") {
		t.Fatalf("got %v", err)
	}
	assertClean(t, err)
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("took %s", el)
	}
	if f.k.lookups.Load() != 3 {
		t.Errorf("lookups = %d, want 3 (timeouts are retried)", f.k.lookups.Load())
	}
	if f.h.breaker.failures != 3 {
		t.Errorf("breaker counted %d failures", f.h.breaker.failures)
	}
}

func TestHTTPCallerCancelDoesNotCount(t *testing.T) {
	f := newFixture(t, 5*time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	f.k.fail = func(w http.ResponseWriter, r *http.Request) bool {
		cancel()
		<-r.Context().Done()
		return true
	}
	_, err := f.h.Lookup(ctx, testSubject)
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	if f.h.breaker.failures != 0 || f.k.lookups.Load() != 1 {
		t.Errorf("failures %d, lookups %d", f.h.breaker.failures, f.k.lookups.Load())
	}
}

func TestHTTPBreakerOpensAndCloses(t *testing.T) {
	f := newFixture(t, time.Second)
	var down atomic.Bool
	down.Store(true)
	f.k.fail = func(w http.ResponseWriter, r *http.Request) bool {
		if down.Load() {
			http.Error(w, "down", http.StatusInternalServerError)
			return true
		}
		return false
	}
	ctx := context.Background()
	calls := func(o string) float64 { return testutil.ToFloat64(httpCalls.WithLabelValues(o)) }
	failed0, refused0, ok0 := calls(callFailure), calls(callRefused), calls(callOK)
	// Lookup 1: three failed attempts. Lookup 2: the fifth failure opens
	// the breaker, so its last retry is refused.
	f.h.Lookup(ctx, testSubject)
	_, err := f.h.Lookup(ctx, testSubject)
	if !strings.Contains(err.Error(), "circuit open") {
		t.Fatalf("second lookup: %v", err)
	}
	if got := f.k.lookups.Load(); got != breakerThreshold {
		t.Fatalf("requests = %d, want %d", got, breakerThreshold)
	}
	// Open: fast failures, nothing reaches the service.
	for range 3 {
		if _, err := f.h.Authenticate(ctx, "ada", testPassword); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("open: %v", err)
		}
	}
	if f.k.lookups.Load() != breakerThreshold || f.k.auths.Load() != 0 {
		t.Fatal("requests went out while the breaker was open")
	}

	// After the cool-down one probe goes out; it fails, so the breaker
	// opens again.
	f.clock.Advance(breakerCooldown)
	_, err = f.h.Lookup(ctx, testSubject)
	if !errors.Is(err, ErrUnavailable) || f.k.lookups.Load() != breakerThreshold+1 {
		t.Fatalf("probe: %v after %d requests", err, f.k.lookups.Load())
	}
	if s := f.h.breaker.current(); s != breakerOpen {
		t.Fatalf("after failed probe: %s", s)
	}
	f.clock.Advance(breakerCooldown - time.Millisecond)
	if _, err := f.h.Lookup(ctx, testSubject); !strings.Contains(err.Error(), "circuit open") {
		t.Fatalf("still open: %v", err)
	}

	// The service recovers; the next probe closes the breaker.
	down.Store(false)
	f.clock.Advance(time.Millisecond)
	if _, err := f.h.Lookup(ctx, testSubject); err != nil {
		t.Fatalf("probe after recovery: %v", err)
	}
	if s := f.h.breaker.current(); s != breakerClosed {
		t.Fatalf("after good probe: %s", s)
	}
	if _, err := f.h.Authenticate(ctx, "ada", testPassword); err != nil {
		t.Fatal(err)
	}
	// ida_users_http_calls_total counted each: six failed calls (five, then
	// the probe), six refused by the open breaker (lookup 2's last retry,
	// three sign-ins, the failed probe's retry, the lookup while still
	// open), and the good ones.
	if d := calls(callFailure) - failed0; d != breakerThreshold+1 {
		t.Errorf("failure calls counted %v, want %d", d, breakerThreshold+1)
	}
	if d := calls(callRefused) - refused0; d != 6 {
		t.Errorf("refused calls counted %v, want 6", d)
	}
	if d := calls(callOK) - ok0; d < 2 {
		t.Errorf("ok calls counted %v, want at least 2", d)
	}
}

func TestBreakerHalfOpenLetsOneProbe(t *testing.T) {
	c := &fakeClock{now: time.Unix(0, 0)}
	b := newBreaker(2, time.Second, c.Now)
	for range 2 {
		if !b.allow() {
			t.Fatal("closed breaker refused")
		}
		b.record(outcomeFailure)
	}
	if b.allow() {
		t.Fatal("open breaker allowed a call")
	}
	c.Advance(time.Second)
	if !b.allow() {
		t.Fatal("no probe after cool-down")
	}
	if b.allow() {
		t.Fatal("second concurrent probe allowed")
	}
	b.record(outcomeNeutral) // the prober's caller gave up
	if !b.allow() {
		t.Fatal("no new probe after a neutral outcome")
	}
	b.record(outcomeSuccess)
	if b.current() != breakerClosed || !b.allow() {
		t.Fatal("not closed after success")
	}
	b.record(outcomeSuccess)
	// A success resets the count: one failure does not open it.
	b.allow()
	b.record(outcomeFailure)
	if b.current() != breakerClosed {
		t.Fatal("opened after one failure")
	}
}

func TestHTTPOversizedBody(t *testing.T) {
	f := newFixture(t, 5*time.Second)
	f.k.fail = func(w http.ResponseWriter, r *http.Request) bool {
		w.Write([]byte(`{"username":"ada","claims":{"x":"`))
		w.Write([]byte(strings.Repeat("a", MaxResponseBytes)))
		w.Write([]byte(`"}}`))
		return true
	}
	_, err := f.h.Lookup(context.Background(), testSubject)
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("got %v", err)
	}
	if f.k.lookups.Load() != 1 {
		t.Errorf("oversized answer retried %d times", f.k.lookups.Load()-1)
	}
}

func TestHTTPBadAnswers(t *testing.T) {
	for _, c := range []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{"not JSON", 200, `<html>`, "not a JSON object"},
		{"bad verified_claims", 200, `{"username":"ada","verified_claims":"Ada"}`, "response.verified_claims: must be an object or an array"},
		{"other subject", 200, `{"subject":"someone-else","username":"x"}`, "another subject"},
		{"bad external_claims", 200, `{"username":"ada","external_claims":[{"issuer":"https://kyc.example","endpoint":"http://kyc.example/c","access_token":"t","verified_claims":` + testVerified + `}]}`, "response.external_claims[0].endpoint: must be an https URL"},
		{"forbidden", 403, ``, "unexpected status 403"},
		{"redirect", 302, ``, "unexpected status 302"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, time.Second)
			f.k.fail = func(w http.ResponseWriter, r *http.Request) bool {
				if c.status == 302 {
					w.Header().Set("Location", "http://example.invalid/steal")
				}
				w.WriteHeader(c.status)
				w.Write([]byte(c.body))
				return true
			}
			_, err := f.h.Lookup(context.Background(), testSubject)
			if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
			assertClean(t, err)
		})
	}
}

func TestHTTPAuthenticatedButMissing(t *testing.T) {
	f := newFixture(t, time.Second)
	f.k.fail = func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodGet {
			http.NotFound(w, r)
			return true
		}
		return false
	}
	_, err := f.h.Authenticate(context.Background(), "ada", testPassword)
	if !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrNotFound) {
		t.Fatalf("got %v", err)
	}
}

func TestHTTPNetworkError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	h := NewHTTP(config.HTTPUsers{URL: url}, testToken, nil)
	h.sleep = func(context.Context, time.Duration) error { return nil }
	_, err := h.Lookup(context.Background(), testSubject)
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("got %v", err)
	}
	assertClean(t, err)
	if h.timeout != DefaultTimeout {
		t.Errorf("timeout = %s", h.timeout)
	}
}
