//go:build cgo

package hsm_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/cryptosigner"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/idaop/ida-operator/runtime/hsm"
	"github.com/idaop/ida-operator/runtime/hsm/hsmtest"
)

func open(t testing.TB) *hsm.Token {
	t.Helper()
	tok, err := hsm.Open(hsmtest.SoftHSM(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tok.Close() })
	return tok
}

// TestKeysStayInTheToken: keys generated for each algorithm are sensitive
// and not extractable (read back through PKCS#11), sign JWTs that verify
// with the public half alone, and are gone after Delete.
func TestKeysStayInTheToken(t *testing.T) {
	tok := open(t)
	for _, tc := range []struct {
		alg string
		jws jose.SignatureAlgorithm
	}{{hsm.ES256, jose.ES256}, {hsm.PS256, jose.PS256}, {hsm.RS256, jose.RS256}} {
		t.Run(tc.alg, func(t *testing.T) {
			id := "test-" + tc.alg
			pub, err := tok.Generate(id, tc.alg)
			if err != nil {
				t.Fatal(err)
			}
			switch k := pub.(type) {
			case *ecdsa.PublicKey:
			case *rsa.PublicKey:
				if k.N.BitLen() < 2048 {
					t.Fatalf("RSA key of %d bits", k.N.BitLen())
				}
			default:
				t.Fatalf("public key %T", pub)
			}
			if ok, err := tok.Protected(id); err != nil || !ok {
				t.Fatalf("the private key is extractable or not sensitive: %v %v", ok, err)
			}
			if _, err := tok.Generate(id, tc.alg); err == nil || !strings.Contains(err.Error(), "already holds") {
				t.Fatalf("a second key under the same id: %v", err)
			}
			s, err := tok.Signer(id)
			if err != nil {
				t.Fatal(err)
			}
			signer, err := jose.NewSigner(jose.SigningKey{Algorithm: tc.jws, Key: cryptosigner.Opaque(s)}, (&jose.SignerOptions{}).WithType("JWT"))
			if err != nil {
				t.Fatal(err)
			}
			raw, err := jwt.Signed(signer).Claims(jwt.Claims{Issuer: "https://id.bank.example", Expiry: jwt.NewNumericDate(time.Now().Add(time.Minute))}).Serialize()
			if err != nil {
				t.Fatalf("signing in the token: %v", err)
			}
			parsed, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{tc.jws})
			if err != nil {
				t.Fatal(err)
			}
			var c jwt.Claims
			if err := parsed.Claims(pub, &c); err != nil || c.Issuer != "https://id.bank.example" {
				t.Fatalf("verifying with the public half: %v %+v", err, c)
			}
			if err := tok.Delete(id); err != nil {
				t.Fatal(err)
			}
			if _, err := tok.Signer(id); !errors.Is(err, hsm.ErrNoKey) {
				t.Fatalf("after Delete: %v", err)
			}
		})
	}
	if _, err := tok.Generate("x", "HS256"); err == nil {
		t.Fatal("an HMAC key was generated")
	}
}

// TestOpenRefusals: a wrong PIN, an unknown token label and a missing
// module are clear errors at Open.
func TestOpenRefusals(t *testing.T) {
	good := hsmtest.SoftHSM(t)
	for name, tc := range map[string]struct {
		cfg  hsm.Config
		want string
	}{
		"wrong PIN":     {hsm.Config{Module: good.Module, TokenLabel: good.TokenLabel, PIN: "0000"}, "CKR_PIN_INCORRECT"},
		"unknown token": {hsm.Config{Module: good.Module, TokenLabel: "no-such-token", PIN: good.PIN}, "could not find PKCS#11 token"},
		"no module":     {hsm.Config{Module: "/nonexistent/libpkcs11.so", TokenLabel: good.TokenLabel, PIN: good.PIN}, "/nonexistent/libpkcs11.so"},
		"empty module":  {hsm.Config{TokenLabel: good.TokenLabel}, "module path is empty"},
	} {
		t.Run(name, func(t *testing.T) {
			tok, err := hsm.Open(tc.cfg)
			if err == nil {
				_ = tok.Close()
				t.Fatal("opened")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q, want it to mention %q", err, tc.want)
			}
			// Only a refused PIN is one a retry must not repeat.
			if got, want := errors.Is(err, hsm.ErrPIN), name == "wrong PIN"; got != want {
				t.Fatalf("errors.Is(err, ErrPIN) = %v, want %v: %v", got, want, err)
			}
		})
	}
}

// BenchmarkSign: one ES256 and one PS256 signature of a JWT-sized payload
// in SoftHSM2, beside the same with the key in memory.
func BenchmarkSign(b *testing.B) {
	tok := open(b)
	for _, alg := range []string{hsm.ES256, hsm.PS256} {
		id := "bench-" + alg
		_ = tok.Delete(id)
		if _, err := tok.Generate(id, alg); err != nil {
			b.Fatal(err)
		}
		s, err := tok.Signer(id)
		if err != nil {
			b.Fatal(err)
		}
		jws := jose.SignatureAlgorithm(alg)
		hsmSigner, _ := jose.NewSigner(jose.SigningKey{Algorithm: jws, Key: cryptosigner.Opaque(s)}, nil)
		var mem crypto.Signer
		if alg == hsm.ES256 {
			mem = mustECDSA(b)
		} else {
			mem = mustRSA(b)
		}
		memSigner, _ := jose.NewSigner(jose.SigningKey{Algorithm: jws, Key: mem}, nil)
		payload := []byte(strings.Repeat("x", 600))
		for name, signer := range map[string]jose.Signer{"softhsm": hsmSigner, "memory": memSigner} {
			b.Run(alg+"/"+name, func(b *testing.B) {
				for b.Loop() {
					if _, err := signer.Sign(payload); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
