package jwe

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

func rsaKey(t *testing.T, bits int) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func ecKey(t *testing.T, c elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSelectKey(t *testing.T) {
	r := rsaKey(t, 2048)
	weak := rsaKey(t, 1024)
	p256 := ecKey(t, elliptic.P256())
	p224 := ecKey(t, elliptic.P224())
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)

	rsaEnc := jose.JSONWebKey{Key: &r.PublicKey, KeyID: "rsa-enc", Use: "enc"}
	rsaNoUse := jose.JSONWebKey{Key: &r.PublicKey, KeyID: "rsa-any"}
	rsaSig := jose.JSONWebKey{Key: &r.PublicKey, KeyID: "rsa-sig", Use: "sig"}
	rsaWeak := jose.JSONWebKey{Key: &weak.PublicKey, KeyID: "rsa-weak", Use: "enc"}
	rsaPrivate := jose.JSONWebKey{Key: r, KeyID: "rsa-private", Use: "enc"}
	rsaOtherAlg := jose.JSONWebKey{Key: &r.PublicKey, KeyID: "rsa-oaep", Use: "enc", Algorithm: "RSA-OAEP"}
	ecEnc := jose.JSONWebKey{Key: &p256.PublicKey, KeyID: "ec-enc", Use: "enc"}
	ecKW := jose.JSONWebKey{Key: &p256.PublicKey, KeyID: "ec-kw", Use: "enc", Algorithm: ECDHESA128KW}
	ecWeak := jose.JSONWebKey{Key: &p224.PublicKey, KeyID: "ec-p224", Use: "enc"}
	ed := jose.JSONWebKey{Key: edPub, KeyID: "ed", Use: "enc"}

	tests := []struct {
		name    string
		keys    []jose.JSONWebKey
		alg     string
		wantKID string
		wantErr []string // substrings of the refusal
	}{
		{"RSA-OAEP-256 takes an RSA key with use enc", []jose.JSONWebKey{ecEnc, rsaEnc}, RSAOAEP256, "rsa-enc", nil},
		{"a key without use may encrypt", []jose.JSONWebKey{rsaNoUse}, RSAOAEP256, "rsa-any", nil},
		{"use enc wins over no use", []jose.JSONWebKey{rsaNoUse, rsaEnc}, RSAOAEP256, "rsa-enc", nil},
		{"ECDH-ES takes an EC key", []jose.JSONWebKey{rsaEnc, ecEnc}, ECDHES, "ec-enc", nil},
		{"a key whose alg names this one", []jose.JSONWebKey{ecKW}, ECDHESA128KW, "ec-kw", nil},
		{"a key whose alg names another is passed over", []jose.JSONWebKey{ecKW}, ECDHESA256KW, "",
			[]string{`keys[0] (kid "ec-kw") is for alg "ECDH-ES+A128KW"`}},
		{"a signature-only key cannot encrypt", []jose.JSONWebKey{rsaSig}, RSAOAEP256, "",
			[]string{`keys[0] (kid "rsa-sig") has use "sig"`, "RSA key of at least 2048 bits"}},
		{"an EC key does not fit RSA-OAEP-256", []jose.JSONWebKey{ecEnc}, RSAOAEP256, "", []string{"is an EC key"}},
		{"an RSA key does not fit ECDH-ES", []jose.JSONWebKey{rsaEnc}, ECDHES, "", []string{"is an RSA key", "EC key on P-256"}},
		{"a weak RSA key is refused", []jose.JSONWebKey{rsaWeak}, RSAOAEP256, "", []string{"RSA key of 1024 bits"}},
		{"a weak curve is refused", []jose.JSONWebKey{ecWeak}, ECDHES, "", []string{"P-224"}},
		{"a private key is refused", []jose.JSONWebKey{rsaPrivate}, RSAOAEP256, "", []string{"not a public key"}},
		{"RSA-OAEP keys are not RSA-OAEP-256 keys", []jose.JSONWebKey{rsaOtherAlg}, RSAOAEP256, "", []string{`is for alg "RSA-OAEP"`}},
		{"an Ed25519 key cannot encrypt", []jose.JSONWebKey{ed}, ECDHES, "", []string{"not an RSA or EC key"}},
		{"an empty set", nil, RSAOAEP256, "", []string{"the set is empty"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, err := SelectKey(tc.keys, tc.alg)
			if tc.wantErr == nil {
				if err != nil || k.KeyID != tc.wantKID {
					t.Fatalf("SelectKey = %q, %v; want %q", k.KeyID, err, tc.wantKID)
				}
				return
			}
			if err == nil || !errors.Is(err, ErrNoKey) {
				t.Fatalf("SelectKey = %q, %v; want ErrNoKey", k.KeyID, err)
			}
			for _, s := range tc.wantErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
		})
	}
}

func TestCheckAlgorithms(t *testing.T) {
	tests := []struct {
		alg, enc string
		ok       bool
	}{
		{RSAOAEP256, "", true},
		{ECDHESA256KW, A256GCM, true},
		{"RSA1_5", "", false},
		{"RSA-OAEP", A128GCM, false},
		{"dir", A128GCM, false},
		{ECDHES, "A192GCM", false},
		{"", A128GCM, false},
	}
	for _, tc := range tests {
		if err := errors.Join(CheckKeyAlgorithm(tc.alg), CheckContentAlgorithm(tc.enc)); (err == nil) != tc.ok {
			t.Errorf("alg %q, enc %q: %v, want ok %v", tc.alg, tc.enc, err, tc.ok)
		}
	}
}

// TestEncryptRoundTrip: every offered alg and enc pair makes a JWE that
// go-jose decrypts with the private key, with cty JWT and the key's kid.
func TestEncryptRoundTrip(t *testing.T) {
	r := rsaKey(t, 2048)
	ec := ecKey(t, elliptic.P256())
	const inner = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"
	for _, alg := range KeyAlgorithms {
		for _, enc := range append(ContentAlgorithms, "") {
			var pub jose.JSONWebKey
			var priv any
			if alg == RSAOAEP256 {
				pub, priv = jose.JSONWebKey{Key: &r.PublicKey, KeyID: "k1"}, r
			} else {
				pub, priv = jose.JSONWebKey{Key: &ec.PublicKey, KeyID: "k1"}, ec
			}
			out, err := Encrypt(inner, pub, alg, enc)
			if err != nil {
				t.Fatalf("%s/%s: %v", alg, enc, err)
			}
			wantEnc := enc
			if wantEnc == "" {
				wantEnc = DefaultContentAlgorithm
			}
			obj, err := jose.ParseEncrypted(out, []jose.KeyAlgorithm{jose.KeyAlgorithm(alg)}, []jose.ContentEncryption{jose.ContentEncryption(wantEnc)})
			if err != nil {
				t.Fatalf("%s/%s: parse: %v", alg, enc, err)
			}
			if obj.Header.KeyID != "k1" || obj.Header.ExtraHeaders["cty"] != "JWT" {
				t.Errorf("%s/%s: header kid %q cty %v; want k1 and JWT", alg, enc, obj.Header.KeyID, obj.Header.ExtraHeaders["cty"])
			}
			plain, err := obj.Decrypt(priv)
			if err != nil || string(plain) != inner {
				t.Errorf("%s/%s: decrypted %q, %v", alg, enc, plain, err)
			}
		}
	}
}

func TestEncryptRefusesUnfitKey(t *testing.T) {
	ec := ecKey(t, elliptic.P256())
	if _, err := Encrypt("a.b.c", jose.JSONWebKey{Key: &ec.PublicKey}, RSAOAEP256, ""); err == nil || !strings.Contains(err.Error(), "EC key") {
		t.Errorf("Encrypt to an EC key with RSA-OAEP-256 = %v, want a refusal", err)
	}
	if _, err := Encrypt("a.b.c", jose.JSONWebKey{Key: &ec.PublicKey}, "RSA1_5", ""); err == nil {
		t.Error("Encrypt with RSA1_5 succeeded")
	}
}
