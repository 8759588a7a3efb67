package op

import (
	"net/http"
	"net/http/httptest"
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
