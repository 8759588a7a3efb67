package op

import (
	"context"
	"errors"

	"github.com/idaop/ida-operator/runtime/users"
)

// lookupUser finds the grant's user; an unavailable source is
// temporarily_unavailable, a vanished user invalid_grant.
func (p *Provider) lookupUser(ctx context.Context, subject string) (*users.User, *oauthError) {
	src := p.userSource()
	if src == nil {
		return nil, errUnavailable("no user source is configured")
	}
	u, err := src.Lookup(ctx, subject)
	switch {
	case errors.Is(err, users.ErrNotFound):
		return nil, errInvalidGrant("the user no longer exists")
	case err != nil:
		p.log.Warn("user source failed", "op", "lookup", "error", err)
		return nil, errUnavailable("the user source is unavailable")
	}
	return u, nil
}

func datasetOf(u *users.User) []byte {
	if len(u.Dataset) == 0 {
		return []byte("{}")
	}
	return u.Dataset
}
