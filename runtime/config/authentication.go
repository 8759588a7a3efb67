package config

import (
	"maps"
	"regexp"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/idaop/ida-operator/runtime/authn"
)

// Bounds of the authentication levels, as the IdentityProvider CRD sets
// them at admission.
const (
	maxAuthLevels       = 16
	maxAuthCombinations = 8
	maxACRLength        = 256
)

// acrValue is an acr a request can name: acr_values is space separated
// (OIDC Core §3.1.2.1), so printable ASCII without spaces.
var acrValue = regexp.MustCompile(`^[\x21-\x7E]+$`)

// AuthenticationMethods are the methods the provider can offer its users:
// a password always; one-time codes and passkeys where their factors can
// be kept (the builtin user source: the session store; the HTTP user
// source with factors set: the KYC system).
func (p *Provider) AuthenticationMethods() []string {
	if p.Users.Type == UsersBuiltin || p.Users.Type == UsersHTTP && p.Users.HTTP != nil && p.Users.HTTP.Factors {
		return []string{authn.MethodPassword, authn.MethodOTP, authn.MethodPasskey}
	}
	return []string{authn.MethodPassword}
}

// validateAuthentication holds the rules the IdentityProvider CRD also
// checks at admission (spec.authentication's CEL rules), plus one it
// cannot see: the default level must be reachable with the user source.
func validateAuthentication(a *authn.Policy, available []string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(a.Levels) == 0 {
		if a.DefaultLevel != "" {
			errs = append(errs, field.Forbidden(path.Child("default_level"), "needs levels"))
		}
		if a.VerifiedClaimsLevel != "" {
			errs = append(errs, field.Forbidden(path.Child("verified_claims_level"), "needs levels"))
		}
		for _, tf := range slices.Sorted(maps.Keys(a.TrustFrameworkLevels)) {
			errs = append(errs, invalid(path.Child("trust_framework_levels").Key(tf), "trust framework %s requires the level %q, but the provider declares no levels: declare it in spec.authentication.levels", tf, a.TrustFrameworkLevels[tf]))
		}
		return errs
	}
	levels := path.Child("levels")
	if len(a.Levels) > maxAuthLevels {
		errs = append(errs, field.TooMany(levels, len(a.Levels), maxAuthLevels))
	}
	for i, l := range a.Levels {
		lp := levels.Index(i)
		switch {
		case !acrValue.MatchString(l.ACR) || len(l.ACR) > maxACRLength:
			errs = append(errs, invalid(lp.Child("acr"), "%q must be 1 to %d printable ASCII characters without spaces", l.ACR, maxACRLength))
		case slices.ContainsFunc(a.Levels[:i], func(o authn.Level) bool { return o.ACR == l.ACR }):
			errs = append(errs, invalid(lp.Child("acr"), "%q is listed twice", l.ACR))
		}
		if len(l.Methods) == 0 || len(l.Methods) > maxAuthCombinations {
			errs = append(errs, invalid(lp.Child("methods"), "must list 1 to %d method combinations", maxAuthCombinations))
		}
		for j, combo := range l.Methods {
			cp := lp.Child("methods").Index(j)
			if len(combo) == 0 {
				errs = append(errs, field.Required(cp, "a combination names at least one method"))
			}
			for k, m := range combo {
				switch {
				case !slices.Contains(authn.Methods, m):
					errs = append(errs, field.NotSupported(cp.Index(k), m, authn.Methods))
				case slices.Contains(combo[:k], m):
					errs = append(errs, invalid(cp.Index(k), "%q is listed twice", m))
				}
			}
		}
	}
	if a.Level(a.DefaultLevel) == nil {
		errs = append(errs, invalid(path.Child("default_level"), "%q must be the acr of one of the levels (%s)", a.DefaultLevel, strings.Join(a.ACRValues(), ", ")))
	} else if !a.Level(a.DefaultLevel).SatisfiedBy(available) {
		errs = append(errs, invalid(path.Child("default_level"), "%q needs a method the user source cannot offer (it offers %s); every sign-in would fail", a.DefaultLevel, strings.Join(available, ", ")))
	}
	for _, tf := range slices.Sorted(maps.Keys(a.TrustFrameworkLevels)) {
		if acr := a.TrustFrameworkLevels[tf]; a.Level(acr) == nil {
			errs = append(errs, invalid(path.Child("trust_framework_levels").Key(tf), "trust framework %s requires the level %q, which is not one of the provider's levels (%s): declare it in spec.authentication.levels", tf, acr, strings.Join(a.ACRValues(), ", ")))
		}
	}
	if a.VerifiedClaimsLevel != "" && a.Level(a.VerifiedClaimsLevel) == nil {
		errs = append(errs, invalid(path.Child("verified_claims_level"), "%q must be the acr of one of the levels (%s)", a.VerifiedClaimsLevel, strings.Join(a.ACRValues(), ", ")))
	}
	return errs
}
