package dpop

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func sign(t *testing.T, key any, typ string, embed bool, claims map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{EmbedJWK: embed}).WithType(jose.ContentType(typ))
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(s).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestVerify(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	good := func() map[string]any {
		return map[string]any{"jti": "j1", "htm": "POST", "htu": "https://op.example/token", "iat": now.Unix()}
	}
	check := Check{Method: "POST", URL: "https://op.example/token", Algorithms: []string{"ES256"}, Now: now}
	p, err := Verify(sign(t, key, "dpop+jwt", true, good()), check)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := Thumbprint(&jose.JSONWebKey{Key: key.Public()})
	if p.JKT != want || p.ReplayKey() != want+":j1" {
		t.Fatalf("jkt %q", p.JKT)
	}
	with := func(k string, v any) map[string]any { c := good(); c[k] = v; return c }
	without := func(k string) map[string]any { c := good(); delete(c, k); return c }
	cases := []struct {
		name  string
		proof string
		check Check
	}{
		{"wrong typ", sign(t, key, "JWT", true, good()), check},
		{"no jwk", sign(t, key, "dpop+jwt", false, good()), check},
		{"other method", sign(t, key, "dpop+jwt", true, with("htm", "GET")), check},
		{"other url", sign(t, key, "dpop+jwt", true, with("htu", "https://op.example/userinfo")), check},
		{"other host", sign(t, key, "dpop+jwt", true, with("htu", "https://evil.example/token")), check},
		{"no jti", sign(t, key, "dpop+jwt", true, without("jti")), check},
		{"old", sign(t, key, "dpop+jwt", true, with("iat", now.Add(-2*time.Minute).Unix())), check},
		{"future", sign(t, key, "dpop+jwt", true, with("iat", now.Add(2*time.Minute).Unix())), check},
		{"alg not accepted", sign(t, key, "dpop+jwt", true, good()), Check{Method: "POST", URL: check.URL, Algorithms: []string{"PS256"}, Now: now}},
		{"ath missing", sign(t, key, "dpop+jwt", true, good()), Check{Method: "POST", URL: check.URL, Algorithms: []string{"ES256"}, Now: now, AccessToken: "at"}},
		{"garbage", "x.y.z", check},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Verify(tc.proof, tc.check)
			var de *Error
			if !errors.As(err, &de) {
				t.Fatalf("want *Error, got %v", err)
			}
		})
	}
	// Query and fragment are ignored; ath matches.
	c := with("htu", "https://OP.example/token?a=1#f")
	c["ath"] = ATH("at")
	if _, err := Verify(sign(t, key, "dpop+jwt", true, c), Check{Method: "POST", URL: check.URL, Algorithms: []string{"ES256"}, Now: now, AccessToken: "at"}); err != nil {
		t.Fatal(err)
	}
}

// TestHTUNormalised: htu and the endpoint URL compare after RFC 3986
// §6.2.2 and §6.2.3 normalisation, and only the query and fragment are
// ignored (RFC 9449 §4.3).
func TestHTUNormalised(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	endpoint := "https://op.example/tenant/token"
	cases := []struct {
		name, htu string
		ok        bool
	}{
		{"the same URL", endpoint, true},
		{"upper-case scheme and host", "HTTPS://OP.EXAMPLE/tenant/token", true},
		{"the default port written out", "https://op.example:443/tenant/token", true},
		{"an unreserved character percent-encoded", "https://op.example/tenant/%74oken", true},
		{"query and fragment", endpoint + "?x=1#y", true},
		{"another port", "https://op.example:8443/tenant/token", false},
		{"http's default port on https", "https://op.example:80/tenant/token", false},
		{"another scheme", "http://op.example/tenant/token", false},
		{"path case differs", "https://op.example/Tenant/token", false},
		{"trailing slash", endpoint + "/", false},
		{"another path", "https://op.example/token", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cl := map[string]any{"jti": "j1", "htm": "POST", "htu": tc.htu, "iat": now.Unix()}
			_, err := Verify(sign(t, key, "dpop+jwt", true, cl), Check{Method: "POST", URL: endpoint, Algorithms: []string{"ES256"}, Now: now})
			if (err == nil) != tc.ok {
				t.Fatalf("err %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// TestWeakKeysRefused: a proof signed with a key under the provider's
// strength is refused whatever its signature (FAPI 2.0 §5.4.1).
func TestWeakKeysRefused(t *testing.T) {
	cl := map[string]any{"jti": "j1", "htm": "POST", "htu": "https://op.example/token", "iat": now.Unix()}
	proof := func(alg jose.SignatureAlgorithm, key any) string {
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
		if err != nil {
			t.Fatal(err)
		}
		tok, err := jwt.Signed(s).Claims(cl).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	rsa2048, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	check := Check{Method: "POST", URL: "https://op.example/token", Algorithms: []string{"PS256"}, Now: now}
	if _, err := Verify(proof(jose.PS256, rsa1024), check); err == nil || !strings.Contains(err.Error(), "2048") {
		t.Fatalf("RSA-1024 proof: %v", err)
	}
	if _, err := Verify(proof(jose.PS256, rsa2048), check); err != nil {
		t.Fatalf("RSA-2048 proof: %v", err)
	}
}
