package op

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/grants"
)

// requestURIPrefix starts every request_uri the PAR endpoint hands out
// (RFC 9126 §2.2).
const requestURIPrefix = "urn:ietf:params:oauth:request_uri:"

// parLifetime is how long a request_uri can be used (RFC 9126 §2.2).
const parLifetime = 90 * time.Second

// par is the pushed authorization request endpoint (RFC 9126): the client
// authenticates, every authorization check runs now, and the request is
// stored under a one-time request_uri.
func (p *Provider) par(sv *served, w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	form, perr := readParams(r)
	if perr != nil {
		writeJSONError(w, perr)
		return
	}
	c, err := p.authenticateClient(ctx, sv, r, form, sv.url(config.PathPAR))
	if err != nil {
		writeJSONError(w, err)
		return
	}
	form, signed, err := p.openRequestObject(ctx, sv, c, form)
	if err != nil {
		writeJSONError(w, err)
		return
	}
	a := readAuthzRequest(form)
	a.p, a.sv = p, sv
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
	if err := p.bindPushedRequestToDPoP(ctx, sv, w, r, a); err != nil {
		writeJSONError(w, err)
		return
	}
	if err := p.checkPushBudget(ctx, sv, c); err != nil {
		writeJSONError(w, err)
		return
	}
	a.req.ExpiresAt = p.now().Add(parLifetime).Unix()
	id, serr := p.grants.Push(ctx, &a.req, parLifetime)
	if serr != nil {
		writeJSONError(w, p.storeFailed(serr))
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{
		"request_uri": requestURIPrefix + id,
		"expires_in":  int(parLifetime / time.Second),
	})
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

// bindPushedRequestToDPoP: a DPoP proof sent with PAR binds the code to its
// key, like dpop_jkt (RFC 9449 §10.1); both must then agree.
func (p *Provider) bindPushedRequestToDPoP(ctx context.Context, sv *served, w http.ResponseWriter, r *http.Request, a *authzCtx) *oauthError {
	if r.Header.Get("DPoP") == "" {
		return nil
	}
	proof, err := p.verifyDPoP(ctx, sv, r, sv.url(config.PathPAR), "")
	if err != nil {
		return err
	}
	p.offerDPoPNonce(w, sv, true)
	if a.req.DPoPJKT != "" && a.req.DPoPJKT != proof.JKT {
		return errInvalidDPoP("dpop_jkt does not match the DPoP proof's key")
	}
	a.req.DPoPJKT = proof.JKT
	return nil
}

// loadPushedRequest replaces the parameters with the pushed request: the
// request_uri is one-time, unexpired, and client_id's (another client's is
// not found, and not used up).
func (p *Provider) loadPushedRequest(ctx context.Context, a *authzCtx) *oauthError {
	id, ok := strings.CutPrefix(a.requestURI, requestURIPrefix)
	if !ok || id == "" {
		return newError("invalid_request_uri", "request_uri was not issued by this provider")
	}
	if a.req.ClientID == "" {
		return errInvalidRequest("client_id is required")
	}
	pushed, err := p.grants.TakePushed(ctx, a.req.ClientID, id)
	if errors.Is(err, grants.ErrNotFound) {
		return newError("invalid_request_uri", "request_uri is unknown, used or expired")
	}
	if err != nil {
		return p.storeFailed(err)
	}
	if p.now().Unix() > pushed.ExpiresAt {
		return newError("invalid_request_uri", "request_uri has expired")
	}
	a.req = *pushed
	// What PAR checked is re-checked against today's registration.
	a.responseType, a.challengeMethod, a.responseMode = "code", "S256", ""
	a.acrValues = pushed.ACRValues
	if pushed.MaxAge != nil {
		a.maxAgeRaw = strconv.FormatInt(*pushed.MaxAge, 10)
	}
	return nil
}

// checkPushBudget: a client may push at most its bound of requests within
// a request_uri's lifetime, so one client cannot fill the store that
// every client's sign-ins share. Past it: 429 with temporarily_unavailable
// and when to retry.
func (p *Provider) checkPushBudget(ctx context.Context, sv *served, c *client) *oauthError {
	n, err := p.grants.CountPush(ctx, c.ClientID, parLifetime)
	if err != nil {
		return p.storeFailed(err)
	}
	if n > int64(sv.sec.PushedRequestsPerClient) {
		return &oauthError{Code: "temporarily_unavailable", Description: "too many pushed authorization requests; try again later",
			Status: http.StatusTooManyRequests, RetryAfter: int(parLifetime / time.Second)}
	}
	return nil
}
