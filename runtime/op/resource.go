package op

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/idaop/ida-operator/runtime/config"
)

// Resource indicators (RFC 8707): a client names the APIs it wants a token
// for, at authorization and again at the token endpoint, and the access
// token's audience is restricted to them. The rules live here; the steps
// call them.

// checkResources: each `resource` value is an absolute URI without a
// fragment (RFC 8707 §2) that the provider offers: one of its configured
// resources or the issuer, whose resource is UserInfo. A parameter may be
// repeated, so the values are a list.
func checkResources(sv *served, rs []string) *oauthError {
	if len(rs) > config.MaxResources {
		return errInvalidTarget(fmt.Sprintf("more than %d resources", config.MaxResources))
	}
	for i, r := range rs {
		if err := config.CheckResourceIndicator(r); err != nil {
			return errInvalidTarget("resource " + sanitize(r) + ": " + err.Error())
		}
		if r != sv.issuer && !slices.Contains(sv.provider.Tokens.Resources, r) {
			return errInvalidTarget("resource " + sanitize(r) + " is not offered by this provider")
		}
		if slices.Contains(rs[:i], r) {
			return errInvalidRequest("resource " + sanitize(r) + " is repeated")
		}
	}
	return nil
}

// narrowResources is the audience of an access token issued at the token
// endpoint: the resources the token request names, each of which the
// grant must hold when the authorization named any (RFC 8707 §2.2), or
// else the grant's.
func narrowResources(sv *served, granted, asked []string) ([]string, *oauthError) {
	if len(asked) == 0 {
		return granted, nil
	}
	if err := checkResources(sv, asked); err != nil {
		return nil, err
	}
	if len(granted) > 0 {
		for _, r := range asked {
			if !slices.Contains(granted, r) {
				return nil, errInvalidTarget("resource " + sanitize(r) + " was not part of the authorization")
			}
		}
	}
	return asked, nil
}

// tokenAudience is the aud of an access token with these resources:
// them, or, for a token asked for without any, the configured audience
// (the issuer by default).
func tokenAudience(sv *served, resources []string) []string {
	if len(resources) > 0 {
		return resources
	}
	return []string{cmp.Or(sv.provider.Tokens.AccessTokenAudience, sv.issuer)}
}

// servesUserInfo: an access token is good at UserInfo when it was asked
// for without resources, or with the issuer among them. A token for an
// API only is refused there, as the API would refuse one for UserInfo.
func servesUserInfo(sv *served, resources []string) bool {
	return len(resources) == 0 || slices.Contains(resources, sv.issuer)
}
