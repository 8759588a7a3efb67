package op

import (
	"net/http"
	"slices"

	"github.com/idaop/ida-operator/runtime/grants"
	"github.com/idaop/ida-operator/runtime/ui"
)

// maxConsents bounds the approvals a session remembers; the oldest go.
const maxConsents = 64

// consent handles the consent form: deny sends access_denied; approve is
// remembered in the session and answered with a code.
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
	now := p.now()
	sess, cookie := p.loadSession(ctx, r, sv, now)
	if sess == nil || sess.SID != rec.SessionID || sess.Subject != rec.Subject {
		p.errorPage(w, r, req.UILocales, errInvalidRequest("the session changed; start again from the application"))
		return
	}
	if key := consentKey(req); !slices.Contains(sess.Consents, key) {
		sess.Consents = append(sess.Consents, key)
		if n := len(sess.Consents); n > maxConsents {
			sess.Consents = sess.Consents[n-maxConsents:]
		}
		// Not remembering the approval only means asking again next time.
		if err := p.grants.UpdateSession(ctx, cookie, sess, sessionTTL(sess, sv.provider.Sessions.Idle(), now)); err != nil {
			p.logStoreFailure(err)
		}
	}
	p.issueCode(w, r, sv, req, signedInAs(sv, req, sess))
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
