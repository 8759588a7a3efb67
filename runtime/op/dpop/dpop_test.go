package dpop

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
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
