package ida

import (
	"slices"
	"sort"
)

// RequestedClaim is one claim a request asks for, as a consent page lists
// it. The same name asked for verified and unverified makes two entries.
type RequestedClaim struct {
	// Name is the claim's name as requested (a language tag or a
	// transformed-claim colon included), or as a profile scope's response
	// holds it ("address.formatted", ":age_18_or_over").
	Name string
	// Verified: asked for inside verified_claims or by a profile scope.
	Verified bool
	// Purpose is the first purpose given for the claim, "" when none.
	Purpose string
	// TrustFrameworks are the trust frameworks requested for a verified
	// claim (value or values of verification.trust_framework), in
	// request order; empty when the request leaves it open.
	TrustFrameworks []string
}

// RequestedClaims lists what the request asks for, for display: the
// claims of userinfo, then of id_token, each target's members in name
// order (a verified_claims member expands to its claims, in name order,
// at its own place), then the claims of the profile scopes. Entries with
// the same name and verified-ness are merged: the first purpose wins and
// the trust frameworks are united.
func (r *Request) RequestedClaims() []RequestedClaim {
	var out []RequestedClaim
	for _, tr := range []*targetRequest{&r.userInfo, &r.idToken} {
		for _, c := range tr.displayOrder() {
			out = mergeRequested(out, c)
		}
	}
	for _, s := range r.profile {
		for _, name := range jpScopes[s].claims {
			out = mergeRequested(out, RequestedClaim{Name: name, Verified: true, TrustFrameworks: []string{jpTrustFramework}})
		}
	}
	return out
}

// ProfileScopeClaims returns the claims a Japanese profile scope releases,
// as its response names them; nil for any other scope.
func ProfileScopeClaims(scope string) []string {
	return slices.Clone(jpScopes[scope].claims)
}

// displayOrder lists one target's claims: members sorted by name, with
// verified_claims standing for its entries' claims.
func (tr *targetRequest) displayOrder() []RequestedClaim {
	plain := sortedByName(tr.claims.children)
	var out []RequestedClaim
	verifiedDone := len(tr.verified) == 0
	addVerified := func() {
		for i := range tr.verified {
			vc := &tr.verified[i]
			tfs := requestedTrustFrameworks(&vc.verification)
			for _, c := range sortedByName(vc.claims.children) {
				out = append(out, RequestedClaim{Name: c.name, Verified: true, Purpose: purposeOf(c), TrustFrameworks: tfs})
			}
		}
		verifiedDone = true
	}
	for _, c := range plain {
		if !verifiedDone && c.name > "verified_claims" {
			addVerified()
		}
		out = append(out, RequestedClaim{Name: c.name, Purpose: purposeOf(c)})
	}
	if !verifiedDone {
		addVerified()
	}
	return out
}

func sortedByName(nodes []reqNode) []*reqNode {
	out := make([]*reqNode, len(nodes))
	for i := range nodes {
		out[i] = &nodes[i]
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

func purposeOf(n *reqNode) string {
	if n.reqOpts == nil {
		return ""
	}
	return n.purpose
}

// requestedTrustFrameworks reads verification.trust_framework's value or
// values.
func requestedTrustFrameworks(ver *reqNode) []string {
	tf := ver.child("trust_framework")
	if tf == nil || tf.reqOpts == nil {
		return nil
	}
	if tf.value != nil {
		if tf.value.kind == kString {
			return []string{tf.value.str}
		}
		return nil
	}
	var out []string
	for _, v := range tf.values {
		if v.kind == kString {
			out = append(out, v.str)
		}
	}
	return out
}

// mergeRequested adds c, or folds it into the entry of the same name and
// verified-ness.
func mergeRequested(list []RequestedClaim, c RequestedClaim) []RequestedClaim {
	for i := range list {
		e := &list[i]
		if e.Name != c.Name || e.Verified != c.Verified {
			continue
		}
		if e.Purpose == "" {
			e.Purpose = c.Purpose
		}
		for _, tf := range c.TrustFrameworks {
			if !slices.Contains(e.TrustFrameworks, tf) {
				e.TrustFrameworks = append(e.TrustFrameworks, tf)
			}
		}
		return list
	}
	c.TrustFrameworks = slices.Clone(c.TrustFrameworks)
	return append(list, c)
}
