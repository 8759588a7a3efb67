package op

import (
	"context"
	"net"
	"net/http"
	"time"
)

// Credential guessing: failed sign-ins are counted per account and per
// source address within a window; past a threshold every further failure
// locks sign-ins for twice as long as the one before (1 s, 2 s, 4 s, ...),
// up to maxLoginLock. A locked sign-in is refused before the password is
// checked, with the same answer whether or not the account exists.
const (
	loginFailureWindow = 15 * time.Minute
	// accountLockAfter failed sign-ins to one account start its locks.
	accountLockAfter = 3
	// sourceLockAfter failed sign-ins from one address start its locks:
	// higher, since many people may share an address.
	sourceLockAfter = 20
	maxLoginLock    = 15 * time.Minute
)

// loginLock is how long sign-ins are locked after the failures-th failure,
// when the locks start after threshold failures.
func loginLock(failures, threshold int64) time.Duration {
	if failures < threshold {
		return 0
	}
	if failures-threshold >= 20 { // 2^20 s is far past the cap
		return maxLoginLock
	}
	return min(time.Second<<(failures-threshold), maxLoginLock)
}

// sourceAddress is the address the request came from: the peer of the
// connection (a proxy in front of the runtime is one address for all).
func sourceAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// loginFailed counts a failed sign-in (reason: invalid_credentials for a
// password, invalid_code for a one-time code), locks what crossed its
// threshold, and records the security events.
func (p *Provider) loginFailed(ctx context.Context, c *client, account, source, reason string) error {
	p.securityEvent(eventLoginFailed, c.ClientID, reason)
	accountN, sourceN, err := p.grants.CountLoginFailure(ctx, account, source, loginFailureWindow)
	if err != nil {
		return err
	}
	accountFor, sourceFor := loginLock(accountN, accountLockAfter), loginLock(sourceN, sourceLockAfter)
	if accountFor > 0 {
		p.securityEvent(eventLoginLocked, c.ClientID, "account, for "+accountFor.String())
	}
	if sourceFor > 0 {
		p.securityEvent(eventLoginLocked, c.ClientID, "source address, for "+sourceFor.String())
	}
	return p.grants.LockLogin(ctx, account, source, accountFor, sourceFor)
}
