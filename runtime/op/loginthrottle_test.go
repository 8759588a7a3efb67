package op

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestLoginLock(t *testing.T) {
	cases := []struct {
		failures, threshold int64
		want                time.Duration
	}{
		{0, 3, 0},
		{2, 3, 0},
		{3, 3, time.Second},
		{4, 3, 2 * time.Second},
		{8, 3, 32 * time.Second},
		{12, 3, 512 * time.Second},
		{13, 3, maxLoginLock},
		{1 << 40, 3, maxLoginLock},
		{19, 20, 0},
		{20, 20, time.Second},
	}
	for _, tc := range cases {
		if got := loginLock(tc.failures, tc.threshold); got != tc.want {
			t.Errorf("loginLock(%d, %d) = %v, want %v", tc.failures, tc.threshold, got, tc.want)
		}
	}
}

// TestCredentialGuessing: after accountLockAfter wrong passwords the
// account is locked, the right password included, for an account that
// exists and one that does not alike; the lock is in the shared store, so
// another replica refuses too; it ends by itself, and a sign-in that works
// clears the count.
func TestCredentialGuessing(t *testing.T) {
	reg := prometheus.NewRegistry()
	f := newFixtureWith(t, func(o *Options) { o.Metrics = reg })
	b := f.browser()
	u, _ := f.authorizeURL(clientBasic, nil)
	try := func(username, password string) *page {
		return f.submit(b, pathLogin, f.get(b, u), url.Values{"username": {username}, "password": {password}})
	}
	locked := func(pg *page) bool { return strings.Contains(pg.body, "Too many failed attempts") }

	for _, username := range []string{testUsername, "nobody-at-all"} {
		for i := range accountLockAfter {
			if pg := try(username, "wrong-"+username); locked(pg) || !strings.Contains(pg.body, "incorrect") {
				t.Fatalf("%s, failure %d: want the invalid-credentials page, got %.300s", username, i+1, pg.body)
			}
		}
		if pg := try(username, testPassword); !locked(pg) {
			t.Fatalf("%s: the right password during the lock: %d %q %.300s", username, pg.status, pg.location, pg.body)
		}
	}
	// Another replica on the same store sees the lock.
	p2, err := New(Options{Store: f.store, Users: mustBuiltin(t), UI: f.p.ui, Now: f.clock.now})
	if err != nil {
		t.Fatal(err)
	}
	if isLocked, err := p2.grants.LoginLocked(t.Context(), testUsername, "127.0.0.1"); err != nil || !isLocked {
		t.Fatalf("second replica: locked=%v err=%v", isLocked, err)
	}
	if n := testutil.ToFloat64(f.p.metrics.security.WithLabelValues(eventLoginFailed)); n != 2*accountLockAfter {
		t.Fatalf("login_failed = %v", n)
	}
	if n := testutil.ToFloat64(f.p.metrics.security.WithLabelValues(eventLoginLocked)); n != 2 {
		t.Fatalf("login_locked = %v", n)
	}

	time.Sleep(loginLock(accountLockAfter, accountLockAfter) + 200*time.Millisecond)
	if q := redirectParams(t, f.submit(b, pathConsent, try(testUsername, testPassword), url.Values{"decision": {"approve"}})); q.Get("code") == "" {
		t.Fatalf("after the lock: %v", q)
	}
	// The count was cleared: one more failure does not lock.
	if pg := try(testUsername, "wrong-again"); locked(pg) {
		t.Fatal("a failure after a good sign-in locked the account at once")
	}
}
