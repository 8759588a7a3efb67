package op

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/idaop/ida-operator/runtime/authn"
	"github.com/idaop/ida-operator/runtime/grants"
	"github.com/idaop/ida-operator/runtime/ui"
)

// interactionLifetime is how long a login or consent page may stay open.
const interactionLifetime = 10 * time.Minute

// interaction is a posted login or consent form with what it belongs to.
type interaction struct {
	form url.Values
	// cookie is the interaction cookie's value, which the seal is bound to.
	cookie string
	sealed *sealedInteraction
	client *client
}

// rec is the interaction's state.
func (in *interaction) rec() *grants.Interaction { return &in.sealed.Interaction }

// startInteraction renders the page of rec's stage in a new interaction:
// a fresh cookie for this browser and the interaction sealed in the page.
// Nothing is stored.
func (p *Provider) startInteraction(w http.ResponseWriter, r *http.Request, sv *served, c *client, rec *grants.Interaction) {
	p.renderInteraction(w, r, sv, p.newInteraction(w, sv, c, rec), "", "")
}

// newInteraction gives rec a CSRF token and this browser a fresh
// interaction cookie that the seal is bound to.
func (p *Provider) newInteraction(w http.ResponseWriter, sv *served, c *client, rec *grants.Interaction) *interaction {
	rec.CSRF = grants.NewSecret()
	cookie := grants.NewSecret()
	in := &interaction{cookie: cookie, client: c, sealed: &sealedInteraction{
		Interaction: *rec, ID: grants.NewSecret(), Browser: browserHash(cookie),
		ExpiresAt: p.now().Add(interactionLifetime).Unix(),
	}}
	p.setCookie(w, sv, interactionCookie, cookie, cookiePath(sv, "/interaction"), interactionLifetime)
	return in
}

// renderInteraction shows the page of the interaction's stage, with the
// interaction sealed in its form.
func (p *Provider) renderInteraction(w http.ResponseWriter, r *http.Request, sv *served, in *interaction, username, errKey string) {
	rec, c := in.rec(), in.client
	req := &rec.Request
	var secret, uri string
	var qr []byte
	if rec.Stage == grants.StageOTPEnrol {
		// Before sealing: a new secret travels in the form.
		var err error
		if secret, uri, qr, err = p.otpEnrolData(sv, rec); err != nil {
			p.log.Error("preparing a code generator failed", "error", err)
			p.errorPage(w, r, req.UILocales, errServer("the page could not be prepared"))
			return
		}
	}
	// Before sealing too: the ceremony's challenge travels in the form.
	passkeyOptions, err := p.beginPasskey(r.Context(), sv, rec)
	if err != nil {
		p.log.Error("starting a passkey ceremony failed", "error", err)
		p.errorPage(w, r, req.UILocales, errUnavailable("the page could not be prepared"))
		return
	}
	sealed, err := sv.seal(in.sealed)
	if err != nil {
		p.log.Error("sealing an interaction failed", "error", err)
		p.errorPage(w, r, req.UILocales, errServer("the page could not be prepared"))
		return
	}
	lang := ui.PickLanguage(req.UILocales, r.Header.Get("Accept-Language"))
	// The form's answer redirects to the client, so form-action must allow
	// its redirect URI's origin.
	ui.SecurityHeadersFor(w.Header(), req.RedirectURI)
	name := c.ClientName
	if name == "" {
		name = c.ClientID
	}
	switch rec.Stage {
	case grants.StageLogin:
		d := ui.LoginData{
			Lang: lang, ClientName: name, Action: sv.basePath + pathLogin, CSRFToken: rec.CSRF,
			Interaction: sealed, Username: username, ErrorKey: errKey,
		}
		if passkeyOptions != "" {
			d.PasskeyAction, d.PasskeyOptions = sv.basePath+pathPasskeyLogin, passkeyOptions
		}
		p.rendered(w, sv.ui.Login(w, d))
		return
	case grants.StagePasskey, grants.StagePasskeyEnrol:
		action := sv.basePath + pathPasskey
		if rec.Stage == grants.StagePasskeyEnrol {
			action = sv.basePath + pathPasskeyEnrol
		}
		p.rendered(w, sv.ui.Passkey(w, ui.PasskeyData{
			Lang: lang, ClientName: name, Action: action, CSRFToken: rec.CSRF, Interaction: sealed,
			ErrorKey: errKey, Enrol: rec.Stage == grants.StagePasskeyEnrol, Options: passkeyOptions,
			Skippable: rec.Stage == grants.StagePasskeyEnrol && rec.EnrolOffered,
		}))
		return
	case grants.StageOTP:
		p.rendered(w, sv.ui.OTP(w, ui.OTPData{
			Lang: lang, ClientName: name, Action: sv.basePath + pathOTP, CSRFToken: rec.CSRF,
			Interaction: sealed, ErrorKey: errKey,
		}))
		return
	case grants.StageOTPEnrol:
		p.rendered(w, sv.ui.OTP(w, ui.OTPData{
			Lang: lang, ClientName: name, Action: sv.basePath + pathOTPEnrol, CSRFToken: rec.CSRF,
			Interaction: sealed, ErrorKey: errKey, Enrol: true, Secret: secret, URI: uri, QRCode: qr,
		}))
		return
	}
	claims := p.withActsFor(r.Context(), c, req, rec.Subject, p.consentClaims(c, req))
	var signedInWith []string
	// Verified data leaves only at the level the sign-in reached: the page
	// says which, so the person sees what protects it (IDA §7.2).
	if slices.ContainsFunc(claims, func(c ui.ConsentClaim) bool { return c.Verified }) {
		signedInWith = rec.AMR
	}
	p.rendered(w, sv.ui.Consent(w, ui.ConsentData{
		Lang: lang, ClientName: name, Purpose: req.Purpose, Action: sv.basePath + pathConsent,
		CSRFToken: rec.CSRF, Interaction: sealed, Scopes: strings.Fields(req.Scope),
		Claims: claims, SignedInWith: signedInWith,
	}))
}

// interactionSession is the signed-in session the interaction was begun
// for (the same sid and subject). When there is none it has answered with
// the error page and returns nil.
func (p *Provider) interactionSession(w http.ResponseWriter, r *http.Request, sv *served, in *interaction, now time.Time) (*grants.Session, string) {
	rec := in.rec()
	sess, cookie := p.loadSession(r.Context(), r, sv, now)
	if sess == nil || sess.SID != rec.SessionID || sess.Subject != rec.Subject {
		p.errorPage(w, r, rec.Request.UILocales, errInvalidRequest("the session changed; start again from the application"))
		return nil, ""
	}
	return sess, cookie
}

// openInteraction reads a posted form of the stage and its interaction:
// sealed by this provider, unexpired, for this browser (its cookie), with
// the CSRF token it was given (constant time), at this stage, and for a
// client still registered and enabled. When any of it fails it has
// answered with the error page and returns nil.
func (p *Provider) openInteraction(sv *served, w http.ResponseWriter, r *http.Request, stage string) *interaction {
	in, oerr := p.loadInteraction(r, sv, stage)
	if oerr != nil {
		p.errorPage(w, r, "", oerr)
		return nil
	}
	if in.rec().Account {
		// The sign-in before the account page is for no client.
		in.client = accountClient
		return in
	}
	c, ok := sv.clients[in.rec().Request.ClientID]
	if !ok || c.Disabled {
		p.errorPage(w, r, in.rec().Request.UILocales, errUnauthorizedClient("the client is no longer available"))
		return nil
	}
	in.client = c
	return in
}

func (p *Provider) loadInteraction(r *http.Request, sv *served, stage string) (*interaction, *oauthError) {
	form, perr := readParams(r)
	if perr != nil {
		return nil, perr
	}
	notHere := errInvalidRequest("this sign-in is not in progress in this browser; start again from the application")
	ck, err := r.Cookie(sv.cookieName(interactionCookie))
	if err != nil || form.Get(ui.FieldInteraction) == "" {
		return nil, notHere
	}
	si, err := sv.open(form.Get(ui.FieldInteraction))
	if err != nil || subtle.ConstantTimeCompare([]byte(si.Browser), []byte(browserHash(ck.Value))) != 1 {
		return nil, notHere
	}
	if p.now().Unix() >= si.ExpiresAt {
		return nil, errInvalidRequest("this sign-in has expired; start again from the application")
	}
	if subtle.ConstantTimeCompare([]byte(form.Get(ui.FieldCSRFToken)), []byte(si.CSRF)) != 1 {
		return nil, errInvalidRequest("the form's CSRF token does not match")
	}
	if si.Stage != stage {
		return nil, errInvalidRequest("this step is not expected now")
	}
	return &interaction{form: form, cookie: ck.Value, sealed: si}, nil
}

// stylesheet serves the pages' CSS.
func (p *Provider) stylesheet(sv *served, w http.ResponseWriter, r *http.Request) {
	sv.ui.StylesheetHandler().ServeHTTP(w, r)
}

// recordSignIn notes on an interaction who is signed in and how, for the
// pages that follow it: the step-up and the consent page.
func recordSignIn(rec *grants.Interaction, sess *grants.Session) {
	rec.Subject, rec.AuthTime, rec.SessionID = sess.Subject, sess.AuthTime, sess.SID
	rec.AMR = authn.AMR(sess.MethodNames())
}
