package op

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/store"
)

// clientAssertionType is RFC 7523 §2.2's client_assertion_type.
const clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// Client assertion bounds (RFC 7523 §3): it must expire soon, and a little
// clock skew is tolerated.
const (
	assertionMaxLifetime = 5 * time.Minute
	clockSkew            = 30 * time.Second
)

// presented is what a request offers as client credentials.
type presented struct {
	method    string // a config.Auth* constant
	clientID  string
	secret    string
	assertion string
	basic     bool // the Authorization header was used
}

// authenticateClient runs client authentication for the token, PAR and
// revocation endpoints: parse the credentials, find the client, check the
// method against the registration, verify, then refuse disabled clients.
// endpoint is the URL being called, an accepted assertion audience.
func (p *Provider) authenticateClient(ctx context.Context, st *state, r *http.Request, form url.Values, endpoint string) (*client, *oauthError) {
	cred, err := parseClientCredentials(st, r, form)
	if err != nil {
		return nil, err
	}
	c, ok := st.clients[cred.clientID]
	if !ok {
		return nil, errInvalidClient("unknown client", cred.basic, st.issuer)
	}
	if err := checkAuthMethodRegistered(st, c, cred); err != nil {
		return nil, err
	}
	switch cred.method {
	case config.AuthClientSecretBasic, config.AuthClientSecretPost:
		if err := checkClientSecret(st, c, cred); err != nil {
			return nil, err
		}
	case config.AuthPrivateKeyJWT:
		if err := p.checkClientAssertion(ctx, st, c, cred.assertion, endpoint); err != nil {
			return nil, err
		}
	}
	if err := checkClientEnabled(c); err != nil {
		return nil, err
	}
	return c, nil
}

// parseClientCredentials finds exactly one authentication method in the
// request (RFC 6749 §2.3: a client must not use more than one).
func parseClientCredentials(st *state, r *http.Request, form url.Values) (*presented, *oauthError) {
	var found []*presented
	if h := r.Header.Get("Authorization"); h != "" {
		id, secret, ok := parseBasic(h)
		if !ok {
			return nil, errInvalidClient("malformed Basic credentials", true, st.issuer)
		}
		found = append(found, &presented{method: config.AuthClientSecretBasic, clientID: id, secret: secret, basic: true})
	}
	if s := form.Get("client_secret"); s != "" {
		found = append(found, &presented{method: config.AuthClientSecretPost, clientID: form.Get("client_id"), secret: s})
	}
	if a := form.Get("client_assertion"); a != "" || form.Get("client_assertion_type") != "" {
		if form.Get("client_assertion_type") != clientAssertionType {
			return nil, errInvalidClient("client_assertion_type must be "+clientAssertionType, false, st.issuer)
		}
		found = append(found, &presented{method: config.AuthPrivateKeyJWT, clientID: assertionSubject(a, form.Get("client_id")), assertion: a})
	}
	switch len(found) {
	case 0:
		return nil, errInvalidClient("client authentication is required", false, st.issuer)
	case 1:
	default:
		return nil, errInvalidRequest("more than one client authentication method")
	}
	cred := found[0]
	if id := form.Get("client_id"); id != "" && id != cred.clientID {
		return nil, errInvalidClient("client_id does not match the credentials", cred.basic, st.issuer)
	}
	if cred.clientID == "" {
		return nil, errInvalidClient("client_id is missing", cred.basic, st.issuer)
	}
	return cred, nil
}

// parseBasic decodes client_secret_basic: both parts are form-urlencoded
// before base64 (RFC 6749 §2.3.1).
func parseBasic(h string) (id, secret string, ok bool) {
	scheme, rest, found := strings.Cut(h, " ")
	if !found || !strings.EqualFold(scheme, "Basic") {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
	if err != nil {
		return "", "", false
	}
	u, s, found := strings.Cut(string(raw), ":")
	if !found {
		return "", "", false
	}
	if id, err = url.QueryUnescape(u); err != nil {
		return "", "", false
	}
	if secret, err = url.QueryUnescape(s); err != nil {
		return "", "", false
	}
	return id, secret, true
}

// assertionSubject reads the client from an assertion before it is
// verified: client_id when sent, else the unverified sub. The signature
// check that follows uses that client's keys, so a lie gains nothing.
func assertionSubject(assertion, clientID string) string {
	if clientID != "" {
		return clientID
	}
	tok, err := jwt.ParseSigned(assertion, []jose.SignatureAlgorithm{jose.ES256, jose.PS256, jose.RS256})
	if err != nil {
		return ""
	}
	var cl jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&cl); err != nil {
		return ""
	}
	return cl.Subject
}

// checkAuthMethodRegistered: the client uses the method it registered, and
// the provider's profile still allows it.
func checkAuthMethodRegistered(st *state, c *client, cred *presented) *oauthError {
	if cred.method != c.TokenEndpointAuthMethod {
		return errInvalidClient("the client must authenticate with "+c.TokenEndpointAuthMethod, cred.basic, st.issuer)
	}
	if !slices.Contains(st.sec.TokenEndpointAuthMethods, cred.method) {
		return errInvalidClient(cred.method+" is not allowed by the provider", cred.basic, st.issuer)
	}
	return nil
}

// checkClientSecret compares the secret with the registered hash in
// constant time.
func checkClientSecret(st *state, c *client, cred *presented) *oauthError {
	if !c.VerifySecret(cred.secret) {
		return errInvalidClient("invalid client credentials", cred.basic, st.issuer)
	}
	return nil
}

// checkClientEnabled: a disabled RelyingParty gets nothing.
func checkClientEnabled(c *client) *oauthError {
	if c.Disabled {
		return errUnauthorizedClient("the client is disabled")
	}
	return nil
}

// checkClientAssertion verifies a private_key_jwt assertion (RFC 7523 §3,
// OIDC Core §9): signature with a registered key and algorithm, iss and sub
// the client, aud this provider, a short exp, and a jti never seen before.
// The jti is recorded last, so a refused assertion leaves no trace.
func (p *Provider) checkClientAssertion(ctx context.Context, st *state, c *client, assertion, endpoint string) *oauthError {
	if len(assertion) > maxValueBytes {
		return errInvalidClient("client_assertion too large", false, st.issuer)
	}
	cl, err := p.verifyAssertionSignature(ctx, st, c, assertion)
	if err != nil {
		return err
	}
	now := p.now()
	if err := checkAssertionIssuer(st, c, cl); err != nil {
		return err
	}
	if err := checkAssertionAudience(st, cl, endpoint); err != nil {
		return err
	}
	if err := checkAssertionExpiry(st, cl, now); err != nil {
		return err
	}
	return p.checkAssertionJTIUnused(ctx, st, c, cl, now)
}

// verifyAssertionSignature checks the signature with the client's keys:
// its registered jwks, or the set published at its jwks_uri.
func (p *Provider) verifyAssertionSignature(ctx context.Context, st *state, c *client, assertion string) (*jwt.Claims, *oauthError) {
	var cl jwt.Claims
	if why := p.verifyClientJWT(ctx, st, c, assertion, &cl); why != "" {
		return nil, errInvalidClient("client_assertion "+why, false, st.issuer)
	}
	return &cl, nil
}

// verifyClientJWT checks a JWT the client signed (an assertion, a request
// object) with one of its keys and decodes its claims into out. It says
// what failed, to be prefixed with what the JWT is; "" means valid.
func (p *Provider) verifyClientJWT(ctx context.Context, st *state, c *client, raw string, out ...any) string {
	if len(c.keys) == 0 && c.JWKSURI == "" {
		return "cannot be checked: the client has no registered keys"
	}
	var algs []jose.SignatureAlgorithm
	for _, a := range st.clientAlgs(c) {
		algs = append(algs, jose.SignatureAlgorithm(a))
	}
	tok, err := jwt.ParseSigned(raw, algs)
	if err != nil || len(tok.Headers) != 1 {
		return "is not a JWT signed with an accepted algorithm"
	}
	kid := tok.Headers[0].KeyID
	keys := c.keys
	if c.JWKSURI != "" {
		keys, err = p.clientJWKS.keys(ctx, c.JWKSURI, kid)
		if err != nil {
			// Fetch failures are logged by the cache, without the keys.
			return "cannot be checked: " + jwksErrorDescription(err)
		}
	}
	for i := range keys {
		k := &keys[i]
		if kid != "" && k.KeyID != "" && k.KeyID != kid {
			continue
		}
		if k.Algorithm != "" && k.Algorithm != tok.Headers[0].Algorithm {
			continue
		}
		if err := tok.Claims(k.Key, out...); err == nil {
			return ""
		}
	}
	return "signature does not verify with the registered keys"
}

// checkAssertionIssuer: iss and sub are both the client_id.
func checkAssertionIssuer(st *state, c *client, cl *jwt.Claims) *oauthError {
	if cl.Issuer != c.ClientID || cl.Subject != c.ClientID {
		return errInvalidClient("client_assertion iss and sub must be the client_id", false, st.issuer)
	}
	return nil
}

// checkAssertionAudience: aud names the issuer, the token endpoint or the
// endpoint being called (RFC 7523 §3; RFC 9126 §2).
func checkAssertionAudience(st *state, cl *jwt.Claims, endpoint string) *oauthError {
	for _, a := range cl.Audience {
		if a == st.issuer || a == st.url(config.PathToken) || a == endpoint {
			return nil
		}
	}
	return errInvalidClient("client_assertion aud must be the issuer or the token endpoint", false, st.issuer)
}

// checkAssertionExpiry: exp is present, in the future, at most five
// minutes ahead; nbf and iat are not in the future.
func checkAssertionExpiry(st *state, cl *jwt.Claims, now time.Time) *oauthError {
	if cl.Expiry == nil {
		return errInvalidClient("client_assertion has no exp", false, st.issuer)
	}
	exp := cl.Expiry.Time()
	if !exp.After(now.Add(-clockSkew)) {
		return errInvalidClient("client_assertion has expired", false, st.issuer)
	}
	if exp.After(now.Add(assertionMaxLifetime + clockSkew)) {
		return errInvalidClient("client_assertion exp is more than 5 minutes ahead", false, st.issuer)
	}
	if cl.NotBefore != nil && cl.NotBefore.Time().After(now.Add(clockSkew)) {
		return errInvalidClient("client_assertion is not yet valid", false, st.issuer)
	}
	if cl.IssuedAt != nil && cl.IssuedAt.Time().After(now.Add(clockSkew)) {
		return errInvalidClient("client_assertion iat is in the future", false, st.issuer)
	}
	return nil
}

// checkAssertionJTIUnused: a jti is accepted once per client until the
// assertion expires.
func (p *Provider) checkAssertionJTIUnused(ctx context.Context, st *state, c *client, cl *jwt.Claims, now time.Time) *oauthError {
	if cl.ID == "" || len(cl.ID) > 256 {
		return errInvalidClient("client_assertion needs a jti", false, st.issuer)
	}
	ttl := cl.Expiry.Time().Sub(now) + clockSkew
	fresh, err := p.store.Remember(ctx, store.KindJTI, storeKey(c.ClientID+"\x00"+cl.ID), max(ttl, time.Second))
	if err != nil {
		p.log.Error("store failed", "op", "remember jti", "error", err)
		return errUnavailable("the session store is unavailable")
	}
	if !fresh {
		return errInvalidClient("client_assertion jti was already used", false, st.issuer)
	}
	return nil
}
