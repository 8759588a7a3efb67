package op

import (
	"net/url"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestSecurityEvents: a failed sign-in, a failed client authentication and
// a replayed code each leave one audit line and a count, with the client
// and the reason and nothing a person or an attacker typed as a secret.
func TestSecurityEvents(t *testing.T) {
	reg := prometheus.NewRegistry()
	f := newFixtureWith(t, func(o *Options) { o.Metrics = reg })
	count := func(event string) float64 { return testutil.ToFloat64(f.p.metrics.security.WithLabelValues(event)) }

	b := f.browser()
	u, _ := f.authorizeURL(clientBasic, nil)
	pg := f.get(b, u)
	const wrongPassword = "not-the-password-xyzzy"
	f.submit(b, pathLogin, pg, url.Values{"username": {testUsername}, "password": {wrongPassword}})
	if n := count(eventLoginFailed); n != 1 {
		t.Fatalf("login_failed = %v", n)
	}

	const wrongSecret = "wrong-secret-plugh"
	f.post("/token", url.Values{"grant_type": {"authorization_code"}, "code": {"x"}}, basicAuth(clientBasic, wrongSecret))
	if n := count(eventClientAuthFailed); n != 1 {
		t.Fatalf("client_authentication_failed = %v", n)
	}

	code, verifier := f.codeFor(clientBasic, nil)
	f.exchange(clientBasic, code, verifier)
	f.exchange(clientBasic, code, verifier)
	if n := count(eventReplay); n != 1 {
		t.Fatalf("replay_detected = %v", n)
	}

	logs := f.logs.String()
	for _, event := range []string{eventLoginFailed, eventClientAuthFailed, eventReplay} {
		line := lineWith(logs, `"event":"`+event+`"`)
		if line == "" || !strings.Contains(line, `"client_id":"`+clientBasic+`"`) || !strings.Contains(line, `"logger":"audit"`) {
			t.Fatalf("%s: no audit line with the client: %s", event, logs)
		}
	}
	for _, secret := range []string{wrongPassword, wrongSecret, testUsername, testPassword, code} {
		if strings.Contains(logs, secret) {
			t.Fatalf("the logs hold %q: %s", secret, logs)
		}
	}
}

func lineWith(logs, s string) string {
	for line := range strings.SplitSeq(logs, "\n") {
		if strings.Contains(line, s) {
			return line
		}
	}
	return ""
}
