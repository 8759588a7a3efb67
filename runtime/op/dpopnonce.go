package op

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"time"

	"github.com/idaop/ida-operator/runtime/config"
)

// DPoP nonces (RFC 9449 §8, §9) are stateless: a nonce names a time window
// and carries an HMAC over it, keyed by a value derived from the
// provider's private signing keys. Every replica holds the same keys, so
// each issues and accepts the same nonces without a store round trip, and
// nobody without the keys can make one.
const dpopNonceWindow = 5 * time.Minute

// DPoPNonceHeader carries a fresh nonce in answers to DPoP requests.
const DPoPNonceHeader = "DPoP-Nonce"

// nonceKeys derives one HMAC key per signing key (derivedKeys). The first
// is the oldest key's, which issues: it stays the same across rotations
// until that key leaves the set, so replicas that apply a new key set at
// slightly different moments keep agreeing.
func nonceKeys(ks *config.KeySet) [][]byte { return derivedKeys(ks, "ida-operator DPoP nonce v1") }

// dpopNonce is the nonce of now's window.
func (sv *served) dpopNonce(now time.Time) string {
	if len(sv.nonceKeys) == 0 {
		return ""
	}
	return makeNonce(sv.nonceKeys[0], now.Unix()/int64(dpopNonceWindow/time.Second))
}

// validDPoPNonce accepts the nonce of now's window and of the one before,
// so a nonce lives between 5 and 10 minutes, made with any key in the set.
func (sv *served) validDPoPNonce(nonce string, now time.Time) bool {
	w := now.Unix() / int64(dpopNonceWindow/time.Second)
	for _, k := range sv.nonceKeys {
		for _, win := range []int64{w, w - 1} {
			if hmac.Equal([]byte(nonce), []byte(makeNonce(k, win))) {
				return true
			}
		}
	}
	return false
}

func makeNonce(key []byte, window int64) string {
	var b [8 + 16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(window))
	m := hmac.New(sha256.New, key)
	m.Write(b[:8])
	copy(b[8:], m.Sum(nil))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// errUseDPoPNonce asks the client to retry with the nonce it carries.
func errUseDPoPNonce(desc, nonce string) *oauthError {
	return &oauthError{Code: "use_dpop_nonce", Description: desc, DPoPNonce: nonce}
}
