// Package jwe encrypts the provider's signed JWTs (ID tokens, UserInfo,
// introspection answers) to a client's public key: which algorithms are
// offered, which of the client's keys may receive them, and the nested
// JWT itself (OIDC Core §10.2, RFC 7516). Pure, no I/O: the keys come from
// the registration or the client's jwks_uri, fetched by the caller.
package jwe

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"
	"fmt"
	"slices"
	"strings"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/idaop/ida-operator/runtime/keystrength"
)

// Key management algorithms offered (RFC 7518 §4.3, §4.6). RSA1_5 is
// left out (padding-oracle attacks, RFC 8725 §3.2 advises against it),
// and so is RSA-OAEP, whose SHA-1 OAEP has no reason to exist beside
// RSA-OAEP-256. ECDH-ES+A192KW is left out as a key size nobody asks for.
const (
	RSAOAEP256   = "RSA-OAEP-256"
	ECDHES       = "ECDH-ES"
	ECDHESA128KW = "ECDH-ES+A128KW"
	ECDHESA256KW = "ECDH-ES+A256KW"
)

// Content encryption algorithms offered (RFC 7518 §5): AES-GCM and the
// AES-CBC with HMAC pairs; the 192-bit variants are left out.
const (
	A128GCM      = "A128GCM"
	A256GCM      = "A256GCM"
	A128CBCHS256 = "A128CBC-HS256"
	A256CBCHS512 = "A256CBC-HS512"
)

// DefaultContentAlgorithm is the enc of a client that registered only an
// alg (OIDC Dynamic Client Registration §2; RFC 9701 §6 for
// introspection).
const DefaultContentAlgorithm = A128CBCHS256

// KeyAlgorithms and ContentAlgorithms are what discovery publishes and a
// registration may ask for, in order of preference.
var (
	KeyAlgorithms     = []string{RSAOAEP256, ECDHES, ECDHESA128KW, ECDHESA256KW}
	ContentAlgorithms = []string{A128GCM, A256GCM, A128CBCHS256, A256CBCHS512}
)

// CheckKeyAlgorithm says why a registered alg is not offered, or nil.
func CheckKeyAlgorithm(alg string) error {
	if !slices.Contains(KeyAlgorithms, alg) {
		return fmt.Errorf("%q is not one of %s", alg, strings.Join(KeyAlgorithms, ", "))
	}
	return nil
}

// CheckContentAlgorithm says why a registered enc is not offered, or nil;
// empty is the default.
func CheckContentAlgorithm(enc string) error {
	if enc != "" && !slices.Contains(ContentAlgorithms, enc) {
		return fmt.Errorf("%q is not one of %s", enc, strings.Join(ContentAlgorithms, ", "))
	}
	return nil
}

// ErrNoKey is wrapped by SelectKey's error when no key can receive alg.
var ErrNoKey = errors.New("no key can encrypt")

// SelectKey picks the client's key that alg encrypts to: a public key
// meant for encryption (use "enc", or no use: RFC 7517 §4.2), without an
// alg member naming another algorithm (§4.4), of the type alg needs (RSA
// for RSA-OAEP-256, EC for ECDH-ES), strong enough (package keystrength).
// A key marked use "enc" wins over one without a use; among equals, the
// first in the set. The error says why each key was passed over.
func SelectKey(keys []jose.JSONWebKey, alg string) (jose.JSONWebKey, error) {
	best, bestExplicit := -1, false
	var why []string
	for i := range keys {
		k := &keys[i]
		if reason := unfit(k, alg); reason != "" {
			why = append(why, fmt.Sprintf("keys[%d]%s %s", i, kidNote(k), reason))
			continue
		}
		if explicit := k.Use == "enc"; best < 0 || (explicit && !bestExplicit) {
			best, bestExplicit = i, explicit
		}
	}
	if best >= 0 {
		return keys[best], nil
	}
	need := "a public RSA key of at least 2048 bits"
	if alg != RSAOAEP256 {
		need = "a public EC key on P-256, P-384 or P-521"
	}
	if len(why) == 0 {
		why = []string{"the set is empty"}
	}
	return jose.JSONWebKey{}, fmt.Errorf("%w with %s (it needs %s whose use is \"enc\" or absent): %s",
		ErrNoKey, alg, need, strings.Join(why, "; "))
}

// unfit says why k cannot receive alg, or "" when it can.
func unfit(k *jose.JSONWebKey, alg string) string {
	if !k.IsPublic() {
		return "is not a public key"
	}
	if k.Use != "" && k.Use != "enc" {
		return fmt.Sprintf("has use %q", k.Use)
	}
	if k.Algorithm != "" && k.Algorithm != alg {
		return fmt.Sprintf("is for alg %q", k.Algorithm)
	}
	switch k.Key.(type) {
	case *rsa.PublicKey:
		if alg != RSAOAEP256 {
			return "is an RSA key"
		}
	case *ecdsa.PublicKey:
		if alg == RSAOAEP256 {
			return "is an EC key"
		}
	default:
		return fmt.Sprintf("is a %T, not an RSA or EC key", k.Key)
	}
	if err := keystrength.Check(k.Key); err != nil {
		return "is " + err.Error()
	}
	return ""
}

func kidNote(k *jose.JSONWebKey) string {
	if k.KeyID == "" {
		return ""
	}
	return fmt.Sprintf(" (kid %q)", k.KeyID)
}

// Encrypt wraps a signed JWT in a JWE for key with alg and enc (empty:
// DefaultContentAlgorithm): a nested JWT, so cty is "JWT" (OIDC Core
// §10.2, RFC 7519 §5.2), and the key's kid goes into the header for the
// client to find its private key.
func Encrypt(signed string, key jose.JSONWebKey, alg, enc string) (string, error) {
	if enc == "" {
		enc = DefaultContentAlgorithm
	}
	if err := errors.Join(CheckKeyAlgorithm(alg), CheckContentAlgorithm(enc)); err != nil {
		return "", err
	}
	if reason := unfit(&key, alg); reason != "" {
		return "", fmt.Errorf("the key %s", reason)
	}
	e, err := jose.NewEncrypter(jose.ContentEncryption(enc),
		jose.Recipient{Algorithm: jose.KeyAlgorithm(alg), Key: key.Key, KeyID: key.KeyID},
		(&jose.EncrypterOptions{}).WithContentType("JWT"))
	if err != nil {
		return "", fmt.Errorf("encrypting with %s/%s: %w", alg, enc, err)
	}
	obj, err := e.Encrypt([]byte(signed))
	if err != nil {
		return "", fmt.Errorf("encrypting with %s/%s: %w", alg, enc, err)
	}
	return obj.CompactSerialize()
}
