package op

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/idaop/ida-operator/runtime/grants"
)

// Cookies. Both are HttpOnly and SameSite=Lax (sent on the top-level
// navigation from a relying party, never on its cross-site POSTs), and
// Secure when the issuer is https.
const (
	sessionCookie     = "ida_session"
	interactionCookie = "ida_interaction"
)

// sessionLifetime is how long a sign-in lasts.
const sessionLifetime = 12 * time.Hour

func (p *Provider) setCookie(w http.ResponseWriter, sv *served, name, value, path string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: path, MaxAge: int(maxAge / time.Second),
		HttpOnly: true, Secure: sv.secure, SameSite: http.SameSiteLaxMode,
	})
}

func cookiePath(sv *served, suffix string) string {
	if sv.basePath == "" && suffix == "" {
		return "/"
	}
	return sv.basePath + suffix
}

// loadSession returns the signed-in session of the browser, or nil.
func (p *Provider) loadSession(ctx context.Context, r *http.Request, now time.Time) (*grants.Session, string) {
	ck, err := r.Cookie(sessionCookie)
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

// newSession starts a session with a fresh id (never the one the browser
// brought: no session fixation). Consents of an earlier session of the
// same user in this browser carry over.
func (p *Provider) newSession(ctx context.Context, w http.ResponseWriter, r *http.Request, sv *served, subject string, now time.Time) (*grants.Session, error) {
	sess := &grants.Session{SID: grants.NewSecret()[:22], Subject: subject, AuthTime: now.Unix(), AuthTimeMillis: now.UnixMilli(), ExpiresAt: now.Add(sessionLifetime).Unix()}
	if old, oldID := p.loadSession(ctx, r, now); old != nil {
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
