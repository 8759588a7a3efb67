package ida

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// Policy is what a provider offers for identity assurance: its trust
// framework catalog, transformed claims, profiles and attachment support.
// The runtime's provider config embeds it as a field
// `IDA ida.Policy` tagged `json:"ida"`.
//
// Lists that become OP metadata (evidence types, document types, check
// methods, electronic record types, claims) are closed: an empty list offers
// nothing, so the engine never releases what discovery does not advertise.
type Policy struct {
	// TrustFrameworks is the catalog. A dataset whose trust_framework is not
	// listed here is never released (unless AnyTrustFramework is set).
	TrustFrameworks []TrustFramework `json:"trust_frameworks,omitempty"`

	// AnyTrustFramework accepts datasets under frameworks missing from the
	// catalog, with no catalog checks. For development and the `claims`
	// command; leave it false in production. Default false.
	AnyTrustFramework bool `json:"any_trust_framework,omitempty"`

	// TransformedClaimsPredefined are the provider's predefined transformed
	// claims, requested as "::name" (ASC transformed_claims syntax).
	TransformedClaimsPredefined map[string]TransformedClaim `json:"transformed_claims_predefined,omitempty"`

	// TransformedClaimsFunctionsSupported limits the transformation
	// functions RPs may use. Empty means every function the engine has.
	TransformedClaimsFunctionsSupported []string `json:"transformed_claims_functions_supported,omitempty"`

	// TransformedClaimsMaxDepth is the longest function chain allowed.
	// Absent means the engine's bound, DefaultMaxDepth.
	TransformedClaimsMaxDepth *int `json:"transformed_claims_max_depth,omitempty"`

	// TransformedClaimsMaxCount is how many custom transformed claims a
	// request may define; 0 allows predefined ones only. Absent means the
	// engine's bound, DefaultMaxCount.
	TransformedClaimsMaxCount *int `json:"transformed_claims_max_count,omitempty"`

	// Profiles enables profiles by name: "jp_basic" is the Japanese basic
	// profile (scopes jp_oidf_ida*, UserInfo only).
	Profiles []string `json:"profiles,omitempty"`

	// AttachmentsSupported lists "embedded" and/or "external". Empty means
	// no attachments are ever released.
	AttachmentsSupported []string `json:"attachments_supported,omitempty"`

	// DigestAlgorithmsSupported lists the digest algorithms external
	// attachments may use (e.g. "sha-256"). Empty with external attachments
	// supported means sha-256 only.
	DigestAlgorithmsSupported []string `json:"digest_algorithms_supported,omitempty"`
}

// TrustFramework is one catalog entry: a framework identifier and what the
// provider may vouch for under it.
type TrustFramework struct {
	// Identifier is the trust_framework value, e.g. "de_aml", "jp_oidf_ida".
	Identifier string `json:"identifier"`
	// AssuranceLevels, when not empty, are the only assurance_level values
	// released; a dataset with another level is not released.
	AssuranceLevels []string `json:"assurance_levels,omitempty"`
	// EvidenceTypes: document, electronic_record, vouch, electronic_signature.
	// Evidence of other types is left out.
	EvidenceTypes []string `json:"evidence_types,omitempty"`
	// DocumentTypes: document evidence of other document types is left out.
	DocumentTypes []string `json:"document_types,omitempty"`
	// CheckMethods: check_details entries with other check methods are left out.
	CheckMethods []string `json:"check_methods,omitempty"`
	// ElectronicRecordTypes: electronic_record evidence of other record
	// types is left out.
	ElectronicRecordTypes []string `json:"electronic_record_types,omitempty"`
	// Claims the framework may vouch for; other claims are left out.
	Claims []string `json:"claims,omitempty"`
	// RequiredElements are verification members (e.g. "time", "evidence",
	// "assurance_level") a dataset must hold, after the filters above, to be
	// released under this framework at all.
	RequiredElements []string `json:"required_elements,omitempty"`
}

// TransformedClaim is a transformed claim definition (ASC): a base claim
// and a chain of functions, each "name" or ["name", args...].
type TransformedClaim struct {
	Claim string            `json:"claim"`
	Fn    []json.RawMessage `json:"fn"`
}

// ProfileJPBasic names the Japanese basic profile in Policy.Profiles.
const ProfileJPBasic = "jp_basic"

// Engine-wide bounds that apply when the policy sets none; both are
// published in metadata, so RPs see the real limits.
const (
	DefaultMaxDepth = 16
	DefaultMaxCount = 32
)

// PermissivePolicy accepts every trust framework, enables the Japanese basic
// profile and both kinds of attachments: what `claims evaluate` uses without
// --provider.
func PermissivePolicy() Policy {
	return Policy{
		AnyTrustFramework:         true,
		Profiles:                  []string{ProfileJPBasic},
		AttachmentsSupported:      []string{"embedded", "external"},
		DigestAlgorithmsSupported: []string{"sha-256", "sha-384", "sha-512"},
	}
}

var knownEvidenceTypes = []string{"document", "electronic_record", "vouch", "electronic_signature"}

// Validate reports the first inconsistency in the policy, in the terms the
// OP metadata rules use (IDA §8, ATT §8, ASC §8.6).
func (p Policy) Validate() error {
	seen := map[string]bool{}
	for i, tf := range p.TrustFrameworks {
		where := fmt.Sprintf("trust_frameworks[%d]", i)
		if tf.Identifier == "" {
			return errors.New(where + ".identifier: must not be empty")
		}
		if seen[tf.Identifier] {
			return fmt.Errorf("%s.identifier: %q is listed twice", where, tf.Identifier)
		}
		seen[tf.Identifier] = true
		for _, t := range tf.EvidenceTypes {
			if !slices.Contains(knownEvidenceTypes, t) {
				return fmt.Errorf("%s.evidence_types: %q is not an evidence type", where, t)
			}
		}
		if slices.Contains(tf.EvidenceTypes, "document") && len(tf.DocumentTypes) == 0 {
			return errors.New(where + ".document_types: required when evidence_types has document")
		}
		if slices.Contains(tf.EvidenceTypes, "electronic_record") && len(tf.ElectronicRecordTypes) == 0 {
			return errors.New(where + ".electronic_record_types: required when evidence_types has electronic_record")
		}
		if len(tf.Claims) == 0 {
			return errors.New(where + ".claims: must list at least one claim")
		}
	}
	for _, a := range p.AttachmentsSupported {
		if a != "embedded" && a != "external" {
			return fmt.Errorf("attachments_supported: %q is neither embedded nor external", a)
		}
	}
	for _, f := range p.TransformedClaimsFunctionsSupported {
		if _, ok := functions[f]; !ok {
			return fmt.Errorf("transformed_claims_functions_supported: %q is not a function this engine has", f)
		}
	}
	if d := p.TransformedClaimsMaxDepth; d != nil && *d < 1 {
		return errors.New("transformed_claims_max_depth: must be at least 1")
	}
	if c := p.TransformedClaimsMaxCount; c != nil && *c < 0 {
		return errors.New("transformed_claims_max_count: must not be negative")
	}
	for _, pr := range p.Profiles {
		if pr != ProfileJPBasic {
			return fmt.Errorf("profiles: %q is not a known profile", pr)
		}
		if !p.AnyTrustFramework && !seen[jpTrustFramework] {
			return errors.New("profiles: jp_basic needs the jp_oidf_ida trust framework in trust_frameworks")
		}
	}
	return nil
}
