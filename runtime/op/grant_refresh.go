package op

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/idaop/ida-operator/runtime/grants"
	"github.com/idaop/ida-operator/runtime/op/dpop"
)

// refreshRequest is a token request with grant_type=refresh_token whose
// token was found.
type refreshRequest struct {
	sv     *served
	client *client
	form   url.Values
	token  string
	rec    *grants.Token
	// grant is the token's grant; nil when it is gone.
	grant *grants.Grant
	now   time.Time
	// info is what the new tokens carry: the record's, with the scope
	// checkScopeNarrowed settled.
	info grants.Info
	// audience is the new access token's, set by checkRefreshResources.
	audience []string
}

// refreshChecks run before the refresh token is used up.
var refreshChecks = []check[*refreshRequest]{
	checkRefreshIssuedToClient,
	checkRefreshNotExpired,
	checkGrantNotRevoked,
	checkScopeNarrowed,
	checkRefreshResources,
}

// refreshGrant serves a refresh token (RFC 6749 §6): find it and its
// grant, run refreshChecks, evaluate what the ID token releases, then
// issue new tokens under the same grant. Where refresh tokens rotate (RFC
// 9700 §4.14.2) the old one is used up and a new one issued, and
// presenting a rotated token again revokes the grant; under FAPI 2.0 the
// client keeps its refresh token.
func (p *Provider) refreshGrant(ctx context.Context, sv *served, c *client, form url.Values, proof *dpop.Proof, idTokenTo *recipient) (*tokenResponse, *oauthError) {
	rr := &refreshRequest{sv: sv, client: c, form: form, token: form.Get("refresh_token"), now: p.now()}
	if rr.token == "" {
		return nil, errInvalidRequest("refresh_token is required")
	}
	rec, err := p.grants.RefreshToken(ctx, rr.token)
	if err != nil {
		return nil, p.spentSecret(err, "refresh token", c.ClientID)
	}
	rr.rec, rr.info = rec, rec.Info
	switch rr.grant, err = p.grants.Grant(ctx, rec.GrantID); {
	case errors.Is(err, grants.ErrNotFound):
	case err != nil:
		return nil, p.storeFailed(err)
	}
	if err := runChecks(rr, refreshChecks); err != nil {
		return nil, err
	}
	released, oerr := p.idTokenClaims(ctx, sv, c, &rr.info, rr.now)
	if oerr != nil {
		return nil, oerr
	}
	ti := &tokenIssue{client: c, info: rr.info, audience: rr.audience, proof: proof, released: released, grant: rr.grant, idTokenTo: idTokenTo, now: rr.now}
	if sv.rotatesRefreshTokens() {
		if err := p.grants.RotateRefreshToken(ctx, rr.token, rec); err != nil {
			return nil, p.spentSecret(err, "refresh token", c.ClientID)
		}
		// The new token keeps its predecessor's end.
		ti.refreshExpiresAt = rec.ExpiresAt
	}
	return p.issueTokens(ctx, sv, ti)
}

// checkRefreshIssuedToClient: a refresh token only works for its client.
func checkRefreshIssuedToClient(rr *refreshRequest) *oauthError {
	return issuedToClient(&rr.rec.Info, rr.client)
}

// checkRefreshNotExpired applies the token's lifetime on the provider's
// clock.
func checkRefreshNotExpired(rr *refreshRequest) *oauthError {
	if rr.now.Unix() >= rr.rec.ExpiresAt {
		return errInvalidGrant("the refresh token has expired")
	}
	return nil
}

// checkGrantNotRevoked: a revoked grant (a replay, or revocation of one of
// its refresh tokens) issues nothing more.
func checkGrantNotRevoked(rr *refreshRequest) *oauthError {
	if rr.grant == nil || rr.grant.Revoked {
		return errInvalidGrant("the grant was revoked")
	}
	return nil
}

// checkScopeNarrowed: a refresh may ask for less than was granted, never
// more (RFC 6749 §6), and gets no scope the client has lost since.
func checkScopeNarrowed(rr *refreshRequest) *oauthError {
	scope, err := narrowScope(rr.sv.grantedScope(rr.client, rr.rec.Scope), rr.form.Get("scope"))
	if err != nil {
		return err
	}
	rr.info.Scope = scope
	return nil
}

// narrowScope: a refresh may ask for less than was granted, never more.
func narrowScope(granted, asked string) (string, *oauthError) {
	if asked == "" {
		return granted, nil
	}
	g := strings.Fields(granted)
	var out []string
	for _, s := range strings.Fields(asked) {
		if !slices.Contains(g, s) {
			return "", errInvalidScope("scope " + sanitize(s) + " was not granted")
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return strings.Join(out, " "), nil
}

// checkRefreshResources: a refresh may ask for a token for some of the
// resources the authorization named (RFC 8707 §2.2); the refresh token
// keeps them all.
func checkRefreshResources(rr *refreshRequest) *oauthError {
	aud, err := narrowResources(rr.sv, rr.rec.Resources, rr.form["resource"])
	rr.audience = aud
	return err
}
