package op

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"time"

	"github.com/idaop/ida-operator/runtime/grants"
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
func (p *Provider) signIDToken(sv *served, c *client, g *grants.Info, nonce, accessToken string, released map[string]json.RawMessage, now time.Time) (string, error) {
	claims := make(map[string]json.RawMessage, 10+len(released))
	for k, v := range released {
		if !registeredClaims[k] {
			claims[k] = v
		}
	}
	claims["iss"] = jsonString(sv.issuer)
	claims["sub"] = jsonString(subjectFor(sv, c, g.Subject))
	claims["aud"] = jsonString(c.ClientID)
	claims["iat"] = jsonInt(now.Unix())
	claims["exp"] = jsonInt(now.Add(sv.provider.Tokens.IDToken.Duration).Unix())
	claims["auth_time"] = jsonInt(g.AuthTime)
	addAuthenticationClaims(claims, g)
	if nonce != "" {
		claims["nonce"] = jsonString(nonce)
	}
	if accessToken != "" {
		claims["at_hash"] = jsonString(leftHalfHash(accessToken))
	}
	if g.SessionID != "" {
		claims["sid"] = jsonString(g.SessionID)
	}
	return p.signJWT(sv, sv.idTokenAlg(c), claims, now)
}

// signJWT signs claims with the provider's active key for alg. The
// payload is the same JSON that encoding/json would write.
func (p *Provider) signJWT(sv *served, alg string, claims map[string]json.RawMessage, now time.Time) (string, error) {
	return signClaims(sv, alg, "JWT", claims, now)
}

// signClaims signs claims as a JWT of the given typ (JWT, at+jwt,
// token-introspection+jwt) with the provider's active key for alg.
func signClaims(sv *served, alg, typ string, claims map[string]json.RawMessage, now time.Time) (string, error) {
	payload, err := marshalRawObject(claims)
	if err != nil {
		return "", err
	}
	s, err := sv.signerOfType(alg, typ, now)
	if err != nil {
		return "", err
	}
	jws, err := s.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

// jsonString is json.Marshal of s, without reflection when s needs no
// escaping (plainJSON's key rule: printable ASCII, no quote or backslash).
func jsonString(s string) json.RawMessage {
	if plainJSON(s, true) {
		b := make([]byte, 0, len(s)+2)
		return append(append(append(b, '"'), s...), '"')
	}
	b, _ := json.Marshal(s) // a string always encodes
	return b
}

func jsonInt(n int64) json.RawMessage { return strconv.AppendInt(nil, n, 10) }

// jsonAudience is an aud claim: a string for one audience, an array for
// more (RFC 7519 §4.1.3).
func jsonAudience(aud []string) json.RawMessage {
	if len(aud) == 1 {
		return jsonString(aud[0])
	}
	b, _ := json.Marshal(aud) // strings always encode
	return b
}

// leftHalfHash is at_hash: the left half of the SHA-256 of the token, the
// hash of every algorithm this provider signs with (ES256, PS256, RS256).
func leftHalfHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}

// addAuthenticationClaims says how the person signed in, for ID tokens
// (OIDC Core §2) and JWT access tokens (RFC 9068 §2.2.1): acr when the
// provider declares levels, amr (RFC 8176) when methods were recorded.
func addAuthenticationClaims(claims map[string]json.RawMessage, g *grants.Info) {
	if g.ACR != "" {
		claims["acr"] = jsonString(g.ACR)
	}
	if len(g.AMR) > 0 {
		amr, _ := json.Marshal(g.AMR) // strings always encode
		claims["amr"] = amr
	}
}
