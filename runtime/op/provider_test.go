package op

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/idaop/ida-operator/runtime/config"
)

// TestHSTS: an https issuer's answers carry Strict-Transport-Security
// (RFC 6797); an http one (loopback, for development) does not.
func TestHSTS(t *testing.T) {
	for _, tc := range []struct {
		issuer, want string
	}{
		{"https://id.example.com" + tenantPath, hstsValue},
		{"", ""},
	} {
		f := newFixture(t, func(s *config.Snapshot) {
			if tc.issuer != "" {
				s.Provider.Issuer = tc.issuer
			}
		})
		for _, path := range []string{config.PathDiscovery, config.PathToken, "/nowhere"} {
			w := httptest.NewRecorder()
			f.p.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, tenantPath+path, nil))
			want := tc.want
			if path == "/nowhere" {
				want = "" // not the provider's
			}
			if got := w.Header().Get("Strict-Transport-Security"); got != want {
				t.Errorf("issuer %q, %s: Strict-Transport-Security %q, want %q", tc.issuer, path, got, want)
			}
		}
	}
}

// TestCookiePrefixes: an https issuer's cookies carry the prefix browsers
// enforce (__Host- at the host's root, with Path=/; __Secure- below a
// path), are Secure, and are read back under that name; an http one
// (loopback, development) keeps plain names.
func TestCookiePrefixes(t *testing.T) {
	for _, tc := range []struct {
		issuer, prefix, path string
	}{
		{"https://id.example.com", "__Host-", "/"},
		{"https://id.example.com" + tenantPath, "__Secure-", tenantPath + "/interaction"},
		{"", "", tenantPath + "/interaction"},
	} {
		f := newFixture(t, func(s *config.Snapshot) {
			if tc.issuer != "" {
				s.Provider.Issuer = tc.issuer
			}
		})
		sv := f.p.served.Load()
		u, _ := f.authorizeURL(clientBasic, nil)
		target := sv.basePath + u[strings.Index(u, config.PathAuthorize):]
		w := httptest.NewRecorder()
		f.p.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, target, nil))
		pg := readPage(t, w.Result())
		cookies := w.Result().Cookies()
		if len(cookies) != 1 {
			t.Fatalf("%q: cookies %v", tc.issuer, cookies)
		}
		c := cookies[0]
		if c.Name != tc.prefix+interactionCookie || c.Path != tc.path || c.Secure != (tc.prefix != "") || c.Domain != "" {
			t.Fatalf("%q: cookie %s Path=%s Secure=%v Domain=%q", tc.issuer, c.Name, c.Path, c.Secure, c.Domain)
		}
		// The login form is read with the prefixed name.
		r := httptest.NewRequest(http.MethodPost, sv.basePath+pathLogin, strings.NewReader(url.Values{"interaction": {pg.interaction}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.AddCookie(c)
		if _, err := f.p.loadInteraction(r, sv, "login"); err == nil || !strings.Contains(err.Description, "CSRF") {
			t.Fatalf("%q: the interaction cookie was not found under its name: %v", tc.issuer, err)
		}
	}
}
