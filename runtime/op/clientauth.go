package op

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/idaop/ida-operator/runtime/config"
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
func (p *Provider) authenticateClient(ctx context.Context, sv *served, r *http.Request, form url.Values, endpoint string) (*client, *oauthError) {
	cred, err := parseClientCredentials(sv, r, form)
	if err == nil {
		var c *client
		if c, err = p.checkCredentials(ctx, sv, cred, endpoint); err == nil {
			return c, nil
		}
	}
	if err.Code != "temporarily_unavailable" {
		who := form.Get("client_id")
		if cred != nil {
			who = cred.clientID
		}
		p.securityEvent(eventClientAuthFailed, who, err.Description)
	}
	return nil, err
}

// checkCredentials finds the client, checks the method against its
// registration, verifies the credentials and refuses a disabled client.
func (p *Provider) checkCredentials(ctx context.Context, sv *served, cred *presented, endpoint string) (*client, *oauthError) {
	c, ok := sv.clients[cred.clientID]
	if !ok {
		return nil, errInvalidClient("unknown client", cred.basic, sv.issuer)
	}
	if err := checkAuthMethodRegistered(sv, c, cred); err != nil {
		return nil, err
	}
	switch cred.method {
	case config.AuthClientSecretBasic, config.AuthClientSecretPost:
		if err := checkClientSecret(sv, c, cred); err != nil {
			return nil, err
		}
	case config.AuthPrivateKeyJWT:
		if err := p.checkClientAssertion(ctx, sv, c, cred.assertion, endpoint); err != nil {
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
func parseClientCredentials(sv *served, r *http.Request, form url.Values) (*presented, *oauthError) {
	var found []*presented
	if h := r.Header.Get("Authorization"); h != "" {
		id, secret, ok := parseBasic(h)
		if !ok {
			return nil, errInvalidClient("malformed Basic credentials", true, sv.issuer)
		}
		found = append(found, &presented{method: config.AuthClientSecretBasic, clientID: id, secret: secret, basic: true})
	}
	if s := form.Get("client_secret"); s != "" {
		found = append(found, &presented{method: config.AuthClientSecretPost, clientID: form.Get("client_id"), secret: s})
	}
	if a := form.Get("client_assertion"); a != "" || form.Get("client_assertion_type") != "" {
		if form.Get("client_assertion_type") != clientAssertionType {
			return nil, errInvalidClient("client_assertion_type must be "+clientAssertionType, false, sv.issuer)
		}
		found = append(found, &presented{method: config.AuthPrivateKeyJWT, clientID: assertionSubject(a, form.Get("client_id")), assertion: a})
	}
	switch len(found) {
	case 0:
		return nil, errInvalidClient("client authentication is required", false, sv.issuer)
	case 1:
	default:
		return nil, errInvalidRequest("more than one client authentication method")
	}
	cred := found[0]
	if id := form.Get("client_id"); id != "" && id != cred.clientID {
		return nil, errInvalidClient("client_id does not match the credentials", cred.basic, sv.issuer)
	}
	if cred.clientID == "" {
		return nil, errInvalidClient("client_id is missing", cred.basic, sv.issuer)
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
func checkAuthMethodRegistered(sv *served, c *client, cred *presented) *oauthError {
	if cred.method != c.TokenEndpointAuthMethod {
		return errInvalidClient("the client must authenticate with "+c.TokenEndpointAuthMethod, cred.basic, sv.issuer)
	}
	if !slices.Contains(sv.sec.TokenEndpointAuthMethods, cred.method) {
		return errInvalidClient(cred.method+" is not allowed by the provider", cred.basic, sv.issuer)
	}
	return nil
}

// checkClientSecret compares the secret with the registered hash in
// constant time.
func checkClientSecret(sv *served, c *client, cred *presented) *oauthError {
	if !c.VerifySecret(cred.secret) {
		return errInvalidClient("invalid client credentials", cred.basic, sv.issuer)
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

// clientAssertion is a private_key_jwt assertion whose signature
// verified, being checked.
type clientAssertion struct {
	sv     *served
	client *client
	claims *jwt.Claims
	// aud is the aud claim as sent: a string or an array.
	aud json.RawMessage
	// endpoint is the URL being called, an accepted audience.
	endpoint string
	now      time.Time
}

// assertionChecks are the claims rules of a client assertion (RFC 7523 §3,
// OIDC Core §9), run after its signature verified and before its jti is
// spent, so a refused assertion leaves no trace.
var assertionChecks = []check[*clientAssertion]{
	checkAssertionIssuer,
	checkAssertionAudience,
	checkAssertionExpiry,
	checkAssertionHasJTI,
}

// checkClientAssertion verifies a private_key_jwt assertion: signature with
// a registered key and algorithm, then assertionChecks, then its jti is
// spent.
func (p *Provider) checkClientAssertion(ctx context.Context, sv *served, c *client, assertion, endpoint string) *oauthError {
	if len(assertion) > maxValueBytes {
		return errInvalidClient("client_assertion too large", false, sv.issuer)
	}
	ca := &clientAssertion{sv: sv, client: c, claims: &jwt.Claims{}, endpoint: endpoint, now: p.now()}
	out := []any{ca.claims}
	var raw struct {
		Aud json.RawMessage `json:"aud"`
	}
	if sv.fapi2() {
		// Only FAPI 2.0 cares whether aud was a string or an array.
		out = append(out, &raw)
	}
	if why := p.verifyClientJWT(ctx, sv, c, assertion, out...); why != "" {
		return errInvalidClient("client_assertion "+why, false, sv.issuer)
	}
	ca.aud = raw.Aud
	if err := runChecks(ca, assertionChecks); err != nil {
		return err
	}
	return p.spendAssertionID(ctx, ca)
}

// verifyClientJWT checks a JWT the client signed (an assertion, a request
// object) with one of its keys and decodes its claims into out. It says
// what failed, to be prefixed with what the JWT is; "" means valid.
func (p *Provider) verifyClientJWT(ctx context.Context, sv *served, c *client, raw string, out ...any) string {
	if len(c.keys) == 0 && c.JWKSURI == "" {
		return "cannot be checked: the client has no registered keys"
	}
	var algs []jose.SignatureAlgorithm
	for _, a := range sv.clientAlgs(c) {
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
		if keys = signatureKeys(keys); len(keys) == 0 {
			return "cannot be checked: the client's jwks_uri holds no signature keys"
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
func checkAssertionIssuer(ca *clientAssertion) *oauthError {
	if ca.claims.Issuer != ca.client.ClientID || ca.claims.Subject != ca.client.ClientID {
		return errInvalidClient("client_assertion iss and sub must be the client_id", false, ca.sv.issuer)
	}
	return nil
}

// checkAssertionAudience: aud names the issuer, the token endpoint or the
// endpoint being called (RFC 7523 §3; RFC 9126 §2). Under FAPI 2.0 it is
// the issuer alone, as a string (§5.3.2.1): an array could carry a second
// audience for which the same assertion would also be good.
func checkAssertionAudience(ca *clientAssertion) *oauthError {
	if ca.sv.fapi2() {
		var aud string
		if json.Unmarshal(ca.aud, &aud) != nil || aud != ca.sv.issuer {
			return errInvalidClient("client_assertion aud must be the issuer identifier, as a string", false, ca.sv.issuer)
		}
		return nil
	}
	for _, a := range ca.claims.Audience {
		if a == ca.sv.issuer || a == ca.sv.url(config.PathToken) || a == ca.endpoint {
			return nil
		}
	}
	return errInvalidClient("client_assertion aud must be the issuer or the token endpoint", false, ca.sv.issuer)
}

// checkAssertionExpiry: exp is present, in the future, at most five
// minutes ahead; nbf and iat are not in the future.
func checkAssertionExpiry(ca *clientAssertion) *oauthError {
	cl, now, issuer := ca.claims, ca.now, ca.sv.issuer
	if cl.Expiry == nil {
		return errInvalidClient("client_assertion has no exp", false, issuer)
	}
	exp := cl.Expiry.Time()
	if !exp.After(now.Add(-clockSkew)) {
		return errInvalidClient("client_assertion has expired", false, issuer)
	}
	if exp.After(now.Add(assertionMaxLifetime + clockSkew)) {
		return errInvalidClient("client_assertion exp is more than 5 minutes ahead", false, issuer)
	}
	if cl.NotBefore != nil && cl.NotBefore.Time().After(now.Add(clockSkew)) {
		return errInvalidClient("client_assertion is not yet valid", false, issuer)
	}
	if cl.IssuedAt != nil && cl.IssuedAt.Time().After(now.Add(clockSkew)) {
		return errInvalidClient("client_assertion iat is in the future", false, issuer)
	}
	return nil
}

// checkAssertionHasJTI: a jti, so that the assertion can be used once.
func checkAssertionHasJTI(ca *clientAssertion) *oauthError {
	if ca.claims.ID == "" || len(ca.claims.ID) > 256 {
		return errInvalidClient("client_assertion needs a jti", false, ca.sv.issuer)
	}
	return nil
}

// spendAssertionID: a jti is accepted once per client until the assertion
// expires.
func (p *Provider) spendAssertionID(ctx context.Context, ca *clientAssertion) *oauthError {
	ttl := ca.claims.Expiry.Time().Sub(ca.now) + clockSkew
	fresh, err := p.grants.SpendAssertionID(ctx, ca.client.ClientID, ca.claims.ID, ttl)
	if err != nil {
		return p.storeFailed(err)
	}
	if !fresh {
		p.securityEvent(eventReplay, ca.client.ClientID, "client assertion")
		return errInvalidClient("client_assertion jti was already used", false, ca.sv.issuer)
	}
	return nil
}

// readNamedToken reads a request in which an authenticated client names a
// token (RFC 7009 §2.1, RFC 7662 §2.1): the form, the client and the
// token. path is the endpoint's, an accepted assertion audience.
func (p *Provider) readNamedToken(sv *served, r *http.Request, path string) (url.Values, *client, string, *oauthError) {
	form, err := readParams(r)
	if err != nil {
		return nil, nil, "", err
	}
	c, err := p.authenticateClient(r.Context(), sv, r, form, sv.url(path))
	if err != nil {
		return nil, nil, "", err
	}
	tok := form.Get("token")
	if tok == "" {
		return nil, nil, "", errInvalidRequest("token is required")
	}
	return form, c, tok, nil
}
