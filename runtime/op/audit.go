package op

import (
	"encoding/json"
	"log/slog"
	"sort"
)

// auditRelease records one release of verified claims: who received what
// kind of data about whom, under which trust frameworks and for what
// purpose; never a claim's value. vc is the released verified_claims.
func (p *Provider) auditRelease(c *client, g *grantInfo, target string, vc json.RawMessage) {
	if len(vc) == 0 {
		return
	}
	var tfs, names []string
	for _, obj := range objects(vc) {
		var ver struct {
			TF string `json:"trust_framework"`
		}
		_ = json.Unmarshal(obj["verification"], &ver)
		var claims map[string]json.RawMessage
		_ = json.Unmarshal(obj["claims"], &claims)
		if len(claims) == 0 {
			continue // an error object or an empty match releases nothing
		}
		tfs = appendUnique(tfs, ver.TF)
		for n := range claims {
			names = appendUnique(names, n)
		}
		p.metrics.verifiedClaimsReleased(ver.TF)
	}
	if len(names) == 0 {
		return
	}
	sort.Strings(names)
	p.audit.Info("verified claims released",
		slog.String("event", "verified_claims_released"),
		slog.String("client_id", c.ClientID),
		slog.String("subject", g.Subject),
		slog.String("target", target),
		slog.Any("trust_frameworks", tfs),
		slog.Any("claims", names),
		slog.String("purpose", g.Purpose),
	)
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}
