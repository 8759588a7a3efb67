// Package keystrength is the one rule for how strong a public key must be
// wherever keys enter the provider: DPoP proofs, client key sets
// registered or fetched from a jwks_uri. RSA keys have at least 2048 bits
// and elliptic curve keys lie on P-256 or a larger NIST curve (FAPI 2.0
// Security Profile §5.4.1; RFC 7518 §3.3 for RSA).
package keystrength

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"fmt"
)

// MinRSABits is the smallest RSA modulus accepted.
const MinRSABits = 2048

// Check returns an error that says why key is too weak, or nil.
func Check(key any) error {
	switch k := key.(type) {
	case *rsa.PublicKey:
		if n := k.N.BitLen(); n < MinRSABits {
			return fmt.Errorf("an RSA key of %d bits; at least %d are required", n, MinRSABits)
		}
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
		default:
			return fmt.Errorf("an elliptic curve key on %s; P-256, P-384 or P-521 is required", k.Curve.Params().Name)
		}
	case ed25519.PublicKey:
	default:
		return fmt.Errorf("a %T is not a public signature key", key)
	}
	return nil
}
