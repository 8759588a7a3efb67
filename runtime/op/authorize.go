package op

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/ida"
	"github.com/idaop/ida-operator/runtime/store"
)

// requestURIPrefix starts every request_uri the PAR endpoint hands out
// (RFC 9126 §2.2).
const requestURIPrefix = "urn:ietf:params:oauth:request_uri:"

// authzCheck is one rule of the authorization request.
type authzCheck func(*authzCtx) *oauthError

// authzCtx is an authorization request being checked.
type authzCtx struct {
	p      *Provider
	st     *state
	req    authzRequest
	client *client
	// claims is the parsed claims request, set by checkClaimsRequest.
	claims *ida.Request
	// responseType and the rest are checked but not stored.
	responseType, responseMode, challengeMethod, requestURI string
	maxAgeRaw                                               string
}

// readAuthzRequest copies the parameters the provider knows; others are
// ignored (RFC 6749 §3.1).
func readAuthzRequest(v url.Values) *authzCtx {
	return &authzCtx{
		req: authzRequest{
			ClientID:      v.Get("client_id"),
			RedirectURI:   v.Get("redirect_uri"),
			Scope:         v.Get("scope"),
			State:         v.Get("state"),
			Nonce:         v.Get("nonce"),
			CodeChallenge: v.Get("code_challenge"),
			Claims:        v.Get("claims"),
			Purpose:       v.Get("purpose"),
			Prompt:        v.Get("prompt"),
			UILocales:     v.Get("ui_locales"),
			DPoPJKT:       v.Get("dpop_jkt"),
		},
		responseType:    v.Get("response_type"),
		responseMode:    v.Get("response_mode"),
		challengeMethod: v.Get("code_challenge_method"),
		requestURI:      v.Get("request_uri"),
		maxAgeRaw:       v.Get("max_age"),
	}
}

// frontChecks decide whether the redirect URI can be trusted; their errors
// are shown on a page, never sent to the redirect URI (RFC 6749 §4.1.2.1).
var frontChecks = []authzCheck{
	checkClientKnown,
	checkClientNotDisabled,
	checkRedirectURIRegistered,
}

// requestChecks run once the redirect URI is trusted; their errors go back
// to it. PAR runs both lists and answers in JSON.
var requestChecks = []authzCheck{
	checkResponseType,
	checkResponseMode,
	checkPARUsedWhenRequired,
	checkScopeHasOpenID,
	checkScopeAllowed,
	checkPKCE,
	checkPrompt,
	checkMaxAge,
	checkPurpose,
	checkDPoPJKT,
	checkClaimsRequest,
}

func runChecks(a *authzCtx, checks []authzCheck) *oauthError {
	for _, c := range checks {
		if err := c(a); err != nil {
			return err
		}
	}
	return nil
}

// checkClientKnown: client_id names a registered client.
func checkClientKnown(a *authzCtx) *oauthError {
	if a.req.ClientID == "" {
		return errInvalidRequest("client_id is required")
	}
	c, ok := a.st.clients[a.req.ClientID]
	if !ok {
		return newError("invalid_client", "unknown client")
	}
	a.client = c
	return nil
}

// checkClientNotDisabled: a disabled RelyingParty cannot start a flow.
func checkClientNotDisabled(a *authzCtx) *oauthError {
	if a.client.Disabled {
		return errUnauthorizedClient("the client is disabled")
	}
	return nil
}

// checkRedirectURIRegistered: redirect_uri is present and equals a
// registered one exactly (simple string comparison, RFC 9700 §4.1.3).
func checkRedirectURIRegistered(a *authzCtx) *oauthError {
	if a.req.RedirectURI == "" {
		return errInvalidRequest("redirect_uri is required")
	}
	if !slices.Contains(a.client.RedirectURIs, a.req.RedirectURI) {
		return errInvalidRequest("redirect_uri is not registered for the client")
	}
	return nil
}

// checkResponseType: the code flow only.
func checkResponseType(a *authzCtx) *oauthError {
	switch a.responseType {
	case "code":
		return nil
	case "":
		return errInvalidRequest("response_type is required")
	}
	return newError("unsupported_response_type", "only response_type=code is supported")
}

// checkResponseMode: responses go in the query.
func checkResponseMode(a *authzCtx) *oauthError {
	if a.responseMode != "" && a.responseMode != "query" {
		return errInvalidRequest("only response_mode=query is supported")
	}
	return nil
}

// checkPARUsedWhenRequired: with FAPI 2.0, the provider's setting or the
// client's, the request must come through PAR (RFC 9126 §5, §6).
func checkPARUsedWhenRequired(a *authzCtx) *oauthError {
	if !a.req.ViaPAR && a.st.requirePAR(a.client) {
		return errInvalidRequest("pushed authorization requests are required")
	}
	return nil
}

// checkScopeHasOpenID: this is an OpenID Provider; every request is an
// OpenID Connect request.
func checkScopeHasOpenID(a *authzCtx) *oauthError {
	if !slices.Contains(strings.Fields(a.req.Scope), "openid") {
		return errInvalidScope("scope must include openid")
	}
	return nil
}

// checkScopeAllowed: every scope is registered for the client and offered
// by the provider. The scope is normalised (duplicates removed).
func checkScopeAllowed(a *authzCtx) *oauthError {
	var out []string
	for _, s := range strings.Fields(a.req.Scope) {
		if slices.Contains(out, s) {
			continue
		}
		if !slices.Contains(a.client.Scopes, s) || !slices.Contains(a.st.scopes, s) {
			return errInvalidScope("scope " + sanitize(s) + " is not allowed for the client")
		}
		out = append(out, s)
	}
	a.req.Scope = strings.Join(out, " ")
	return nil
}

var pkceValue = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

// checkPKCE: a code_challenge with method S256 is required; plain is
// refused (RFC 7636, RFC 9700 §2.1.1, FAPI 2.0).
func checkPKCE(a *authzCtx) *oauthError {
	if a.req.CodeChallenge == "" {
		return errInvalidRequest("code_challenge is required (PKCE)")
	}
	if a.challengeMethod != "S256" {
		return errInvalidRequest("code_challenge_method must be S256")
	}
	if len(a.req.CodeChallenge) != 43 || !pkceValue.MatchString(a.req.CodeChallenge) {
		return errInvalidRequest("code_challenge is not a base64url SHA-256 hash")
	}
	return nil
}

// checkPrompt: known values; none stands alone (OIDC Core §3.1.2.1).
func checkPrompt(a *authzCtx) *oauthError {
	vals := strings.Fields(a.req.Prompt)
	for _, v := range vals {
		switch v {
		case "none", "login", "consent", "select_account":
		default:
			return errInvalidRequest("prompt " + sanitize(v) + " is not supported")
		}
	}
	if slices.Contains(vals, "none") && len(vals) > 1 {
		return errInvalidRequest("prompt=none must not be combined with other values")
	}
	return nil
}

// checkMaxAge: a non-negative whole number of seconds.
func checkMaxAge(a *authzCtx) *oauthError {
	if a.maxAgeRaw == "" {
		return nil
	}
	n, err := strconv.ParseInt(a.maxAgeRaw, 10, 64)
	if err != nil || n < 0 {
		return errInvalidRequest("max_age must be a non-negative integer")
	}
	a.req.MaxAge = &n
	return nil
}

// checkPurpose: the transaction purpose, 3 to 300 characters (ida).
func checkPurpose(a *authzCtx) *oauthError {
	if a.req.Purpose == "" {
		return nil
	}
	if err := ida.ValidatePurpose(a.req.Purpose); err != nil {
		return idaError(err)
	}
	return nil
}

// checkDPoPJKT: dpop_jkt is a SHA-256 thumbprint (RFC 9449 §10).
func checkDPoPJKT(a *authzCtx) *oauthError {
	if a.req.DPoPJKT != "" && (len(a.req.DPoPJKT) != 43 || !pkceValue.MatchString(a.req.DPoPJKT)) {
		return errInvalidRequest("dpop_jkt is not a base64url SHA-256 thumbprint")
	}
	return nil
}

// checkClaimsRequest: the claims parameter and the profile scopes, as the
// client's IDA engine reads them (invalid_request or invalid_scope).
func checkClaimsRequest(a *authzCtx) *oauthError {
	cc := a.p.compileClaims(a.client, a.req.Claims, a.req.Scope, a.req.integrityProtected())
	req, err := cc.req, cc.err
	if err != nil {
		return idaError(err)
	}
	a.claims = req
	return nil
}

func idaError(err error) *oauthError {
	var ie *ida.Error
	if errors.As(err, &ie) {
		return newError(ie.Code, ie.Description)
	}
	return errInvalidRequest("invalid request")
}

// authorize is the authorization endpoint (RFC 6749 §4.1.1, OIDC Core
// §3.1.2): parse, check, then decide whether the user must sign in or
// consent, and answer with a page or a redirect carrying a code.
func (p *Provider) authorize(st *state, w http.ResponseWriter, r *http.Request) {
	params, perr := readParams(r)
	if perr != nil {
		p.errorPage(w, r, "", perr)
		return
	}
	signed := false
	if params.Has("request") {
		// An unknown or disabled client is refused by the front checks.
		if c := st.clients[params.Get("client_id")]; c != nil && !c.Disabled {
			opened, err := p.requestObjectParams(r.Context(), st, c, params)
			if err != nil {
				// The redirect URI is inside what failed: an error page.
				p.errorPage(w, r, "", err)
				return
			}
			params, signed = opened, true
		}
	}
	a := readAuthzRequest(params)
	a.p, a.st = p, st
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
		p.redirectError(w, r, st, &a.req, err)
		return
	}
	p.decide(w, r, st, a.client, &a.req)
}

// loadPushedRequest replaces the parameters with the pushed request: the
// request_uri is one-time, unexpired, and belongs to client_id.
func (p *Provider) loadPushedRequest(ctx context.Context, a *authzCtx) *oauthError {
	id, ok := strings.CutPrefix(a.requestURI, requestURIPrefix)
	if !ok || id == "" {
		return newError("invalid_request_uri", "request_uri was not issued by this provider")
	}
	if a.req.ClientID == "" {
		return errInvalidRequest("client_id is required")
	}
	pushed, err := takeJSON[authzRequest](ctx, p.store, store.KindPAR, storeKey(id))
	if errors.Is(err, store.ErrNotFound) {
		return newError("invalid_request_uri", "request_uri is unknown, used or expired")
	}
	if err != nil {
		p.log.Error("store failed", "op", "take par", "error", err)
		return errUnavailable("the session store is unavailable")
	}
	if pushed.ClientID != a.req.ClientID {
		return newError("invalid_request_uri", "request_uri belongs to another client")
	}
	if p.now().Unix() > pushed.ExpiresAt {
		return newError("invalid_request_uri", "request_uri has expired")
	}
	a.req = *pushed
	// What PAR checked is re-checked against today's registration.
	a.responseType, a.challengeMethod, a.responseMode = "code", "S256", ""
	if pushed.MaxAge != nil {
		a.maxAgeRaw = strconv.FormatInt(*pushed.MaxAge, 10)
	}
	return nil
}

// decide picks what the user must do: sign in, consent, or nothing, in
// which case the code is issued at once.
func (p *Provider) decide(w http.ResponseWriter, r *http.Request, st *state, c *client, req *authzRequest) {
	ctx := r.Context()
	now := p.now()
	sess, _ := p.loadSession(ctx, r, now)
	need := interactionNeeded(req, sess, consentKey(req), now)
	if err := checkPromptNone(req, need); err != nil {
		p.redirectError(w, r, st, req, err)
		return
	}
	switch need {
	case stageLogin:
		p.startInteraction(w, r, st, c, &interactionRecord{Request: *req, Stage: stageLogin}, "")
	case stageConsent:
		p.startInteraction(w, r, st, c, &interactionRecord{
			Request: *req, Stage: stageConsent, Subject: sess.Subject, AuthTime: sess.AuthTime, SessionID: sess.SID,
		}, "")
	default:
		p.issueCode(w, r, st, req, sess.Subject, sess.AuthTime, sess.SID)
	}
}

// interactionNeeded is the decision: sign in when there is no session,
// prompt=login asks, or the session is older than max_age; else consent
// when this session has not approved this request or prompt=consent asks.
func interactionNeeded(req *authzRequest, sess *sessionRecord, consent string, now time.Time) string {
	prompts := strings.Fields(req.Prompt)
	switch {
	case sess == nil, slices.Contains(prompts, "login"), slices.Contains(prompts, "select_account"):
		return stageLogin
	case req.MaxAge != nil && now.Unix()-sess.AuthTime > *req.MaxAge:
		return stageLogin
	case slices.Contains(prompts, "consent"), !slices.Contains(sess.Consents, consent):
		return stageConsent
	}
	return ""
}

// checkPromptNone: prompt=none forbids any page (OIDC Core §3.1.2.6).
func checkPromptNone(req *authzRequest, need string) *oauthError {
	if !slices.Contains(strings.Fields(req.Prompt), "none") {
		return nil
	}
	switch need {
	case stageLogin:
		return newError("login_required", "the user is not signed in")
	case stageConsent:
		return newError("consent_required", "the user has not consented")
	}
	return nil
}

// consentKey identifies what a consent covers: the client, the scope, the
// claims request and the purpose.
func consentKey(req *authzRequest) string {
	h := sha256.New()
	for _, s := range []string{req.ClientID, req.Scope, req.Claims, req.Purpose} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// issueCode stores a code for the request and sends the user back to the
// client with it.
func (p *Provider) issueCode(w http.ResponseWriter, r *http.Request, st *state, req *authzRequest, subject string, authTime int64, sid string) {
	now := p.now()
	life := st.provider.Tokens.AuthorizationCode.Duration
	code := randomToken()
	rec := codeRecord{
		grantInfo: grantInfo{
			GrantID: randomToken(), ClientID: req.ClientID, Subject: subject, Scope: req.Scope,
			Claims: req.Claims, Purpose: req.Purpose, ViaPAR: req.ViaPAR, Signed: req.Signed, AuthTime: authTime, SessionID: sid,
		},
		RedirectURI: req.RedirectURI, CodeChallenge: req.CodeChallenge, Nonce: req.Nonce,
		DPoPJKT: req.DPoPJKT, ExpiresAt: now.Add(life).Unix(),
	}
	if err := putJSON(r.Context(), p.store, store.KindCode, storeKey(code), &rec, life); err != nil {
		p.log.Error("store failed", "op", "put code", "error", err)
		p.redirectError(w, r, st, req, errUnavailable("the session store is unavailable"))
		return
	}
	p.redirect(w, r, st, req, url.Values{"code": {code}})
}

// redirectError sends an error to the client's redirect URI.
func (p *Provider) redirectError(w http.ResponseWriter, r *http.Request, st *state, req *authzRequest, e *oauthError) {
	setOutcome(w, e.Code)
	v := url.Values{"error": {e.Code}}
	if e.Description != "" {
		v.Set("error_description", e.Description)
	}
	p.redirect(w, r, st, req, v)
}

// redirect answers the authorization request: the parameters plus state
// and iss (RFC 9207) appended to the registered redirect URI.
func (p *Provider) redirect(w http.ResponseWriter, r *http.Request, st *state, req *authzRequest, v url.Values) {
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
	q.Set("iss", st.issuer)
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", u.String())
	w.WriteHeader(http.StatusSeeOther)
}

// checkClientForPAR reads the pushed request's client_id: when sent, it
// must be the authenticated client (RFC 9126 §2.1).
func checkClientForPAR(a *authzCtx, c *client) *oauthError {
	if a.req.ClientID != "" && a.req.ClientID != c.ClientID {
		return errInvalidRequest("client_id does not match the authenticated client")
	}
	if a.requestURI != "" {
		return errInvalidRequest("request_uri must not be pushed")
	}
	a.req.ClientID = c.ClientID
	return nil
}

// par is the pushed authorization request endpoint (RFC 9126): the client
// authenticates, every authorization check runs now, and the request is
// stored under a one-time request_uri.
func (p *Provider) par(st *state, w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	form, perr := readParams(r)
	if perr != nil {
		writeJSONError(w, perr)
		return
	}
	c, err := p.authenticateClient(ctx, st, r, form, st.url(config.PathPAR))
	if err != nil {
		writeJSONError(w, err)
		return
	}
	signed := false
	if form.Has("request") {
		opened, err := p.requestObjectParams(ctx, st, c, form)
		if err != nil {
			writeJSONError(w, err)
			return
		}
		form, signed = opened, true
	}
	a := readAuthzRequest(form)
	a.p, a.st = p, st
	a.req.ViaPAR, a.req.Signed = true, signed
	if err := checkClientForPAR(a, c); err != nil {
		writeJSONError(w, err)
		return
	}
	if err := runChecks(a, frontChecks); err != nil {
		writeJSONError(w, err)
		return
	}
	if err := runChecks(a, requestChecks); err != nil {
		writeJSONError(w, err)
		return
	}
	if err := p.bindPushedRequestToDPoP(ctx, st, w, r, a); err != nil {
		writeJSONError(w, err)
		return
	}
	id := randomToken()
	a.req.ExpiresAt = p.now().Add(parLifetime).Unix()
	if err := putJSON(ctx, p.store, store.KindPAR, storeKey(id), &a.req, parLifetime); err != nil {
		p.log.Error("store failed", "op", "put par", "error", err)
		writeJSONError(w, errUnavailable("the session store is unavailable"))
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{
		"request_uri": requestURIPrefix + id,
		"expires_in":  int(parLifetime / time.Second),
	})
}

// bindPushedRequestToDPoP: a DPoP proof sent with PAR binds the code to its
// key, like dpop_jkt (RFC 9449 §10.1); both must then agree.
func (p *Provider) bindPushedRequestToDPoP(ctx context.Context, st *state, w http.ResponseWriter, r *http.Request, a *authzCtx) *oauthError {
	if r.Header.Get("DPoP") == "" {
		return nil
	}
	proof, err := p.verifyDPoP(ctx, st, r, st.url(config.PathPAR), "")
	if err != nil {
		return err
	}
	p.offerDPoPNonce(w, st, true)
	if a.req.DPoPJKT != "" && a.req.DPoPJKT != proof.JKT {
		return errInvalidDPoP("dpop_jkt does not match the DPoP proof's key")
	}
	a.req.DPoPJKT = proof.JKT
	return nil
}
