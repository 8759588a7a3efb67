package op

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/idaop/ida-operator/runtime/authn"
	"github.com/idaop/ida-operator/runtime/grants"
)

// decide carries out nextStage for a checked authorization request: a
// login or consent page, an error when prompt=none forbids the page, or a
// code at once.
func (p *Provider) decide(w http.ResponseWriter, r *http.Request, sv *served, c *client, req *grants.Request) {
	now := p.now()
	sess, _ := p.loadSession(r.Context(), r, sv, now)
	stage := nextStage(req, sess, sv.seenBy(c), now, false, sv.authn(), p.consentCovers(r.Context(), sv, c, req, sess))
	if stage == grants.StageStepUp {
		if stage = p.stepUpStage(r.Context(), sv, req, sess); stage == "" {
			p.redirectError(w, r, sv, req, newError("unmet_authentication_requirements", "the requested authentication level cannot be met"))
			return
		}
	}
	if err := checkPromptNone(req, stage); err != nil {
		p.redirectError(w, r, sv, req, err)
		return
	}
	switch stage {
	case grants.StageLogin:
		p.startInteraction(w, r, sv, c, &grants.Interaction{Request: *req, Stage: grants.StageLogin})
	case grants.StageConsent, grants.StageOTP, grants.StageOTPEnrol, grants.StagePasskey, grants.StagePasskeyEnrol:
		rec := &grants.Interaction{Request: *req, Stage: stage}
		recordSignIn(rec, sess)
		p.startInteraction(w, r, sv, c, rec)
	default:
		p.issueCode(w, r, sv, req, signedInAs(sv, req, sess), nil)
	}
}

// nextStage is the one login/step-up/consent decision, for authorize and
// for the forms (OIDC Core §3.1.2.1). Sign in when there is no session,
// prompt=login or select_account asks, another user than id_token_hint's
// is signed in, or the sign-in is older than max_age (measured to the
// millisecond, so max_age=0 always asks). Then step up when the session's
// methods do not meet the request's level (req.ACR). Then consent when
// prompt=consent asks or the person's remembered consent does not cover
// the request (covered, asked only then: it reads the store). Else
// nothing, and a code is issued. justSignedIn: the user signed in during
// this interaction, which is what prompt=login, max_age and a hint ask
// for.
//
// The hint's sub is the client's view of the person (subjectFor); seenAs
// turns the session's local id into that view to compare them.
func nextStage(req *grants.Request, sess *grants.Session, seenAs func(localSub string) string, now time.Time, justSignedIn bool, levels *authn.Policy, covered func() bool) string {
	prompts := strings.Fields(req.Prompt)
	switch {
	case sess == nil:
		return grants.StageLogin
	case justSignedIn:
	case req.HintSubject != "" && req.HintSubject != seenAs(sess.Subject):
		return grants.StageLogin
	case slices.Contains(prompts, "login"), slices.Contains(prompts, "select_account"):
		return grants.StageLogin
	case req.MaxAge != nil && sess.SignedInFor(now) > time.Duration(*req.MaxAge)*time.Second:
		return grants.StageLogin
	}
	if !levels.Meets(req.ACR, sess.MethodNames()) {
		return grants.StageStepUp
	}
	if slices.Contains(prompts, "consent") || !covered() {
		return grants.StageConsent
	}
	return ""
}

// checkPromptNone: prompt=none forbids any page (OIDC Core §3.1.2.6): a
// step-up is an interaction, not a sign-in.
func checkPromptNone(req *grants.Request, stage string) *oauthError {
	if !slices.Contains(strings.Fields(req.Prompt), "none") {
		return nil
	}
	switch stage {
	case grants.StageLogin:
		return newError("login_required", "the user is not signed in")
	case grants.StageStepUp, grants.StageOTP, grants.StageOTPEnrol, grants.StagePasskey, grants.StagePasskeyEnrol:
		return newError("interaction_required", "the requested authentication level needs another factor")
	case grants.StageConsent:
		return newError("consent_required", "the user has not consented")
	}
	return nil
}

// stepUpStage is the page that asks for what the session lacks: the
// missing methods of the level (authn.Policy.Missing), a new sign-in when
// the password is among them. "" when nothing the provider offers can add
// them.
func (p *Provider) stepUpStage(ctx context.Context, sv *served, req *grants.Request, sess *grants.Session) string {
	missing := sv.authn().Missing(req.ACR, sess.MethodNames(), sv.authMethods)
	switch {
	case slices.Contains(missing, authn.MethodPassword):
		return grants.StageLogin
	case slices.Contains(missing, authn.MethodOTP):
		return p.otpStage(ctx, sv, sess.Subject)
	case slices.Contains(missing, authn.MethodPasskey) && sv.passkeysOffered():
		return p.passkeyStage(ctx, sv, sess.Subject)
	}
	return ""
}
