package op

import (
	"context"
	"errors"
	"time"

	"github.com/idaop/ida-operator/runtime/grants"
	"github.com/idaop/ida-operator/runtime/users"
)

// factorRecords is where users' sealed factors are kept: the session
// store (grants.Store, the builtin user source) or the user source itself
// when it keeps them (the HTTP source with factors set), so a bank's
// identity system stays their owner. The markers that make a code or a
// challenge one-time stay in the session store either way.
type factorRecords interface {
	TOTP(ctx context.Context, subject string) ([]byte, error)
	PutTOTP(ctx context.Context, subject string, sealed []byte, ttl time.Duration) error
	DeleteTOTP(ctx context.Context, subject string) error
	Passkeys(ctx context.Context, subject string) ([]byte, error)
	PutPasskeys(ctx context.Context, subject string, sealed []byte, ttl time.Duration) error
	DeletePasskeys(ctx context.Context, subject string) error
	PasskeyOwner(ctx context.Context, credentialID []byte) ([]byte, error)
	PutPasskeyOwner(ctx context.Context, credentialID, sealedSubject []byte, ttl time.Duration) error
	DeletePasskeyOwner(ctx context.Context, credentialID []byte) error
}

var _ factorRecords = (*grants.Store)(nil)

// factors is where this provider keeps factors now.
func (p *Provider) factors() factorRecords {
	if fs, ok := p.userSource().(users.FactorStore); ok && fs.KeepsFactors() {
		return sourceFactors{fs}
	}
	return p.grants
}

// sourceFactors keeps factors in the user source; it keeps them as long
// as it likes (ttl is the session store's notion), and its "not found" is
// grants.ErrNotFound to the callers.
type sourceFactors struct{ src users.FactorStore }

const (
	factorKindTOTP     = "totp"
	factorKindPasskeys = "passkeys"
)

func notFound(b []byte, err error) ([]byte, error) {
	if errors.Is(err, users.ErrNotFound) {
		return nil, grants.ErrNotFound
	}
	return b, err
}

func (s sourceFactors) TOTP(ctx context.Context, subject string) ([]byte, error) {
	return notFound(s.src.UserFactor(ctx, subject, factorKindTOTP))
}

func (s sourceFactors) PutTOTP(ctx context.Context, subject string, sealed []byte, _ time.Duration) error {
	return s.src.PutUserFactor(ctx, subject, factorKindTOTP, sealed)
}

func (s sourceFactors) DeleteTOTP(ctx context.Context, subject string) error {
	return s.src.DeleteUserFactor(ctx, subject, factorKindTOTP)
}

func (s sourceFactors) Passkeys(ctx context.Context, subject string) ([]byte, error) {
	return notFound(s.src.UserFactor(ctx, subject, factorKindPasskeys))
}

func (s sourceFactors) PutPasskeys(ctx context.Context, subject string, sealed []byte, _ time.Duration) error {
	return s.src.PutUserFactor(ctx, subject, factorKindPasskeys, sealed)
}

func (s sourceFactors) DeletePasskeys(ctx context.Context, subject string) error {
	return s.src.DeleteUserFactor(ctx, subject, factorKindPasskeys)
}

func (s sourceFactors) PasskeyOwner(ctx context.Context, credentialID []byte) ([]byte, error) {
	return notFound(s.src.PasskeyIndex(ctx, credentialID))
}

func (s sourceFactors) PutPasskeyOwner(ctx context.Context, credentialID, sealedSubject []byte, _ time.Duration) error {
	return s.src.PutPasskeyIndex(ctx, credentialID, sealedSubject)
}

func (s sourceFactors) DeletePasskeyOwner(ctx context.Context, credentialID []byte) error {
	return s.src.DeletePasskeyIndex(ctx, credentialID)
}
