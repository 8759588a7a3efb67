package op

import (
	"encoding/json"

	"github.com/idaop/ida-operator/runtime/grants"
	"github.com/idaop/ida-operator/runtime/ida"
)

// verifiedClaimsReleasable: the grant's sign-in meets the provider's
// level for verified_claims (spec.authentication.verifiedClaimsLevel), or
// none is set. The authorization request was stepped up to that level
// already; this holds the rule at the release too, for a grant made
// before the level was set or raised. A trust framework's own level is
// withholdBelowLevel's.
func verifiedClaimsReleasable(sv *served, g *grants.Info) bool {
	return sv.authn().Meets(sv.authn().VerifiedClaimsLevel, g.AMR)
}

// withholdBelowLevel removes from an evaluated verified_claims value (one
// object or an array of them, with its releases in the same order) every
// object whose trust framework needs a level the grant's sign-in (amr)
// does not meet: the provider's verifiedClaimsLevel for all, a
// TrustFramework's requiredAuthenticationLevel for its own
// (authn.Policy.ReleasableUnder). The authorization request was stepped
// up already (levelFloors); this holds the rule at the release too, for a
// grant made before a level was set or raised. Nothing left: no
// verified_claims at all.
func withholdBelowLevel(sv *served, g *grants.Info, claims map[string]json.RawMessage, rel []ida.Release) []ida.Release {
	vc, ok := claims["verified_claims"]
	if !ok {
		return rel
	}
	if !verifiedClaimsReleasable(sv, g) {
		delete(claims, "verified_claims")
		return nil
	}
	keep := func(tf string) bool { return sv.authn().ReleasableUnder(tf, g.AMR) }
	var objs []json.RawMessage
	single := json.Unmarshal(vc, &objs) != nil
	if single {
		objs = []json.RawMessage{vc}
	}
	var out []json.RawMessage
	var outRel []ida.Release
	for i, o := range objs {
		tf := ""
		if i < len(rel) {
			tf = rel[i].TrustFramework
		} else {
			tf = trustFrameworkOf(o)
		}
		if !keep(tf) {
			continue
		}
		out = append(out, o)
		if i < len(rel) {
			outRel = append(outRel, rel[i])
		}
	}
	switch {
	case len(out) == len(objs):
		return rel
	case len(out) == 0:
		delete(claims, "verified_claims")
		return nil
	case single:
		claims["verified_claims"] = out[0]
	default:
		b, err := json.Marshal(out)
		if err != nil {
			delete(claims, "verified_claims")
			return nil
		}
		claims["verified_claims"] = b
	}
	return outRel
}

// trustFrameworkOf reads an object's verification.trust_framework.
func trustFrameworkOf(obj json.RawMessage) string {
	var v struct {
		Verification struct {
			TrustFramework string `json:"trust_framework"`
		} `json:"verification"`
	}
	_ = json.Unmarshal(obj, &v)
	return v.Verification.TrustFramework
}
