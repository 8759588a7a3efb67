package op

import (
	"crypto/cipher"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/idaop/ida-operator/runtime/authn"
	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/egress"
	"github.com/idaop/ida-operator/runtime/hsm"
	"github.com/idaop/ida-operator/runtime/ida"
	"github.com/idaop/ida-operator/runtime/ui"
)

// served is the configuration being served: everything derived from one
// snapshot. It is immutable once built, apart from its caches, and
// swapped as a whole.
type served struct {
	snap     *config.Snapshot
	provider *config.Provider
	issuer   string
	// basePath is the issuer URL's path without a trailing slash.
	basePath     string
	secure       bool
	sec          config.EffectiveSecurity
	engine       *ida.Engine
	clients      map[string]*client
	scopes       []string
	discovery    []byte
	discoveryTag string

	jwksMu   sync.Mutex
	jwksBody []byte
	jwksTag  string
	jwksAt   time.Time

	signers signerCache
	// token reaches the keys in the PKCS#11 token the provider names; nil
	// for none. keystore counts signatures. See keystore.go.
	token    *hsm.Reopening
	keystore *keystore
	// nonceKeys sign and check DPoP nonces; see dpopnonce.go.
	nonceKeys [][]byte
	// interactionAEADs seal login and consent forms; see sealed.go.
	interactionAEADs []cipher.AEAD
	// factorAEADs seal second factors at rest, the newest first; see
	// factorseal.go.
	factorAEADs []cipher.AEAD
	// ui renders pages that link the stylesheet below basePath.
	ui *ui.Renderer
	// authMethods are the authentication methods the user source allows.
	authMethods []string
	// egress makes the outbound requests relying parties' URIs name
	// (back-channel logout), within the provider's egress policy.
	egress *http.Client
	// passkeyRP runs passkey ceremonies; nil when the issuer cannot have
	// passkeys (see passkey.go).
	passkeyRP *webauthn.WebAuthn
}

// authn is the provider's authentication levels.
func (sv *served) authn() *authn.Policy { return &sv.provider.Authentication }

// client is a registration with what the runtime derives from it.
type client struct {
	*config.Client
	// engine applies the provider's policy narrowed to the trust
	// frameworks and claims this client may receive.
	engine *ida.Engine
	// keys verify private_key_jwt assertions and request objects.
	keys []jose.JSONWebKey
	// jwks is the whole registered set, encryption keys included.
	jwks []jose.JSONWebKey
	// sector is the sector identifier of the client's pairwise subjects;
	// empty for public ones (see subjectFor).
	sector string
}

func buildServed(s *config.Snapshot, rend *ui.Renderer, now time.Time) (*served, error) {
	if s == nil {
		return nil, errors.New("op: nil snapshot")
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("op: snapshot: %w", err)
	}
	prov := s.Provider
	u, err := url.Parse(prov.Issuer)
	if err != nil {
		return nil, fmt.Errorf("op: issuer: %w", err)
	}
	disc, err := config.RenderDiscovery(prov)
	if err != nil {
		return nil, fmt.Errorf("op: discovery: %w", err)
	}
	eng, err := ida.NewEngine(prov.IDA)
	if err != nil {
		return nil, fmt.Errorf("op: %w", err)
	}
	sv := &served{
		snap:         s,
		provider:     prov,
		issuer:       prov.Issuer,
		basePath:     strings.TrimRight(u.Path, "/"),
		secure:       u.Scheme == "https",
		sec:          prov.EffectiveSecurity(),
		engine:       eng,
		clients:      make(map[string]*client, len(s.Clients)),
		scopes:       prov.ScopesSupported(),
		discovery:    disc,
		discoveryTag: etag(disc),
		authMethods:  prov.AuthenticationMethods(),
		egress: egress.NewClient(egress.Policy{
			AllowedPrefixes: prov.Egress.Prefixes(), AllowedHosts: prov.Egress.AllowedHosts,
		}, backchannelTimeout),
	}
	sv.ui = rend.WithBasePath(sv.basePath)
	if sv.passkeyRP, err = newPasskeyRP(prov.Issuer); err != nil {
		sv.passkeyRP = nil // an issuer at an IP address: no passkeys
	}
	sv.nonceKeys = nonceKeys(s.Keys)
	if sv.factorAEADs, err = factorAEADs(s.Keys, s.PairwiseSalt); err != nil {
		return nil, fmt.Errorf("op: factor keys: %w", err)
	}
	if sv.interactionAEADs, err = interactionAEADs(s.Keys); err != nil {
		return nil, fmt.Errorf("op: interaction keys: %w", err)
	}
	for id, c := range s.Clients {
		cs, err := buildClient(prov, c)
		if err != nil {
			return nil, fmt.Errorf("op: client %s: %w", id, err)
		}
		sv.clients[id] = cs
	}
	if _, _, err := sv.publicJWKS(now); err != nil {
		return nil, fmt.Errorf("op: jwks: %w", err)
	}
	return sv, nil
}

func buildClient(prov *config.Provider, c *config.Client) (*client, error) {
	eng, err := ida.NewEngine(clientPolicy(prov.IDA, c))
	if err != nil {
		return nil, fmt.Errorf("ida policy for the client: %w", err)
	}
	sector, err := prov.PairwiseSector(c)
	if err != nil {
		return nil, err
	}
	cs := &client{Client: c, engine: eng, sector: sector}
	if len(c.JWKS) > 0 {
		var set jose.JSONWebKeySet
		if err := json.Unmarshal(c.JWKS, &set); err != nil {
			return nil, fmt.Errorf("jwks: %w", err)
		}
		cs.jwks, cs.keys = set.Keys, signatureKeys(set.Keys)
	}
	return cs, nil
}

// clientPolicy narrows the provider's IDA policy to what one client may
// receive: the trust frameworks it registered and, within them, the claims
// it registered (a language-tagged name such as family_name#ja-Kana-JP
// allows its base claim). Empty lists allow nothing (config.Client), so
// such a client never receives verified claims; the Japanese profile stays
// on only while jp_oidf_ida survives. AnyTrustFramework never carries over:
// a client is bound to the catalog.
func clientPolicy(p ida.Policy, c *config.Client) ida.Policy {
	out := p
	out.AnyTrustFramework = false
	out.TrustFrameworks = nil
	allowed := map[string]bool{}
	for _, cl := range c.VerifiedClaims {
		base, _, _ := strings.Cut(cl, "#")
		allowed[base] = true
	}
	for _, tf := range p.TrustFrameworks {
		if !slices.Contains(c.TrustFrameworks, tf.Identifier) {
			continue
		}
		var claims []string
		for _, cl := range tf.Claims {
			if allowed[cl] {
				claims = append(claims, cl)
			}
		}
		if len(claims) == 0 {
			continue
		}
		tf.Claims = claims
		out.TrustFrameworks = append(out.TrustFrameworks, tf)
	}
	hasJP := slices.ContainsFunc(out.TrustFrameworks, func(tf ida.TrustFramework) bool { return tf.Identifier == jpTrustFramework })
	if !hasJP {
		out.Profiles = slices.DeleteFunc(slices.Clone(out.Profiles), func(s string) bool { return s == ida.ProfileJPBasic })
	}
	return out
}

// jwksRefresh is how often the JWKS body is rebuilt: keys enter and leave
// it on schedule, so it depends on the clock.
const jwksRefresh = 30 * time.Second

func (sv *served) publicJWKS(now time.Time) ([]byte, string, error) {
	sv.jwksMu.Lock()
	defer sv.jwksMu.Unlock()
	if sv.jwksBody != nil && now.Sub(sv.jwksAt) < jwksRefresh && !now.Before(sv.jwksAt) {
		return sv.jwksBody, sv.jwksTag, nil
	}
	body, err := sv.snap.Keys.PublicJWKS(now)
	if err != nil {
		return nil, "", err
	}
	sv.jwksBody, sv.jwksTag, sv.jwksAt = body, etag(body), now
	return body, sv.jwksTag, nil
}

func etag(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`
}

// signerOfType returns a signer for alg at now whose JWTs carry typ (JWT;
// at+jwt for access tokens, RFC 9068 §2.1), cached per key and typ:
// parsing a JWK per token would cost more than signing.
func (sv *served) signerOfType(alg, typ string, now time.Time) (jose.Signer, error) {
	k, ok := sv.snap.Keys.Signer(alg, now)
	if !ok {
		return nil, fmt.Errorf("no active %s signing key", alg)
	}
	cacheKey := k.ID + " " + typ
	if s, ok := sv.signers.m.Load(cacheKey); ok {
		return s.(jose.Signer), nil
	}
	jwk, store, err := sv.signingKey(k) // keystore.go
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", k.ID, err)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: jwk},
		(&jose.SignerOptions{}).WithType(jose.ContentType(typ)))
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", k.ID, err)
	}
	cs := sv.keystore.counted(s, store)
	sv.signers.m.Store(cacheKey, cs)
	return cs, nil
}

// url is the absolute URL of an endpoint.
func (sv *served) url(path string) string { return sv.provider.URL(path) }

func cutBasePath(path, base string) (string, bool) {
	if base == "" {
		return path, true
	}
	rest, ok := strings.CutPrefix(path, base)
	if !ok || (rest != "" && rest[0] != '/') {
		return "", false
	}
	return rest, true
}

// requireDPoP: the client's registration or the provider's profile.
func (sv *served) requireDPoP(c *client) bool { return sv.sec.RequireDPoP || c.RequireDPoP }

// fapi2: the provider follows the FAPI 2.0 Security Profile.
func (sv *served) fapi2() bool { return sv.sec.Profile == config.ProfileFAPI2 }

// maxFAPI2CodeLifetime: FAPI 2.0 Security Profile §5.3.2.1 (authorization
// codes live at most 60 seconds).
const maxFAPI2CodeLifetime = time.Minute

// codeLifetime is the configured lifetime of authorization codes, at most
// 60 seconds under FAPI 2.0.
func (sv *served) codeLifetime() time.Duration {
	d := sv.provider.Tokens.AuthorizationCode.Duration
	if sv.fapi2() {
		d = min(d, maxFAPI2CodeLifetime)
	}
	return d
}

// rotatesRefreshTokens: each refresh replaces the refresh token, except
// under FAPI 2.0, which asks not to rotate (§5.3.2.1): a client whose
// answer was lost would otherwise lose its whole grant.
func (sv *served) rotatesRefreshTokens() bool { return !sv.fapi2() }

// grantedScope is what of a grant's scope the client may still use: a
// scope removed from its registration, or no longer offered by the
// provider, stops working at the grant's next use.
func (sv *served) grantedScope(c *client, scope string) string {
	allowed := func(s string) bool { return slices.Contains(c.Scopes, s) && slices.Contains(sv.scopes, s) }
	fields := strings.Fields(scope)
	if !slices.ContainsFunc(fields, func(s string) bool { return !allowed(s) }) {
		return scope // the usual case: nothing was removed
	}
	return strings.Join(slices.DeleteFunc(fields, func(s string) bool { return !allowed(s) }), " ")
}

// requirePAR: the client's registration or the provider's profile.
func (sv *served) requirePAR(c *client) bool { return sv.sec.RequirePAR || c.RequirePAR }

// idTokenAlg is the client's registered algorithm or the provider's default.
func (sv *served) idTokenAlg(c *client) string {
	if c.IDTokenSignedResponseAlg != "" {
		return c.IDTokenSignedResponseAlg
	}
	return sv.sec.DefaultSigningAlgorithm()
}

// userInfoAlg is the algorithm a client's UserInfo is signed with, or ""
// for plain JSON: its userinfo_signed_response_alg, or the provider's
// default when it asked for encryption alone, since the provider always
// signs what it encrypts (a nested JWT, as client libraries expect).
func (sv *served) userInfoAlg(c *client) string {
	switch {
	case c.UserInfoSignedResponseAlg != "":
		return c.UserInfoSignedResponseAlg
	case c.UserInfoEncryption().On():
		return sv.sec.DefaultSigningAlgorithm()
	}
	return ""
}

// clientAlgs are the algorithms accepted on a client's assertions.
func (sv *served) clientAlgs(c *client) []string {
	if c != nil && c.TokenEndpointAuthSigningAlg != "" {
		return []string{c.TokenEndpointAuthSigningAlg}
	}
	return sv.sec.ClientSigningAlgorithms
}
