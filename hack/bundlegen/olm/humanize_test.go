package olm

import "testing"

func TestHumanize(t *testing.T) {
	for in, want := range map[string]string{
		"jwksURI":                            "Jwks URI",
		"IdentityProvider":                   "Identity Provider",
		"requireDPoP":                        "Require DPoP",
		"requireDPoPNonce":                   "Require DPoP Nonce",
		"redirectURIs":                       "Redirect URIs",
		"postLogoutRedirectURIs":             "Post Logout Redirect URIs",
		"allowedCIDRs":                       "Allowed CIDRs",
		"requirePushedAuthorizationRequests": "Require Pushed Authorization Requests",
	} {
		if got := humanize(in); got != want {
			t.Errorf("humanize(%q) = %q, want %q", in, got, want)
		}
	}
}
