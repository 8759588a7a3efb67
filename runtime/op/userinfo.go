package op

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/grants"
	"github.com/idaop/ida-operator/runtime/ida"
	"github.com/idaop/ida-operator/runtime/users"
)

// scopeClaims are the standard claims each scope releases at UserInfo
// (OIDC Core §5.4).
var scopeClaims = map[string][]string{
	"profile": {"name", "family_name", "given_name", "middle_name", "nickname", "preferred_username",
		"profile", "picture", "website", "gender", "birthdate", "zoneinfo", "locale", "updated_at"},
	"email":   {"email", "email_verified"},
	"address": {"address"},
	"phone":   {"phone_number", "phone_number_verified"},
}

// presentedToken is an access token as a resource request carries it.
type presentedToken struct {
	token  string
	scheme string // "Bearer" or "DPoP"
}

// userinfo is the UserInfo endpoint (OIDC Core §5.3): standard claims by
// scope, the claims request's userinfo members and the verified_claims the
// engine releases, as JSON or, when the client registered for it, a JWT:
// signed (OIDC Core §5.3.2), or signed then encrypted to the client's key.
func (p *Provider) userinfo(sv *served, w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	pt, err := readAccessToken(r)
	if err != nil {
		p.resourceError(w, sv, pt, err)
		return
	}
	rec, c, err := p.checkAccessToken(ctx, sv, r, pt)
	if err != nil {
		p.resourceError(w, sv, pt, err)
		return
	}
	p.offerDPoPNonce(w, sv, rec.JKT != "")
	if !slices.Contains(strings.Fields(rec.Scope), "openid") {
		p.resourceError(w, sv, pt, &oauthError{Code: "insufficient_scope", Description: "the token has no openid scope", Status: http.StatusForbidden})
		return
	}
	// The recipient of an encrypted response is found before any claim
	// is read or its release recorded.
	to, err := p.encryptionRecipient(ctx, c, c.UserInfoEncryption(), "UserInfo response")
	if err != nil {
		writeJSONError(w, err)
		return
	}
	if alg := sv.userInfoAlg(c); alg != "" {
		// Before the release is recorded: no record of an answer never sent.
		if err := p.checkSigningKeys(sv, p.now(), alg); err != nil {
			p.resourceError(w, sv, pt, err)
			return
		}
	}
	body, err := p.userinfoClaims(ctx, sv, c, rec, sv.grantedScope(c, rec.Scope))
	if err != nil {
		p.resourceError(w, sv, pt, err)
		return
	}
	if alg := sv.userInfoAlg(c); alg != "" {
		now := p.now()
		body["iss"], _ = json.Marshal(sv.issuer)
		body["aud"], _ = json.Marshal(c.ClientID)
		body["iat"], _ = json.Marshal(now.Unix())
		jwt, serr := p.signJWT(sv, alg, body, now)
		if serr != nil {
			p.resourceError(w, sv, pt, p.signingFailed("UserInfo", c.ClientID, serr))
			return
		}
		if jwt, serr = to.seal(jwt); serr != nil {
			p.log.Error("encrypting UserInfo failed", "client_id", c.ClientID, "error", serr)
			p.resourceError(w, sv, pt, errServer("encrypting the response failed"))
			return
		}
		w.Header().Set("Content-Type", "application/jwt")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(jwt))
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// readAccessToken takes the token from the Authorization header (Bearer or
// DPoP) or, for Bearer only, a form body (RFC 6750 §2.2); one method only
// (RFC 6750 §2), never the query.
func readAccessToken(r *http.Request) (*presentedToken, *oauthError) {
	var found []*presentedToken
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		tok = strings.TrimSpace(tok)
		switch {
		case !ok || tok == "":
			return nil, &oauthError{Code: "invalid_request", Description: "malformed Authorization header", Status: http.StatusBadRequest}
		case strings.EqualFold(scheme, "Bearer"):
			found = append(found, &presentedToken{token: tok, scheme: "Bearer"})
		case strings.EqualFold(scheme, "DPoP"):
			found = append(found, &presentedToken{token: tok, scheme: "DPoP"})
		default:
			return nil, &oauthError{Code: "invalid_request", Description: "unsupported authorization scheme", Status: http.StatusBadRequest}
		}
	}
	// Tokens in URLs end up in logs and Referer headers: the query is
	// never accepted (RFC 6750 §2.3, RFC 9700 §4.3.2, FAPI 2.0 §5.3.4).
	if r.URL.Query().Has("access_token") {
		return nil, &oauthError{Code: "invalid_request", Description: "access tokens are not accepted in the query", Status: http.StatusBadRequest}
	}
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		form, err := readParams(r)
		if err != nil {
			return nil, err
		}
		if t := form.Get("access_token"); t != "" {
			found = append(found, &presentedToken{token: t, scheme: "Bearer"})
		}
	}
	switch len(found) {
	case 0:
		// No error code: the client did not try (RFC 6750 §3.1).
		return nil, &oauthError{Status: http.StatusUnauthorized}
	case 1:
		// Room for a JWT access token (RFC 9068) with a long scope.
		if len(found[0].token) > 4096 {
			return nil, &oauthError{Code: "invalid_token", Description: "the access token is invalid", Status: http.StatusUnauthorized}
		}
		return found[0], nil
	}
	return nil, &oauthError{Code: "invalid_request", Description: "more than one access token", Status: http.StatusBadRequest}
}

// checkAccessToken finds the token's record and applies its rules: known,
// unexpired, its client still enabled, meant for UserInfo (RFC 8707), and, when bound, presented with the
// DPoP scheme and a proof of its key (RFC 9449 §7).
func (p *Provider) checkAccessToken(ctx context.Context, sv *served, r *http.Request, pt *presentedToken) (*grants.Token, *client, *oauthError) {
	invalid := &oauthError{Code: "invalid_token", Description: "the access token is invalid or expired", Status: http.StatusUnauthorized}
	rec, err := p.grants.AccessToken(ctx, pt.token)
	if errors.Is(err, grants.ErrNotFound) {
		return nil, nil, invalid
	}
	if err != nil {
		return nil, nil, p.storeFailed(err)
	}
	if p.now().Unix() >= rec.ExpiresAt {
		return nil, nil, invalid
	}
	c, ok := sv.clients[rec.ClientID]
	if !ok || c.Disabled {
		return nil, nil, invalid
	}
	if !servesUserInfo(sv, rec.Resources) {
		return nil, nil, &oauthError{Code: "invalid_token", Description: "the access token was issued for another resource", Status: http.StatusUnauthorized}
	}
	if err := checkTokenScheme(rec, pt); err != nil {
		return nil, nil, err
	}
	if rec.JKT != "" {
		proof, err := p.verifyDPoP(ctx, sv, r, sv.url(config.PathUserInfo), pt.token)
		if err != nil {
			err.Status = http.StatusUnauthorized
			return nil, nil, err
		}
		if proof.JKT != rec.JKT {
			return nil, nil, &oauthError{Code: "invalid_dpop_proof", Description: "the proof's key is not the token's", Status: http.StatusUnauthorized}
		}
	}
	return rec, c, nil
}

// checkTokenScheme: a DPoP-bound token is presented with the DPoP scheme,
// a Bearer token with Bearer (RFC 9449 §7.1, §7.2).
func checkTokenScheme(rec *grants.Token, pt *presentedToken) *oauthError {
	bound := rec.JKT != ""
	if bound != (pt.scheme == "DPoP") {
		return &oauthError{Code: "invalid_token", Description: "the token must be presented with the " + map[bool]string{true: "DPoP", false: "Bearer"}[bound] + " scheme", Status: http.StatusUnauthorized}
	}
	return nil
}

// userinfoClaims builds the response for one token, by the scope the
// client may still use of the token's.
func (p *Provider) userinfoClaims(ctx context.Context, sv *served, c *client, rec *grants.Token, scope string) (map[string]json.RawMessage, *oauthError) {
	cc := p.compileClaims(c, rec.Claims, scope, rec.IntegrityProtected())
	req, err := cc.req, cc.err
	if err != nil {
		return nil, &oauthError{Code: "invalid_token", Description: "the token's claims request is no longer valid for the client", Status: http.StatusUnauthorized}
	}
	sub := jsonString(subjectFor(sv, c, rec.Subject))
	src := p.userSource()
	var u *users.User
	if src != nil {
		u, err = src.Lookup(ctx, rec.Subject)
	} else {
		err = users.ErrUnavailable
	}
	switch {
	case errors.Is(err, users.ErrNotFound):
		return nil, &oauthError{Code: "invalid_token", Description: "the token's user no longer exists", Status: http.StatusUnauthorized}
	case err != nil:
		p.log.Warn("user source failed", "op", "lookup", "error", err)
		if len(req.ProfileScopes()) > 0 {
			// The Japanese profile answers with its error object, never an
			// HTTP error (profile 5.x.3.2).
			return map[string]json.RawMessage{"sub": sub, "verified_claims": jpOtherError}, nil
		}
		return nil, errUnavailable("the user source is unavailable")
	}
	ds, err := p.dataset(u)
	if err != nil {
		p.log.Error("user dataset is invalid", "error", err)
		if len(req.ProfileScopes()) > 0 {
			return map[string]json.RawMessage{"sub": sub, "verified_claims": jpOtherError}, nil
		}
		return nil, errServer("the user's data is invalid")
	}
	now := p.now()
	res := c.engine.EvaluateFor(req, ds, now, ida.TargetUserInfo)
	res.UserInfoReleases = withholdBelowLevel(sv, &rec.Info, res.UserInfo, res.UserInfoReleases)
	external := map[string]json.RawMessage(nil)
	if verifiedClaimsReleasable(sv, &rec.Info) {
		var rel []ida.Release
		external, rel = p.externalClaims(ctx, sv, c, &rec.Info, req, ida.TargetUserInfo, u, now)
		res.UserInfoReleases = append(res.UserInfoReleases, rel...)
	} else {
		delete(res.UserInfo, "verified_claims")
		res.UserInfoReleases = nil
	}
	// The response is built in the engine's map: released claims first,
	// registered ones left out, then the scopes' standard claims where the
	// claims request released none of the same name.
	out := res.UserInfo
	for k := range out {
		if registeredClaims[k] {
			delete(out, k)
		}
	}
	for _, s := range strings.Fields(scope) {
		for _, name := range scopeClaims[s] {
			if _, taken := out[name]; taken {
				continue
			}
			if v, ok := u.Claims[name]; ok {
				out[name] = v
			}
		}
	}
	for k, v := range external {
		out[k] = v
	}
	p.auditExternal(sv, c, &rec.Info, "userinfo", external)
	out["sub"] = sub
	if len(out["verified_claims"]) > 0 || len(external) > 0 {
		p.auditRelease(sv, c, &rec.Info, "userinfo", res.UserInfoReleases)
	}
	p.recordRelease(ctx, sv, &rec.Info, "userinfo", out, res.UserInfoReleases)
	return out, nil
}

// jpOtherError is the Japanese profile's answer when the user source
// fails.
var jpOtherError = json.RawMessage(`{"verification":{"trust_framework":"` + jpTrustFramework + `"},"claims":{},` +
	`"__response_metadata":{"error":"` + ida.JPErrOther + `","error_description":"the verified claims could not be retrieved"}}`)

// resourceError answers a UserInfo request with RFC 6750 §3 / RFC 9449
// §7.1 challenges: the scheme the client used, or both when it sent none.
func (p *Provider) resourceError(w http.ResponseWriter, sv *served, pt *presentedToken, e *oauthError) {
	params := ""
	if e.Code != "" && e.Code != "temporarily_unavailable" && e.Code != "server_error" {
		params = `, error="` + e.Code + `"`
		if e.Description != "" {
			params += `, error_description="` + e.Description + `"`
		}
	}
	algs := `algs="` + strings.Join(sv.sec.ClientSigningAlgorithms, " ") + `"`
	realm := `realm="` + sv.issuer + `"`
	switch {
	case pt == nil || e.Code == "invalid_request":
		w.Header().Add("WWW-Authenticate", "Bearer "+realm+params)
		w.Header().Add("WWW-Authenticate", "DPoP "+algs+params)
	case pt.scheme == "DPoP" || e.Code == "invalid_dpop_proof":
		w.Header().Add("WWW-Authenticate", "DPoP "+algs+params)
	default:
		w.Header().Add("WWW-Authenticate", "Bearer "+realm+params)
	}
	if e.DPoPNonce != "" {
		w.Header().Set(DPoPNonceHeader, e.DPoPNonce)
	}
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	if e.Code == "" {
		setOutcome(w, "no_token")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		return
	}
	setOutcome(w, e.Code)
	writeJSON(w, status, e)
}
