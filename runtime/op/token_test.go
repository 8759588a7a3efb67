package op

import "testing"

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
