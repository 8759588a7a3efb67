package op

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"

	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/grants"
)

// A login or consent in progress is not stored: it travels in its own
// form, sealed (AES-256-GCM) with a key derived from the provider's
// signing keys, so every replica opens what any replica sealed, and
// nobody else can read or change it. An anonymous GET /authorize thus
// costs the store nothing; state is written only once the user acts (a
// session when they sign in, a one-time marker when they answer the
// consent page). The seal is bound to the browser by the interaction
// cookie, whose value it carries as a hash.

// sealedInteraction is what a login or consent form carries.
type sealedInteraction struct {
	grants.Interaction
	// ID names the interaction, to answer its consent page once only.
	ID string `json:"id"`
	// Browser is the SHA-256 of the interaction cookie's value.
	Browser string `json:"browser"`
	// ExpiresAt ends the interaction, in Unix seconds.
	ExpiresAt int64 `json:"exp"`
}

// interactionAEADs derives one AES-256-GCM key per signing key, the
// oldest first: it seals, and stays the same across rotations until that
// key leaves the set (as nonceKeys).
func interactionAEADs(ks *config.KeySet) ([]cipher.AEAD, error) {
	return gcmAEADs(derivedKeys(ks, "ida-operator interaction v1"))
}

// gcmAEADs is AES-256-GCM with each key, in order.
func gcmAEADs(keys [][]byte) ([]cipher.AEAD, error) {
	out := make([]cipher.AEAD, 0, len(keys))
	for _, key := range keys {
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		out = append(out, aead)
	}
	return out, nil
}

// derivedKeys derives one 256-bit key per signing key for label, the
// oldest signing key's first.
func derivedKeys(ks *config.KeySet, label string) [][]byte {
	keys := slices.Clone(ks.Keys)
	slices.SortStableFunc(keys, func(a, b config.SigningKey) int { return a.CreatedAt.Compare(b.CreatedAt) })
	out := make([][]byte, 0, len(keys))
	for _, k := range keys {
		m := hmac.New(sha256.New, k.DerivationSecret())
		m.Write([]byte(label))
		out = append(out, m.Sum(nil))
	}
	return out
}

// seal encrypts an interaction for its form.
func (sv *served) seal(si *sealedInteraction) (string, error) {
	if len(sv.interactionAEADs) == 0 {
		return "", errors.New("no key to seal interactions with")
	}
	plain, err := json.Marshal(si)
	if err != nil {
		return "", err
	}
	aead := sv.interactionAEADs[0]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	_, _ = rand.Read(nonce) // never fails (crypto/rand, Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(aead.Seal(nonce, nonce, plain, []byte(sv.issuer))), nil
}

// errNotSealedHere: the form's interaction was not sealed by this provider
// (or was changed).
var errNotSealedHere = errors.New("not an interaction of this provider")

// open decrypts a form's interaction with any of the provider's keys.
func (sv *served) open(sealed string) (*sealedInteraction, error) {
	raw, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil {
		return nil, errNotSealedHere
	}
	for _, aead := range sv.interactionAEADs {
		if len(raw) < aead.NonceSize() {
			break
		}
		plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(sv.issuer))
		if err != nil {
			continue
		}
		var si sealedInteraction
		if err := json.Unmarshal(plain, &si); err != nil {
			return nil, errNotSealedHere
		}
		return &si, nil
	}
	return nil, errNotSealedHere
}

// browserHash binds a sealed interaction to the interaction cookie.
func browserHash(cookie string) string {
	sum := sha256.Sum256([]byte(cookie))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
