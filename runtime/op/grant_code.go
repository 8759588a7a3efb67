package op

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"time"

	"github.com/idaop/ida-operator/runtime/grants"
	"github.com/idaop/ida-operator/runtime/op/dpop"
)

// codeRedemption is a token request with grant_type=authorization_code
// whose code was found.
type codeRedemption struct {
	sv     *served
	client *client
	form   url.Values
	proof  *dpop.Proof
	code   string
	rec    *grants.Code
	now    time.Time
	// audience is the access token's, set by checkCodeResources.
	audience []string
}

// codeChecks run before the code is used up, so a refused request leaves
// it usable for the real client (RFC 6749 §4.1.3).
var codeChecks = []check[*codeRedemption]{
	checkCodeIssuedToClient,
	checkCodeNotExpired,
	checkRedirectURIMatches,
	checkPKCEVerifier,
	checkCodeDPoPBinding,
	checkCodeResources,
}

// codeGrant redeems an authorization code (RFC 6749 §4.1.3): find it, run
// codeChecks, evaluate what the ID token releases, use the code up, and
// issue the tokens of a new grant. A code that was redeemed before is a
// replay: the grant's tokens are revoked (RFC 6749 §4.1.2, RFC 9700
// §4.2.4).
func (p *Provider) codeGrant(ctx context.Context, sv *served, c *client, form url.Values, proof *dpop.Proof, idTokenTo *recipient) (*tokenResponse, *oauthError) {
	cr := &codeRedemption{sv: sv, client: c, form: form, proof: proof, code: form.Get("code"), now: p.now()}
	if cr.code == "" {
		return nil, errInvalidRequest("code is required")
	}
	rec, err := p.grants.Code(ctx, cr.code)
	if err != nil {
		return nil, p.spentSecret(err, "authorization code", c.ClientID)
	}
	cr.rec = rec
	if err := runChecks(cr, codeChecks); err != nil {
		return nil, err
	}
	released, oerr := p.idTokenClaims(ctx, sv, c, &rec.Info, cr.now)
	if oerr != nil {
		return nil, oerr
	}
	life := grantLifetime(sv, c, rec.Scope)
	if err := p.grants.RedeemCode(ctx, cr.code, rec, life); err != nil {
		return nil, p.spentSecret(err, "authorization code", c.ClientID)
	}
	return p.issueTokens(ctx, sv, &tokenIssue{
		client: c, info: rec.Info, audience: cr.audience, nonce: rec.Nonce, proof: proof, released: released, idTokenTo: idTokenTo,
		grant:            &grants.Grant{ClientID: c.ClientID, ExpiresAt: cr.now.Add(life).Unix()},
		refreshExpiresAt: cr.now.Add(sv.provider.Tokens.RefreshToken.Duration).Unix(),
		now:              cr.now,
	})
}

// checkCodeIssuedToClient: a code only works for its client.
func checkCodeIssuedToClient(cr *codeRedemption) *oauthError {
	return issuedToClient(&cr.rec.Info, cr.client)
}

// issuedToClient: codes and refresh tokens only work for their client.
func issuedToClient(g *grants.Info, c *client) *oauthError {
	if g.ClientID != c.ClientID {
		return errInvalidGrant("the grant was issued to another client")
	}
	return nil
}

// checkCodeNotExpired applies the code's lifetime on the provider's clock.
func checkCodeNotExpired(cr *codeRedemption) *oauthError {
	if cr.now.Unix() >= cr.rec.ExpiresAt {
		return errInvalidGrant("the authorization code has expired")
	}
	return nil
}

// checkRedirectURIMatches: redirect_uri equals the authorization
// request's (RFC 6749 §4.1.3).
func checkRedirectURIMatches(cr *codeRedemption) *oauthError {
	if cr.form.Get("redirect_uri") != cr.rec.RedirectURI {
		return errInvalidGrant("redirect_uri does not match the authorization request")
	}
	return nil
}

// checkPKCEVerifier: BASE64URL(SHA256(code_verifier)) equals the
// code_challenge (RFC 7636 §4.6).
func checkPKCEVerifier(cr *codeRedemption) *oauthError {
	verifier := cr.form.Get("code_verifier")
	if verifier == "" {
		return errInvalidGrant("code_verifier is required")
	}
	if !pkceValue.MatchString(verifier) {
		return errInvalidGrant("code_verifier is malformed")
	}
	sum := sha256.Sum256([]byte(verifier))
	if base64.RawURLEncoding.EncodeToString(sum[:]) != cr.rec.CodeChallenge {
		return errInvalidGrant("code_verifier does not match the code_challenge")
	}
	return nil
}

// checkCodeDPoPBinding: a code bound at PAR or by dpop_jkt is redeemed
// with a proof of the same key (RFC 9449 §10).
func checkCodeDPoPBinding(cr *codeRedemption) *oauthError {
	if cr.rec.DPoPJKT == "" {
		return nil
	}
	if cr.proof == nil || cr.proof.JKT != cr.rec.DPoPJKT {
		return errInvalidGrant("the code is bound to another DPoP key")
	}
	return nil
}

// checkCodeResources: the token request may narrow the resources the
// authorization named (RFC 8707 §2.2).
func checkCodeResources(cr *codeRedemption) *oauthError {
	aud, err := narrowResources(cr.sv, cr.rec.Resources, cr.form["resource"])
	cr.audience = aud
	return err
}
