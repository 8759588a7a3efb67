package op

import "net/http"

// authorize is the authorization endpoint (RFC 6749 §4.1.1, OIDC Core
// §3.1.2): parse (a request object opened, a pushed request loaded), run
// the front checks (errors on a page) and the request checks (errors to
// the redirect URI), then decide whether the user must sign in or consent.
func (p *Provider) authorize(sv *served, w http.ResponseWriter, r *http.Request) {
	params, perr := readParams(r)
	if perr != nil {
		p.errorPage(w, r, "", perr)
		return
	}
	// An unknown or disabled client is refused by the front checks; its
	// request object is not opened.
	signed := false
	if c := sv.clients[params.Get("client_id")]; c != nil && !c.Disabled {
		// The redirect URI is inside what failed: an error page.
		if params, signed, perr = p.openRequestObject(r.Context(), sv, c, params); perr != nil {
			p.errorPage(w, r, "", perr)
			return
		}
	}
	a := readAuthzRequest(params)
	a.p, a.sv = p, sv
	a.req.Signed = signed
	if a.requestURI != "" {
		if err := p.loadPushedRequest(r.Context(), a); err != nil {
			p.errorPage(w, r, "", err)
			return
		}
	}
	if err := runChecks(a, frontChecks); err != nil {
		p.errorPage(w, r, a.req.UILocales, err)
		return
	}
	if err := runChecks(a, requestChecks); err != nil {
		p.redirectError(w, r, sv, &a.req, err)
		return
	}
	p.decide(w, r, sv, a.client, &a.req)
}
