package op

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/idaop/ida-operator/runtime/authn"
	"github.com/idaop/ida-operator/runtime/grants"
	"github.com/idaop/ida-operator/runtime/ui"
	"github.com/idaop/ida-operator/runtime/users"
)

// The passkey forms' targets and their metric labels.
const (
	epPasskeyLogin   = "passkey_login"
	epPasskey        = "passkey"
	epPasskeyEnrol   = "passkey_enrol"
	pathPasskeyLogin = "/interaction/passkey-login"
	pathPasskey      = "/interaction/passkey"
	pathPasskeyEnrol = "/interaction/passkey-enrol"
)

// errPasskeyRefused: the answer does not prove a passkey of this user
// (bad signature, wrong origin or challenge, no user verification, a
// credential nobody owns); the page says so and offers another try.
var errPasskeyRefused = errors.New("the passkey answer was refused")

// passkeyAnswer is the posted WebAuthn response, bounded; nil when the
// field is empty or too long.
func passkeyAnswer(in *interaction) []byte {
	v := in.form.Get(ui.FieldCredential)
	if v == "" || len(v) > maxCredentialBytes {
		return nil
	}
	return []byte(v)
}

// passkeySignIn handles the login page's passkey button: a discoverable
// credential names its user (the owner record of its id, whose user
// handle must match), the user must still be in the user source, and the
// sign-in starts a session whose method is the passkey (hwk or swk).
func (p *Provider) passkeySignIn(sv *served, w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	in := p.openInteraction(sv, w, r, grants.StageLogin)
	if in == nil {
		return
	}
	req := &in.rec().Request
	if !sv.passkeySignInOffered(req) {
		p.errorPage(w, r, req.UILocales, errInvalidRequest("passkeys are not offered for this sign-in"))
		return
	}
	source := sourceAddress(r)
	account := "passkey\x00" + source
	switch locked, err := p.grants.LoginLocked(ctx, account, source); {
	case err != nil:
		p.errorPage(w, r, req.UILocales, p.storeFailed(err))
		return
	case locked:
		p.renderInteraction(w, r, sv, in, "", "too_many_attempts")
		return
	}
	now := p.now()
	subject, cred, err := p.verifyDiscoverable(ctx, sv, in, now)
	switch {
	case errors.Is(err, errPasskeyRefused):
		if err := p.loginFailed(ctx, in.client, account, source, "invalid_passkey"); err != nil {
			p.errorPage(w, r, req.UILocales, p.storeFailed(err))
			return
		}
		p.renderInteraction(w, r, sv, in, "", "passkey_refused")
		return
	case err != nil:
		p.errorPage(w, r, req.UILocales, p.storeFailed(err))
		return
	}
	if src := p.userSource(); src == nil {
		p.errorPage(w, r, req.UILocales, errUnavailable("no user source is configured"))
		return
	} else if _, err := src.Lookup(ctx, subject); errors.Is(err, users.ErrNotFound) {
		// The user left the source; their passkey signs in no one.
		p.renderInteraction(w, r, sv, in, "", "passkey_refused")
		return
	} else if err != nil {
		p.log.Warn("user source failed", "op", "lookup", "error", err)
		p.errorPage(w, r, req.UILocales, errUnavailable("sign-in is not available right now"))
		return
	}
	sess, err := p.newSession(ctx, w, r, sv, subject, now, grants.MethodUse{Method: authn.PasskeyMethod(cred.Flags.BackupEligible), At: now.Unix()})
	if err != nil {
		p.errorPage(w, r, req.UILocales, p.storeFailed(err))
		return
	}
	in.rec().Passkey = ""
	p.afterAuthentication(w, r, sv, in, sess, now)
}

// verifyDiscoverable checks a passkey sign-in (WebAuthn §7.2) and records
// the use; it returns the user. errPasskeyRefused for an answer that
// proves nothing; any other error is the store's.
func (p *Provider) verifyDiscoverable(ctx context.Context, sv *served, in *interaction, now time.Time) (string, *webauthn.Credential, error) {
	answer := passkeyAnswer(in)
	if answer == nil {
		return "", nil, errPasskeyRefused
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(answer)
	if err != nil {
		return "", nil, errPasskeyRefused
	}
	session, ok, err := p.passkeyCeremony(ctx, in)
	if err != nil {
		return "", nil, err
	}
	if !ok {
		return "", nil, errPasskeyRefused
	}
	var owner *passkeyUser
	var storeErr error
	find := func(rawID, userHandle []byte) (webauthn.User, error) {
		subject, err := p.passkeyOwner(ctx, sv, rawID)
		if err != nil {
			if !errors.Is(err, grants.ErrNotFound) && !errors.Is(err, errFactorUnreadable) {
				storeErr = err
			}
			return nil, err
		}
		rec, err := p.loadPasskeys(ctx, sv, subject)
		if err != nil {
			storeErr = err
			return nil, err
		}
		if !bytes.Equal(rec.Handle, userHandle) {
			return nil, errors.New("user handle does not match")
		}
		owner = &passkeyUser{subject: subject, name: subject, rec: rec}
		return owner, nil
	}
	_, cred, err := sv.passkeyRP.ValidatePasskeyLogin(find, *session, parsed)
	if storeErr != nil {
		return "", nil, storeErr
	}
	if err != nil || owner == nil {
		return "", nil, errPasskeyRefused
	}
	if cred.Authenticator.CloneWarning {
		p.securityEvent(eventReplay, in.client.ClientID, "passkey signature counter went back: a cloned authenticator?")
		return "", nil, errPasskeyRefused
	}
	usePasskey(owner.rec, cred, now)
	if err := p.savePasskeys(ctx, sv, owner.subject, owner.rec, cred.ID); err != nil {
		return "", nil, err
	}
	return owner.subject, cred, nil
}

// passkeyStepUp handles the passkey prompt of a step-up: one of the
// signed-in user's passkeys, verified by its device.
func (p *Provider) passkeyStepUp(sv *served, w http.ResponseWriter, r *http.Request) {
	p.passkeyFactor(sv, w, r, grants.StagePasskey)
}

// passkeyEnrol handles the passkey registration page: the new passkey,
// created with user verification, is kept and counts as done.
func (p *Provider) passkeyEnrol(sv *served, w http.ResponseWriter, r *http.Request) {
	p.passkeyFactor(sv, w, r, grants.StagePasskeyEnrol)
}

// passkeyFactor checks a signed-in user's passkey answer of the stage,
// records the method in the session and goes on as nextStage says.
func (p *Provider) passkeyFactor(sv *served, w http.ResponseWriter, r *http.Request, stage string) {
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
	if !sv.passkeysOffered() {
		p.errorPage(w, r, req.UILocales, errInvalidRequest("passkeys are not offered"))
		return
	}
	if stage == grants.StagePasskeyEnrol && in.form.Get(ui.FieldSkip) != "" {
		p.skipPasskey(w, r, sv, in, sess, now)
		return
	}
	account, source := "passkey\x00"+sess.Subject, sourceAddress(r)
	switch locked, err := p.grants.LoginLocked(ctx, account, source); {
	case err != nil:
		p.errorPage(w, r, req.UILocales, p.storeFailed(err))
		return
	case locked:
		p.renderInteraction(w, r, sv, in, "", "too_many_attempts")
		return
	}
	verify := p.verifyAssertion
	if stage == grants.StagePasskeyEnrol {
		verify = p.verifyRegistration
	}
	cred, err := verify(ctx, sv, in, sess.Subject, now)
	switch {
	case errors.Is(err, errPasskeyRefused):
		if err := p.loginFailed(ctx, in.client, account, source, "invalid_passkey"); err != nil {
			p.errorPage(w, r, req.UILocales, p.storeFailed(err))
			return
		}
		p.renderInteraction(w, r, sv, in, "", "passkey_refused")
		return
	case errors.Is(err, errTooManyPasskeys):
		p.errorPage(w, r, req.UILocales, errInvalidRequest("this account has as many passkeys as it may keep; remove one first"))
		return
	case err != nil:
		p.errorPage(w, r, req.UILocales, p.storeFailed(err))
		return
	}
	if err := p.grants.ClearLoginFailures(ctx, account); err != nil {
		p.logStoreFailure(err)
	}
	sess.Methods = append(sess.Methods, grants.MethodUse{Method: authn.PasskeyMethod(cred.Flags.BackupEligible), At: now.Unix()})
	if err := p.grants.UpdateSession(ctx, cookie, sess, grants.Remaining(sess.ExpiresAt, now)); err != nil {
		p.errorPage(w, r, req.UILocales, p.storeFailed(err))
		return
	}
	rec.Passkey = ""
	p.afterAuthentication(w, r, sv, in, sess, now)
}

// skipPasskey declines the enrolment offer: only an offer (the session
// meets the request's level without a passkey) can be skipped.
func (p *Provider) skipPasskey(w http.ResponseWriter, r *http.Request, sv *served, in *interaction, sess *grants.Session, now time.Time) {
	rec := in.rec()
	if !rec.EnrolOffered || !sv.authn().Meets(rec.Request.ACR, sess.MethodNames()) {
		p.errorPage(w, r, rec.Request.UILocales, errInvalidRequest("this sign-in needs a passkey; it cannot be skipped"))
		return
	}
	rec.Passkey = ""
	p.afterAuthentication(w, r, sv, in, sess, now)
}

// spendCeremony takes the interaction's WebAuthn ceremony, answerable
// once, and the user's passkeys; a ceremony already answered or missing
// is errPasskeyRefused.
func (p *Provider) spendCeremony(ctx context.Context, sv *served, in *interaction, subject string) (*webauthn.SessionData, *passkeyRecord, error) {
	session, ok, err := p.passkeyCeremony(ctx, in)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, nil, errPasskeyRefused
	}
	rec, err := p.loadPasskeys(ctx, sv, subject)
	if err != nil {
		return nil, nil, err
	}
	return session, rec, nil
}

// verifyAssertion checks an assertion by one of the user's passkeys
// (WebAuthn §7.2) and records the use.
func (p *Provider) verifyAssertion(ctx context.Context, sv *served, in *interaction, subject string, now time.Time) (*webauthn.Credential, error) {
	answer := passkeyAnswer(in)
	if answer == nil {
		return nil, errPasskeyRefused
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(answer)
	if err != nil {
		return nil, errPasskeyRefused
	}
	session, rec, err := p.spendCeremony(ctx, sv, in, subject)
	if err != nil {
		return nil, err
	}
	cred, err := sv.passkeyRP.ValidateLogin(&passkeyUser{subject: subject, name: subject, rec: rec}, *session, parsed)
	if err != nil {
		return nil, errPasskeyRefused
	}
	if cred.Authenticator.CloneWarning {
		p.securityEvent(eventReplay, in.client.ClientID, "passkey signature counter went back: a cloned authenticator?")
		return nil, errPasskeyRefused
	}
	usePasskey(rec, cred, now)
	if err := p.savePasskeys(ctx, sv, subject, rec, cred.ID); err != nil {
		return nil, err
	}
	return cred, nil
}

// errTooManyPasskeys: the user keeps maxPasskeys already.
var errTooManyPasskeys = errors.New("too many passkeys")

// verifyRegistration checks a new passkey (WebAuthn §7.1: origin, RP ID,
// challenge, user verification; attestation "none" is enough, the key's
// maker is not what a sign-in proves) and keeps it.
func (p *Provider) verifyRegistration(ctx context.Context, sv *served, in *interaction, subject string, now time.Time) (*webauthn.Credential, error) {
	answer := passkeyAnswer(in)
	if answer == nil {
		return nil, errPasskeyRefused
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(answer)
	if err != nil {
		return nil, errPasskeyRefused
	}
	session, rec, err := p.spendCeremony(ctx, sv, in, subject)
	if err != nil {
		return nil, err
	}
	switch {
	case len(rec.Keys) >= maxPasskeys:
		return nil, errTooManyPasskeys
	case len(rec.Handle) == 0:
		rec.Handle = session.UserID
	case !bytes.Equal(rec.Handle, session.UserID):
		// The user's first passkey was added elsewhere meanwhile.
		return nil, errPasskeyRefused
	}
	cred, err := sv.passkeyRP.CreateCredential(&passkeyUser{subject: subject, name: subject, rec: rec}, *session, parsed)
	if err != nil || !cred.Flags.UserVerified {
		return nil, errPasskeyRefused
	}
	if owner, err := p.passkeyOwner(ctx, sv, cred.ID); err == nil && owner != subject {
		return nil, errPasskeyRefused
	}
	rec.Keys = append(rec.Keys, storedPasskey{Credential: *cred, Created: now.Unix(), LastUsed: now.Unix()})
	if err := p.savePasskeys(ctx, sv, subject, rec, cred.ID); err != nil {
		return nil, err
	}
	return cred, nil
}
