package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/idaop/ida-operator/runtime/ida"
	"github.com/idaop/ida-operator/runtime/jwe"
)

// standardClaims are the end-user claims of OpenID Connect Core §5.1 that
// the standard scopes release.
var standardClaims = []string{
	"sub", "name", "given_name", "family_name", "middle_name", "nickname",
	"preferred_username", "profile", "picture", "website", "email",
	"email_verified", "gender", "birthdate", "zoneinfo", "locale",
	"phone_number", "phone_number_verified", "address", "updated_at",
}

// RenderDiscovery renders the OpenID Provider metadata (OpenID Connect
// Discovery §3, RFC 8414 §2, RFC 9126 §5, RFC 9449 §5.1, RFC 9207 §3, RFC 9701 §7, RP-Initiated Logout 1.0 §2.1) with
// the identity assurance metadata of the provider's policy (IDA §8, ATT §8,
// ASC). claims_supported also names verified_claims and every claim a trust
// framework vouches for, so that a client that reads only the Discovery
// members finds them. The controller and the standalone runtime both call
// it, so what is published is what is served. The output is deterministic:
// the OpenID members in a fixed order, then the IDA members sorted by name.
func RenderDiscovery(p *Provider) ([]byte, error) {
	if err := AsError(p.Validate()); err != nil {
		return nil, fmt.Errorf("provider config: %w", err)
	}
	eng, err := ida.NewEngine(p.IDA)
	if err != nil {
		return nil, err
	}
	sec := p.EffectiveSecurity()

	claims := slices.Clone(standardClaims)
	claims = append(claims, "verified_claims")
	for _, tf := range p.IDA.TrustFrameworks {
		for _, c := range tf.Claims {
			if !slices.Contains(claims, c) {
				claims = append(claims, c)
			}
		}
	}

	doc := object{
		{"issuer", p.Issuer},
		{"authorization_endpoint", p.URL(PathAuthorize)},
		{"token_endpoint", p.URL(PathToken)},
		{"userinfo_endpoint", p.URL(PathUserInfo)},
		{"jwks_uri", p.URL(PathJWKS)},
		{"pushed_authorization_request_endpoint", p.URL(PathPAR)},
		{"revocation_endpoint", p.URL(PathRevoke)},
		{"introspection_endpoint", p.URL(PathIntrospect)},
		{"end_session_endpoint", p.URL(PathEndSession)},
		{"scopes_supported", p.ScopesSupported()},
		{"response_types_supported", []string{"code"}},
		{"response_modes_supported", []string{"query"}},
		{"grant_types_supported", []string{"authorization_code", "refresh_token"}},
		{"subject_types_supported", SubjectTypes},
		{"id_token_signing_alg_values_supported", sec.SigningAlgorithms},
		{"userinfo_signing_alg_values_supported", sec.SigningAlgorithms},
		// Encrypted responses (OIDC Discovery §3, RFC 9701 §7), to a key
		// of the client's.
		{"id_token_encryption_alg_values_supported", jwe.KeyAlgorithms},
		{"id_token_encryption_enc_values_supported", jwe.ContentAlgorithms},
		{"userinfo_encryption_alg_values_supported", jwe.KeyAlgorithms},
		{"userinfo_encryption_enc_values_supported", jwe.ContentAlgorithms},
		{"token_endpoint_auth_methods_supported", sec.TokenEndpointAuthMethods},
		{"token_endpoint_auth_signing_alg_values_supported", sec.ClientSigningAlgorithms},
		{"revocation_endpoint_auth_methods_supported", sec.TokenEndpointAuthMethods},
		{"revocation_endpoint_auth_signing_alg_values_supported", sec.ClientSigningAlgorithms},
		{"introspection_endpoint_auth_methods_supported", sec.TokenEndpointAuthMethods},
		{"introspection_endpoint_auth_signing_alg_values_supported", sec.ClientSigningAlgorithms},
		{"introspection_signing_alg_values_supported", sec.SigningAlgorithms},
		{"introspection_encryption_alg_values_supported", jwe.KeyAlgorithms},
		{"introspection_encryption_enc_values_supported", jwe.ContentAlgorithms},
		{"code_challenge_methods_supported", []string{"S256"}},
		{"require_pushed_authorization_requests", sec.RequirePAR},
		{"dpop_signing_alg_values_supported", sec.ClientSigningAlgorithms},
		{"authorization_response_iss_parameter_supported", true},
		{"claims_parameter_supported", true},
		// Request objects by value (JAR), signed with the client's keys.
		{"request_parameter_supported", true},
		{"request_object_signing_alg_values_supported", sec.ClientSigningAlgorithms},
		{"request_uri_parameter_supported", false},
		{"claims_supported", claims},
		// Logout (OIDC Back-Channel Logout 1.0 §2.1, Front-Channel Logout
		// 1.0 §3): logout tokens carry sid; no front-channel iframes.
		{"backchannel_logout_supported", true},
		{"backchannel_logout_session_supported", true},
		{"frontchannel_logout_supported", false},
		{"frontchannel_logout_session_supported", false},
	}

	if p.ExternalClaims.Enabled() {
		// IDA §8 and OIDC Discovery §3: verified_claims may come as
		// aggregated and distributed claims (OIDC Core §5.6.2).
		doc = append(doc, member{"claim_types_supported", []string{"normal", "aggregated", "distributed"}})
	}
	if len(p.Authentication.Levels) > 0 {
		// OpenID Connect Discovery §3, weakest first.
		doc = append(doc, member{"acr_values_supported", p.Authentication.ACRValues()})
	}

	meta := eng.Metadata()
	for _, k := range slices.Sorted(maps.Keys(meta)) {
		if !doc.has(k) {
			doc = append(doc, member{k, meta[k]})
		}
	}

	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, raw, "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// object is a JSON object that keeps its members in order; encoding/json
// sorts map keys, which would scatter related members.
type object []member

type member struct {
	name  string
	value any
}

func (o object) has(name string) bool {
	return slices.ContainsFunc(o, func(m member) bool { return m.name == name })
}

func (o object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(m.name)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(m.value)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m.name, err)
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
