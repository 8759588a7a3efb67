package op

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/jwe"
)

// recipient is the client's key a response is encrypted to, with the
// alg and enc the client registered for that response.
type recipient struct {
	key jose.JSONWebKey
	config.Encryption
}

// encryptionRecipient finds the client's key for e (nil when e is off):
// in its registered jwks, or at its jwks_uri, fetched and cached as for
// client assertions. The rule for which key fits is jwe.SelectKey. A
// jwks_uri that cannot be read answers temporarily_unavailable; a set
// without a fitting key answers invalid_client_metadata (RFC 7591
// §3.2.2), which tells the client what to fix, never a server error.
// Callers resolve the recipient before anything is used up, so a refusal
// costs the client no code or refresh token.
func (p *Provider) encryptionRecipient(ctx context.Context, c *client, e config.Encryption, what string) (*recipient, *oauthError) {
	if !e.On() {
		return nil, nil
	}
	keys, source := c.jwks, "jwks"
	if c.JWKSURI != "" {
		source = "jwks_uri"
		var err error
		if keys, err = p.clientJWKS.keys(ctx, c.JWKSURI, ""); err != nil {
			// The cache logs the fetch failure, without the keys.
			desc := "the " + what + " cannot be encrypted: " + jwksErrorDescription(err)
			if errors.Is(err, errJWKSInvalid) {
				return nil, errClientMetadata(desc)
			}
			return nil, errUnavailable(desc)
		}
	}
	k, err := jwe.SelectKey(keys, e.Alg)
	if err != nil {
		p.log.Warn("a response cannot be encrypted to the client", slog.String("client_id", c.ClientID),
			slog.String("response", what), slog.String("error", err.Error()))
		return nil, errClientMetadata("the " + what + " cannot be encrypted: the client's " + source + ": " + err.Error())
	}
	return &recipient{key: k, Encryption: e}, nil
}

// seal encrypts a signed JWT to the recipient as a nested JWT (OIDC Core
// §10.2: signed, then encrypted, cty JWT); a nil recipient returns it as
// it is.
func (r *recipient) seal(signed string) (string, error) {
	if r == nil {
		return signed, nil
	}
	return jwe.Encrypt(signed, r.key, r.Alg, r.Enc)
}

// errClientMetadata: the client's registration cannot serve the request
// (RFC 7591 §3.2.2's invalid_client_metadata).
func errClientMetadata(desc string) *oauthError {
	return &oauthError{Code: "invalid_client_metadata", Description: desc, Status: http.StatusBadRequest}
}
