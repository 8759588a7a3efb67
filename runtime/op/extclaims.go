package op

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/grants"
	"github.com/idaop/ida-operator/runtime/ida"
	"github.com/idaop/ida-operator/runtime/users"
)

// Verified claims from external claim sources (IDA §6): a user source may
// hold, besides the provider's own verified_claims, assertions signed by
// other verifiers (aggregated) and references to them (distributed). They
// go out as _claim_names and _claim_sources (OIDC Core §5.6.2), exactly as
// the source signed them: the provider never re-signs another party's
// data, and so releases an assertion only whole, when the request asks for
// all of it (ida.Engine.ReleasesExternal).

// providedClaimsType is the typ of an external assertion (IDA §6.1, §11).
const providedClaimsType = "provided-claims+jwt"

// maxProvidedClaimsSize bounds an assertion read from a user source.
const maxProvidedClaimsSize = 64 << 10

// providedClaimsAlgorithms are the signatures accepted on an assertion: the
// ones the provider implements, never none or a shared secret.
var providedClaimsAlgorithms = []jose.SignatureAlgorithm{jose.ES256, jose.PS256, jose.RS256}

// assertionMembers are the members an assertion may carry: the ones IDA
// §6.1 requires, the JWT's own iat, nbf and jti, and txn (IDA §5.1).
var assertionMembers = []string{"iss", "sub", "verified_claims", "iat", "nbf", "jti", "txn"}

// sanitizeName keeps a member name fit for a log line.
func sanitizeName(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, s)
}

// errProvidedClaims prefixes every reason an assertion is refused. The
// reasons name members, never their values, so they may be logged.
var errProvidedClaims = errors.New("external claims assertion refused")

func refused(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errProvidedClaims, fmt.Sprintf(format, args...))
}

// checkProvidedClaims applies IDA §6.2's validation to one aggregated
// assertion of the trusted source issuer, whose signing keys are keys, and
// returns its verified_claims. The steps: a JWT (RFC 7519) signed by one
// of the source's keys; typ provided-claims+jwt; iss the source, sub and
// verified_claims present and not empty; no exp and no aud (so it cannot
// pass for an ID token); and, beyond the text, not before its nbf, and no
// members but those (it cannot be minimised, IDA §5.7).
func checkProvidedClaims(raw, issuer string, keys []jose.JSONWebKey, now time.Time) (json.RawMessage, error) {
	if len(raw) > maxProvidedClaimsSize {
		return nil, refused("larger than %d KiB", maxProvidedClaimsSize>>10)
	}
	jws, err := jose.ParseSigned(raw, providedClaimsAlgorithms)
	if err != nil {
		return nil, refused("not a JWT signed with %s", strings.Join(algNames(providedClaimsAlgorithms), ", "))
	}
	if len(jws.Signatures) != 1 {
		return nil, refused("not one signature")
	}
	h := jws.Signatures[0].Protected
	typ, _ := h.ExtraHeaders[jose.HeaderType].(string)
	// Media types compare case-insensitively, and "application/" may be
	// left out (RFC 7515 §4.1.9).
	if !strings.EqualFold(strings.TrimPrefix(strings.ToLower(typ), "application/"), providedClaimsType) {
		return nil, refused("typ is not %s", providedClaimsType)
	}
	payload, err := verifyWithAny(jws, h, keys)
	if err != nil {
		return nil, err
	}
	var claims map[string]json.RawMessage
	if err := json.Unmarshal(payload, &claims); err != nil || claims == nil {
		return nil, refused("the payload is not a JSON object")
	}
	var iss, sub string
	if json.Unmarshal(claims["iss"], &iss) != nil || iss != issuer {
		return nil, refused("iss is not the source's issuer")
	}
	if json.Unmarshal(claims["sub"], &sub) != nil || sub == "" {
		return nil, refused("sub is missing or empty")
	}
	for _, forbidden := range []string{"exp", "aud"} {
		if _, ok := claims[forbidden]; ok {
			return nil, refused("it has %s, which an assertion must not have", forbidden)
		}
	}
	// The assertion goes out whole: a member beyond these could be
	// personal data nobody asked for.
	for _, name := range slices.Sorted(maps.Keys(claims)) {
		if !slices.Contains(assertionMembers, name) {
			return nil, refused("it has a member %q besides %s", sanitizeName(name), strings.Join(assertionMembers, ", "))
		}
	}
	if nbf, ok := claims["nbf"]; ok {
		n, err := strconv.ParseFloat(string(nbf), 64)
		if err != nil || time.Unix(int64(n), 0).After(now.Add(clockSkew)) {
			return nil, refused("it is not valid yet (nbf)")
		}
	}
	vc := claims["verified_claims"]
	switch t := strings.TrimSpace(string(vc)); {
	case strings.HasPrefix(t, "{") && t != "{}":
	case strings.HasPrefix(t, "[") && strings.TrimSpace(t[1:]) != "]":
	default:
		return nil, refused("verified_claims is missing or empty")
	}
	return vc, nil
}

// verifyWithAny verifies jws with the key its kid names or, without a kid,
// with any signature key of the set that fits the algorithm.
func verifyWithAny(jws *jose.JSONWebSignature, h jose.Header, keys []jose.JSONWebKey) ([]byte, error) {
	tried := false
	for _, k := range signatureKeys(keys) {
		if h.KeyID != "" && k.KeyID != h.KeyID {
			continue
		}
		if k.Algorithm != "" && k.Algorithm != h.Algorithm {
			continue
		}
		tried = true
		if payload, err := jws.Verify(k.Key); err == nil {
			return payload, nil
		}
	}
	if !tried {
		return nil, refused("no key of the source's set fits its kid and alg")
	}
	return nil, refused("the signature does not verify")
}

func algNames(algs []jose.SignatureAlgorithm) []string {
	out := make([]string, len(algs))
	for i, a := range algs {
		out[i] = string(a)
	}
	return out
}

// externalCandidate is one external entry that passed its checks, with
// the verified_claims that decide whether it is released.
type externalCandidate struct {
	x      *users.External
	source *config.ExternalClaimSource
	claims json.RawMessage // the assertion's, or a distributed source's description
}

// externalClaims returns the _claim_names and _claim_sources members that
// pass on the user's external verified claims the request asks for in
// target, and what they hold (trust frameworks and claim names), or nil.
// Entries that fail validation are logged and left out.
func (p *Provider) externalClaims(ctx context.Context, sv *served, c *client, g *grants.Info, req *ida.Request, target ida.Target, u *users.User, now time.Time) (map[string]json.RawMessage, []ida.Release) {
	xc := sv.provider.ExternalClaims
	if len(u.External) == 0 || !req.AsksVerifiedClaims() {
		return nil, nil
	}
	var released []externalCandidate
	for i := range u.External {
		x := &u.External[i]
		cand, err := p.externalCandidate(ctx, xc, x, now)
		if err != nil {
			// The issuer is configuration, not personal data.
			p.log.Warn("external verified claims not passed on", slog.String("client_id", c.ClientID),
				slog.String("issuer", x.Issuer), slog.String("reason", err.Error()))
			continue
		}
		if c.engine.ReleasesExternal(req, target, cand.claims, cand.source.TrustFrameworks, now) && externalLevelsMet(sv, g, cand.claims) {
			released = append(released, cand)
		}
	}
	if len(released) == 0 {
		return nil, nil
	}
	out, err := claimSourceMembers(released, xc.LookAhead)
	if err != nil {
		p.log.Error("rendering external verified claims failed", slog.String("client_id", c.ClientID), slog.String("error", err.Error()))
		return nil, nil
	}
	var rel []ida.Release
	for _, r := range released {
		rel = append(rel, ida.ExternalReleases(r.claims)...)
	}
	return out, rel
}

// externalLevelsMet: the grant's sign-in meets the level every trust
// framework of an external assertion requires (a TrustFramework's
// requiredAuthenticationLevel), as withholdBelowLevel holds for the
// provider's own verified claims. An assertion goes out whole or not at
// all, so one framework below its level keeps all of it back.
func externalLevelsMet(sv *served, g *grants.Info, claims json.RawMessage) bool {
	for _, r := range ida.ExternalReleases(claims) {
		if !sv.authn().ReleasableUnder(r.TrustFramework, g.AMR) {
			return false
		}
	}
	return true
}

// externalCandidate checks one entry: a trusted source, and for an
// aggregated one a valid assertion.
func (p *Provider) externalCandidate(ctx context.Context, xc *config.ExternalClaims, x *users.External, now time.Time) (externalCandidate, error) {
	src := xc.Source(x.Issuer)
	if src == nil {
		return externalCandidate{}, refused("the issuer is not a trusted claim source")
	}
	if x.Distributed() {
		// The relying party fetches and validates it (IDA §6.2); the
		// provider decides on the source's description.
		return externalCandidate{x: x, source: src, claims: x.VerifiedClaims}, nil
	}
	kid := ""
	if jws, err := jose.ParseSigned(x.JWT, providedClaimsAlgorithms); err == nil && len(jws.Signatures) == 1 {
		kid = jws.Signatures[0].Protected.KeyID
	}
	keys, err := p.sourceJWKS.keys(ctx, src.JWKSURI, kid)
	if err != nil {
		return externalCandidate{}, fmt.Errorf("%w: the source's keys: %v", errProvidedClaims, err)
	}
	vc, err := checkProvidedClaims(x.JWT, src.Issuer, keys, now)
	if err != nil {
		return externalCandidate{}, err
	}
	return externalCandidate{x: x, source: src, claims: vc}, nil
}

// claimSourceMembers renders released entries as IDA §6.1 gives them:
// _claim_sources with each source's JWT, or endpoint and access_token;
// _claim_names.verified_claims naming them as a string (one), an array
// (several) or, with look-ahead, an object describing each in request
// syntax.
func claimSourceMembers(released []externalCandidate, lookAhead bool) (map[string]json.RawMessage, error) {
	sources := make(map[string]any, len(released))
	names := make([]string, 0, len(released))
	ahead := make(map[string]json.RawMessage, len(released))
	for i, r := range released {
		name := "src" + strconv.Itoa(i+1)
		names = append(names, name)
		if r.x.Distributed() {
			sources[name] = map[string]string{"endpoint": r.x.Endpoint, "access_token": r.x.AccessToken}
		} else {
			sources[name] = map[string]string{"JWT": r.x.JWT}
		}
		if lookAhead {
			la, err := ida.LookAhead(r.claims)
			if err != nil {
				return nil, err
			}
			ahead[name] = la
		}
	}
	var vc any = names
	switch {
	case lookAhead:
		vc = ahead
	case len(names) == 1:
		vc = names[0]
	}
	cn, err := json.Marshal(map[string]any{"verified_claims": vc})
	if err != nil {
		return nil, err
	}
	cs, err := json.Marshal(sources)
	if err != nil {
		return nil, err
	}
	return map[string]json.RawMessage{"_claim_names": cn, "_claim_sources": cs}, nil
}

// externalMember are the members that carry external verified claims: not
// claims of their own (the person's release records name what they hold).
var externalMember = map[string]bool{"_claim_names": true, "_claim_sources": true}

// auditExternal records, once the response carrying them is made, which
// external claim sources were passed on to a client: the issuer of each
// aggregated assertion and the origin of each distributed endpoint, never
// their content or access token.
func (p *Provider) auditExternal(sv *served, c *client, g *grants.Info, target string, claims map[string]json.RawMessage) {
	raw, ok := claims["_claim_sources"]
	if !ok {
		return
	}
	var sources map[string]struct {
		JWT      string `json:"JWT"`
		Endpoint string `json:"endpoint"`
	}
	if json.Unmarshal(raw, &sources) != nil {
		return
	}
	var aggregated, distributed []string
	for _, name := range slices.Sorted(maps.Keys(sources)) {
		s := sources[name]
		if s.Endpoint != "" {
			distributed = append(distributed, redactURI(s.Endpoint))
			continue
		}
		var payload struct {
			Iss string `json:"iss"`
		}
		if parts := strings.Split(s.JWT, "."); len(parts) == 3 {
			if b, err := base64.RawURLEncoding.DecodeString(parts[1]); err == nil {
				_ = json.Unmarshal(b, &payload)
			}
		}
		aggregated = append(aggregated, payload.Iss)
	}
	p.audit.Info("external verified claims passed on",
		slog.String("event", "external_verified_claims_released"),
		slog.String("client_id", c.ClientID),
		slog.String("subject", g.Subject),
		slog.String("client_subject", subjectFor(sv, c, g.Subject)),
		slog.String("target", target),
		slog.Any("aggregated_issuers", aggregated),
		slog.Any("distributed_endpoints", distributed),
	)
	if p.auditSync != nil {
		_ = p.auditSync()
	}
}
