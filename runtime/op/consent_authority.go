package op

import (
	"context"

	"github.com/idaop/ida-operator/runtime/grants"
	"github.com/idaop/ida-operator/runtime/ida"
	"github.com/idaop/ida-operator/runtime/ui"
)

// withActsFor names, on the consent page's authority claim, the entities
// the release would say the person acts for (Authority Claims Extension
// draft): what the engine would release from the person's data for this
// request, so the page shows no more than the client would get. When the
// data cannot be read now the page simply names none; the release itself
// is decided again at the token and UserInfo endpoints.
func (p *Provider) withActsFor(ctx context.Context, c *client, req *grants.Request, subject string, claims []ui.ConsentClaim) []ui.ConsentClaim {
	at := -1
	for i := range claims {
		if claims[i].Verified && claims[i].Name == "authority" {
			at = i
			break
		}
	}
	src := p.userSource()
	if at < 0 || src == nil {
		return claims
	}
	cc := p.compileClaims(c, req.Claims, req.Scope, req.IntegrityProtected())
	if cc.err != nil {
		return claims
	}
	u, err := src.Lookup(ctx, subject)
	if err != nil {
		p.log.Warn("user source failed", "op", "lookup", "error", err)
		return claims
	}
	ds, err := p.dataset(u)
	if err != nil {
		return claims
	}
	claims[at].ActsFor = ida.ActsFor(c.engine.Evaluate(cc.req, ds, p.now()))
	return claims
}
