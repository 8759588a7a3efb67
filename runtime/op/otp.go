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
	_, err := p.grants.TOTP(ctx, subject)
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
	sess, cookie := p.loadSession(ctx, r, sv, now)
	if sess == nil || sess.SID != rec.SessionID || sess.Subject != rec.Subject {
		p.errorPage(w, r, req.UILocales, errInvalidRequest("the session changed; start again from the application"))
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
	secret := rec.OTPSecret
	if stage == grants.StageOTPEnrol {
		// A page opened before the user enrolled elsewhere never replaces
		// that factor: whoever knows the password cannot swap it for theirs.
		switch _, err := p.grants.TOTP(ctx, sess.Subject); {
		case err == nil:
			p.errorPage(w, r, req.UILocales, errInvalidRequest("an authenticator app was set up for this account meanwhile; start again from the application"))
			return
		case !errors.Is(err, grants.ErrNotFound):
			p.errorPage(w, r, req.UILocales, p.storeFailed(err))
			return
		}
	}
	if stage == grants.StageOTP {
		sealed, err := p.grants.TOTP(ctx, sess.Subject)
		if err != nil {
			p.errorPage(w, r, req.UILocales, p.storeFailed(err))
			return
		}
		if secret, err = sv.openFactor(sess.Subject, sealed); err != nil {
			p.log.Warn("a stored code generator cannot be opened", "error", err)
			p.errorPage(w, r, req.UILocales, errUnavailable("the one-time code cannot be checked; ask for your authenticator to be set up again"))
			return
		}
	}
	step, ok := authn.VerifyTOTP(secret, code, now)
	if ok {
		fresh, err := p.grants.SpendTOTPStep(ctx, sess.Subject, step, otpStepMarkerLifetime)
		if err != nil {
			p.errorPage(w, r, req.UILocales, p.storeFailed(err))
			return
		}
		if !fresh {
			p.securityEvent(eventReplay, in.client.ClientID, "one-time code used twice")
			ok = false
		}
	}
	if !ok {
		if err := p.loginFailed(ctx, in.client, account, source); err != nil {
			p.errorPage(w, r, req.UILocales, p.storeFailed(err))
			return
		}
		p.renderInteraction(w, r, sv, in, "", "invalid_code")
		return
	}
	// Stored again at each use: the newest key seals it, and its lifetime
	// starts again.
	sealed, err := sv.sealFactor(sess.Subject, secret)
	if err == nil {
		err = p.grants.PutTOTP(ctx, sess.Subject, sealed, factorLifetime)
	}
	if err != nil {
		p.errorPage(w, r, req.UILocales, p.storeFailed(err))
		return
	}
	if err := p.grants.ClearLoginFailures(ctx, account); err != nil {
		p.logStoreFailure(err)
	}
	sess.Methods = append(sess.Methods, grants.MethodUse{Method: authn.MethodOTP, At: now.Unix()})
	if err := p.grants.UpdateSession(ctx, cookie, sess, grants.Remaining(sess.ExpiresAt, now)); err != nil {
		p.errorPage(w, r, req.UILocales, p.storeFailed(err))
		return
	}
	rec.OTPSecret = ""
	p.afterAuthentication(w, r, sv, in, sess, now)
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
