package op

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/idaop/ida-operator/runtime/config"
)

// TestParseClientCredentials: exactly one method, and client_id agrees
// with it (RFC 6749 §2.3); a failed Basic attempt gets a 401 challenge.
func TestParseClientCredentials(t *testing.T) {
	_, sv := servedFor(t)
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape("rp a")+":"+url.QueryEscape("s:cret")))
	assertionType := url.Values{"client_assertion_type": {clientAssertionType}}
	cases := []struct {
		name   string
		auth   string
		form   url.Values
		method string
		id     string
		code   string
		status int
	}{
		{"client_secret_basic, form-urlencoded parts", basic, url.Values{}, config.AuthClientSecretBasic, "rp a", "", 0},
		{"client_secret_post", "", url.Values{"client_id": {"rp"}, "client_secret": {"s"}}, config.AuthClientSecretPost, "rp", "", 0},
		{"private_key_jwt names its client", "", url.Values{"client_id": {"rp"}, "client_assertion": {"x.y.z"}, "client_assertion_type": assertionType["client_assertion_type"]},
			config.AuthPrivateKeyJWT, "rp", "", 0},
		{"authentication is required", "", url.Values{"client_id": {"rp"}}, "", "", "invalid_client", http.StatusBadRequest},
		{"malformed Basic", "Basic !!!", url.Values{}, "", "", "invalid_client", http.StatusUnauthorized},
		{"two methods at once", basic, url.Values{"client_secret": {"s"}}, "", "", "invalid_request", 0},
		{"client_id disagrees with Basic", basic, url.Values{"client_id": {"other"}}, "", "", "invalid_client", http.StatusUnauthorized},
		{"client_secret_post without client_id", "", url.Values{"client_secret": {"s"}}, "", "", "invalid_client", http.StatusBadRequest},
		{"wrong client_assertion_type", "", url.Values{"client_id": {"rp"}, "client_assertion": {"x.y.z"}, "client_assertion_type": {"urn:example"}},
			"", "", "invalid_client", http.StatusBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/token", nil)
			if tc.auth != "" {
				r.Header.Set("Authorization", tc.auth)
			}
			cred, err := parseClientCredentials(sv, r, tc.form)
			if got := codeOf(err); got != tc.code {
				t.Fatalf("got %q (%v), want %q", got, err, tc.code)
			}
			if err != nil {
				if tc.status != 0 && err.Status != tc.status {
					t.Fatalf("status %d, want %d", err.Status, tc.status)
				}
				return
			}
			if cred.method != tc.method || cred.clientID != tc.id {
				t.Fatalf("got %s for %q, want %s for %q", cred.method, cred.clientID, tc.method, tc.id)
			}
		})
	}
}

// TestAssertionChecks: each case breaks one claims rule of a client
// assertion (RFC 7523 §3) and is refused with invalid_client.
func TestAssertionChecks(t *testing.T) {
	_, sv := servedFor(t)
	now := time.Unix(1_800_000_000, 0)
	at := func(d time.Duration) *jwt.NumericDate { return jwt.NewNumericDate(now.Add(d)) }
	valid := func() *clientAssertion {
		return &clientAssertion{sv: sv, client: sv.clients[clientFAPI], endpoint: sv.url(config.PathPAR), now: now,
			claims: &jwt.Claims{Issuer: clientFAPI, Subject: clientFAPI, Audience: jwt.Audience{sv.issuer}, Expiry: at(time.Minute), ID: "jti-1"}}
	}
	cases := []struct {
		name string
		edit func(*jwt.Claims)
		code string
	}{
		{"valid assertion", func(*jwt.Claims) {}, ""},
		{"aud is the token endpoint", func(c *jwt.Claims) { c.Audience = jwt.Audience{sv.url(config.PathToken)} }, ""},
		{"aud is the endpoint called", func(c *jwt.Claims) { c.Audience = jwt.Audience{sv.url(config.PathPAR)} }, ""},
		{"iss is not the client", func(c *jwt.Claims) { c.Issuer = clientBasic }, "invalid_client"},
		{"sub is not the client", func(c *jwt.Claims) { c.Subject = clientBasic }, "invalid_client"},
		{"aud is another server", func(c *jwt.Claims) { c.Audience = jwt.Audience{"https://other.example"} }, "invalid_client"},
		{"no exp", func(c *jwt.Claims) { c.Expiry = nil }, "invalid_client"},
		{"expired beyond the skew", func(c *jwt.Claims) { c.Expiry = at(-clockSkew - time.Second) }, "invalid_client"},
		{"exp more than 5 minutes ahead", func(c *jwt.Claims) { c.Expiry = at(assertionMaxLifetime + clockSkew + time.Second) }, "invalid_client"},
		{"nbf in the future", func(c *jwt.Claims) { c.NotBefore = at(clockSkew + time.Second) }, "invalid_client"},
		{"iat in the future", func(c *jwt.Claims) { c.IssuedAt = at(clockSkew + time.Second) }, "invalid_client"},
		{"no jti", func(c *jwt.Claims) { c.ID = "" }, "invalid_client"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ca := valid()
			tc.edit(ca.claims)
			if got := codeOf(runChecks(ca, assertionChecks)); got != tc.code {
				t.Fatalf("got %q, want %q", got, tc.code)
			}
		})
	}
}

// TestAssertionAudienceFAPI2: under FAPI 2.0 the audience is the issuer
// identifier alone, as a string (FAPI 2.0 Security Profile §5.3.2.1).
func TestAssertionAudienceFAPI2(t *testing.T) {
	f := newFixture(t, fapi2Only)
	sv := f.p.served.Load()
	now := time.Unix(1_800_000_000, 0)
	cases := []struct {
		name, aud string
		ok        bool
	}{
		{"the issuer as a string", `"` + sv.issuer + `"`, true},
		{"the issuer in an array", `["` + sv.issuer + `"]`, false},
		{"the issuer and another audience", `["` + sv.issuer + `","https://evil.example"]`, false},
		{"the token endpoint", `"` + sv.url(config.PathToken) + `"`, false},
		{"no aud", ``, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ca := &clientAssertion{sv: sv, client: sv.clients[clientFAPI], endpoint: sv.url(config.PathToken), now: now, aud: json.RawMessage(tc.aud),
				claims: &jwt.Claims{Issuer: clientFAPI, Subject: clientFAPI, Expiry: jwt.NewNumericDate(now.Add(time.Minute)), ID: "j"}}
			_ = json.Unmarshal(ca.aud, &ca.claims.Audience)
			if err := runChecks(ca, assertionChecks); (err == nil) != tc.ok {
				t.Fatalf("got %v, want ok=%v", err, tc.ok)
			}
		})
	}
}
