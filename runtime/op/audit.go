package op

import (
	"log/slog"
	"sort"

	"github.com/idaop/ida-operator/runtime/grants"
	"github.com/idaop/ida-operator/runtime/ida"
)

// auditRelease records one release of verified claims: who received what
// kind of data about whom, under which trust frameworks and for what
// purpose; never a claim's value. subject is the provider's own id of the
// person, which its other logs and the user source share; client_subject
// is the sub the client received (the same for public clients, pairwise
// otherwise), what an auditor matches against the relying party's records.
// Neither is more personal than the other. rel describes the released
// verified_claims objects (ida.Result), so nothing is parsed again here.
func (p *Provider) auditRelease(sv *served, c *client, g *grants.Info, target string, rel []ida.Release) {
	if len(rel) == 0 {
		return
	}
	var tfs, names []string
	for _, r := range rel {
		if len(r.Claims) == 0 {
			continue // an error object or an empty match releases nothing
		}
		tfs = appendUnique(tfs, r.TrustFramework)
		for _, n := range r.Claims {
			names = appendUnique(names, n)
		}
		p.metrics.verifiedClaimsReleased(r.TrustFramework)
	}
	if len(names) == 0 {
		return
	}
	sort.Strings(names)
	p.audit.Info("verified claims released",
		slog.String("event", "verified_claims_released"),
		slog.String("client_id", c.ClientID),
		slog.String("subject", g.Subject),
		slog.String("client_subject", subjectFor(sv, c, g.Subject)),
		slog.String("target", target),
		slog.Any("trust_frameworks", tfs),
		slog.Any("claims", names),
		slog.String("purpose", g.Purpose),
	)
	if p.auditSync != nil {
		// A failed write has nowhere else to be reported: slog drops its
		// own write errors the same way.
		_ = p.auditSync()
	}
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}
