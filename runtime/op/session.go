package op

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/idaop/ida-operator/runtime/authn"
	"github.com/idaop/ida-operator/runtime/grants"
)

// Cookies. Both are HttpOnly and SameSite=Lax (sent on the top-level
// navigation from a relying party, never on its cross-site POSTs), and
// Secure when the issuer is https; then their names carry a prefix that
// browsers enforce (RFC 6265bis §4.1.3): __Host- for an issuer at the root
// of its host (Secure, Path=/, no Domain: no subdomain or plain-http page
// can set or shadow them), __Secure- for an issuer below a path, whose
// cookies keep to that path.
const (
	sessionCookie     = "ida_session"
	interactionCookie = "ida_interaction"
)

// cookieName is the name a cookie has at this issuer.
func (sv *served) cookieName(name string) string {
	switch {
	case !sv.secure:
		return name
	case sv.basePath == "":
		return "__Host-" + name
	}
	return "__Secure-" + name
}

// touchInterval is how stale a session's LastSeen may get before a use
// writes it again: the idle clock moves on use, but not every request
// costs a store write.
const touchInterval = time.Minute

func (p *Provider) setCookie(w http.ResponseWriter, sv *served, name, value, path string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name: sv.cookieName(name), Value: value, Path: path, MaxAge: int(maxAge / time.Second),
		HttpOnly: true, Secure: sv.secure, SameSite: http.SameSiteLaxMode,
	})
}

// cookiePath is where below the issuer a cookie is sent; a __Host- cookie
// must have Path=/.
func cookiePath(sv *served, suffix string) string {
	if sv.basePath == "" && (suffix == "" || sv.secure) {
		return "/"
	}
	return sv.basePath + suffix
}

// loadSession returns the signed-in session of the browser, or nil.
func (p *Provider) loadSession(ctx context.Context, r *http.Request, sv *served, now time.Time) (*grants.Session, string) {
	ck, err := r.Cookie(sv.cookieName(sessionCookie))
	if err != nil || ck.Value == "" || len(ck.Value) > 128 {
		return nil, ""
	}
	sess, err := p.grants.Session(ctx, ck.Value)
	if err != nil {
		// A store that fails counts as signed out: the user is asked to
		// sign in, and that step answers the failure.
		if !errors.Is(err, grants.ErrNotFound) {
			p.logStoreFailure(err)
		}
		return nil, ""
	}
	if sessionEnded(sess, sv.provider.Sessions.Idle(), now) {
		return nil, ""
	}
	if seen := lastSeen(sess); now.Sub(time.Unix(seen, 0)) > touchInterval {
		sess.LastSeen = now.Unix()
		// Not moving the idle clock only signs the person out sooner.
		if err := p.grants.UpdateSession(ctx, ck.Value, sess, sessionTTL(sess, sv.provider.Sessions.Idle(), now)); err != nil {
			p.logStoreFailure(err)
		}
	}
	return sess, ck.Value
}

// sessionEnded: a session ends at its absolute end (ExpiresAt, set at
// sign-in) or after idle without use, whichever comes first.
func sessionEnded(s *grants.Session, idle time.Duration, now time.Time) bool {
	return now.Unix() >= s.ExpiresAt || !now.Before(time.Unix(lastSeen(s), 0).Add(idle))
}

// lastSeen is when a session was last used; a session written before
// that was recorded counts from its sign-in.
func lastSeen(s *grants.Session) int64 {
	if s.LastSeen != 0 {
		return s.LastSeen
	}
	return s.AuthTime
}

// sessionTTL is how long the store keeps a session after a write: until
// it would end if not used again.
func sessionTTL(s *grants.Session, idle time.Duration, now time.Time) time.Duration {
	return min(grants.Remaining(s.ExpiresAt, now), time.Unix(lastSeen(s), 0).Add(idle).Sub(now))
}

// newSession starts a session, signed in by password (or by methods), under a fresh
// cookie (never the one the browser brought: no session fixation). An
// earlier session of the same user in this browser passes on its sid,
// consents and clients; the factors done in it do not: a new sign-in
// starts again. Another user's earlier session ends, with back-channel
// logout. The session's idle and absolute ends come from the provider's
// sessions policy.
func (p *Provider) newSession(ctx context.Context, w http.ResponseWriter, r *http.Request, sv *served, subject string, now time.Time, methods ...grants.MethodUse) (*grants.Session, error) {
	if len(methods) == 0 {
		methods = []grants.MethodUse{{Method: authn.MethodPassword, At: now.Unix()}}
	}
	policy := sv.provider.Sessions
	sess := &grants.Session{
		SID: grants.NewSecret()[:22], Subject: subject, AuthTime: now.Unix(), AuthTimeMillis: now.UnixMilli(),
		ExpiresAt: now.Add(policy.Absolute()).Unix(), LastSeen: now.Unix(),
		Methods: methods,
	}
	var carried []grants.SignedInClient
	if old, oldID := p.loadSession(ctx, r, sv, now); old != nil {
		// The old session's cookie is replaced below; when it cannot be
		// deleted it still expires.
		_, ended, err := p.grants.EndSession(ctx, oldID)
		switch {
		case old.Subject == subject:
			// The same person signing in again (prompt=login, max_age)
			// continues the session: its sid, consents and clients stay,
			// so no relying party is logged out by it.
			sess.SID, sess.Consents = old.SID, old.Consents
			if err == nil {
				carried = ended.Clients
			}
		case err == nil:
			p.sessionsEnded(sv, *ended)
		}
	}
	cookie, ended, err := p.grants.StartSession(ctx, sess, sessionTTL(sess, policy.Idle(), now), policy.PerUser())
	if err != nil {
		return nil, err
	}
	p.sessionsEnded(sv, ended...)
	for _, c := range carried {
		if err := p.grants.SignedInTo(ctx, subject, sess.SID, c.ClientID, c.Subject); err != nil {
			p.logStoreFailure(err)
		}
	}
	p.setCookie(w, sv, sessionCookie, cookie, cookiePath(sv, "/"), policy.Absolute())
	return sess, nil
}

// noteSignedIn records that the session signed in to a client, with the
// sub the client sees, so that its logout reaches the client
// (back-channel logout). Failing to note it only loses that message.
func (p *Provider) noteSignedIn(ctx context.Context, sv *served, clientID string, who signedIn) {
	c := sv.clients[clientID]
	if c == nil || who.sid == "" {
		return
	}
	if err := p.grants.SignedInTo(ctx, who.subject, who.sid, clientID, subjectFor(sv, c, who.subject)); err != nil {
		p.logStoreFailure(err)
	}
}
