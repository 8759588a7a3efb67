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

// sessionLifetime is how long a sign-in lasts.
const sessionLifetime = 12 * time.Hour

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
	if now.Unix() >= sess.ExpiresAt {
		return nil, ""
	}
	return sess, ck.Value
}

// newSession starts a session, signed in by password (or by methods),
// with a fresh id
// (never the one the browser brought: no session fixation). Consents of
// an earlier session of the same user in this browser carry over; the
// factors done in it do not: a new sign-in starts again.
func (p *Provider) newSession(ctx context.Context, w http.ResponseWriter, r *http.Request, sv *served, subject string, now time.Time, methods ...grants.MethodUse) (*grants.Session, error) {
	if len(methods) == 0 {
		methods = []grants.MethodUse{{Method: authn.MethodPassword, At: now.Unix()}}
	}
	sess := &grants.Session{
		SID: grants.NewSecret()[:22], Subject: subject, AuthTime: now.Unix(), AuthTimeMillis: now.UnixMilli(),
		ExpiresAt: now.Add(sessionLifetime).Unix(), Methods: methods,
	}
	if old, oldID := p.loadSession(ctx, r, sv, now); old != nil {
		if old.Subject == subject {
			sess.Consents = old.Consents
		}
		// The old session's cookie is replaced below; when it cannot be
		// deleted it still expires.
		_ = p.grants.EndSession(ctx, oldID)
	}
	cookie, err := p.grants.StartSession(ctx, sess, sessionLifetime)
	if err != nil {
		return nil, err
	}
	p.setCookie(w, sv, sessionCookie, cookie, cookiePath(sv, "/"), sessionLifetime)
	return sess, nil
}
