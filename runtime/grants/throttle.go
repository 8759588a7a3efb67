package grants

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/idaop/ida-operator/runtime/store"
)

// Failed sign-ins are counted per account and per source address in fixed
// windows, and a lock is an entry with a ttl, all in the shared store so
// every replica sees the same counts. The account is the username as
// typed, lower-cased: a guess at an account that does not exist counts
// and locks exactly like one at an account that does, so nothing here
// tells the two apart.

func accountKey(account string) string { return keyOf("account\x00" + strings.ToLower(account)) }
func sourceKey(source string) string   { return keyOf("source\x00" + source) }
func lockKey(key string) string        { return "lock:" + key }

// CountLoginFailure counts one failed sign-in against the account and the
// source address and returns both counts in the current windows.
func (g *Store) CountLoginFailure(ctx context.Context, account, source string, window time.Duration) (accountN, sourceN int64, err error) {
	if accountN, err = g.s.Count(ctx, store.KindThrottle, accountKey(account), window); err != nil {
		return 0, 0, failed("count login failure", err)
	}
	if sourceN, err = g.s.Count(ctx, store.KindThrottle, sourceKey(source), window); err != nil {
		return 0, 0, failed("count login failure", err)
	}
	return accountN, sourceN, nil
}

// LockLogin refuses sign-ins to the account for accountFor and from the
// source address for sourceFor; a zero duration locks nothing.
func (g *Store) LockLogin(ctx context.Context, account, source string, accountFor, sourceFor time.Duration) error {
	for _, l := range []struct {
		key string
		d   time.Duration
	}{{accountKey(account), accountFor}, {sourceKey(source), sourceFor}} {
		if l.d <= 0 {
			continue
		}
		if err := g.s.Put(ctx, store.KindThrottle, lockKey(l.key), []byte{1}, l.d); err != nil {
			return failed("lock login", err)
		}
	}
	return nil
}

// LoginLocked reports whether sign-ins to the account or from the source
// address are locked now.
func (g *Store) LoginLocked(ctx context.Context, account, source string) (bool, error) {
	for _, key := range []string{accountKey(account), sourceKey(source)} {
		_, err := g.s.Get(ctx, store.KindThrottle, lockKey(key))
		switch {
		case err == nil:
			return true, nil
		case !errors.Is(err, store.ErrNotFound):
			return false, failed("read login lock", err)
		}
	}
	return false, nil
}

// CountPush counts one pushed authorization request of a client in the
// current window and returns the window's count.
func (g *Store) CountPush(ctx context.Context, clientID string, window time.Duration) (int64, error) {
	n, err := g.s.Count(ctx, store.KindThrottle, keyOf("push\x00"+clientID), window)
	if err != nil {
		return 0, failed("count push", err)
	}
	return n, nil
}

// ClearLoginFailures forgets the account's failures after a sign-in that
// worked; the source address keeps its count.
func (g *Store) ClearLoginFailures(ctx context.Context, account string) error {
	if err := g.s.Delete(ctx, store.KindThrottle, accountKey(account)); err != nil {
		return failed("clear login failures", err)
	}
	return nil
}
