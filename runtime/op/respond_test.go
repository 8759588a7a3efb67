package op

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/idaop/ida-operator/runtime/grants"
)

// TestRedirect: the answer goes to the registered redirect URI, keeping
// its own query, with state and iss (RFC 6749 §4.1.2, RFC 9207 §2).
func TestRedirect(t *testing.T) {
	p, sv := servedFor(t)
	cases := []struct {
		name, redirectURI, state string
		want                     url.Values
	}{
		{"code, state and iss", redirectURI, "xyz", url.Values{"code": {"c"}, "state": {"xyz"}, "iss": {sv.issuer}}},
		{"no state sent, none returned", redirectURI, "", url.Values{"code": {"c"}, "iss": {sv.issuer}}},
		{"the redirect URI's query kept", redirectURI + "?tenant=a", "s", url.Values{"tenant": {"a"}, "code": {"c"}, "state": {"s"}, "iss": {sv.issuer}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			p.redirect(w, httptest.NewRequest(http.MethodGet, "/", nil), sv,
				&grants.Request{RedirectURI: tc.redirectURI, State: tc.state}, url.Values{"code": {"c"}})
			if w.Code != http.StatusSeeOther || w.Header().Get("Cache-Control") != "no-store" {
				t.Fatalf("status %d, Cache-Control %q", w.Code, w.Header().Get("Cache-Control"))
			}
			u, err := url.Parse(w.Header().Get("Location"))
			if err != nil {
				t.Fatal(err)
			}
			if got := u.Query(); got.Encode() != tc.want.Encode() {
				t.Fatalf("query %v, want %v", got, tc.want)
			}
		})
	}
}
