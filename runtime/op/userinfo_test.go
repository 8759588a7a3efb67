package op

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/idaop/ida-operator/runtime/grants"
)

// TestReadAccessToken: one token, in the Authorization header (Bearer or
// DPoP) or a Bearer one in a form body (RFC 6750 §2, RFC 9449 §7).
func TestReadAccessToken(t *testing.T) {
	form := "application/x-www-form-urlencoded"
	cases := []struct {
		name, method, auth, contentType, body string
		scheme, code                          string
		status                                int
	}{
		{"Bearer header", http.MethodGet, "Bearer tok", "", "", "Bearer", "", 0},
		{"DPoP header", http.MethodGet, "DPoP tok", "", "", "DPoP", "", 0},
		{"scheme is case-insensitive", http.MethodGet, "bearer tok", "", "", "Bearer", "", 0},
		{"form body", http.MethodPost, "", form, "access_token=tok", "Bearer", "", 0},
		{"no token: a challenge without an error code", http.MethodGet, "", "", "", "", "", http.StatusUnauthorized},
		{"header without a token", http.MethodGet, "Bearer ", "", "", "", "invalid_request", http.StatusBadRequest},
		{"unknown scheme", http.MethodGet, "Basic dXNlcg==", "", "", "", "invalid_request", http.StatusBadRequest},
		{"token in two places", http.MethodPost, "Bearer tok", form, "access_token=tok", "", "invalid_request", http.StatusBadRequest},
		{"token in the query", http.MethodGet, "", "", "", "", "invalid_request", http.StatusBadRequest},
		{"token in the header and the query", http.MethodGet, "Bearer tok", "", "", "", "invalid_request", http.StatusBadRequest},
		{"token too long", http.MethodGet, "Bearer " + strings.Repeat("t", 4097), "", "", "", "invalid_token", http.StatusUnauthorized},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			target := "/userinfo"
			if strings.Contains(tc.name, "query") {
				target += "?access_token=tok"
			}
			r := httptest.NewRequest(tc.method, target, strings.NewReader(tc.body))
			if tc.auth != "" {
				r.Header.Set("Authorization", tc.auth)
			}
			if tc.contentType != "" {
				r.Header.Set("Content-Type", tc.contentType)
			}
			pt, err := readAccessToken(r)
			if err != nil {
				if err.Code != tc.code || err.Status != tc.status {
					t.Fatalf("error %q %d, want %q %d", err.Code, err.Status, tc.code, tc.status)
				}
				return
			}
			if tc.code != "" || tc.status != 0 {
				t.Fatalf("accepted, want %q %d", tc.code, tc.status)
			}
			if pt.scheme != tc.scheme || pt.token != "tok" {
				t.Fatalf("got %+v", pt)
			}
		})
	}
}

// TestCheckTokenScheme: a DPoP-bound token is presented with DPoP, an
// unbound one with Bearer (RFC 9449 §7.1, §7.2).
func TestCheckTokenScheme(t *testing.T) {
	cases := []struct {
		name, jkt, scheme, code string
	}{
		{"bound, DPoP", "jkt", "DPoP", ""},
		{"unbound, Bearer", "", "Bearer", ""},
		{"bound token downgraded to Bearer", "jkt", "Bearer", "invalid_token"},
		{"unbound token as DPoP", "", "DPoP", "invalid_token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := checkTokenScheme(&grants.Token{JKT: tc.jkt}, &presentedToken{token: "t", scheme: tc.scheme})
			if got := codeOf(err); got != tc.code {
				t.Fatalf("got %q, want %q", got, tc.code)
			}
		})
	}
}

// TestUserInfoScopeNarrowed: a scope removed from the client's
// registration stops releasing its claims at the next UserInfo call,
// whatever the token was granted.
func TestUserInfoScopeNarrowed(t *testing.T) {
	f := newFixture(t)
	code, verifier := f.codeFor(clientBasic, nil) // scope "openid email"
	_, tok := f.exchange(clientBasic, code, verifier)
	at := tok["access_token"].(string)
	if _, body := f.userinfo(at); body["email"] == nil {
		t.Fatalf("email not released with the email scope: %v", body)
	}
	c := *f.snap.Clients[clientBasic]
	c.Scopes = []string{"openid", "profile"}
	f.snap.Clients[clientBasic] = &c
	if err := f.p.Apply(f.snap); err != nil {
		t.Fatal(err)
	}
	if resp, body := f.userinfo(at); resp.StatusCode != http.StatusOK || body["email"] != nil || body["sub"] == nil {
		t.Fatalf("after the client lost the email scope: %d %v", resp.StatusCode, body)
	}
}
