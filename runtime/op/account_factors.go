package op

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/idaop/ida-operator/runtime/grants"
	"github.com/idaop/ida-operator/runtime/ui"
)

// The factor page: {issuer}/account/factors lists the signed-in user's
// own second factors (passkeys, the code generator) and removes them.
// Adding one happens in a sign-in (the offer, or a level's step-up), where
// the password was just checked.
const (
	epAccountFactors   = "account_factors"
	pathAccountFactors = "/account/factors"
)

// Fields of the factor page's remove forms.
const (
	fieldRemove    = "remove"
	fieldFactorID  = "id"
	removeTOTP     = "totp"
	removePasskey  = "passkey"
	accountCSRFTag = "ida-operator account csrf v1\x00"
)

// accountCSRF is the factor page's CSRF token: a hash of the session
// cookie's value, which only this browser holds (HttpOnly), so a page of
// another site can neither read nor make it; it changes with every
// sign-in. The cookie itself is never shown.
func accountCSRF(cookie string) string {
	sum := sha256.Sum256([]byte(accountCSRFTag + cookie))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// accountFactors serves the factor page: GET lists, POST removes one
// factor (CSRF-checked) and lists again. Without a session it says to
// sign in first (401).
func (p *Provider) accountFactors(sv *served, w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := ui.PickLanguage("", r.Header.Get("Accept-Language"))
	sess, cookie := p.loadSession(ctx, r, sv, p.now())
	if sess == nil {
		p.rendered(w, sv.ui.Factors(w, http.StatusUnauthorized, ui.FactorsData{Lang: lang, SignedOut: true}))
		return
	}
	d := ui.FactorsData{Lang: lang, Action: sv.basePath + pathAccountFactors, CSRFToken: accountCSRF(cookie)}
	if r.Method == http.MethodPost {
		form, perr := readParams(r)
		if perr != nil {
			p.errorPage(w, r, "", perr)
			return
		}
		if subtle.ConstantTimeCompare([]byte(form.Get(ui.FieldCSRFToken)), []byte(d.CSRFToken)) != 1 {
			p.errorPage(w, r, "", errInvalidRequest("the form's CSRF token does not match"))
			return
		}
		switch err := p.removeFactor(r, sv, sess.Subject, form.Get(fieldRemove), form.Get(fieldFactorID)); {
		case errors.Is(err, errNoSuchFactor):
			p.errorPage(w, r, "", errInvalidRequest("no such sign-in method"))
			return
		case err != nil:
			p.errorPage(w, r, "", p.storeFailed(err))
			return
		}
		d.Notice = "removed"
	}
	_, err := p.factors().TOTP(ctx, sess.Subject)
	switch {
	case err == nil:
		d.TOTP = true
	case !errors.Is(err, grants.ErrNotFound):
		p.errorPage(w, r, "", p.storeFailed(err))
		return
	}
	if sv.passkeysOffered() {
		rec, err := p.loadPasskeys(ctx, sv, sess.Subject)
		if err != nil {
			p.errorPage(w, r, "", p.storeFailed(err))
			return
		}
		for _, k := range rec.Keys {
			d.Passkeys = append(d.Passkeys, ui.FactorPasskey{
				ID: base64.RawURLEncoding.EncodeToString(k.Credential.ID), Synced: k.Credential.Flags.BackupEligible,
				Added: time.Unix(k.Created, 0).UTC(), LastUsed: time.Unix(k.LastUsed, 0).UTC(),
			})
		}
	}
	p.rendered(w, sv.ui.Factors(w, http.StatusOK, d))
}

// errNoSuchFactor: the form names a factor the user does not have.
var errNoSuchFactor = errors.New("no such factor")

// removeFactor removes one of the user's factors: the code generator, or
// the passkey whose credential id (base64url) is given, with the record
// that led it to the user.
func (p *Provider) removeFactor(r *http.Request, sv *served, subject, kind, id string) error {
	ctx := r.Context()
	switch kind {
	case removeTOTP:
		if _, err := p.factors().TOTP(ctx, subject); err != nil {
			if errors.Is(err, grants.ErrNotFound) {
				return errNoSuchFactor
			}
			return err
		}
		if err := p.factors().DeleteTOTP(ctx, subject); err != nil {
			return err
		}
	case removePasskey:
		raw, err := base64.RawURLEncoding.DecodeString(id)
		if err != nil || !sv.passkeysOffered() {
			return errNoSuchFactor
		}
		rec, err := p.loadPasskeys(ctx, sv, subject)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(rec.Keys, func(k storedPasskey) bool { return bytes.Equal(k.Credential.ID, raw) })
		if i < 0 {
			return errNoSuchFactor
		}
		rec.Keys = slices.Delete(rec.Keys, i, i+1)
		if err := p.savePasskeys(ctx, sv, subject, rec); err != nil {
			return err
		}
		if err := p.factors().DeletePasskeyOwner(ctx, raw); err != nil {
			return err
		}
	default:
		return errNoSuchFactor
	}
	p.log.Info("a user removed a sign-in method", "method", kind)
	return nil
}
