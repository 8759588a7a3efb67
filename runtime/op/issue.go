package op

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/idaop/ida-operator/runtime/grants"
	"github.com/idaop/ida-operator/runtime/ida"
	"github.com/idaop/ida-operator/runtime/op/dpop"
)

// tokenIssue is what one token response is made from, whichever grant
// type asked for it.
type tokenIssue struct {
	client *client
	// info is what the tokens carry; its scope is the one granted now.
	info grants.Info
	// audience are the resources the access token is for (RFC 8707);
	// empty for the configured audience.
	audience []string
	// grant is the grant the tokens join (a new one for a code).
	grant *grants.Grant
	// nonce goes into the ID token (a code grant's only).
	nonce string
	// proof, when set, binds the access token to its key (RFC 9449 §5).
	proof *dpop.Proof
	// released is what the claims request releases into the ID token.
	released *ida.Result
	// refreshExpiresAt is when a refresh token issued now expires: a
	// rotated token keeps its predecessor's end.
	refreshExpiresAt int64
	// idTokenTo, when set, is the client's key the ID token is encrypted
	// to.
	idTokenTo *recipient
	now       time.Time
}

// issuesRefreshToken: refresh tokens go to clients registered for the
// refresh_token grant whose granted scope has offline_access.
func issuesRefreshToken(c *client, scope string) bool {
	return slices.Contains(c.GrantTypes, "refresh_token") && slices.Contains(strings.Fields(scope), "offline_access")
}

// grantLifetime is how long a grant's tokens can live.
func grantLifetime(sv *served, c *client, scope string) time.Duration {
	t := sv.provider.Tokens
	if issuesRefreshToken(c, scope) {
		return max(t.RefreshToken.Duration, t.AccessToken.Duration)
	}
	return t.AccessToken.Duration
}

// issueTokens signs the ID token and stores the access token, the refresh
// token and the grant's list of both.
func (p *Provider) issueTokens(ctx context.Context, sv *served, ti *tokenIssue) (*tokenResponse, *oauthError) {
	c, info, now := ti.client, &ti.info, ti.now
	life := sv.provider.Tokens.AccessToken.Duration
	jkt := ""
	if ti.proof != nil {
		jkt = ti.proof.JKT
	}
	access := *info
	access.Resources = ti.audience
	at, err := p.newAccessToken(sv, c, &access, jkt, now)
	if err != nil {
		return nil, p.signingFailed("the access token", c.ClientID, err)
	}
	resp := &tokenResponse{
		AccessToken: at, TokenType: "Bearer",
		ExpiresIn: int64(life / time.Second), Scope: info.Scope,
	}
	is := &grants.Issuance{
		GrantID: info.GrantID, Grant: ti.grant, AccessToken: resp.AccessToken,
		Access: grants.Token{Info: access, IssuedAt: now.Unix(), ExpiresAt: now.Add(life).Unix()},
	}
	if jkt != "" {
		is.Access.JKT, resp.TokenType = jkt, "DPoP"
	}
	if slices.Contains(strings.Fields(info.Scope), "openid") {
		var claims map[string]json.RawMessage
		if ti.released != nil {
			claims = ti.released.IDToken
		}
		idt, err := p.signIDToken(sv, c, info, ti.nonce, resp.AccessToken, claims, now)
		if err != nil {
			return nil, p.signingFailed("the ID token", c.ClientID, err)
		}
		if idt, err = ti.idTokenTo.seal(idt); err != nil {
			p.log.Error("encrypting the ID token failed", "client_id", c.ClientID, "error", err)
			return nil, errServer("encrypting the ID token failed")
		}
		resp.IDToken = idt
	}
	if issuesRefreshToken(c, info.Scope) && ti.refreshExpiresAt > now.Unix() {
		resp.RefreshToken = grants.NewSecret()
		is.RefreshToken, is.Refresh = resp.RefreshToken, grants.Token{Info: *info, IssuedAt: now.Unix(), ExpiresAt: ti.refreshExpiresAt}
	}
	if err := p.grants.Issue(ctx, is); err != nil {
		return nil, p.storeFailed(err)
	}
	p.metrics.tokenIssued("access_token")
	if resp.RefreshToken != "" {
		p.metrics.tokenIssued("refresh_token")
	}
	if resp.IDToken != "" {
		p.metrics.tokenIssued("id_token")
		if ti.released != nil {
			p.auditRelease(sv, c, info, "id_token", ti.released.IDTokenReleases)
			p.recordRelease(ctx, sv, info, "id_token", ti.released.IDToken, ti.released.IDTokenReleases)
			p.auditExternal(sv, c, info, "id_token", ti.released.IDToken)
		}
	}
	return resp, nil
}

// spentSecret answers a code or refresh token that could not be found or
// used up: a replay (its grant has been revoked), an unknown or expired
// one, or a store that failed.
func (p *Provider) spentSecret(err error, what, clientID string) *oauthError {
	switch {
	case errors.Is(err, grants.ErrReplayed):
		p.securityEvent(eventReplay, clientID, what)
		if err != grants.ErrReplayed { // a wrapped one says revoking failed
			p.log.Error("revoking the grant of a replayed "+what+" failed", "error", err)
		}
		return errInvalidGrant("the " + what + " was already used")
	case errors.Is(err, grants.ErrNotFound):
		return errInvalidGrant("the " + what + " is invalid or expired")
	}
	return p.storeFailed(err)
}

// idTokenClaims evaluates what the claims request releases into the ID
// token. Only a request with an id_token member needs the user's data.
func (p *Provider) idTokenClaims(ctx context.Context, sv *served, c *client, g *grants.Info, now time.Time) (*ida.Result, *oauthError) {
	cc := p.compileClaims(c, g.Claims, g.Scope, g.IntegrityProtected())
	if !cc.asksIDToken {
		return nil, nil
	}
	if cc.err != nil {
		return nil, errInvalidGrant("the claims request is no longer valid for the client")
	}
	req := cc.req
	u, oerr := p.lookupUser(ctx, g.Subject)
	if oerr != nil {
		return nil, oerr
	}
	ds, err := p.dataset(u)
	if err != nil {
		p.log.Error("user dataset is invalid", "error", err)
		return nil, errServer("the user's data is invalid")
	}
	res := c.engine.EvaluateFor(req, ds, now, ida.TargetIDToken)
	res.IDTokenReleases = withholdBelowLevel(sv, g, res.IDToken, res.IDTokenReleases)
	if !verifiedClaimsReleasable(sv, g) {
		delete(res.IDToken, "verified_claims")
		res.IDTokenReleases = nil
		return res, nil
	}
	// What external sources hold joins the releases the audit event and
	// the person's release records name.
	members, rel := p.externalClaims(ctx, sv, c, g, req, ida.TargetIDToken, u, now)
	for k, v := range members {
		res.IDToken[k] = v
	}
	res.IDTokenReleases = append(res.IDTokenReleases, rel...)
	return res, nil
}
