package op

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
)

// subjectFor is the one place that turns the provider's id of a person
// (localSub, what grants, sessions and the user source hold) into the
// `sub` client c sees (OIDC Core §8). A public client sees the local id;
// a pairwise one HMAC-SHA-256, keyed with the provider's salt, over its
// sector and the local id (OIDC Core §8.1), base64url: the same person
// has one `sub` per sector, and clients of different sectors cannot join
// their records on it, nor learn the local id from it.
//
// Every member is length-prefixed, so no sector and id run together into
// another pair's input.
func subjectFor(sv *served, c *client, localSub string) string {
	if c.sector == "" {
		return localSub
	}
	return pairwiseSubject(sv.snap.PairwiseSalt, c.sector, localSub)
}

// seenBy is subjectFor for one client, for code that compares a `sub` the
// client sent (id_token_hint) with a local id.
func (sv *served) seenBy(c *client) func(localSub string) string {
	return func(localSub string) string { return subjectFor(sv, c, localSub) }
}

func pairwiseSubject(salt []byte, sector, localSub string) string {
	mac := hmac.New(sha256.New, salt)
	var n [4]byte
	for _, part := range []string{sector, localSub} {
		binary.BigEndian.PutUint32(n[:], uint32(len(part)))
		mac.Write(n[:])
		mac.Write([]byte(part))
	}
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}
