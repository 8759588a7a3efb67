package op

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/idaop/ida-operator/runtime/grants"
	"github.com/idaop/ida-operator/runtime/ui"
)

// consent handles the consent form: deny sends access_denied; approve is
// remembered for the person and client (issueCode) and answered with a
// code.
func (p *Provider) consent(sv *served, w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	in := p.openInteraction(sv, w, r, grants.StageConsent)
	if in == nil {
		return
	}
	rec := in.rec()
	req := &rec.Request
	decision := in.form.Get(ui.FieldDecision)
	if decision != ui.DecisionApprove && decision != ui.DecisionDeny {
		p.errorPage(w, r, req.UILocales, errInvalidRequest("decision must be approve or deny"))
		return
	}
	// A consent page is answered once: of two answers (a double click, a
	// replayed form) the second finds the page spent.
	switch fresh, err := p.grants.SpendInteraction(ctx, in.sealed.ID, grants.Remaining(in.sealed.ExpiresAt, p.now())); {
	case err != nil:
		p.errorPage(w, r, req.UILocales, p.storeFailed(err))
		return
	case !fresh:
		p.errorPage(w, r, req.UILocales, errInvalidRequest("this sign-in has already completed"))
		return
	}
	if decision == ui.DecisionDeny {
		p.redirectError(w, r, sv, req, newError("access_denied", "the user refused"))
		return
	}
	sess, _ := p.interactionSession(w, r, sv, in, p.now())
	if sess == nil {
		return
	}
	p.issueCode(w, r, sv, req, signedInAs(sv, req, sess), p.consentAsked(in.client, req))
}

// consentClaims lists what the consent page shows for a request: what
// the IDA engine reads from its claims parameter and profile scopes (each
// claim, verified or not, with its purpose and the trust frameworks asked
// for). A request that no longer compiles for the client shows none; its
// approval could not be used anyway.
func (p *Provider) consentClaims(c *client, req *grants.Request) []ui.ConsentClaim {
	cc := p.compileClaims(c, req.Claims, req.Scope, req.IntegrityProtected())
	if cc.err != nil {
		return nil
	}
	requested := cc.req.RequestedClaims()
	out := make([]ui.ConsentClaim, 0, len(requested))
	for _, rc := range requested {
		out = append(out, ui.ConsentClaim{Name: rc.Name, Purpose: rc.Purpose, Verified: rc.Verified, TrustFrameworks: rc.TrustFrameworks})
	}
	return out
}

// consentAsked is what a request asks the person to agree to, as its
// consent page shows it: the scopes, the transaction purpose, and each
// claim with its purpose and trust frameworks.
func (p *Provider) consentAsked(c *client, req *grants.Request) *grants.Consent {
	asked := &grants.Consent{ClientID: req.ClientID, Scopes: strings.Fields(req.Scope)}
	if req.Purpose != "" {
		asked.Purposes = []string{req.Purpose}
	}
	for _, cl := range p.consentClaims(c, req) {
		asked.Claims = append(asked.Claims, grants.ConsentedClaim{
			Name: cl.Name, Verified: cl.Verified, TrustFrameworks: cl.TrustFrameworks, Purpose: cl.Purpose,
		})
	}
	return asked
}

// consentCovers is nextStage's question whether the person's remembered
// consent covers the request (grants.Covers). A store that fails counts
// as no consent: the person is asked again.
func (p *Provider) consentCovers(ctx context.Context, sv *served, c *client, req *grants.Request, sess *grants.Session) func() bool {
	return func() bool {
		if sess == nil {
			return false
		}
		cs, err := p.grants.Consents(ctx, sess.Subject)
		if err != nil {
			p.logStoreFailure(err)
			return false
		}
		return grants.Covers(cs.For(req.ClientID), p.consentAsked(c, req))
	}
}

// recordConsent lists a new grant under the person's consent before its
// code exists: approved merges a consent page just approved; nil reuses
// the remembered one, which may have been withdrawn a moment ago (then
// the person is asked again next time, and this code is refused).
func (p *Provider) recordConsent(ctx context.Context, sv *served, req *grants.Request, subject, grantID string, approved *grants.Consent) *oauthError {
	c := sv.clients[req.ClientID]
	if c == nil {
		return errUnauthorizedClient("the client is no longer available")
	}
	now := p.now()
	ref := grants.GrantRef{
		ID: grantID, ExpiresAt: now.Add(sv.codeLifetime() + grantLifetime(sv, c, req.Scope)).Unix(),
		Refresh: issuesRefreshToken(c, req.Scope),
	}
	err := p.grants.Consented(ctx, subject, req.ClientID, approved, ref, sv.provider.Consent.Retention())
	switch {
	case errors.Is(err, grants.ErrNotFound):
		return newError("consent_required", "the consent was withdrawn")
	case err != nil:
		return p.storeFailed(err)
	}
	return nil
}
