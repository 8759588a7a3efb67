package op

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"time"
)

// registeredClaims are set by the provider; a released claim of the same
// name never replaces them.
var registeredClaims = map[string]bool{
	"iss": true, "sub": true, "aud": true, "exp": true, "iat": true, "nbf": true,
	"auth_time": true, "nonce": true, "acr": true, "amr": true, "azp": true,
	"at_hash": true, "c_hash": true, "sid": true, "jti": true,
}

// signIDToken builds and signs the ID token (OIDC Core §2, §3.1.3.6) with
// the client's id_token_signed_response_alg or the provider's default.
func (p *Provider) signIDToken(st *state, c *client, g *grantInfo, nonce, accessToken string, released map[string]json.RawMessage, now time.Time) (string, error) {
	claims := make(map[string]any, 10+len(released))
	for k, v := range released {
		if !registeredClaims[k] {
			claims[k] = v
		}
	}
	claims["iss"] = st.issuer
	claims["sub"] = g.Subject
	claims["aud"] = c.ClientID
	claims["iat"] = now.Unix()
	claims["exp"] = now.Add(st.provider.Tokens.IDToken.Duration).Unix()
	claims["auth_time"] = g.AuthTime
	if nonce != "" {
		claims["nonce"] = nonce
	}
	if accessToken != "" {
		claims["at_hash"] = leftHalfHash(accessToken)
	}
	if g.SessionID != "" {
		claims["sid"] = g.SessionID
	}
	return p.signJWT(st, st.idTokenAlg(c), claims, now)
}

// signJWT signs claims with the provider's active key for alg.
func (p *Provider) signJWT(st *state, alg string, claims any, now time.Time) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	s, err := st.signer(alg, now)
	if err != nil {
		return "", err
	}
	jws, err := s.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

// leftHalfHash is at_hash: the left half of the SHA-256 of the token, the
// hash of every algorithm this provider signs with (ES256, PS256, RS256).
func leftHalfHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}
