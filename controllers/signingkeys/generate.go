package signingkeys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/hsm"
)

// RSABits is the modulus size of new RSA keys. 2048 is what FAPI 2.0
// requires at least; 3072 would cost about three times as much on every
// RS256/PS256 signature the runtime makes, and generation is slower by
// several times (see BenchmarkGenerate).
const RSABits = 2048

// Generator makes a fresh key for alg; Plan sets its schedule.
type Generator func(alg string, now time.Time) (config.SigningKey, error)

// Generate makes a key from crypto/rand: P-256 for ES256, RSA for PS256 and
// RS256. The kid is the key's RFC 7638 thumbprint, unique without
// coordination and checkable by anyone holding the public key.
func Generate(alg string, now time.Time) (config.SigningKey, error) {
	var key crypto.Signer
	var err error
	switch alg {
	case config.ES256:
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case config.PS256, config.RS256:
		key, err = rsa.GenerateKey(rand.Reader, RSABits)
	default:
		return config.SigningKey{}, fmt.Errorf("cannot generate a key for %q", alg)
	}
	if err != nil {
		return config.SigningKey{}, err
	}
	pub := jose.JSONWebKey{Key: key.Public()}
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return config.SigningKey{}, err
	}
	kid := base64.RawURLEncoding.EncodeToString(tp)
	jwk := jose.JSONWebKey{Key: key, KeyID: kid, Algorithm: alg, Use: "sig"}
	raw, err := jwk.MarshalJSON()
	if err != nil {
		return config.SigningKey{}, err
	}
	return config.SigningKey{
		ID: kid, Algorithm: alg, PrivateJWK: raw,
		CreatedAt: now, ActivatesAt: now,
	}, nil
}

// InToken returns a Generator that makes each key inside a PKCS#11 token,
// where it is sensitive and not extractable: the key set gets its public
// half, and a random seed for what the runtime derives from a key. The kid
// is random rather than a thumbprint because the token needs the key's id
// (CKA_ID, CKA_LABEL) before the public key exists; it also names the key
// in the token for whoever audits it.
func InToken(tok hsm.KeyToken) Generator {
	return func(alg string, now time.Time) (config.SigningKey, error) {
		kid := rand.Text() // 130 bits in base32: fit for a kid and an object label alike
		pub, err := tok.Generate(kid, alg)
		if err != nil {
			return config.SigningKey{}, err
		}
		raw, err := (&jose.JSONWebKey{Key: pub, KeyID: kid, Algorithm: alg, Use: "sig"}).MarshalJSON()
		if err != nil {
			return config.SigningKey{}, err
		}
		seed := make([]byte, config.SeedSize)
		_, _ = rand.Read(seed) // never fails (crypto/rand, Go 1.24+)
		return config.SigningKey{
			ID: kid, Algorithm: alg, PublicJWK: raw, Seed: seed,
			CreatedAt: now, ActivatesAt: now,
		}, nil
	}
}
