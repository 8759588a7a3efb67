package op

import (
	"context"
	"encoding/json"
	"sort"

	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/grants"
	"github.com/idaop/ida-operator/runtime/ida"
)

// recordRelease keeps a release in the person's release records, which
// their account page shows: the names of the claims released into target
// (plain, the keys of released apart from the registered ones; verified,
// from rel) and when, never a value. The audit event (auditRelease) is the
// provider's record; this is the person's view of it, so a store that
// fails here is logged and the response still goes out.
func (p *Provider) recordRelease(ctx context.Context, sv *served, g *grants.Info, target string, released map[string]json.RawMessage, rel []ida.Release) {
	r := grants.Release{ClientID: g.ClientID, Target: target, At: p.now().Unix(), Purpose: g.Purpose}
	for name := range released {
		if !registeredClaims[name] && name != "sub" && name != "verified_claims" && !externalMember[name] {
			r.Claims = append(r.Claims, name)
		}
	}
	sort.Strings(r.Claims)
	if _, ok := released["verified_claims"]; ok || released["_claim_sources"] != nil {
		for _, x := range rel {
			if len(x.Claims) == 0 {
				continue
			}
			r.TrustFrameworks = appendUnique(r.TrustFrameworks, x.TrustFramework)
			for _, n := range x.Claims {
				r.Verified = appendUnique(r.Verified, n)
			}
		}
		sort.Strings(r.Verified)
	}
	if len(r.Claims) == 0 && len(r.Verified) == 0 {
		return
	}
	if err := p.grants.RecordRelease(ctx, g.Subject, r, sv.provider.Consent.Retention(), config.MaxReleaseRecords); err != nil {
		p.logStoreFailure(err)
	}
}
