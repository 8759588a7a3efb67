package op

import (
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"slices"

	"github.com/idaop/ida-operator/runtime/config"
)

// A user's code generator secret is stored sealed (AES-256-GCM), never in
// the clear. The key comes from the provider's pairwise salt when it has
// one (the operator keeps one for every provider, never rotated: HMAC-
// SHA-256 of the salt with its own label), so a factor outlives every
// signing key. Without a salt (a hand-written --config-dir), one key per
// signing key, derived from it as the interaction keys are; those keys
// also still open factors sealed before the salt was used. Every replica
// derives the same keys and nothing new is kept anywhere. The associated
// data binds a sealed secret to its issuer and user, so a record copied to
// another user's key does not open.
//
// Without a salt a secret is sealed with the newest signing key (the one
// that stays longest) and sealed again with it at each use; one that
// nobody used while every key it could open with left the set is lost,
// and its user enrols again.

const factorSealLabel = "ida-operator factor v1"

// factorAEADs derives the factor keys: the salt's first, then the newest
// signing key's.
func factorAEADs(ks *config.KeySet, salt []byte) ([]cipher.AEAD, error) {
	keys := derivedKeys(ks, factorSealLabel)
	slices.Reverse(keys)
	if len(salt) > 0 {
		m := hmac.New(sha256.New, salt)
		m.Write([]byte(factorSealLabel))
		keys = append([][]byte{m.Sum(nil)}, keys...)
	}
	return gcmAEADs(keys)
}

func (sv *served) factorAD(subject string) []byte {
	return []byte(sv.issuer + "\x00" + subject)
}

// sealFactor encrypts a user's secret with the newest key.
func (sv *served) sealFactor(subject, secret string) ([]byte, error) {
	if len(sv.factorAEADs) == 0 {
		return nil, errors.New("no key to seal factors with")
	}
	aead := sv.factorAEADs[0]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(secret)+aead.Overhead())
	_, _ = rand.Read(nonce) // never fails (crypto/rand, Go 1.24+)
	return aead.Seal(nonce, nonce, []byte(secret), sv.factorAD(subject)), nil
}

// errFactorUnreadable: no current key opens the sealed secret.
var errFactorUnreadable = errors.New("the stored factor cannot be opened with the current keys")

// openFactor decrypts a user's secret with whichever key sealed it.
func (sv *served) openFactor(subject string, sealed []byte) (string, error) {
	for _, aead := range sv.factorAEADs {
		if len(sealed) < aead.NonceSize() {
			break
		}
		plain, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], sv.factorAD(subject))
		if err == nil {
			return string(plain), nil
		}
	}
	return "", errFactorUnreadable
}
