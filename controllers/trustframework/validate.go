// Package trustframework reconciles TrustFramework objects: it checks what
// the API schema cannot and records which providers reference each framework.
package trustframework

import (
	"fmt"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
)

// registeredClaims are the end-user claims of OpenID Connect Core 1.0 §5.1
// and of the Identity Assurance claims registration, the ones a trust
// framework may vouch for without a URI prefix.
var registeredClaims = map[string]bool{
	"name": true, "given_name": true, "family_name": true, "middle_name": true,
	"nickname": true, "preferred_username": true, "profile": true, "picture": true,
	"website": true, "email": true, "email_verified": true, "gender": true,
	"birthdate": true, "zoneinfo": true, "locale": true, "phone_number": true,
	"phone_number_verified": true, "address": true, "updated_at": true,
	// Claims registration (CLM §4).
	"place_of_birth": true, "nationalities": true, "birth_family_name": true,
	"birth_given_name": true, "birth_middle_name": true, "salutation": true,
	"title": true, "msisdn": true, "also_known_as": true,
	// The eKYC & IDA Authority Claims Extension (draft openid-authority-00):
	// the entity the End-User may act for, inside verified_claims.
	"authority": true,
}

var (
	languageTag     = regexp.MustCompile(`^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$`)
	plainIdentifier = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)
)

// Validate checks a spec for what the API schema cannot express: claim names
// that are neither registered nor collision-resistant, entries that repeat
// one another in a way the schema does not see, and identifiers that do not
// follow the predefined-values convention. The schema has already checked
// shapes, enums and cross-field rules.
func Validate(spec *idav1alpha1.TrustFrameworkSpec) field.ErrorList {
	path := field.NewPath("spec")
	errs := validateClaims(path.Child("claims"), spec.Claims)
	for i, ev := range spec.Evidence {
		base := path.Child("evidence").Index(i)
		errs = append(errs, validateIdentifiers(base.Child("documentTypes"), ev.DocumentTypes)...)
		errs = append(errs, validateIdentifiers(base.Child("electronicRecordTypes"), ev.ElectronicRecordTypes)...)
		errs = append(errs, validateIdentifiers(base.Child("attestationTypes"), ev.AttestationTypes)...)
		errs = append(errs, validateIdentifiers(base.Child("signatureTypes"), ev.SignatureTypes)...)
		errs = append(errs, validateIdentifiers(base.Child("checkMethods"), ev.CheckMethods)...)
	}
	return errs
}

// validateClaims accepts registered claims, registered claims with a BCP 47
// language tag, and URI-prefixed custom claims; language tags compare
// case-insensitively, so `family_name#ja-Kana-JP` and `family_name#ja-kana-jp`
// are the same claim listed twice.
func validateClaims(path *field.Path, claims []idav1alpha1.ClaimName) field.ErrorList {
	var errs field.ErrorList
	seen := make(map[string]int, len(claims))
	for i, c := range claims {
		name := string(c)
		if msg := claimNameProblem(name); msg != "" {
			errs = append(errs, invalid(path.Index(i), msg))
			continue
		}
		key := canonicalClaim(name)
		if j, dup := seen[key]; dup {
			errs = append(errs, invalid(path.Index(i), fmt.Sprintf("%q repeats %s (language tags are case-insensitive)", name, path.Index(j))))
			continue
		}
		seen[key] = i
	}
	return errs
}

// invalid is a field error whose detail quotes the value itself.
func invalid(path *field.Path, detail string) *field.Error {
	return field.Invalid(path, field.OmitValueType{}, detail)
}

func claimNameProblem(name string) string {
	if isCustomName(name) {
		return ""
	}
	base, tag, tagged := strings.Cut(name, "#")
	if !registeredClaims[base] {
		return fmt.Sprintf("%q is not a registered claim (OpenID Connect Core, Identity Assurance claims registration); prefix a custom claim with a URI you control, e.g. https://example.com/claims/%s", name, base)
	}
	if tagged && base == "authority" {
		return fmt.Sprintf("%q: authority is an object claim and takes no language tag; list it as authority", name)
	}
	if tagged && !languageTag.MatchString(tag) {
		return fmt.Sprintf("%q has an invalid language tag %q; use a BCP 47 tag such as ja-Kana-JP", name, tag)
	}
	return ""
}

func canonicalClaim(name string) string {
	if isCustomName(name) {
		return name
	}
	base, tag, _ := strings.Cut(name, "#")
	return base + "#" + strings.ToLower(tag)
}

// isCustomName reports whether name is collision-resistant by being a URI
// (`https://...`, `urn:...`).
func isCustomName(name string) bool {
	scheme, rest, ok := strings.Cut(name, ":")
	return ok && rest != "" && scheme != "" && !strings.Contains(scheme, "#")
}

// validateIdentifiers accepts the predefined-values convention (lowercase,
// digits, `_`, `.`, `-`) and URIs for custom values. A mixed-case value is
// almost always a typo of a predefined one, which relying parties would then
// fail to match.
func validateIdentifiers(path *field.Path, ids []idav1alpha1.Identifier) field.ErrorList {
	var errs field.ErrorList
	for i, id := range ids {
		s := string(id)
		if isCustomName(s) || plainIdentifier.MatchString(s) {
			continue
		}
		errs = append(errs, invalid(path.Index(i),
			fmt.Sprintf("%q is neither a predefined identifier (lowercase, e.g. %q) nor a URI for a custom one", s, strings.ToLower(s))))
	}
	return errs
}
