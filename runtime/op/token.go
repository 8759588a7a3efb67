package op

import (
	"net/http"
	"slices"

	"github.com/idaop/ida-operator/runtime/config"
)

// tokenResponse is RFC 6749 §5.1 with OIDC Core §3.1.3.3's id_token.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
	Scope        string `json:"scope"`
}

// token is the token endpoint: authenticate the client, check the grant
// type and the DPoP proof, find the key an encrypted ID token goes to,
// then run the grant.
func (p *Provider) token(sv *served, w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	form, perr := readParams(r)
	if perr != nil {
		writeJSONError(w, perr)
		return
	}
	endpoint := sv.url(config.PathToken)
	c, err := p.authenticateClient(ctx, sv, r, form, endpoint)
	if err != nil {
		writeJSONError(w, err)
		return
	}
	grantType := form.Get("grant_type")
	if err := checkGrantTypeAllowed(c, grantType); err != nil {
		writeJSONError(w, err)
		return
	}
	proof, err := p.tokenDPoP(ctx, sv, r, c, endpoint)
	if err != nil {
		writeJSONError(w, err)
		return
	}
	p.offerDPoPNonce(w, sv, proof != nil)
	// The ID token's recipient is found before the grant uses up a code
	// or refresh token.
	to, err := p.encryptionRecipient(ctx, c, c.IDTokenEncryption(), "ID token")
	if err != nil {
		writeJSONError(w, err)
		return
	}
	// The signing keys answer before the grant uses up a code or refresh
	// token, so a client can retry while the token is down.
	if err := p.checkSigningKeys(sv, p.now(), tokenSigningAlgs(sv, c)...); err != nil {
		writeJSONError(w, err)
		return
	}
	var resp *tokenResponse
	switch grantType {
	case "authorization_code":
		resp, err = p.codeGrant(ctx, sv, c, form, proof, to)
	case "refresh_token":
		resp, err = p.refreshGrant(ctx, sv, c, form, proof, to)
	}
	if err != nil {
		writeJSONError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// checkGrantTypeAllowed: a grant type the provider knows and the client
// registered.
func checkGrantTypeAllowed(c *client, gt string) *oauthError {
	switch gt {
	case "authorization_code", "refresh_token":
	case "":
		return errInvalidRequest("grant_type is required")
	default:
		return newError("unsupported_grant_type", "grant_type "+sanitize(gt)+" is not supported")
	}
	if !slices.Contains(c.GrantTypes, gt) {
		return errUnauthorizedClient("the client is not registered for " + gt)
	}
	return nil
}

// tokenSigningAlgs are the algorithms a token response to c may sign
// with: its ID token's, and the provider's default for JWT access tokens.
func tokenSigningAlgs(sv *served, c *client) []string {
	algs := []string{sv.idTokenAlg(c)}
	if jwtAccessTokens(sv, c) {
		algs = append(algs, sv.sec.DefaultSigningAlgorithm())
	}
	return algs
}
