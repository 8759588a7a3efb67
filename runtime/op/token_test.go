package op

import (
	"slices"
	"testing"

	"github.com/idaop/ida-operator/runtime/config"
)

// TestCheckGrantTypeAllowed: a grant type the provider knows (RFC 6749
// §5.2 unsupported_grant_type) and the client registered
// (unauthorized_client).
func TestCheckGrantTypeAllowed(t *testing.T) {
	_, sv := servedFor(t)
	cases := []struct {
		name, client, grantType, code string
	}{
		{"authorization_code, registered", clientBasic, "authorization_code", ""},
		{"refresh_token, registered", clientPost, "refresh_token", ""},
		{"grant_type is required", clientBasic, "", "invalid_request"},
		{"grant type unknown to the provider", clientBasic, "password", "unsupported_grant_type"},
		{"grant type not registered for the client", clientBasic, "refresh_token", "unauthorized_client"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := codeOf(checkGrantTypeAllowed(sv.clients[tc.client], tc.grantType)); got != tc.code {
				t.Fatalf("got %q, want %q", got, tc.code)
			}
		})
	}
}

// TestTokenSigningAlgs: the keys checked before a grant is spent are
// those its response may sign with: the ID token's algorithm, and the
// provider's default only for JWT access tokens.
func TestTokenSigningAlgs(t *testing.T) {
	_, sv := servedFor(t)
	basic, signed := sv.clients[clientBasic], sv.clients[clientSigned]
	if got := tokenSigningAlgs(sv, basic); !slices.Equal(got, []string{config.ES256}) {
		t.Fatalf("opaque access tokens, ES256 ID tokens: %v", got)
	}
	if got := tokenSigningAlgs(sv, signed); !slices.Equal(got, []string{config.PS256}) {
		t.Fatalf("PS256 ID tokens: %v", got)
	}
	jwtClient := *signed
	jwtClient.Client = &config.Client{}
	*jwtClient.Client = *signed.Client
	jwtClient.AccessTokenFormat = config.AccessTokenJWT
	if got := tokenSigningAlgs(sv, &jwtClient); !slices.Equal(got, []string{config.PS256, config.ES256}) {
		t.Fatalf("JWT access tokens: %v", got)
	}
}
