package grants

import (
	"context"
	"strconv"
	"time"

	"github.com/idaop/ida-operator/runtime/store"
)

// A user's one-time code generator (RFC 6238) lives in the shared store,
// so every replica sees one enrolment: its secret sealed by the caller
// (package op; this package never sees it in the clear), and a set-once
// marker per user and step, so a code is used once.

func totpKey(subject string) string { return keyOf("totp\x00" + subject) }
func totpStepKey(subject string, step int64) string {
	return keyOf("totp-step\x00" + subject + "\x00" + strconv.FormatInt(step, 10))
}

// PutTOTP stores a user's sealed code generator secret for ttl, replacing
// any earlier one.
func (g *Store) PutTOTP(ctx context.Context, subject string, sealed []byte, ttl time.Duration) error {
	if err := g.s.Put(ctx, store.KindFactor, totpKey(subject), sealed, ttl); err != nil {
		return failed("put totp", err)
	}
	return nil
}

// TOTP returns a user's sealed secret, or ErrNotFound when the user has
// enrolled none.
func (g *Store) TOTP(ctx context.Context, subject string) ([]byte, error) {
	b, err := g.s.Get(ctx, store.KindFactor, totpKey(subject))
	if err != nil {
		return nil, failed("get totp", err)
	}
	return b, nil
}

// SpendTOTPStep marks the user's code of one step used until ttl ends and
// reports whether it was the first use: of concurrent uses, exactly one.
func (g *Store) SpendTOTPStep(ctx context.Context, subject string, step int64, ttl time.Duration) (bool, error) {
	fresh, err := g.s.Remember(ctx, store.KindFactor, totpStepKey(subject, step), max(ttl, time.Second))
	if err != nil {
		return false, failed("spend totp step", err)
	}
	return fresh, nil
}

// DeleteTOTP forgets a user's code generator.
func (g *Store) DeleteTOTP(ctx context.Context, subject string) error {
	if err := g.s.Delete(ctx, store.KindFactor, totpKey(subject)); err != nil {
		return failed("delete totp", err)
	}
	return nil
}
