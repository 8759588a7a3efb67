package op

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/idaop/ida-operator/runtime/grants"
	"github.com/idaop/ida-operator/runtime/ui"
)

// interactionLifetime is how long a login or consent page may stay open.
const interactionLifetime = 10 * time.Minute

// interaction is a posted login or consent form with what it belongs to.
type interaction struct {
	form url.Values
	// id names the interaction; only the browser's cookie carries it.
	id     string
	rec    *grants.Interaction
	client *client
}

// startInteraction stores the interaction and renders its page.
func (p *Provider) startInteraction(w http.ResponseWriter, r *http.Request, sv *served, c *client, rec *grants.Interaction) {
	rec.CSRF = grants.NewSecret()
	id, err := p.grants.StartInteraction(r.Context(), rec, interactionLifetime)
	if err != nil {
		p.redirectError(w, r, sv, &rec.Request, p.storeFailed(err))
		return
	}
	p.setCookie(w, sv, interactionCookie, id, cookiePath(sv, "/interaction"), interactionLifetime)
	p.renderInteraction(w, r, sv, &interaction{id: id, rec: rec, client: c}, "", "")
}

// renderInteraction shows the page of the interaction's stage.
func (p *Provider) renderInteraction(w http.ResponseWriter, r *http.Request, sv *served, in *interaction, username, errKey string) {
	req, c := &in.rec.Request, in.client
	lang := ui.PickLanguage(req.UILocales, r.Header.Get("Accept-Language"))
	// The form's answer redirects to the client, so form-action must allow
	// its redirect URI's origin.
	ui.SecurityHeadersFor(w.Header(), req.RedirectURI)
	name := c.ClientName
	if name == "" {
		name = c.ClientID
	}
	if in.rec.Stage == grants.StageLogin {
		p.rendered(w, sv.ui.Login(w, ui.LoginData{
			Lang: lang, ClientName: name, Action: sv.basePath + pathLogin, CSRFToken: in.rec.CSRF,
			Interaction: in.id, Username: username, ErrorKey: errKey,
		}))
		return
	}
	p.rendered(w, sv.ui.Consent(w, ui.ConsentData{
		Lang: lang, ClientName: name, Purpose: req.Purpose, Action: sv.basePath + pathConsent,
		CSRFToken: in.rec.CSRF, Interaction: in.id, Scopes: strings.Fields(req.Scope),
		Claims: p.consentClaims(c, req),
	}))
}

// openInteraction reads a posted form of the stage and its interaction:
// the form's id must be the browser's (cookie), the record must exist at
// this stage, the CSRF token must match (constant time), and its client
// must still be registered and enabled. When any of it fails it has
// answered with the error page and returns nil.
func (p *Provider) openInteraction(sv *served, w http.ResponseWriter, r *http.Request, stage string) *interaction {
	in, oerr := p.loadInteraction(r, sv, stage)
	if oerr != nil {
		p.errorPage(w, r, "", oerr)
		return nil
	}
	c, ok := sv.clients[in.rec.Request.ClientID]
	if !ok || c.Disabled {
		p.errorPage(w, r, in.rec.Request.UILocales, errUnauthorizedClient("the client is no longer available"))
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
	id := form.Get(ui.FieldInteraction)
	ck, err := r.Cookie(sv.cookieName(interactionCookie))
	if id == "" || err != nil || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(id)) != 1 {
		return nil, errInvalidRequest("this sign-in is not in progress in this browser; start again from the application")
	}
	rec, err := p.grants.Interaction(r.Context(), id)
	if errors.Is(err, grants.ErrNotFound) {
		return nil, errInvalidRequest("this sign-in has expired; start again from the application")
	}
	if err != nil {
		return nil, p.storeFailed(err)
	}
	if subtle.ConstantTimeCompare([]byte(form.Get(ui.FieldCSRFToken)), []byte(rec.CSRF)) != 1 {
		return nil, errInvalidRequest("the form's CSRF token does not match")
	}
	if rec.Stage != stage {
		return nil, errInvalidRequest("this step is not expected now")
	}
	return &interaction{form: form, id: id, rec: rec}, nil
}

// stylesheet serves the pages' CSS.
func (p *Provider) stylesheet(sv *served, w http.ResponseWriter, r *http.Request) {
	sv.ui.StylesheetHandler().ServeHTTP(w, r)
}
