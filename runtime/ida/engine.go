package ida

import (
	"fmt"
	"slices"
)

// Engine decides what verified claims to release under one provider
// Policy. Build it once with NewEngine; it is immutable and safe for
// concurrent use.
type Engine struct {
	policy     Policy
	frameworks map[string]*framework
	anyTF      bool
	predefined map[string]*transform
	limits     tcLimits
	embedded   bool
	external   bool
	digestAlgs []string
	jp         *jpProfile // nil unless the Japanese basic profile is enabled
}

// framework is a catalog entry compiled for lookups.
type framework struct {
	id       string
	levels   []string
	evidence []string
	docs     []string
	checks   []string
	records  []string
	claims   []string
	required []string
}

// NewEngine validates the policy and compiles it.
func NewEngine(p Policy) (*Engine, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("ida policy: %w", err)
	}
	e := &Engine{policy: p, anyTF: p.AnyTrustFramework, frameworks: map[string]*framework{}}
	for _, tf := range p.TrustFrameworks {
		e.frameworks[tf.Identifier] = &framework{
			id: tf.Identifier, levels: tf.AssuranceLevels, evidence: tf.EvidenceTypes,
			docs: tf.DocumentTypes, checks: tf.CheckMethods, records: tf.ElectronicRecordTypes,
			claims: tf.Claims, required: tf.RequiredElements,
		}
	}
	e.limits = tcLimits{maxDepth: DefaultMaxDepth, maxCount: DefaultMaxCount}
	if d := p.TransformedClaimsMaxDepth; d != nil {
		e.limits.maxDepth = *d
	}
	if c := p.TransformedClaimsMaxCount; c != nil {
		e.limits.maxCount = *c
	}
	if len(p.TransformedClaimsFunctionsSupported) > 0 {
		e.limits.functions = map[string]bool{}
		for _, f := range p.TransformedClaimsFunctionsSupported {
			e.limits.functions[f] = true
		}
	}
	var err error
	if e.predefined, err = compilePredefined(p.TransformedClaimsPredefined, &e.limits); err != nil {
		return nil, fmt.Errorf("ida policy: %w", err)
	}
	e.embedded = slices.Contains(p.AttachmentsSupported, "embedded")
	e.external = slices.Contains(p.AttachmentsSupported, "external")
	e.digestAlgs = p.DigestAlgorithmsSupported
	if e.external && len(e.digestAlgs) == 0 {
		e.digestAlgs = []string{"sha-256"}
	}
	if slices.Contains(p.Profiles, ProfileJPBasic) {
		if e.jp, err = newJPProfile(e); err != nil {
			return nil, fmt.Errorf("ida policy: %w", err)
		}
	}
	return e, nil
}

// Policy returns the policy the engine was built from.
func (e *Engine) Policy() Policy { return e.policy }
