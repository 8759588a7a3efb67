package op

import (
	"cmp"
	"encoding/json"
	"time"

	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/grants"
)

// newAccessToken makes the value of an access token in the client's
// format, else the provider's. Opaque by default: a
// random handle into the store. With the JWT format (RFC 9068) it is a
// JWT a resource server can check with the provider's published keys;
// either way the token's record is stored under its hash, so UserInfo,
// revocation and introspection treat both alike, and a JWT access token
// stays revocable.
func (p *Provider) newAccessToken(sv *served, c *client, info *grants.Info, jkt string, now time.Time) (string, error) {
	if !jwtAccessTokens(sv, c) {
		return grants.NewSecret(), nil
	}
	claims := map[string]json.RawMessage{
		"iss":       jsonString(sv.issuer),
		"sub":       jsonString(subjectFor(sv, c, info.Subject)),
		"aud":       jsonAudience(tokenAudience(sv, info.Resources)),
		"client_id": jsonString(c.ClientID),
		"scope":     jsonString(info.Scope),
		"jti":       jsonString(grants.NewSecret()),
		"iat":       jsonInt(now.Unix()),
		"exp":       jsonInt(now.Add(sv.provider.Tokens.AccessToken.Duration).Unix()),
	}
	if info.AuthTime != 0 {
		claims["auth_time"] = jsonInt(info.AuthTime)
	}
	addAuthenticationClaims(claims, info)
	if jkt != "" {
		// The key a DPoP proof must be signed with (RFC 9449 §6.1).
		claims["cnf"] = json.RawMessage(`{"jkt":` + string(jsonString(jkt)) + `}`)
	}
	return signClaims(sv, sv.sec.DefaultSigningAlgorithm(), "at+jwt", claims, now)
}

// jwtAccessTokens: the client's access tokens are JWTs, by its format or
// else the provider's.
func jwtAccessTokens(sv *served, c *client) bool {
	return cmp.Or(c.AccessTokenFormat, sv.provider.Tokens.AccessTokenFormat) == config.AccessTokenJWT
}
