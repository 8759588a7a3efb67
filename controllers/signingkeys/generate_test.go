package signingkeys

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/idaop/ida-operator/runtime/config"
)

func TestGenerate(t *testing.T) {
	var ks config.KeySet
	for _, alg := range config.SupportedAlgorithms {
		k, err := Generate(alg, t0)
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		jwk, err := k.JWK()
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		pub := jwk.Public()
		tp, _ := pub.Thumbprint(crypto.SHA256)
		if k.ID != base64.RawURLEncoding.EncodeToString(tp) || jwk.KeyID != k.ID {
			t.Errorf("%s: kid %q is not the thumbprint", alg, k.ID)
		}
		if jwk.Algorithm != alg || jwk.Use != "sig" || !k.CreatedAt.Equal(t0) {
			t.Errorf("%s: %+v", alg, k)
		}
		ks.Keys = append(ks.Keys, k)
	}
	data, err := ks.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := config.ParseKeySet(data)
	if err != nil {
		t.Fatalf("generated keys do not validate: %v", err)
	}
	// Each key signs, and its published half verifies.
	jwks, err := parsed.PublicJWKS(t0)
	if err != nil {
		t.Fatal(err)
	}
	var public jose.JSONWebKeySet
	if err := json.Unmarshal(jwks, &public); err != nil {
		t.Fatal(err)
	}
	for _, alg := range config.SupportedAlgorithms {
		k, ok := parsed.Signer(alg, t0)
		if !ok {
			t.Fatalf("no %s signer", alg)
		}
		priv, _ := k.JWK()
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: priv}, nil)
		if err != nil {
			t.Fatal(err)
		}
		jws, err := signer.Sign([]byte("payload"))
		if err != nil {
			t.Fatal(err)
		}
		keys := public.Key(k.ID)
		if len(keys) != 1 || !keys[0].IsPublic() {
			t.Fatalf("%s: kid %s not published once as a public key", alg, k.ID)
		}
		if _, err := jws.Verify(keys[0]); err != nil {
			t.Errorf("%s: %v", alg, err)
		}
	}
	if _, err := Generate("HS256", t0); err == nil {
		t.Error("HS256 generated")
	}
}

// BenchmarkGenerate measures key generation per algorithm; RSA3072 is for
// comparison with RSABits.
func BenchmarkGenerate(b *testing.B) {
	for _, alg := range config.SupportedAlgorithms {
		b.Run(alg, func(b *testing.B) {
			for b.Loop() {
				if _, err := Generate(alg, time.Now()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("RSA3072", func(b *testing.B) {
		for b.Loop() {
			if _, err := rsa.GenerateKey(rand.Reader, 3072); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkSign is what the key size costs the runtime on every token.
func BenchmarkSign(b *testing.B) {
	for _, bits := range []int{2048, 3072} {
		key, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			b.Fatal(err)
		}
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.PS256, Key: key}, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(map[int]string{2048: "PS256-2048", 3072: "PS256-3072"}[bits], func(b *testing.B) {
			for b.Loop() {
				if _, err := signer.Sign([]byte("payload")); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	k, _ := Generate(config.ES256, time.Now())
	priv, _ := k.JWK()
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: priv}, nil)
	b.Run("ES256", func(b *testing.B) {
		for b.Loop() {
			if _, err := signer.Sign([]byte("payload")); err != nil {
				b.Fatal(err)
			}
		}
	})
}
