package keystrength

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"math/big"
	"testing"
)

func TestCheck(t *testing.T) {
	// Only the modulus' length is judged: a modulus of the given length
	// stands in for a generated key (Go refuses to generate weak ones).
	rsaOf := func(bits int) *rsa.PublicKey {
		n := new(big.Int).Lsh(big.NewInt(1), uint(bits-1))
		return &rsa.PublicKey{N: n.Add(n, big.NewInt(1)), E: 65537}
	}
	ecOn := func(c elliptic.Curve) *ecdsa.PublicKey {
		k, err := ecdsa.GenerateKey(c, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return &k.PublicKey
	}
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	cases := []struct {
		name string
		key  any
		ok   bool
	}{
		{"RSA 2048", rsaOf(2048), true},
		{"RSA 4096", rsaOf(4096), true},
		{"RSA 2047", rsaOf(2047), false},
		{"RSA 1024", rsaOf(1024), false},
		{"EC P-256", ecOn(elliptic.P256()), true},
		{"EC P-384", ecOn(elliptic.P384()), true},
		{"EC P-521", ecOn(elliptic.P521()), true},
		{"EC P-224", ecOn(elliptic.P224()), false},
		{"Ed25519", edPub, true},
		{"a symmetric key", []byte("secret"), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := Check(tc.key); (err == nil) != tc.ok {
				t.Fatalf("Check: %v, want ok=%v", err, tc.ok)
			}
		})
	}
}
