package config

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/idaop/ida-operator/runtime/jwe"
	"github.com/idaop/ida-operator/runtime/keystrength"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Token endpoint authentication methods.
const (
	AuthClientSecretBasic = "client_secret_basic"
	AuthClientSecretPost  = "client_secret_post"
	AuthPrivateKeyJWT     = "private_key_jwt"
)

// Client is one client registration, rendered from a RelyingParty into a
// Secret in the provider's namespace.
type Client struct {
	ClientID   string `json:"client_id"`
	ClientName string `json:"client_name,omitempty"`
	// Namespace and Name identify the RelyingParty, for logs and consent.
	Namespace     string   `json:"namespace"`
	Name          string   `json:"name"`
	RedirectURIs  []string `json:"redirect_uris"`
	GrantTypes    []string `json:"grant_types"`
	ResponseTypes []string `json:"response_types"`
	Scopes        []string `json:"scopes"`

	TokenEndpointAuthMethod     string `json:"token_endpoint_auth_method"`
	TokenEndpointAuthSigningAlg string `json:"token_endpoint_auth_signing_alg,omitempty"`
	// SecretHash is HashClientSecret of the client secret; the secret
	// itself lives only in the RP's namespace.
	SecretHash string          `json:"client_secret_hash,omitempty"`
	JWKS       json.RawMessage `json:"jwks,omitempty"`
	JWKSURI    string          `json:"jwks_uri,omitempty"`

	// TrustFrameworks and VerifiedClaims the client may request; empty
	// means none.
	TrustFrameworks []string `json:"trust_frameworks,omitempty"`
	VerifiedClaims  []string `json:"verified_claims,omitempty"`

	RequireDPoP               bool   `json:"require_dpop,omitempty"`
	RequirePAR                bool   `json:"require_pushed_authorization_requests,omitempty"`
	UserInfoSignedResponseAlg string `json:"userinfo_signed_response_alg,omitempty"`
	IDTokenSignedResponseAlg  string `json:"id_token_signed_response_alg,omitempty"`
	Disabled                  bool   `json:"disabled,omitempty"`
	// ResourceServer may introspect every client's access tokens.
	ResourceServer bool `json:"resource_server,omitempty"`
	// AccessTokenFormat overrides the provider's for this client's access
	// tokens; empty means the provider's.
	AccessTokenFormat string `json:"access_token_format,omitempty"`

	// Encrypted responses (OIDC Registration §2, RFC 9701 §6): the JWE
	// alg and enc that ID tokens, UserInfo and signed introspection
	// answers are encrypted with, to a key of the client's jwks or
	// jwks_uri. No alg: not encrypted; no enc: A128CBC-HS256.
	IDTokenEncryptedResponseAlg       string `json:"id_token_encrypted_response_alg,omitempty"`
	IDTokenEncryptedResponseEnc       string `json:"id_token_encrypted_response_enc,omitempty"`
	UserInfoEncryptedResponseAlg      string `json:"userinfo_encrypted_response_alg,omitempty"`
	UserInfoEncryptedResponseEnc      string `json:"userinfo_encrypted_response_enc,omitempty"`
	IntrospectionEncryptedResponseAlg string `json:"introspection_encrypted_response_alg,omitempty"`
	IntrospectionEncryptedResponseEnc string `json:"introspection_encrypted_response_enc,omitempty"`

	// SubjectType is SubjectPublic or SubjectPairwise; empty means the
	// provider's default (Provider.PairwiseSector decides).
	SubjectType string `json:"subject_type,omitempty"`
	// SectorIdentifierURI, when set, gives pairwise subjects its host as
	// their sector. The operator has checked that it lists every redirect
	// URI; a hand-written configuration is trusted as it is.
	SectorIdentifierURI string `json:"sector_identifier_uri,omitempty"`
	// MinimumACR is the acr of the weakest authentication level this
	// client's users are signed in at; empty means none.
	MinimumACR string `json:"minimum_acr,omitempty"`

	// PostLogoutRedirectURIs are where a logout may send the browser
	// back (OIDC RP-Initiated Logout 1.0 §3), matched exactly.
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris,omitempty"`
	// BackchannelLogoutURI receives logout tokens (OIDC Back-Channel
	// Logout 1.0 §2.2); empty means none are sent.
	BackchannelLogoutURI string `json:"backchannel_logout_uri,omitempty"`
	// BackchannelLogoutSessionRequired: the client needs sid in logout
	// tokens, which always carry it.
	BackchannelLogoutSessionRequired bool `json:"backchannel_logout_session_required,omitempty"`
}

// Encryption is how one kind of response is encrypted to the client.
// The zero value means not at all.
type Encryption struct {
	Alg, Enc string
}

// On reports whether the response is encrypted.
func (e Encryption) On() bool { return e.Alg != "" }

// encryption applies the registration's default: enc A128CBC-HS256 when
// only alg is set (OIDC Registration §2).
func encryption(alg, enc string) Encryption {
	if alg == "" {
		return Encryption{}
	}
	if enc == "" {
		enc = jwe.DefaultContentAlgorithm
	}
	return Encryption{Alg: alg, Enc: enc}
}

// IDTokenEncryption is how the client's ID tokens are encrypted.
func (c *Client) IDTokenEncryption() Encryption {
	return encryption(c.IDTokenEncryptedResponseAlg, c.IDTokenEncryptedResponseEnc)
}

// UserInfoEncryption is how the client's UserInfo responses are encrypted.
func (c *Client) UserInfoEncryption() Encryption {
	return encryption(c.UserInfoEncryptedResponseAlg, c.UserInfoEncryptedResponseEnc)
}

// IntrospectionEncryption is how the JWT introspection answers the client
// asks for are encrypted.
func (c *Client) IntrospectionEncryption() Encryption {
	return encryption(c.IntrospectionEncryptedResponseAlg, c.IntrospectionEncryptedResponseEnc)
}

// encrypts reports whether the client asked for any encrypted response.
func (c *Client) encrypts() bool {
	return c.IDTokenEncryptedResponseAlg != "" || c.UserInfoEncryptedResponseAlg != "" || c.IntrospectionEncryptedResponseAlg != ""
}

// secretHashPrefix names the hash, so another can be introduced later
// without ambiguity.
const secretHashPrefix = "sha256:"

// HashClientSecret returns "sha256:" + base64url(SHA-256(secret)).
//
// A fast hash is the right choice here, unlike for passwords: the secret is
// 256 bits from crypto/rand (NewClientSecret), so guessing it from the hash
// is infeasible at any hash speed, and a slow KDF would only cost CPU on
// every token request.
func HashClientSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return secretHashPrefix + base64.RawURLEncoding.EncodeToString(sum[:])
}

// VerifySecret compares a presented secret with the stored hash in
// constant time.
func (c *Client) VerifySecret(secret string) bool {
	if c.SecretHash == "" || secret == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(HashClientSecret(secret)), []byte(c.SecretHash)) == 1
}

// NewClientSecret returns 256 random bits, base64url without padding.
func NewClientSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// ParseClient decodes and validates a client registration.
func ParseClient(data []byte) (*Client, error) {
	var c Client
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, err
	}
	if err := AsError(c.Validate()); err != nil {
		return nil, err
	}
	return &c, nil
}

// ClientPaths names the members of a registration in the errors of
// Validate and CheckClient: as in its JSON for the runtime, as the fields
// they are rendered from for the operator, whose refusals then name what
// the user wrote.
type ClientPaths struct {
	ClientID, Namespace, Name                            *field.Path
	RedirectURIs, GrantTypes, ResponseTypes, Scopes      *field.Path
	TokenEndpointAuthMethod, TokenEndpointAuthSigningAlg *field.Path
	SecretHash, JWKS, JWKSURI                            *field.Path
	TrustFrameworks, VerifiedClaims                      *field.Path
	UserInfoSignedResponseAlg, IDTokenSignedResponseAlg  *field.Path
	AccessTokenFormat                                    *field.Path

	IDTokenEncryptedResponseAlg, IDTokenEncryptedResponseEnc             *field.Path
	UserInfoEncryptedResponseAlg, UserInfoEncryptedResponseEnc           *field.Path
	IntrospectionEncryptedResponseAlg, IntrospectionEncryptedResponseEnc *field.Path
	SubjectType, SectorIdentifierURI                                     *field.Path
	MinimumACR                                                           *field.Path
	PostLogoutRedirectURIs, BackchannelLogoutURI                         *field.Path
}

// JSONPaths names the members as in the registration's JSON.
var JSONPaths = ClientPaths{
	ClientID:                    field.NewPath("client_id"),
	Namespace:                   field.NewPath("namespace"),
	Name:                        field.NewPath("name"),
	RedirectURIs:                field.NewPath("redirect_uris"),
	GrantTypes:                  field.NewPath("grant_types"),
	ResponseTypes:               field.NewPath("response_types"),
	Scopes:                      field.NewPath("scopes"),
	TokenEndpointAuthMethod:     field.NewPath("token_endpoint_auth_method"),
	TokenEndpointAuthSigningAlg: field.NewPath("token_endpoint_auth_signing_alg"),
	SecretHash:                  field.NewPath("client_secret_hash"),
	JWKS:                        field.NewPath("jwks"),
	JWKSURI:                     field.NewPath("jwks_uri"),
	TrustFrameworks:             field.NewPath("trust_frameworks"),
	VerifiedClaims:              field.NewPath("verified_claims"),
	UserInfoSignedResponseAlg:   field.NewPath("userinfo_signed_response_alg"),
	IDTokenSignedResponseAlg:    field.NewPath("id_token_signed_response_alg"),
	AccessTokenFormat:           field.NewPath("access_token_format"),

	IDTokenEncryptedResponseAlg:       field.NewPath("id_token_encrypted_response_alg"),
	IDTokenEncryptedResponseEnc:       field.NewPath("id_token_encrypted_response_enc"),
	UserInfoEncryptedResponseAlg:      field.NewPath("userinfo_encrypted_response_alg"),
	UserInfoEncryptedResponseEnc:      field.NewPath("userinfo_encrypted_response_enc"),
	IntrospectionEncryptedResponseAlg: field.NewPath("introspection_encrypted_response_alg"),
	IntrospectionEncryptedResponseEnc: field.NewPath("introspection_encrypted_response_enc"),
	SubjectType:                       field.NewPath("subject_type"),
	SectorIdentifierURI:               field.NewPath("sector_identifier_uri"),
	MinimumACR:                        field.NewPath("minimum_acr"),
	PostLogoutRedirectURIs:            field.NewPath("post_logout_redirect_uris"),
	BackchannelLogoutURI:              field.NewPath("backchannel_logout_uri"),
}

// clientIDChars is RFC 6749 Appendix A.1 (VSCHAR), without the
// characters that would need escaping in client_secret_basic.
var clientIDChars = regexp.MustCompile(`^[A-Za-z0-9._~-]{1,255}$`)

var secretHashForm = regexp.MustCompile(`^sha256:[A-Za-z0-9_-]{43}$`)

// Validate checks the registration on its own; CheckClient checks it
// against a provider.
func (c *Client) Validate() field.ErrorList { return c.ValidateWith(JSONPaths) }

// ValidateWith is Validate with the errors' paths named by paths.
func (c *Client) ValidateWith(paths ClientPaths) field.ErrorList {
	var errs field.ErrorList
	if !clientIDChars.MatchString(c.ClientID) {
		errs = append(errs, invalid(paths.ClientID, "%q must be 1 to 255 of A-Z a-z 0-9 . _ ~ -", c.ClientID))
	}
	if c.Namespace == "" {
		errs = append(errs, field.Required(paths.Namespace, "must not be empty"))
	}
	if c.Name == "" {
		errs = append(errs, field.Required(paths.Name, "must not be empty"))
	}

	if len(c.RedirectURIs) == 0 {
		errs = append(errs, field.Required(paths.RedirectURIs, "must list at least one URI"))
	}
	for i, u := range c.RedirectURIs {
		if err := ValidateRedirectURI(u); err != nil {
			errs = append(errs, invalid(paths.RedirectURIs.Index(i), "%v", err))
		}
	}
	for i, u := range c.PostLogoutRedirectURIs {
		if err := ValidateRedirectURI(u); err != nil {
			errs = append(errs, invalid(paths.PostLogoutRedirectURIs.Index(i), "%v", err))
		}
	}
	if c.BackchannelLogoutURI != "" {
		if err := ValidateBackchannelLogoutURI(c.BackchannelLogoutURI); err != nil {
			errs = append(errs, invalid(paths.BackchannelLogoutURI, "%v", err))
		}
	}
	checkSet := func(path *field.Path, got, allowed []string) {
		if len(got) == 0 {
			errs = append(errs, field.Required(path, "must not be empty"))
		}
		for i, g := range got {
			if !slices.Contains(allowed, g) {
				errs = append(errs, invalid(path.Index(i), "%q is not one of %s", g, strings.Join(allowed, ", ")))
			}
		}
	}
	checkSet(paths.GrantTypes, c.GrantTypes, []string{"authorization_code", "refresh_token"})
	if len(c.GrantTypes) > 0 && !slices.Contains(c.GrantTypes, "authorization_code") {
		errs = append(errs, invalid(paths.GrantTypes, "must include authorization_code, the only way to obtain tokens"))
	}
	checkSet(paths.ResponseTypes, c.ResponseTypes, []string{"code"})
	for i, s := range c.Scopes {
		if !scopeToken.MatchString(s) {
			errs = append(errs, invalid(paths.Scopes.Index(i), "%q is not a valid scope token", s))
		}
	}

	switch c.TokenEndpointAuthMethod {
	case AuthClientSecretBasic, AuthClientSecretPost:
		if !secretHashForm.MatchString(c.SecretHash) {
			errs = append(errs, invalid(paths.SecretHash, "must be a sha256: hash for %s", c.TokenEndpointAuthMethod))
		}
		if c.TokenEndpointAuthSigningAlg != "" {
			errs = append(errs, field.Forbidden(paths.TokenEndpointAuthMethod, "token_endpoint_auth_signing_alg is for private_key_jwt only"))
		}
		if (len(c.JWKS) > 0 || c.JWKSURI != "") && !c.encrypts() {
			errs = append(errs, field.Forbidden(paths.TokenEndpointAuthMethod, "jwks and jwks_uri are for private_key_jwt or encrypted responses only"))
		}
	case AuthPrivateKeyJWT:
		if c.SecretHash != "" {
			errs = append(errs, field.Forbidden(paths.SecretHash, "must be empty for private_key_jwt"))
		}
		if len(c.JWKS) == 0 && c.JWKSURI == "" {
			errs = append(errs, field.Required(paths.JWKS, "private_key_jwt needs jwks or jwks_uri"))
		}
	default:
		errs = append(errs, invalid(paths.TokenEndpointAuthMethod, "%q is not one of %s, %s, %s", c.TokenEndpointAuthMethod,
			AuthClientSecretBasic, AuthClientSecretPost, AuthPrivateKeyJWT))
	}

	errs = append(errs, c.validateKeys(paths)...)
	errs = append(errs, c.validateEncryption(paths)...)

	for _, a := range []struct {
		path *field.Path
		alg  string
	}{
		{paths.TokenEndpointAuthSigningAlg, c.TokenEndpointAuthSigningAlg},
		{paths.UserInfoSignedResponseAlg, c.UserInfoSignedResponseAlg},
		{paths.IDTokenSignedResponseAlg, c.IDTokenSignedResponseAlg},
	} {
		if a.alg != "" && !slices.Contains(SupportedAlgorithms, a.alg) {
			errs = append(errs, invalid(a.path, "%q is not one of %s", a.alg, strings.Join(SupportedAlgorithms, ", ")))
		}
	}
	switch c.AccessTokenFormat {
	case "", AccessTokenOpaque, AccessTokenJWT:
	default:
		errs = append(errs, field.NotSupported(paths.AccessTokenFormat, c.AccessTokenFormat, []string{AccessTokenOpaque, AccessTokenJWT}))
	}
	if err := validSubjectType(c.SubjectType); err != nil {
		errs = append(errs, invalid(paths.SubjectType, "%v", err))
	}
	if c.SectorIdentifierURI != "" {
		if err := validateSectorURI(c.SectorIdentifierURI); err != nil {
			errs = append(errs, invalid(paths.SectorIdentifierURI, "%v", err))
		}
	}
	for i, tf := range c.TrustFrameworks {
		if tf == "" || slices.Contains(c.TrustFrameworks[:i], tf) {
			errs = append(errs, invalid(paths.TrustFrameworks.Index(i), "%q is empty or listed twice", tf))
		}
	}
	for i, cl := range c.VerifiedClaims {
		if cl == "" || slices.Contains(c.VerifiedClaims[:i], cl) {
			errs = append(errs, invalid(paths.VerifiedClaims.Index(i), "%q is empty or listed twice", cl))
		}
	}
	return errs
}

// validateKeys: at most one of jwks and jwks_uri; a jwks_uri is https; an
// inline set is sound (checkClientJWKS).
func (c *Client) validateKeys(paths ClientPaths) field.ErrorList {
	switch {
	case len(c.JWKS) > 0 && c.JWKSURI != "":
		return field.ErrorList{field.Forbidden(paths.JWKS, "set either jwks or jwks_uri, not both")}
	case len(c.JWKS) > 0:
		if err := checkClientJWKS(c.JWKS); err != nil {
			return field.ErrorList{invalid(paths.JWKS, "%v", err)}
		}
	case c.JWKSURI != "":
		if u, err := url.Parse(c.JWKSURI); err != nil || u.Scheme != "https" || u.Host == "" {
			return field.ErrorList{invalid(paths.JWKSURI, "%q is not an absolute https URL", c.JWKSURI)}
		}
	}
	return nil
}

// validateEncryption: each encrypted response names an offered alg and
// enc, enc never without alg, and the client registered keys, one of
// which can receive alg when the set is inline (a jwks_uri's set is
// checked when it is fetched). The key rule itself is jwe.SelectKey.
func (c *Client) validateEncryption(paths ClientPaths) field.ErrorList {
	var errs field.ErrorList
	var keys []jose.JSONWebKey
	if len(c.JWKS) > 0 {
		var set jose.JSONWebKeySet
		if json.Unmarshal(c.JWKS, &set) == nil {
			keys = set.Keys
		}
	}
	for _, e := range []struct {
		algPath, encPath *field.Path
		alg, enc, what   string
	}{
		{paths.IDTokenEncryptedResponseAlg, paths.IDTokenEncryptedResponseEnc, c.IDTokenEncryptedResponseAlg, c.IDTokenEncryptedResponseEnc, "ID tokens"},
		{paths.UserInfoEncryptedResponseAlg, paths.UserInfoEncryptedResponseEnc, c.UserInfoEncryptedResponseAlg, c.UserInfoEncryptedResponseEnc, "UserInfo responses"},
		{paths.IntrospectionEncryptedResponseAlg, paths.IntrospectionEncryptedResponseEnc, c.IntrospectionEncryptedResponseAlg, c.IntrospectionEncryptedResponseEnc, "introspection responses"},
	} {
		switch {
		case e.alg == "" && e.enc != "":
			errs = append(errs, field.Required(e.algPath, "the enc of encrypted "+e.what+" needs an alg too"))
			continue
		case e.alg == "":
			continue
		}
		if err := jwe.CheckKeyAlgorithm(e.alg); err != nil {
			errs = append(errs, invalid(e.algPath, "%v", err))
			continue
		}
		if err := jwe.CheckContentAlgorithm(e.enc); err != nil {
			errs = append(errs, invalid(e.encPath, "%v", err))
		}
		switch {
		case len(c.JWKS) == 0 && c.JWKSURI == "":
			errs = append(errs, field.Required(paths.JWKS, "encrypted "+e.what+" need the client's public encryption key in jwks or jwks_uri"))
		case keys != nil:
			if _, err := jwe.SelectKey(keys, e.alg); err != nil {
				errs = append(errs, invalid(e.algPath, "jwks: %v", err))
			}
		}
	}
	return errs
}

// checkClientJWKS: a client's key set must parse and hold public keys
// only, each strong enough (package keystrength);
// a private key here would mean the RP handed its secret to the provider.
func checkClientJWKS(raw json.RawMessage) error {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil {
		return fmt.Errorf("not a JWK set: %w", err)
	}
	if len(set.Keys) == 0 {
		return errors.New("holds no keys")
	}
	for i, k := range set.Keys {
		if !k.IsPublic() {
			return fmt.Errorf("keys[%d] holds a private key", i)
		}
		if err := keystrength.Check(k.Key); err != nil {
			return fmt.Errorf("keys[%d] is %w", i, err)
		}
	}
	return nil
}

// ValidateRedirectURI applies RFC 6749 §3.1.2 and RFC 8252 §8.3: an
// absolute URI without a fragment, https unless the host is a loopback
// address or localhost.
func ValidateRedirectURI(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%q is not a URI", s)
	}
	if u.Fragment != "" || strings.Contains(s, "#") {
		return fmt.Errorf("%q must not have a fragment", s)
	}
	return httpsOrLoopback(u)
}

// ValidateBackchannelLogoutURI applies OIDC Back-Channel Logout 1.0
// §2.2: an absolute http(s) URI without a fragment (it may have a query),
// https unless the host is a loopback address or localhost.
func ValidateBackchannelLogoutURI(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("%q is not an absolute http(s) URL", s)
	}
	if u.Fragment != "" || strings.Contains(s, "#") {
		return fmt.Errorf("%q must not have a fragment", s)
	}
	return httpsOrLoopback(u)
}

// CheckClient reports what in a registration the provider does not offer:
// its security profile's methods and algorithms, its scopes, and its trust
// frameworks and claims.
func (p *Provider) CheckClient(c *Client) field.ErrorList { return p.CheckClientWith(c, JSONPaths) }

// CheckClientWith is CheckClient with the errors' paths named by paths.
func (p *Provider) CheckClientWith(c *Client, paths ClientPaths) field.ErrorList {
	var errs field.ErrorList
	sec := p.EffectiveSecurity()
	if !slices.Contains(sec.TokenEndpointAuthMethods, c.TokenEndpointAuthMethod) {
		errs = append(errs, invalid(paths.TokenEndpointAuthMethod, "%q is not allowed by the %s profile", c.TokenEndpointAuthMethod, sec.Profile))
	}
	if a := c.TokenEndpointAuthSigningAlg; a != "" && !slices.Contains(sec.ClientSigningAlgorithms, a) {
		errs = append(errs, invalid(paths.TokenEndpointAuthSigningAlg, "%q is not accepted by the provider", a))
	}
	for _, a := range []struct {
		path *field.Path
		alg  string
	}{
		{paths.UserInfoSignedResponseAlg, c.UserInfoSignedResponseAlg},
		{paths.IDTokenSignedResponseAlg, c.IDTokenSignedResponseAlg},
	} {
		if a.alg != "" && !slices.Contains(sec.SigningAlgorithms, a.alg) {
			errs = append(errs, invalid(a.path, "%q is not one the provider signs with", a.alg))
		}
	}
	offered := p.ScopesSupported()
	for i, s := range c.Scopes {
		if !slices.Contains(offered, s) {
			errs = append(errs, invalid(paths.Scopes.Index(i), "%q is not offered by the provider", s))
		}
	}
	var frameworks, claims []string
	for _, tf := range p.IDA.TrustFrameworks {
		frameworks = append(frameworks, tf.Identifier)
		claims = append(claims, tf.Claims...)
	}
	for i, tf := range c.TrustFrameworks {
		if !slices.Contains(frameworks, tf) {
			errs = append(errs, invalid(paths.TrustFrameworks.Index(i), "%q is not offered by the provider", tf))
		}
	}
	for i, cl := range c.VerifiedClaims {
		base, _, _ := strings.Cut(cl, "#")
		if !slices.Contains(claims, cl) && !slices.Contains(claims, base) {
			errs = append(errs, invalid(paths.VerifiedClaims.Index(i), "%q is not offered by the provider", cl))
		}
	}
	if a := c.MinimumACR; a != "" && p.Authentication.Level(a) == nil {
		errs = append(errs, invalid(paths.MinimumACR, "%q is not one of the provider's authentication levels (%s)", a, strings.Join(p.Authentication.ACRValues(), ", ")))
	}
	return errs
}
