package grants

import (
	"context"
	"encoding/base64"
	"time"

	"github.com/idaop/ida-operator/runtime/store"
)

// A user's passkeys (WebAuthn credentials) live in the shared store beside
// the code generator, so a passkey enrolled through one replica signs in
// at every other: one sealed record per user with all of them (package op
// seals it; this package never sees it in the clear), and one owner
// record per credential id, so a passkey alone (a discoverable
// credential, which names itself but not the user) finds its user.

func passkeysKey(subject string) string { return keyOf("passkeys\x00" + subject) }
func passkeyOwnerKey(credentialID []byte) string {
	return keyOf("passkey-owner\x00" + base64.RawURLEncoding.EncodeToString(credentialID))
}
func passkeyChallengeKey(challenge string) string { return keyOf("passkey-challenge\x00" + challenge) }

// PutPasskeys stores a user's sealed passkeys for ttl, replacing the
// earlier record.
func (g *Store) PutPasskeys(ctx context.Context, subject string, sealed []byte, ttl time.Duration) error {
	if err := g.s.Put(ctx, store.KindFactor, passkeysKey(subject), sealed, ttl); err != nil {
		return failed("put passkeys", err)
	}
	return nil
}

// Passkeys returns a user's sealed passkeys, or ErrNotFound when the user
// has none.
func (g *Store) Passkeys(ctx context.Context, subject string) ([]byte, error) {
	b, err := g.s.Get(ctx, store.KindFactor, passkeysKey(subject))
	if err != nil {
		return nil, failed("get passkeys", err)
	}
	return b, nil
}

// DeletePasskeys forgets all of a user's passkeys.
func (g *Store) DeletePasskeys(ctx context.Context, subject string) error {
	if err := g.s.Delete(ctx, store.KindFactor, passkeysKey(subject)); err != nil {
		return failed("delete passkeys", err)
	}
	return nil
}

// PutPasskeyOwner records whose a credential is (the subject, sealed by
// the caller) for ttl.
func (g *Store) PutPasskeyOwner(ctx context.Context, credentialID, sealedSubject []byte, ttl time.Duration) error {
	if err := g.s.Put(ctx, store.KindFactor, passkeyOwnerKey(credentialID), sealedSubject, ttl); err != nil {
		return failed("put passkey owner", err)
	}
	return nil
}

// PasskeyOwner returns a credential's sealed owner, or ErrNotFound.
func (g *Store) PasskeyOwner(ctx context.Context, credentialID []byte) ([]byte, error) {
	b, err := g.s.Get(ctx, store.KindFactor, passkeyOwnerKey(credentialID))
	if err != nil {
		return nil, failed("get passkey owner", err)
	}
	return b, nil
}

// DeletePasskeyOwner forgets whose a credential is.
func (g *Store) DeletePasskeyOwner(ctx context.Context, credentialID []byte) error {
	if err := g.s.Delete(ctx, store.KindFactor, passkeyOwnerKey(credentialID)); err != nil {
		return failed("delete passkey owner", err)
	}
	return nil
}

// SpendPasskeyChallenge marks a WebAuthn challenge answered until ttl
// ends and reports whether this was the first answer: of concurrent
// answers to one challenge, exactly one.
func (g *Store) SpendPasskeyChallenge(ctx context.Context, challenge string, ttl time.Duration) (bool, error) {
	fresh, err := g.s.Remember(ctx, store.KindFactor, passkeyChallengeKey(challenge), max(ttl, time.Second))
	if err != nil {
		return false, failed("spend passkey challenge", err)
	}
	return fresh, nil
}
