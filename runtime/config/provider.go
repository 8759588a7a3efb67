package config

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/idaop/ida-operator/runtime/authn"
	"github.com/idaop/ida-operator/runtime/ida"
)

// JWS algorithms the provider signs and verifies with.
const (
	ES256 = "ES256"
	PS256 = "PS256"
	RS256 = "RS256"
)

// SupportedAlgorithms are the signing algorithms this project implements.
var SupportedAlgorithms = []string{ES256, PS256, RS256}

// fapiAlgorithms are the ones FAPI 2.0 allows of SupportedAlgorithms
// (FAPI 2.0 Security Profile §5.4: PS256, ES256 or EdDSA).
var fapiAlgorithms = []string{ES256, PS256}

// Security profiles.
const (
	ProfileDefault = "Default"
	ProfileFAPI2   = "FAPI2"
)

// User source and session store types.
const (
	UsersBuiltin       = "Builtin"
	UsersHTTP          = "HTTP"
	SessionStoreMemory = "Memory"
	SessionStoreRedis  = "Redis"
)

// StandardScopes are always offered: OpenID Connect Core §5.4 and
// offline_access for refresh tokens.
var StandardScopes = []string{"openid", "profile", "email", "address", "phone", "offline_access"}

// Provider is everything the runtime needs to serve one IdentityProvider.
// The operator renders it from the CRD and its trust frameworks; a person
// may write it by hand for a --config-dir.
type Provider struct {
	// Issuer is the issuer identifier, used exactly as written in iss.
	Issuer string `json:"issuer"`
	// Scopes are extra scopes beyond StandardScopes.
	Scopes []string `json:"scopes,omitempty"`
	// SigningAlgorithms the provider keeps keys for; the first signs ID
	// tokens unless a client registered another.
	SigningAlgorithms []string `json:"signing_algorithms"`
	// PKCS11 names the token that holds the signing keys whose private
	// halves are not in the key set; nil when every key is in the set.
	PKCS11       *PKCS11      `json:"pkcs11,omitempty"`
	Tokens       Lifetimes    `json:"tokens"`
	Security     Security     `json:"security"`
	Users        UserSource   `json:"users"`
	SessionStore SessionStore `json:"session_store"`
	// Subjects says which sub clients see: public or pairwise (OIDC Core
	// §8), and where the pairwise salt is.
	Subjects Subjects `json:"subjects,omitzero"`
	// IDA is the identity assurance policy: the trust framework catalog,
	// profiles, attachments and transformed claims.
	IDA ida.Policy `json:"ida"`
	// Authentication is the authentication levels the provider offers;
	// empty means none (ID tokens then carry amr and auth_time, no acr).
	Authentication authn.Policy `json:"authentication,omitzero"`
	// Consent is how long release records are kept.
	Consent Consent `json:"consent,omitzero"`
	// Sessions bounds sign-ins; zero values mean the defaults.
	Sessions Sessions `json:"sessions,omitzero"`
	// Egress allows outbound requests to internal addresses.
	Egress Egress `json:"egress,omitzero"`
	// ExternalClaims are the claim sources whose verified claims the
	// provider passes on (external.go); nil means none.
	ExternalClaims *ExternalClaims `json:"external_claims,omitempty"`
}

// PKCS11 names a PKCS#11 token. Its PIN is not here: the runtime reads it
// from the environment (PKCS11PINEnv), which the operator fills from the
// PIN Secret.
type PKCS11 struct {
	// Module is the path of the vendor's PKCS#11 library.
	Module string `json:"module"`
	// TokenLabel selects the token.
	TokenLabel string `json:"token_label"`
	// Timeout bounds each call to the token (a signature, the login);
	// zero means 2 seconds. A request whose signature would take longer
	// is answered temporarily_unavailable.
	Timeout Duration `json:"timeout,omitzero"`
}

// Bounds of PKCS11.Timeout: shorter fails a working network HSM, longer
// holds requests that relying parties have given up on.
const (
	MinPKCS11Timeout = 100 * time.Millisecond
	MaxPKCS11Timeout = 10 * time.Second
)

// PKCS11PINEnv is the environment variable the runtime reads the token's
// PIN from.
const PKCS11PINEnv = "IDA_PKCS11_PIN"

// Lifetimes of what the provider issues.
type Lifetimes struct {
	IDToken           Duration `json:"id_token"`
	AccessToken       Duration `json:"access_token"`
	RefreshToken      Duration `json:"refresh_token"`
	AuthorizationCode Duration `json:"authorization_code"`
	// AccessTokenFormat is AccessTokenOpaque (also when empty) or
	// AccessTokenJWT (RFC 9068).
	AccessTokenFormat string `json:"access_token_format,omitempty"`
	// AccessTokenAudience is the aud of JWT access tokens; empty means the
	// issuer, whose UserInfo is the resource.
	AccessTokenAudience string `json:"access_token_audience,omitempty"`
	// Resources are the resource indicators (RFC 8707) clients may ask
	// tokens for, besides the issuer itself (whose resource is UserInfo).
	Resources []string `json:"resources,omitempty"`
}

// Access token formats.
const (
	AccessTokenOpaque = "Opaque"
	AccessTokenJWT    = "JWT"
)

// Longest is the longest lifetime of anything signed or bound to a key; a
// retired signing key must stay published longer than this.
func (l Lifetimes) Longest() time.Duration {
	return max(l.IDToken.Duration, l.AccessToken.Duration, l.RefreshToken.Duration, l.AuthorizationCode.Duration)
}

// Security is the configured security profile; read EffectiveSecurity for
// what the provider actually enforces.
type Security struct {
	// Profile is ProfileDefault (also when empty) or ProfileFAPI2.
	Profile     string `json:"profile,omitempty"`
	RequirePAR  bool   `json:"require_pushed_authorization_requests,omitempty"`
	RequireDPoP bool   `json:"require_dpop,omitempty"`
	// RequireDPoPNonce accepts DPoP proofs only with a nonce the provider
	// issued (RFC 9449 §8, §9).
	RequireDPoPNonce bool `json:"require_dpop_nonce,omitempty"`
	// PushedRequestsPerClient bounds one client's pushed authorization
	// requests within a request_uri's lifetime; 0 means
	// DefaultPushedRequestsPerClient.
	PushedRequestsPerClient int `json:"pushed_requests_per_client,omitempty"`
}

// DefaultPushedRequestsPerClient is the bound of a configuration that
// sets none.
const DefaultPushedRequestsPerClient = 10000

// UserSource says where end-users and their verified data come from.
type UserSource struct {
	Type    string        `json:"type"`
	Builtin *BuiltinUsers `json:"builtin,omitempty"`
	HTTP    *HTTPUsers    `json:"http,omitempty"`
}

// BuiltinUsers are read from a Secret in the provider's namespace.
type BuiltinUsers struct {
	SecretName string `json:"secret_name"`
}

// HTTPUsers are looked up in an existing KYC system.
type HTTPUsers struct {
	URL string `json:"url"`
	// Timeout per lookup; zero means the runtime's default.
	Timeout           Duration      `json:"timeout,omitzero"`
	CredentialsSecret *SecretKeyRef `json:"credentials_secret,omitempty"`
	// Factors: the KYC system keeps users' second factors (the factor
	// calls of docs/users.md), so one-time codes and passkeys can be
	// offered.
	Factors bool `json:"factors,omitempty"`
}

// SessionStore holds per-request state (codes, sessions, PAR requests),
// which never goes to the Kubernetes API.
type SessionStore struct {
	// Type is SessionStoreMemory (also when empty) or SessionStoreRedis.
	Type  string      `json:"type,omitempty"`
	Redis *RedisStore `json:"redis,omitempty"`
}

// RedisStore is a shared store for more than one replica.
type RedisStore struct {
	// Address is host:port of a single Redis; exactly one of Address,
	// Sentinel and ClusterAddresses is set.
	Address string `json:"address,omitempty"`
	// Sentinel finds the master through Redis Sentinel.
	Sentinel *RedisSentinel `json:"sentinel,omitempty"`
	// ClusterAddresses are seed nodes of a Redis Cluster.
	ClusterAddresses []string `json:"cluster_addresses,omitempty"`
	// ReplicaAcks, when positive, makes each write wait until that many
	// replicas have it (WAIT), so a failover loses none of them.
	ReplicaAcks int `json:"replica_acks,omitempty"`
	// Username is the Redis ACL user; empty means the default user. It
	// needs PasswordSecret.
	Username       string        `json:"username,omitempty"`
	PasswordSecret *SecretKeyRef `json:"password_secret,omitempty"`
	// TLS, when set, connects over TLS 1.2 or newer; nil means plain TCP.
	TLS *RedisTLS `json:"tls,omitempty"`
	// MaxMemoryBytes, when set, refuses new state (not replay markers or
	// counters) while Redis' used_memory is over it; zero means no budget.
	MaxMemoryBytes int64 `json:"max_memory_bytes,omitempty"`
}

// RedisSentinel is a master monitored by Redis Sentinel.
type RedisSentinel struct {
	MasterName string   `json:"master_name"`
	Addresses  []string `json:"addresses"`
	// Username and PasswordSecret authenticate to the sentinels
	// themselves; empty means they need no password.
	Username       string        `json:"username,omitempty"`
	PasswordSecret *SecretKeyRef `json:"password_secret,omitempty"`
}

// MaxRedisReplicaAcks bounds ReplicaAcks: more replicas than this per
// master is not a session store.
const MaxRedisReplicaAcks = 5

// MinRedisMaxMemory is the smallest budget accepted: an empty Redis
// already uses about 1 MB, so a smaller one would refuse everything.
const MinRedisMaxMemory = 1 << 20

// RedisTLS says how to verify the Redis server and what to present to it.
type RedisTLS struct {
	// CASecret holds the PEM certificates that verify the server; nil
	// means the system roots.
	CASecret *SecretKeyRef `json:"ca_secret,omitempty"`
	// ClientCertificateSecret names a Secret with tls.crt and tls.key (a
	// kubernetes.io/tls Secret) presented for mutual TLS; empty means none.
	ClientCertificateSecret string `json:"client_certificate_secret,omitempty"`
	// ServerName is checked against the server's certificate; empty means
	// the host of Address.
	ServerName string `json:"server_name,omitempty"`
}

// Keys of the client certificate Secret, as in a kubernetes.io/tls Secret.
const (
	TLSCertKey = "tls.crt"
	TLSKeyKey  = "tls.key"
)

// SecretKeyRef names one key of a Secret in the provider's namespace.
type SecretKeyRef struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

// ParseProvider decodes and validates a provider config.
func ParseProvider(data []byte) (*Provider, error) {
	var p Provider
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, err
	}
	if err := AsError(p.Validate()); err != nil {
		return nil, err
	}
	return &p, nil
}

// scopeToken is RFC 6749 §3.3 scope-token.
var scopeToken = regexp.MustCompile(`^[\x21\x23-\x5B\x5D-\x7E]+$`)

// Validate reports every problem, each with the path of its member, so one
// condition message tells a person all there is to fix.
func (p *Provider) Validate() field.ErrorList {
	var errs field.ErrorList
	if err := ValidateIssuer(p.Issuer); err != nil {
		errs = append(errs, invalid(field.NewPath("issuer"), "%v", err))
	}

	jp := slices.Contains(p.IDA.Profiles, ida.ProfileJPBasic)
	for i, s := range p.Scopes {
		path := field.NewPath("scopes").Index(i)
		switch {
		case !scopeToken.MatchString(s):
			errs = append(errs, invalid(path, "%q is not a valid scope token", s))
		case slices.Contains(p.Scopes[:i], s):
			errs = append(errs, invalid(path, "%q is listed twice", s))
		case slices.Contains(JPBasicScopes, s) && !jp:
			errs = append(errs, invalid(path, "%q belongs to the jp_basic profile; enable the profile instead", s))
		}
	}

	if t := p.PKCS11; t != nil {
		path := field.NewPath("pkcs11")
		if !strings.HasPrefix(t.Module, "/") {
			errs = append(errs, invalid(path.Child("module"), "%q is not an absolute path", t.Module))
		}
		if t.TokenLabel == "" || len(t.TokenLabel) > 32 {
			errs = append(errs, invalid(path.Child("token_label"), "must have 1 to 32 bytes"))
		}
		if d := t.Timeout.Duration; d != 0 && (d < MinPKCS11Timeout || d > MaxPKCS11Timeout) {
			errs = append(errs, invalid(path.Child("timeout"), "%s is outside %s to %s", d, MinPKCS11Timeout, MaxPKCS11Timeout))
		}
	}

	algs := field.NewPath("signing_algorithms")
	if len(p.SigningAlgorithms) == 0 {
		errs = append(errs, field.Required(algs, "must list at least one algorithm"))
	}
	for i, a := range p.SigningAlgorithms {
		switch {
		case !slices.Contains(SupportedAlgorithms, a):
			errs = append(errs, invalid(algs.Index(i), "%q is not one of %s", a, strings.Join(SupportedAlgorithms, ", ")))
		case slices.Contains(p.SigningAlgorithms[:i], a):
			errs = append(errs, invalid(algs.Index(i), "%q is listed twice", a))
		}
	}

	tokens := field.NewPath("tokens")
	for _, l := range []struct {
		name string
		d    Duration
	}{
		{"id_token", p.Tokens.IDToken},
		{"access_token", p.Tokens.AccessToken},
		{"refresh_token", p.Tokens.RefreshToken},
		{"authorization_code", p.Tokens.AuthorizationCode},
	} {
		if l.d.Duration <= 0 {
			errs = append(errs, invalid(tokens.Child(l.name), "must be positive"))
		}
	}

	switch p.Security.Profile {
	case "", ProfileDefault:
	case ProfileFAPI2:
		if !slices.ContainsFunc(p.SigningAlgorithms, isFAPIAlgorithm) {
			errs = append(errs, invalid(algs, "FAPI2 needs ES256 or PS256"))
		}
	default:
		errs = append(errs, invalid(field.NewPath("security", "profile"), "%q is neither %s nor %s", p.Security.Profile, ProfileDefault, ProfileFAPI2))
	}
	switch p.Tokens.AccessTokenFormat {
	case "", AccessTokenOpaque, AccessTokenJWT:
	default:
		errs = append(errs, field.NotSupported(field.NewPath("tokens", "access_token_format"), p.Tokens.AccessTokenFormat, []string{AccessTokenOpaque, AccessTokenJWT}))
	}
	errs = append(errs, validateResources(field.NewPath("tokens", "resources"), p.Tokens.Resources)...)
	if n := p.Security.PushedRequestsPerClient; n < 0 {
		errs = append(errs, invalid(field.NewPath("security", "pushed_requests_per_client"), "must not be negative"))
	}

	errs = append(errs, p.Users.validate(field.NewPath("users"))...)
	errs = append(errs, p.SessionStore.validate(field.NewPath("session_store"))...)
	errs = append(errs, p.Subjects.validate(field.NewPath("subjects"))...)
	errs = append(errs, p.Consent.validate(field.NewPath("consent"))...)
	errs = append(errs, p.Sessions.validate(field.NewPath("sessions"))...)
	errs = append(errs, p.Egress.validate(field.NewPath("egress"))...)
	errs = append(errs, validateAuthentication(&p.Authentication, p.AuthenticationMethods(), field.NewPath("authentication"))...)

	if err := p.IDA.Validate(); err != nil {
		errs = append(errs, invalid(field.NewPath("ida"), "%v", err))
	} else if len(p.IDA.TrustFrameworks) == 0 {
		// trust_frameworks_supported is REQUIRED with at least one member
		// (IDA §8), so a provider with an empty catalog cannot advertise IDA.
		errs = append(errs, field.Required(field.NewPath("ida", "trust_frameworks"), "must list at least one trust framework"))
	}
	catalog := make([]string, 0, len(p.IDA.TrustFrameworks))
	for _, tf := range p.IDA.TrustFrameworks {
		catalog = append(catalog, tf.Identifier)
	}
	errs = append(errs, p.ExternalClaims.validate(field.NewPath("external_claims"), catalog)...)
	return errs
}

func (u *UserSource) validate(path *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch u.Type {
	case UsersBuiltin:
		if u.Builtin == nil || u.Builtin.SecretName == "" {
			errs = append(errs, field.Required(path.Child("builtin", "secret_name"), "required when users.type is Builtin"))
		}
		if u.HTTP != nil {
			errs = append(errs, field.Forbidden(path.Child("http"), "must be empty when users.type is Builtin"))
		}
	case UsersHTTP:
		if u.Builtin != nil {
			errs = append(errs, field.Forbidden(path.Child("builtin"), "must be empty when users.type is HTTP"))
		}
		if u.HTTP == nil {
			errs = append(errs, field.Required(path.Child("http"), "required when users.type is HTTP"))
			break
		}
		if err := validateServiceURL(u.HTTP.URL); err != nil {
			errs = append(errs, invalid(path.Child("http", "url"), "%v", err))
		}
		if u.HTTP.Timeout.Duration < 0 {
			errs = append(errs, invalid(path.Child("http", "timeout"), "must not be negative"))
		}
		errs = append(errs, u.HTTP.CredentialsSecret.validate(path.Child("http", "credentials_secret"))...)
	default:
		errs = append(errs, invalid(path.Child("type"), "%q is neither %s nor %s", u.Type, UsersBuiltin, UsersHTTP))
	}
	return errs
}

func (s *SessionStore) validate(path *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch s.Type {
	case "", SessionStoreMemory:
		if s.Redis != nil {
			errs = append(errs, field.Forbidden(path.Child("redis"), "must be empty unless session_store.type is Redis"))
		}
	case SessionStoreRedis:
		if s.Redis == nil {
			errs = append(errs, field.Required(path.Child("redis"), "required when session_store.type is Redis"))
			break
		}
		errs = append(errs, s.Redis.validate(path.Child("redis"))...)
	default:
		errs = append(errs, invalid(path.Child("type"), "%q is neither %s nor %s", s.Type, SessionStoreMemory, SessionStoreRedis))
	}
	return errs
}

// validate holds the rules the IdentityProvider CRD also checks at
// admission (its CEL rules and patterns on sessionStore.redis).
func (r *RedisStore) validate(path *field.Path) field.ErrorList {
	var errs field.ErrorList
	hostPort := func(p *field.Path, addr string) {
		if _, _, err := net.SplitHostPort(addr); err != nil || addr == "" {
			errs = append(errs, invalid(p, "%q is not host:port", addr))
		}
	}
	set := 0
	if r.Address != "" {
		set++
		hostPort(path.Child("address"), r.Address)
	}
	if s := r.Sentinel; s != nil {
		set++
		sp := path.Child("sentinel")
		if s.MasterName == "" {
			errs = append(errs, field.Required(sp.Child("master_name"), "the name the sentinels monitor the master under"))
		}
		if len(s.Addresses) == 0 {
			errs = append(errs, field.Required(sp.Child("addresses"), "at least one sentinel"))
		}
		for i, a := range s.Addresses {
			hostPort(sp.Child("addresses").Index(i), a)
		}
		if s.Username != "" && s.PasswordSecret == nil {
			errs = append(errs, field.Required(sp.Child("password_secret"), "required with a username"))
		}
		errs = append(errs, s.PasswordSecret.validate(sp.Child("password_secret"))...)
	}
	if len(r.ClusterAddresses) > 0 {
		set++
		for i, a := range r.ClusterAddresses {
			hostPort(path.Child("cluster_addresses").Index(i), a)
		}
	}
	if set != 1 {
		errs = append(errs, invalid(path, "set exactly one of address, sentinel and cluster_addresses"))
	}
	if r.ReplicaAcks < 0 || r.ReplicaAcks > MaxRedisReplicaAcks {
		errs = append(errs, invalid(path.Child("replica_acks"), "%d must be between 0 and %d", r.ReplicaAcks, MaxRedisReplicaAcks))
	}
	if r.Username != "" {
		if !redisUsername.MatchString(r.Username) {
			errs = append(errs, invalid(path.Child("username"), "%q must be 1 to 128 printable ASCII characters without spaces", r.Username))
		}
		if r.PasswordSecret == nil {
			errs = append(errs, field.Required(path.Child("password_secret"), "required with a username: an ACL user signs in with its password"))
		}
	}
	errs = append(errs, r.PasswordSecret.validate(path.Child("password_secret"))...)
	if r.MaxMemoryBytes < 0 || r.MaxMemoryBytes > 0 && r.MaxMemoryBytes < MinRedisMaxMemory {
		errs = append(errs, invalid(path.Child("max_memory_bytes"), "%d must be at least %d (1Mi): an empty Redis already uses about 1 MB", r.MaxMemoryBytes, MinRedisMaxMemory))
	}
	if t := r.TLS; t != nil {
		tp := path.Child("tls")
		errs = append(errs, t.CASecret.validate(tp.Child("ca_secret"))...)
		if t.ServerName != "" {
			for _, msg := range validation.IsDNS1123Subdomain(t.ServerName) {
				errs = append(errs, invalid(tp.Child("server_name"), "%q: %s", t.ServerName, msg))
			}
		}
	}
	return errs
}

// redisUsername is what a Redis ACL username may be here: Redis refuses
// spaces, and a printable name is one a person can read in ACL LIST.
var redisUsername = regexp.MustCompile(`^[!-~]{1,128}$`)

func (r *SecretKeyRef) validate(path *field.Path) field.ErrorList {
	if r == nil {
		return nil
	}
	var errs field.ErrorList
	if r.Name == "" {
		errs = append(errs, field.Required(path.Child("name"), "must not be empty"))
	}
	if r.Key == "" {
		errs = append(errs, field.Required(path.Child("key"), "must not be empty"))
	}
	return errs
}

// ValidateIssuer applies OpenID Connect Discovery §3: an https URL with no
// query or fragment. Plain http is allowed for loopback hosts only, for
// `demo` and local development.
func ValidateIssuer(issuer string) error {
	if issuer == "" {
		return errors.New("must not be empty")
	}
	u, err := url.Parse(issuer)
	if err != nil {
		return fmt.Errorf("%q is not a URL", issuer)
	}
	if err := httpsOrLoopback(u); err != nil {
		return err
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(issuer, "#") {
		return fmt.Errorf("%q must have no query or fragment", issuer)
	}
	if u.User != nil {
		return fmt.Errorf("%q must have no user information", issuer)
	}
	return nil
}

// validateServiceURL: the HTTP user source receives passwords and returns
// identity data, so it is called over https; http only on loopback (a
// sidecar, or a test).
func validateServiceURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", s)
	}
	return httpsOrLoopback(u)
}

func httpsOrLoopback(u *url.URL) error {
	if u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL", u.String())
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("%q must use https (http only for localhost and loopback addresses)", u.String())
	default:
		return fmt.Errorf("%q must use https", u.String())
	}
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func isFAPIAlgorithm(a string) bool { return slices.Contains(fapiAlgorithms, a) }

// EffectiveSecurity is what the provider enforces once the profile's
// implications are applied; the runtime and discovery read this, never
// Security directly, so the two cannot disagree.
type EffectiveSecurity struct {
	Profile     string
	RequirePAR  bool
	RequireDPoP bool
	// RequireDPoPNonce applies to every DPoP proof the provider checks.
	RequireDPoPNonce bool
	// PushedRequestsPerClient bounds one client's pushed requests.
	PushedRequestsPerClient int
	// TokenEndpointAuthMethods clients may register and use.
	TokenEndpointAuthMethods []string
	// SigningAlgorithms the provider signs ID tokens and UserInfo with, in
	// configured order; the first is the default.
	SigningAlgorithms []string
	// ClientSigningAlgorithms the provider accepts on client assertions
	// and DPoP proofs.
	ClientSigningAlgorithms []string
}

// EffectiveSecurity applies the profile: FAPI2 implies PAR, DPoP,
// private_key_jwt only and ES256/PS256 only (FAPI 2.0 Security Profile
// §5.3, §5.4); configured RS256 keys are kept but never used.
func (p *Provider) EffectiveSecurity() EffectiveSecurity {
	e := EffectiveSecurity{
		Profile:                  ProfileDefault,
		RequirePAR:               p.Security.RequirePAR,
		RequireDPoP:              p.Security.RequireDPoP,
		RequireDPoPNonce:         p.Security.RequireDPoPNonce,
		PushedRequestsPerClient:  cmp.Or(p.Security.PushedRequestsPerClient, DefaultPushedRequestsPerClient),
		TokenEndpointAuthMethods: []string{AuthClientSecretBasic, AuthClientSecretPost, AuthPrivateKeyJWT},
		SigningAlgorithms:        slices.Clone(p.SigningAlgorithms),
		ClientSigningAlgorithms:  slices.Clone(SupportedAlgorithms),
	}
	if p.Security.Profile == ProfileFAPI2 {
		e.Profile = ProfileFAPI2
		e.RequirePAR = true
		e.RequireDPoP = true
		e.TokenEndpointAuthMethods = []string{AuthPrivateKeyJWT}
		e.SigningAlgorithms = slices.DeleteFunc(e.SigningAlgorithms, func(a string) bool { return !isFAPIAlgorithm(a) })
		e.ClientSigningAlgorithms = slices.Clone(fapiAlgorithms)
	}
	return e
}

// DefaultSigningAlgorithm signs ID tokens for clients that registered none.
func (e EffectiveSecurity) DefaultSigningAlgorithm() string {
	if len(e.SigningAlgorithms) == 0 {
		return ""
	}
	return e.SigningAlgorithms[0]
}

// JPBasicScopes are the scopes of the Japanese basic profile, offered when
// IDA.Profiles has jp_basic.
var JPBasicScopes = []string{
	ida.ScopeJPIDA, ida.ScopeJPIDAWithEvidence,
	ida.ScopeJPAgeOver16, ida.ScopeJPAgeOver18, ida.ScopeJPAgeOver20,
	ida.ScopeJPMSISDN,
}

// ScopesSupported lists every scope the provider answers: the standard
// ones, the configured extras, then the profile's.
func (p *Provider) ScopesSupported() []string {
	out := slices.Clone(StandardScopes)
	add := func(ss ...string) {
		for _, s := range ss {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	add(p.Scopes...)
	if slices.Contains(p.IDA.Profiles, ida.ProfileJPBasic) {
		add(JPBasicScopes...)
	}
	return out
}

// Endpoint paths below the issuer.
const (
	PathDiscovery  = "/.well-known/openid-configuration"
	PathAuthorize  = "/authorize"
	PathToken      = "/token"
	PathUserInfo   = "/userinfo"
	PathJWKS       = "/jwks"
	PathPAR        = "/par"
	PathRevoke     = "/revoke"
	PathIntrospect = "/introspect"
	// PathEndSession is the end_session_endpoint (OIDC RP-Initiated
	// Logout 1.0 §2).
	PathEndSession = "/end_session"
)

// URL is the absolute URL of an endpoint path below the issuer; a trailing
// slash on the issuer does not produce "//".
func (p *Provider) URL(path string) string { return joinIssuer(p.Issuer, path) }

// DiscoveryURL is where relying parties fetch the issuer's metadata
// (OpenID Connect Discovery §4).
func DiscoveryURL(issuer string) string { return joinIssuer(issuer, PathDiscovery) }

func joinIssuer(issuer, path string) string {
	return strings.TrimRight(issuer, "/") + path
}
