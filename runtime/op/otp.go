package op

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/idaop/ida-operator/runtime/authn"
	"github.com/idaop/ida-operator/runtime/grants"
	"github.com/idaop/ida-operator/runtime/ui"
)

// factorLifetime is how long an enrolled code generator stays without
// being used; each use starts it again.
const factorLifetime = 400 * 24 * time.Hour

// otpStepMarkerLifetime keeps a used step's marker while its code could
// still be accepted (the step and the skew after it).
const otpStepMarkerLifetime = (2*authn.TOTPSkew + 2) * authn.TOTPPeriod

// maxCodeBytes bounds the code field.
const maxCodeBytes = 16

// otpStage is the page a step-up to a one-time code shows: the code,
// or enrolment for a user who has no generator yet. A store that fails
// shows the code page, whose answer then reports the failure.
func (p *Provider) otpStage(ctx context.Context, sv *served, subject string) string {
	_, err := p.factors().TOTP(ctx, subject)
	if errors.Is(err, grants.ErrNotFound) {
		return grants.StageOTPEnrol
	}
	return grants.StageOTP
}

// otp handles the one-time code form of a step-up.
func (p *Provider) otp(sv *served, w http.ResponseWriter, r *http.Request) {
	p.checkCode(sv, w, r, grants.StageOTP)
}

// otpEnrol handles the enrolment form: the first code from the new
// generator confirms it.
func (p *Provider) otpEnrol(sv *served, w http.ResponseWriter, r *http.Request) {
	p.checkCode(sv, w, r, grants.StageOTPEnrol)
}

// checkCode verifies a posted code (RFC 6238, ±1 step) for the session's
// user, once per step, under the sign-in throttle; then records the
// factor in the session and goes on as nextStage says.
func (p *Provider) checkCode(sv *served, w http.ResponseWriter, r *http.Request, stage string) {
	ctx := r.Context()
	in := p.openInteraction(sv, w, r, stage)
	if in == nil {
		return
	}
	rec := in.rec()
	req := &rec.Request
	now := p.now()
	sess, cookie := p.interactionSession(w, r, sv, in, now)
	if sess == nil {
		return
	}
	code := in.form.Get(ui.FieldCode)
	if code == "" || len(code) > maxCodeBytes {
		p.renderInteraction(w, r, sv, in, "", "required")
		return
	}
	// The throttle counts code failures per user, apart from passwords
	// typed for the account, and per address with every other failure.
	account, source := "otp\x00"+sess.Subject, sourceAddress(r)
	switch locked, err := p.grants.LoginLocked(ctx, account, source); {
	case err != nil:
		p.errorPage(w, r, req.UILocales, p.storeFailed(err))
		return
	case locked:
		p.renderInteraction(w, r, sv, in, "", "too_many_attempts")
		return
	}
	secret, oerr := p.codeSecret(ctx, sv, stage, rec, sess.Subject)
	if oerr != nil {
		p.errorPage(w, r, req.UILocales, oerr)
		return
	}
	switch ok, err := p.acceptCode(ctx, in, sess.Subject, secret, code, now); {
	case err != nil:
		p.errorPage(w, r, req.UILocales, p.storeFailed(err))
		return
	case !ok:
		if err := p.loginFailed(ctx, in.client, account, source, "invalid_code"); err != nil {
			p.errorPage(w, r, req.UILocales, p.storeFailed(err))
			return
		}
		p.renderInteraction(w, r, sv, in, "", "invalid_code")
		return
	}
	if err := p.codeAccepted(ctx, sv, sess, cookie, account, secret, now); err != nil {
		p.errorPage(w, r, req.UILocales, p.storeFailed(err))
		return
	}
	rec.OTPSecret = ""
	p.afterAuthentication(w, r, sv, in, sess, now)
}

// codeSecret is the generator secret a code is checked against: the one
// being enrolled, while the user has none (a page opened before the user
// enrolled elsewhere never replaces that factor, so whoever knows the
// password cannot swap it for theirs); else the user's, opened.
func (p *Provider) codeSecret(ctx context.Context, sv *served, stage string, rec *grants.Interaction, subject string) (string, *oauthError) {
	sealed, err := p.factors().TOTP(ctx, subject)
	switch {
	case stage == grants.StageOTPEnrol && err == nil:
		return "", errInvalidRequest("an authenticator app was set up for this account meanwhile; start again from the application")
	case stage == grants.StageOTPEnrol && errors.Is(err, grants.ErrNotFound):
		return rec.OTPSecret, nil
	case err != nil:
		return "", p.storeFailed(err)
	}
	secret, err := sv.openFactor(subject, sealed)
	if err != nil {
		p.log.Warn("a stored code generator cannot be opened", "error", err)
		return "", errUnavailable("the one-time code cannot be checked; ask for your authenticator to be set up again")
	}
	return secret, nil
}

// acceptCode: the code is the generator's for a step within the skew,
// and the first use of that step for the user (RFC 6238 §5.2). A replay
// is a security event. An error is the store's.
func (p *Provider) acceptCode(ctx context.Context, in *interaction, subject, secret, code string, now time.Time) (bool, error) {
	step, ok := authn.VerifyTOTP(secret, code, now)
	if !ok {
		return false, nil
	}
	fresh, err := p.grants.SpendTOTPStep(ctx, subject, step, otpStepMarkerLifetime)
	if err != nil {
		return false, err
	}
	if !fresh {
		p.securityEvent(eventReplay, in.client.ClientID, "one-time code used twice")
	}
	return fresh, nil
}

// codeAccepted stores the factor again (sealed with the newest key, its
// lifetime started again; the first time, this is the enrolment), clears
// the code failures and records the method in the session.
func (p *Provider) codeAccepted(ctx context.Context, sv *served, sess *grants.Session, cookie, account, secret string, now time.Time) error {
	sealed, err := sv.sealFactor(sess.Subject, secret)
	if err != nil {
		return err
	}
	if err := p.factors().PutTOTP(ctx, sess.Subject, sealed, factorLifetime); err != nil {
		return err
	}
	if err := p.grants.ClearLoginFailures(ctx, account); err != nil {
		p.logStoreFailure(err) // the count then runs out with its window
	}
	sess.Methods = append(sess.Methods, grants.MethodUse{Method: authn.MethodOTP, At: now.Unix()})
	return p.grants.UpdateSession(ctx, cookie, sess, sessionTTL(sess, sv.provider.Sessions.Idle(), now))
}

// otpEnrolData is what the enrolment page shows: a fresh secret, kept in
// the sealed interaction until a code confirms it, its otpauth URI and
// that as a QR code.
func (p *Provider) otpEnrolData(sv *served, rec *grants.Interaction) (secret, uri string, qr []byte, err error) {
	if rec.OTPSecret == "" {
		rec.OTPSecret = authn.NewTOTPSecret()
	}
	issuer := sv.issuer
	if u, perr := url.Parse(sv.issuer); perr == nil && u.Host != "" {
		issuer = u.Host
	}
	if uri, err = authn.TOTPURI(rec.OTPSecret, issuer, rec.Subject); err != nil {
		return "", "", nil, err
	}
	if qr, err = authn.TOTPQRCode(uri); err != nil {
		return "", "", nil, err
	}
	return rec.OTPSecret, uri, qr, nil
}
