package op

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/idaop/ida-operator/runtime/authn"
	"github.com/idaop/ida-operator/runtime/grants"
	"github.com/idaop/ida-operator/runtime/ui"
)

// signedIn is who an authorization is for and how they signed in: what a
// code carries from the session into the grant.
type signedIn struct {
	subject  string
	authTime int64
	sid      string
	acr      string
	amr      []string
}

// signedInAs is how the session signed in, as the answer to req states
// it: amr the methods done (RFC 8176), acr the level they meet (the first
// level the request named that they meet, else the strongest).
func signedInAs(sv *served, req *grants.Request, s *grants.Session) signedIn {
	done := s.MethodNames()
	return signedIn{
		subject: s.Subject, authTime: s.AuthTime, sid: s.SID,
		acr: sv.authn().Achieved(strings.Fields(req.ACRValues), done), amr: authn.AMR(done),
	}
}

// issueCode stores a code for the request and sends the user back to the
// client with it. The code's grant joins the person's consent first
// (approved: the consent page just approved; nil: a remembered consent is
// reused), so that withdrawing the consent reaches every token of it.
func (p *Provider) issueCode(w http.ResponseWriter, r *http.Request, sv *served, req *grants.Request, who signedIn, approved *grants.Consent) {
	grantID := grants.NewSecret()
	if e := p.recordConsent(r.Context(), sv, req, who.subject, grantID, approved); e != nil {
		p.redirectError(w, r, sv, req, e)
		return
	}
	rec := grants.Code{
		Info: grants.Info{
			GrantID: grantID, ClientID: req.ClientID, Subject: who.subject, Scope: req.Scope,
			Claims: req.Claims, Purpose: req.Purpose, ViaPAR: req.ViaPAR, Signed: req.Signed, AuthTime: who.authTime, SessionID: who.sid,
			Resources: req.Resources,
			ACR:       who.acr, AMR: who.amr,
		},
		RedirectURI: req.RedirectURI, CodeChallenge: req.CodeChallenge, Nonce: req.Nonce,
		DPoPJKT: req.DPoPJKT, ExpiresAt: p.now().Add(sv.codeLifetime()).Unix(),
	}
	code, err := p.grants.PutCode(r.Context(), &rec)
	if err != nil {
		p.redirectError(w, r, sv, req, p.storeFailed(err))
		return
	}
	p.noteSignedIn(r.Context(), sv, req.ClientID, who)
	p.redirect(w, r, sv, req, url.Values{"code": {code}})
}

// redirectError sends an error to the client's redirect URI.
func (p *Provider) redirectError(w http.ResponseWriter, r *http.Request, sv *served, req *grants.Request, e *oauthError) {
	setOutcome(w, e.Code)
	v := url.Values{"error": {e.Code}}
	if e.Description != "" {
		v.Set("error_description", e.Description)
	}
	p.redirect(w, r, sv, req, v)
}

// redirect answers the authorization request: the parameters plus state
// and iss (RFC 9207) appended to the registered redirect URI.
func (p *Provider) redirect(w http.ResponseWriter, r *http.Request, sv *served, req *grants.Request, v url.Values) {
	u, err := url.Parse(req.RedirectURI)
	if err != nil {
		p.errorPage(w, r, req.UILocales, errServer("bad redirect_uri"))
		return
	}
	q := u.Query()
	for k, vs := range v {
		q[k] = vs
	}
	if req.State != "" {
		q.Set("state", req.State)
	}
	q.Set("iss", sv.issuer)
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", u.String())
	w.WriteHeader(http.StatusSeeOther)
}

// errorPage shows an error the client must not receive at its redirect
// URI (unknown client, bad redirect_uri, broken forms).
func (p *Provider) errorPage(w http.ResponseWriter, r *http.Request, uiLocales string, e *oauthError) {
	setOutcome(w, e.Code)
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	rend := p.ui
	if sv := p.served.Load(); sv != nil {
		rend = sv.ui
	}
	p.rendered(w, rend.Error(w, status, ui.ErrorData{
		Lang:    ui.PickLanguage(uiLocales, r.Header.Get("Accept-Language")),
		Title:   e.Code,
		Message: e.Description,
	}))
}

// rendered answers a page that failed to render (the renderer leaves the
// response untouched then).
func (p *Provider) rendered(w http.ResponseWriter, err error) {
	if err != nil {
		p.log.Error("rendering a page failed", "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
	}
}
