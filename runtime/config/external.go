package config

import (
	"fmt"
	"net/url"
	"slices"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ExternalClaims says which external claim sources the provider trusts to
// vouch for verified claims it passes on as aggregated or distributed
// claims (IDA §6, OIDC Core §5.6.2). Absent or empty: none are passed on,
// and discovery advertises only normal claims.
type ExternalClaims struct {
	// Sources are the trusted claim sources, by issuer.
	Sources []ExternalClaimSource `json:"sources,omitempty"`
	// LookAhead, when set, names each source in _claim_names with a
	// description of what it holds, in request syntax (IDA §6.1), instead
	// of by name only.
	LookAhead bool `json:"look_ahead,omitempty"`
}

// ExternalClaimSource is one trusted claim source.
type ExternalClaimSource struct {
	// Issuer is the iss of its assertions, compared exactly.
	Issuer string `json:"issuer"`
	// JWKSURI is where its signing keys are published (https). The
	// runtime fetches it with a timeout and size limit and caches it.
	JWKSURI string `json:"jwks_uri"`
	// TrustFrameworks are the frameworks the provider trusts it for; an
	// assertion under any other is never passed on. Each must be in the
	// provider's catalog.
	TrustFrameworks []string `json:"trust_frameworks"`
}

// Source returns the trusted source with this issuer, or nil.
func (x *ExternalClaims) Source(issuer string) *ExternalClaimSource {
	if x == nil {
		return nil
	}
	for i := range x.Sources {
		if x.Sources[i].Issuer == issuer {
			return &x.Sources[i]
		}
	}
	return nil
}

// Enabled reports whether any external claim source is trusted.
func (x *ExternalClaims) Enabled() bool { return x != nil && len(x.Sources) > 0 }

// validate checks the sources against the catalog of frameworks.
func (x *ExternalClaims) validate(path *field.Path, catalog []string) field.ErrorList {
	if x == nil {
		return nil
	}
	var errs field.ErrorList
	for i, s := range x.Sources {
		p := path.Child("sources").Index(i)
		if err := ValidateIssuer(s.Issuer); err != nil {
			errs = append(errs, invalid(p.Child("issuer"), "%v", err))
		} else if slices.ContainsFunc(x.Sources[:i], func(o ExternalClaimSource) bool { return o.Issuer == s.Issuer }) {
			errs = append(errs, invalid(p.Child("issuer"), "%q is listed twice", s.Issuer))
		}
		if u, err := url.Parse(s.JWKSURI); err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Fragment != "" {
			errs = append(errs, invalid(p.Child("jwks_uri"), "%s", fmt.Sprintf("%q must be an absolute https URL without user information or fragment", s.JWKSURI)))
		}
		if len(s.TrustFrameworks) == 0 {
			errs = append(errs, field.Required(p.Child("trust_frameworks"), "must list the trust frameworks the source is trusted for"))
		}
		for j, tf := range s.TrustFrameworks {
			if !slices.Contains(catalog, tf) {
				errs = append(errs, invalid(p.Child("trust_frameworks").Index(j), "%q is not a trust framework the provider offers", tf))
			}
		}
	}
	return errs
}
