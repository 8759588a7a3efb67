package op

import (
	"errors"
	"net/http"
	"time"

	"github.com/idaop/ida-operator/runtime/grants"
	"github.com/idaop/ida-operator/runtime/ui"
	"github.com/idaop/ida-operator/runtime/users"
)

// Login form bounds.
const (
	maxUsernameBytes = 256
	maxPasswordBytes = 1024
)

// login handles the sign-in form; a user who signed in goes on to the
// consent page, or straight back with a code when nextStage says this
// session approved the request before.
func (p *Provider) login(sv *served, w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	in := p.openInteraction(sv, w, r, grants.StageLogin)
	if in == nil {
		return
	}
	req := &in.rec().Request
	username, password := in.form.Get(ui.FieldUsername), in.form.Get(ui.FieldPassword)
	if username == "" || password == "" {
		p.renderInteraction(w, r, sv, in, truncate(username, maxUsernameBytes), "required")
		return
	}
	if len(username) > maxUsernameBytes || len(password) > maxPasswordBytes {
		p.renderInteraction(w, r, sv, in, truncate(username, maxUsernameBytes), "invalid_credentials")
		return
	}
	src := p.userSource()
	if src == nil {
		p.errorPage(w, r, req.UILocales, errUnavailable("no user source is configured"))
		return
	}
	source := sourceAddress(r)
	switch locked, err := p.grants.LoginLocked(ctx, username, source); {
	case err != nil:
		p.errorPage(w, r, req.UILocales, p.storeFailed(err))
		return
	case locked:
		// The password is not checked: a guess during a lock learns
		// nothing, right or wrong.
		p.renderInteraction(w, r, sv, in, username, "too_many_attempts")
		return
	}
	u, err := src.Authenticate(ctx, username, password)
	switch {
	case errors.Is(err, users.ErrInvalidCredentials), errors.Is(err, users.ErrNotFound):
		// Which of the two is not said, here or in the event.
		if err := p.loginFailed(ctx, in.client, username, source, "invalid_credentials"); err != nil {
			p.errorPage(w, r, req.UILocales, p.storeFailed(err))
			return
		}
		p.renderInteraction(w, r, sv, in, username, "invalid_credentials")
		return
	case err != nil:
		p.log.Warn("user source failed", "op", "authenticate", "error", err)
		p.errorPage(w, r, req.UILocales, errUnavailable("sign-in is not available right now"))
		return
	}
	if err := p.grants.ClearLoginFailures(ctx, username); err != nil {
		// The count then runs out with its window.
		p.logStoreFailure(err)
	}
	now := p.now()
	sess, err := p.newSession(ctx, w, r, sv, u.Subject, now)
	if err != nil {
		p.errorPage(w, r, req.UILocales, p.storeFailed(err))
		return
	}
	p.afterAuthentication(w, r, sv, in, sess, now)
}

// afterAuthentication goes on from a sign-in or step-up in this
// interaction: to the code, the next factor, or the consent page, as
// nextStage says.
func (p *Provider) afterAuthentication(w http.ResponseWriter, r *http.Request, sv *served, in *interaction, sess *grants.Session, now time.Time) {
	req := &in.rec().Request
	if in.rec().Account {
		p.toAccountPage(w, sv, req.UILocales, "")
		return
	}
	stage := nextStage(req, sess, sv.seenBy(in.client), now, true, sv.authn(), p.consentCovers(r.Context(), sv, in.client, req, sess))
	if stage != grants.StageStepUp && p.offerPasskey(r.Context(), sv, in.rec(), sess) {
		stage = grants.StagePasskeyEnrol
	}
	if stage == "" {
		p.issueCode(w, r, sv, req, signedInAs(sv, req, sess), nil)
		return
	}
	if stage == grants.StageStepUp {
		if stage = p.stepUpStage(r.Context(), sv, req, sess); stage == "" {
			p.redirectError(w, r, sv, req, newError("unmet_authentication_requirements", "the requested authentication level cannot be met"))
			return
		}
	}
	rec := in.rec()
	rec.Stage = stage
	recordSignIn(rec, sess)
	p.renderInteraction(w, r, sv, in, "", "")
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
