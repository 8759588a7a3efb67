package config

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Subject identifier types (OIDC Core §8): public, the same `sub` for
// every client; pairwise, a different `sub` per sector, so relying
// parties of different sectors cannot join their records on it.
const (
	SubjectPublic   = "public"
	SubjectPairwise = "pairwise"
)

// SubjectTypes are the types the provider supports, for discovery's
// subject_types_supported.
var SubjectTypes = []string{SubjectPublic, SubjectPairwise}

// Pairwise salt: where the operator keeps it and how long it must be.
const (
	// PairwiseSaltKey holds the salt in the Secret the operator generates,
	// <idp>-pairwise-salt, and names the file in a --config-dir.
	PairwiseSaltKey = "pairwise-salt"
	// MinPairwiseSalt is the shortest salt accepted, in bytes: 256 bits,
	// what the operator generates.
	MinPairwiseSalt = 32
)

// Subjects says which `sub` the provider's clients see.
type Subjects struct {
	// Type is the default of clients that name none: SubjectPublic (also
	// when empty) or SubjectPairwise.
	Type string `json:"type,omitempty"`
	// SaltSecret names the key of the Secret holding the pairwise salt;
	// nil when there is none (then no client can be pairwise).
	SaltSecret *SecretKeyRef `json:"salt_secret,omitempty"`
	// SaltFingerprint is SaltFingerprint of the salt the operator
	// recorded. The runtime refuses a salt with another fingerprint, so a
	// replaced salt never silently changes every pairwise `sub`.
	SaltFingerprint string `json:"salt_fingerprint,omitempty"`
}

var saltFingerprintForm = regexp.MustCompile(`^sha256:[0-9a-f]{32}$`)

// SaltFingerprint names a salt without revealing it: the first 128 bits of
// its SHA-256, hex. The salt is 256 random bits, so the hash cannot be
// turned back into it.
func SaltFingerprint(salt []byte) string {
	sum := sha256.Sum256(salt)
	return "sha256:" + hex.EncodeToString(sum[:16])
}

func (s *Subjects) validate(path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if err := validSubjectType(s.Type); err != nil {
		errs = append(errs, invalid(path.Child("type"), "%v", err))
	}
	errs = append(errs, s.SaltSecret.validate(path.Child("salt_secret"))...)
	if f := s.SaltFingerprint; f != "" && !saltFingerprintForm.MatchString(f) {
		errs = append(errs, invalid(path.Child("salt_fingerprint"), "%q is not sha256: and 32 hex digits", f))
	}
	return errs
}

func validSubjectType(t string) error {
	if t == "" || slices.Contains(SubjectTypes, t) {
		return nil
	}
	return fmt.Errorf("%q is neither %s nor %s", t, SubjectPublic, SubjectPairwise)
}

// CheckSalt checks a pairwise salt against the provider's configuration:
// long enough, and the one the operator recorded when it recorded one.
func (p *Provider) CheckSalt(salt []byte) error {
	if len(salt) < MinPairwiseSalt {
		return fmt.Errorf("the pairwise salt has %d bytes, fewer than %d", len(salt), MinPairwiseSalt)
	}
	if want := p.Subjects.SaltFingerprint; want != "" && SaltFingerprint(salt) != want {
		return fmt.Errorf("the pairwise salt's fingerprint is %s, not the recorded %s: every pairwise sub would change, so it is refused", SaltFingerprint(salt), want)
	}
	return nil
}

// PairwiseSector says which `sub` c sees: "" for public subjects, else
// the sector identifier its pairwise subjects are computed for. c's own
// subject type wins over the provider's default (OIDC Registration §2
// subject_type).
//
// The sector (OIDC Core §8.1) is the host of c's sector_identifier_uri
// when it has one (the operator fetched it and found every redirect URI
// in it, OIDC Registration §5), else the one host of its redirect URIs.
// Redirect URIs on several hosts without a sector_identifier_uri are an
// error: which host's relying party a `sub` belongs to would depend on
// the request.
func (p *Provider) PairwiseSector(c *Client) (string, error) {
	t := c.SubjectType
	if t == "" {
		t = p.Subjects.Type
	}
	if t != SubjectPairwise {
		return "", nil
	}
	if c.SectorIdentifierURI != "" {
		u, err := url.Parse(c.SectorIdentifierURI)
		if err != nil || u.Hostname() == "" {
			return "", fmt.Errorf("sector_identifier_uri %q has no host", c.SectorIdentifierURI)
		}
		return strings.ToLower(u.Hostname()), nil
	}
	var hosts []string
	for _, r := range c.RedirectURIs {
		u, err := url.Parse(r)
		if err != nil || u.Hostname() == "" {
			return "", fmt.Errorf("redirect URI %q has no host", r)
		}
		if h := strings.ToLower(u.Hostname()); !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	switch len(hosts) {
	case 0:
		return "", errors.New("pairwise subjects need a redirect URI or a sector_identifier_uri")
	case 1:
		return hosts[0], nil
	default:
		return "", fmt.Errorf("pairwise subjects need one sector, and the redirect URIs are on %d hosts (%s): register a sector identifier URI that lists them all (OIDC Core §8.1)",
			len(hosts), strings.Join(hosts, ", "))
	}
}

// validateSectorURI: an https URL without fragment (OIDC Registration §2).
func validateSectorURI(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Hostname() == "" {
		return fmt.Errorf("%q is not an absolute https URL", s)
	}
	if u.Fragment != "" || strings.Contains(s, "#") {
		return fmt.Errorf("%q must not have a fragment", s)
	}
	return nil
}
