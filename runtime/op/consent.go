package op

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"sort"

	"github.com/idaop/ida-operator/runtime/grants"
	"github.com/idaop/ida-operator/runtime/ida"
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
	req := &in.rec.Request
	switch in.form.Get(ui.FieldDecision) {
	case ui.DecisionDeny:
		// The interaction is over; left behind, it would only expire.
		_ = p.grants.FinishInteraction(ctx, in.id)
		p.redirectError(w, r, sv, req, newError("access_denied", "the user refused"))
		return
	case ui.DecisionApprove:
	default:
		p.errorPage(w, r, req.UILocales, errInvalidRequest("decision must be approve or deny"))
		return
	}
	now := p.now()
	sess, cookie := p.loadSession(ctx, r, now)
	if sess == nil || sess.SID != in.rec.SessionID || sess.Subject != in.rec.Subject {
		p.errorPage(w, r, req.UILocales, errInvalidRequest("the session changed; start again from the application"))
		return
	}
	if key := consentKey(req); !slices.Contains(sess.Consents, key) {
		sess.Consents = append(sess.Consents, key)
		if n := len(sess.Consents); n > maxConsents {
			sess.Consents = sess.Consents[n-maxConsents:]
		}
		// Not remembering the approval only means asking again next time.
		if err := p.grants.UpdateSession(ctx, cookie, sess, grants.Remaining(sess.ExpiresAt, now)); err != nil {
			p.logStoreFailure(err)
		}
	}
	switch err := p.grants.FinishInteraction(ctx, in.id); {
	case errors.Is(err, grants.ErrNotFound):
		// Two approvals raced; the first one answered.
		p.errorPage(w, r, req.UILocales, errInvalidRequest("this sign-in has already completed"))
		return
	case err != nil:
		p.errorPage(w, r, req.UILocales, p.storeFailed(err))
		return
	}
	p.issueCode(w, r, sv, req, signedIn{subject: in.rec.Subject, authTime: in.rec.AuthTime, sid: in.rec.SessionID})
}

// consentClaims lists what the consent page shows for a request.
func (p *Provider) consentClaims(c *client, req *grants.Request) []ui.ConsentClaim {
	var profile []string
	if cc := p.compileClaims(c, req.Claims, req.Scope, req.IntegrityProtected()); cc.err == nil {
		profile = cc.req.ProfileScopes()
	}
	return requestedClaims(req.Claims, profile)
}

// requestedClaims lists what the consent page shows: every claim the claims
// parameter requests, verified or not, with its purpose and the trust
// frameworks asked for, then the claims of the profile scopes.
func requestedClaims(raw string, profileScopes []string) []ui.ConsentClaim {
	var out []ui.ConsentClaim
	add := func(cc ui.ConsentClaim) {
		for i := range out {
			if out[i].Name == cc.Name && out[i].Verified == cc.Verified {
				if out[i].Purpose == "" {
					out[i].Purpose = cc.Purpose
				}
				for _, tf := range cc.TrustFrameworks {
					if !slices.Contains(out[i].TrustFrameworks, tf) {
						out[i].TrustFrameworks = append(out[i].TrustFrameworks, tf)
					}
				}
				return
			}
		}
		out = append(out, cc)
	}
	var doc map[string]json.RawMessage
	if raw != "" && json.Unmarshal([]byte(raw), &doc) == nil {
		for _, target := range []string{"userinfo", "id_token"} {
			var members map[string]json.RawMessage
			if json.Unmarshal(doc[target], &members) != nil {
				continue
			}
			for _, name := range sortedKeys(members) {
				if name == "verified_claims" {
					for _, vc := range objects(members[name]) {
						tfs := requestedTrustFrameworks(vc["verification"])
						var claims map[string]json.RawMessage
						_ = json.Unmarshal(vc["claims"], &claims)
						for _, cn := range sortedKeys(claims) {
							add(ui.ConsentClaim{Name: cn, Purpose: purposeOf(claims[cn]), Verified: true, TrustFrameworks: tfs})
						}
					}
					continue
				}
				add(ui.ConsentClaim{Name: name, Purpose: purposeOf(members[name])})
			}
		}
	}
	for _, s := range profileScopes {
		for _, cn := range profileScopeClaims[s] {
			add(ui.ConsentClaim{Name: cn, Verified: true, TrustFrameworks: []string{jpTrustFramework}})
		}
	}
	return out
}

// profileScopeClaims are the claims each Japanese profile scope releases.
var profileScopeClaims = map[string][]string{
	ida.ScopeJPIDA:             {"name", "birthdate", "address"},
	ida.ScopeJPIDAWithEvidence: {"name", "birthdate", "address"},
	ida.ScopeJPAgeOver16:       {"age_16_or_over"},
	ida.ScopeJPAgeOver18:       {"age_18_or_over"},
	ida.ScopeJPAgeOver20:       {"age_20_or_over"},
	ida.ScopeJPMSISDN:          {"msisdn"},
}

func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// objects reads a JSON object or array of objects.
func objects(raw json.RawMessage) []map[string]json.RawMessage {
	var one map[string]json.RawMessage
	if json.Unmarshal(raw, &one) == nil && one != nil {
		return []map[string]json.RawMessage{one}
	}
	var many []map[string]json.RawMessage
	_ = json.Unmarshal(raw, &many)
	return many
}

func purposeOf(raw json.RawMessage) string {
	var o struct {
		Purpose string `json:"purpose"`
	}
	_ = json.Unmarshal(raw, &o)
	return o.Purpose
}

// requestedTrustFrameworks reads verification.trust_framework's value or
// values.
func requestedTrustFrameworks(raw json.RawMessage) []string {
	var v struct {
		TF struct {
			Value  string   `json:"value"`
			Values []string `json:"values"`
		} `json:"trust_framework"`
	}
	_ = json.Unmarshal(raw, &v)
	if v.TF.Value != "" {
		return []string{v.TF.Value}
	}
	return v.TF.Values
}
