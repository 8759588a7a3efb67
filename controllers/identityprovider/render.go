// Package identityprovider reconciles IdentityProviders into signing keys, a
// provider ConfigMap with the discovery document, and the runtime workload.
package identityprovider

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
	"github.com/idaop/ida-operator/runtime/authn"
	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/ida"
)

// RenderProvider turns a provider and its trust frameworks into the runtime's
// configuration. It is pure: the same inputs give the same output, so the
// ConfigMap is only written when something really changed.
func RenderProvider(idp *idav1alpha1.IdentityProvider, tfs []idav1alpha1.TrustFramework) (*config.Provider, error) {
	s := &idp.Spec
	p := &config.Provider{
		Issuer:            s.Issuer,
		Scopes:            slices.Clone(s.Scopes),
		SigningAlgorithms: algorithms(s.Signing.Algorithms),
		Tokens: config.Lifetimes{
			IDToken:             duration(s.Tokens.IDTokenLifetime, idav1alpha1.DefaultIDTokenLifetime),
			AccessToken:         duration(s.Tokens.AccessTokenLifetime, idav1alpha1.DefaultAccessTokenLifetime),
			RefreshToken:        duration(s.Tokens.RefreshTokenLifetime, idav1alpha1.DefaultRefreshTokenLifetime),
			AuthorizationCode:   duration(s.Tokens.AuthorizationCodeLifetime, idav1alpha1.DefaultAuthorizationCodeLifetime),
			AccessTokenFormat:   string(cmp.Or(s.Tokens.AccessTokenFormat, idav1alpha1.DefaultAccessTokenFormat)),
			AccessTokenAudience: s.Tokens.AccessTokenAudience,
			Resources:           s.Tokens.Resources,
		},
		Security: config.Security{
			Profile:     string(s.Security.Profile),
			RequirePAR:  s.Security.RequirePushedAuthorizationRequests,
			RequireDPoP: s.Security.RequireDPoP,
			// Nonces only matter where proofs are checked; the runtime
			// reads this through EffectiveSecurity.
			RequireDPoPNonce:        s.Security.RequireDPoPNonce,
			PushedRequestsPerClient: int(cmp.Or(s.Security.PushedRequestsPerClient, idav1alpha1.DefaultPushedRequestsPerClient)),
		},
		Users:        userSource(&s.Users),
		SessionStore: sessionStore(&s.SessionStore),
		IDA:          policy(s, tfs),
		Subjects:     subjects(idp),
		Consent:      config.Consent{ReleaseRetention: duration(s.Consent.ReleaseRecordRetention, idav1alpha1.DefaultReleaseRecordRetention)},
		Sessions: config.Sessions{
			IdleTimeout:      duration(s.Sessions.IdleTimeout, idav1alpha1.DefaultSessionIdleTimeout),
			AbsoluteLifetime: duration(s.Sessions.AbsoluteLifetime, idav1alpha1.DefaultSessionAbsoluteLifetime),
			MaxPerUser:       int(cmp.Or(s.Sessions.MaxPerUser, idav1alpha1.DefaultSessionsPerUser)),
		},
	}
	if t := s.Signing.KeyStore.PKCS11; t != nil {
		p.PKCS11 = &config.PKCS11{Module: t.Module, TokenLabel: t.TokenLabel}
		if t.Timeout != nil {
			p.PKCS11.Timeout = config.Duration{Duration: t.Timeout.Duration}
		}
	}
	if e := s.Egress; e != nil {
		p.Egress = config.Egress{AllowedCIDRs: slices.Clone(e.AllowedCIDRs), AllowedHosts: slices.Clone(e.AllowedHosts)}
	}
	p.ExternalClaims = externalClaims(&s.IdentityAssurance)
	if a := s.Authentication; a != nil {
		p.Authentication = authentication(a)
	}
	p.Authentication.TrustFrameworkLevels = trustFrameworkLevels(tfs)
	if p.Security.Profile == "" {
		p.Security.Profile = string(idav1alpha1.DefaultSecurityProfile)
	}
	if err := config.AsError(p.Validate()); err != nil {
		return nil, fmt.Errorf("rendered provider config is invalid: %w", err)
	}
	return p, nil
}

// subjects renders the subject type and where the salt is; the salt's
// fingerprint comes from status, set by the reconciler.
func subjects(idp *idav1alpha1.IdentityProvider) config.Subjects {
	out := config.Subjects{
		Type:       SubjectType(idp.Spec.Tokens.SubjectType),
		SaltSecret: &config.SecretKeyRef{Name: PairwiseSaltName(idp), Key: config.PairwiseSaltKey},
	}
	if ref := idp.Spec.Tokens.PairwiseSaltSecretRef; ref != nil {
		out.SaltSecret = &config.SecretKeyRef{Name: ref.Name, Key: ref.Key}
	}
	return out
}

// authentication renders the levels; the order is their strength.
func authentication(a *idav1alpha1.AuthenticationSpec) authn.Policy {
	out := authn.Policy{DefaultLevel: a.DefaultLevel, VerifiedClaimsLevel: a.VerifiedClaimsLevel}
	for _, l := range a.Levels {
		level := authn.Level{ACR: l.ACR}
		for _, set := range l.Methods {
			combo := make([]string, len(set))
			for i, m := range set {
				combo[i] = string(m)
			}
			level.Methods = append(level.Methods, combo)
		}
		out.Levels = append(out.Levels, level)
	}
	return out
}

// trustFrameworkLevels are the levels the selected frameworks require for
// their verified claims; nil when none does.
func trustFrameworkLevels(tfs []idav1alpha1.TrustFramework) map[string]string {
	var out map[string]string
	for i := range tfs {
		if acr := tfs[i].Spec.RequiredAuthenticationLevel; acr != "" {
			if out == nil {
				out = map[string]string{}
			}
			out[tfs[i].Spec.Identifier] = acr
		}
	}
	return out
}

// SubjectType is the runtime's name of an API subject type; empty stays
// empty (the provider's default, for a RelyingParty).
func SubjectType(t idav1alpha1.SubjectType) string {
	switch t {
	case idav1alpha1.SubjectPairwise:
		return config.SubjectPairwise
	case idav1alpha1.SubjectPublic:
		return config.SubjectPublic
	}
	return ""
}

func algorithms(algs []idav1alpha1.SigningAlgorithm) []string {
	if len(algs) == 0 {
		algs = idav1alpha1.DefaultSigningAlgorithms()
	}
	out := make([]string, len(algs))
	for i, a := range algs {
		out[i] = string(a)
	}
	return out
}

func userSource(u *idav1alpha1.UserSourceSpec) config.UserSource {
	out := config.UserSource{Type: string(u.Type)}
	if u.Builtin != nil {
		out.Builtin = &config.BuiltinUsers{SecretName: u.Builtin.SecretRef.Name}
	}
	if u.HTTP != nil {
		out.HTTP = &config.HTTPUsers{URL: u.HTTP.URL, Timeout: duration(u.HTTP.Timeout, idav1alpha1.DefaultHTTPUsersTimeout), Factors: u.HTTP.Factors}
		if ref := u.HTTP.CredentialsSecretRef; ref != nil {
			out.HTTP.CredentialsSecret = &config.SecretKeyRef{Name: ref.Name, Key: ref.Key}
		}
	}
	return out
}

func sessionStore(s *idav1alpha1.SessionStoreSpec) config.SessionStore {
	out := config.SessionStore{Type: string(s.Type)}
	if out.Type == "" {
		out.Type = string(idav1alpha1.DefaultSessionStore)
	}
	if s.Redis != nil {
		out.Redis = redisStore(s.Redis)
	}
	return out
}

func redisStore(r *idav1alpha1.RedisSpec) *config.RedisStore {
	out := &config.RedisStore{Address: r.Address, Username: r.Username, ReplicaAcks: int(r.ReplicaAcknowledgements)}
	if s := r.Sentinel; s != nil {
		out.Sentinel = &config.RedisSentinel{MasterName: s.MasterName, Addresses: s.Addresses, Username: s.Username}
		if ref := s.PasswordSecretRef; ref != nil {
			out.Sentinel.PasswordSecret = &config.SecretKeyRef{Name: ref.Name, Key: ref.Key}
		}
	}
	if c := r.Cluster; c != nil {
		out.ClusterAddresses = c.Addresses
	}
	if ref := r.PasswordSecretRef; ref != nil {
		out.PasswordSecret = &config.SecretKeyRef{Name: ref.Name, Key: ref.Key}
	}
	if r.MaxMemory != nil {
		out.MaxMemoryBytes = r.MaxMemory.Value()
	}
	// A tls section with enabled: false is plain TCP: nothing to render.
	if t := r.TLS; t != nil && (t.Enabled == nil || *t.Enabled) {
		out.TLS = &config.RedisTLS{ServerName: t.ServerName}
		if ref := t.CASecretRef; ref != nil {
			out.TLS.CASecret = &config.SecretKeyRef{Name: ref.Name, Key: ref.Key}
		}
		if ref := t.ClientCertificateSecretRef; ref != nil {
			out.TLS.ClientCertificateSecret = ref.Name
		}
	}
	return out
}

// policy aggregates the trust frameworks and identity assurance settings
// into the IDA engine's policy. Frameworks are sorted by identifier so the
// rendering does not depend on list order.
func policy(s *idav1alpha1.IdentityProviderSpec, tfs []idav1alpha1.TrustFramework) ida.Policy {
	p := ida.Policy{}
	for i := range tfs {
		p.TrustFrameworks = append(p.TrustFrameworks, trustFramework(&tfs[i].Spec))
	}
	slices.SortFunc(p.TrustFrameworks, func(a, b ida.TrustFramework) int { return cmp.Compare(a.Identifier, b.Identifier) })
	for _, pr := range s.Profiles {
		if pr == idav1alpha1.ProfileJapaneseBasic {
			p.Profiles = append(p.Profiles, ida.ProfileJPBasic)
		}
	}
	for _, a := range s.IdentityAssurance.Attachments {
		p.AttachmentsSupported = append(p.AttachmentsSupported, string(a))
	}
	for _, d := range s.IdentityAssurance.DigestAlgorithms {
		p.DigestAlgorithmsSupported = append(p.DigestAlgorithmsSupported, string(d))
	}
	tc := &s.IdentityAssurance.TransformedClaims
	if tc.MaxDepth > 0 {
		d := int(tc.MaxDepth)
		p.TransformedClaimsMaxDepth = &d
	}
	if tc.MaxCount != nil {
		c := int(*tc.MaxCount)
		p.TransformedClaimsMaxCount = &c
	}
	if len(tc.Predefined) > 0 {
		p.TransformedClaimsPredefined = map[string]ida.TransformedClaim{}
		for name, def := range tc.Predefined {
			fns := make([]json.RawMessage, len(def.Fn))
			for i, f := range def.Fn {
				fns[i] = json.RawMessage(f.Raw)
			}
			p.TransformedClaimsPredefined[name] = ida.TransformedClaim{Claim: def.Claim, Fn: fns}
		}
	}
	return p
}

func trustFramework(s *idav1alpha1.TrustFrameworkSpec) ida.TrustFramework {
	tf := ida.TrustFramework{
		Identifier:      s.Identifier,
		AssuranceLevels: slices.Clone(s.AssuranceLevels),
	}
	for _, c := range s.Claims {
		tf.Claims = append(tf.Claims, string(c))
	}
	for _, e := range s.RequiredElements {
		tf.RequiredElements = append(tf.RequiredElements, string(e))
	}
	for _, ev := range s.Evidence {
		tf.EvidenceTypes = append(tf.EvidenceTypes, string(ev.Type))
		tf.DocumentTypes = union(tf.DocumentTypes, ev.DocumentTypes)
		tf.ElectronicRecordTypes = union(tf.ElectronicRecordTypes, ev.ElectronicRecordTypes)
		tf.CheckMethods = union(tf.CheckMethods, ev.CheckMethods)
	}
	return tf
}

func union(list []string, ids []idav1alpha1.Identifier) []string {
	for _, id := range ids {
		if !slices.Contains(list, string(id)) {
			list = append(list, string(id))
		}
	}
	return list
}

func duration(d *metav1.Duration, def time.Duration) config.Duration {
	if d == nil {
		return config.Duration{Duration: def}
	}
	return config.Duration{Duration: d.Duration}
}

// externalClaims renders the trusted external claim sources; nil when
// there are none.
func externalClaims(ia *idav1alpha1.IdentityAssuranceSpec) *config.ExternalClaims {
	if len(ia.ExternalClaimSources) == 0 {
		return nil
	}
	out := &config.ExternalClaims{LookAhead: ia.ExternalClaimsLookAhead}
	for _, src := range ia.ExternalClaimSources {
		tfs := make([]string, len(src.TrustFrameworks))
		for i, tf := range src.TrustFrameworks {
			tfs[i] = string(tf)
		}
		out.Sources = append(out.Sources, config.ExternalClaimSource{Issuer: src.Issuer, JWKSURI: src.JWKSURI, TrustFrameworks: tfs})
	}
	return out
}
