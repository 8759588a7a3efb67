package op

import (
	"encoding/json"
	"errors"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/idaop/ida-operator/runtime/authn"
	"github.com/idaop/ida-operator/runtime/grants"
	"github.com/idaop/ida-operator/runtime/ida"
)

// authzCtx is an authorization request being checked.
type authzCtx struct {
	p      *Provider
	sv     *served
	req    grants.Request
	client *client
	// claims is the parsed claims request, set by checkClaimsRequest.
	claims *ida.Request
	// responseType and the rest are checked but not stored.
	responseType, responseMode, challengeMethod, requestURI string
	maxAgeRaw, idTokenHint, acrValues                       string
}

// readAuthzRequest copies the parameters the provider knows; others are
// ignored (RFC 6749 §3.1).
func readAuthzRequest(v url.Values) *authzCtx {
	return &authzCtx{
		req: grants.Request{
			ClientID:      v.Get("client_id"),
			RedirectURI:   v.Get("redirect_uri"),
			Scope:         v.Get("scope"),
			State:         v.Get("state"),
			Nonce:         v.Get("nonce"),
			CodeChallenge: v.Get("code_challenge"),
			Claims:        v.Get("claims"),
			Purpose:       v.Get("purpose"),
			Prompt:        v.Get("prompt"),
			UILocales:     v.Get("ui_locales"),
			DPoPJKT:       v.Get("dpop_jkt"),
			Resources:     v["resource"],
		},
		responseType:    v.Get("response_type"),
		responseMode:    v.Get("response_mode"),
		challengeMethod: v.Get("code_challenge_method"),
		requestURI:      v.Get("request_uri"),
		maxAgeRaw:       v.Get("max_age"),
		idTokenHint:     v.Get("id_token_hint"),
		acrValues:       v.Get("acr_values"),
	}
}

// frontChecks decide whether the redirect URI can be trusted; their errors
// are shown on a page, never sent to the redirect URI (RFC 6749 §4.1.2.1).
var frontChecks = []check[*authzCtx]{
	checkClientKnown,
	checkClientNotDisabled,
	checkRedirectURIRegistered,
}

// requestChecks run once the redirect URI is trusted; their errors go back
// to it. PAR runs both lists and answers in JSON.
var requestChecks = []check[*authzCtx]{
	checkResponseType,
	checkResponseMode,
	checkPARUsedWhenRequired,
	checkScopeHasOpenID,
	checkScopeAllowed,
	checkResourcesOffered,
	checkPKCE,
	checkPrompt,
	checkMaxAge,
	checkPurpose,
	checkDPoPJKT,
	checkClaimsRequest,
	checkAuthenticationLevel,
	checkIDTokenHint,
}

// checkClientKnown: client_id names a registered client.
func checkClientKnown(a *authzCtx) *oauthError {
	if a.req.ClientID == "" {
		return errInvalidRequest("client_id is required")
	}
	c, ok := a.sv.clients[a.req.ClientID]
	if !ok {
		return newError("invalid_client", "unknown client")
	}
	a.client = c
	return nil
}

// checkClientNotDisabled: a disabled RelyingParty cannot start a flow.
func checkClientNotDisabled(a *authzCtx) *oauthError {
	if a.client.Disabled {
		return errUnauthorizedClient("the client is disabled")
	}
	return nil
}

// checkRedirectURIRegistered: redirect_uri is present and equals a
// registered one exactly (simple string comparison, RFC 9700 §4.1.3).
func checkRedirectURIRegistered(a *authzCtx) *oauthError {
	if a.req.RedirectURI == "" {
		return errInvalidRequest("redirect_uri is required")
	}
	if !slices.Contains(a.client.RedirectURIs, a.req.RedirectURI) {
		return errInvalidRequest("redirect_uri is not registered for the client")
	}
	return nil
}

// checkResponseType: the code flow only.
func checkResponseType(a *authzCtx) *oauthError {
	switch a.responseType {
	case "code":
		return nil
	case "":
		return errInvalidRequest("response_type is required")
	}
	return newError("unsupported_response_type", "only response_type=code is supported")
}

// checkResponseMode: responses go in the query.
func checkResponseMode(a *authzCtx) *oauthError {
	if a.responseMode != "" && a.responseMode != "query" {
		return errInvalidRequest("only response_mode=query is supported")
	}
	return nil
}

// checkPARUsedWhenRequired: with FAPI 2.0, the provider's setting or the
// client's, the request must come through PAR (RFC 9126 §5, §6).
func checkPARUsedWhenRequired(a *authzCtx) *oauthError {
	if !a.req.ViaPAR && a.sv.requirePAR(a.client) {
		return errInvalidRequest("pushed authorization requests are required")
	}
	return nil
}

// checkScopeHasOpenID: this is an OpenID Provider; every request is an
// OpenID Connect request.
func checkScopeHasOpenID(a *authzCtx) *oauthError {
	if !slices.Contains(strings.Fields(a.req.Scope), "openid") {
		return errInvalidScope("scope must include openid")
	}
	return nil
}

// checkScopeAllowed: every scope is registered for the client and offered
// by the provider. The scope is normalised (duplicates removed).
func checkScopeAllowed(a *authzCtx) *oauthError {
	var out []string
	for _, s := range strings.Fields(a.req.Scope) {
		if slices.Contains(out, s) {
			continue
		}
		if !slices.Contains(a.client.Scopes, s) || !slices.Contains(a.sv.scopes, s) {
			return errInvalidScope("scope " + sanitize(s) + " is not allowed for the client")
		}
		out = append(out, s)
	}
	a.req.Scope = strings.Join(out, " ")
	return nil
}

var pkceValue = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

// checkPKCE: a code_challenge with method S256 is required; plain is
// refused (RFC 7636, RFC 9700 §2.1.1, FAPI 2.0).
// checkResourcesOffered: the resources named are ones the provider
// issues tokens for (RFC 8707 §2).
func checkResourcesOffered(a *authzCtx) *oauthError {
	return checkResources(a.sv, a.req.Resources)
}

func checkPKCE(a *authzCtx) *oauthError {
	if a.req.CodeChallenge == "" {
		return errInvalidRequest("code_challenge is required (PKCE)")
	}
	if a.challengeMethod != "S256" {
		return errInvalidRequest("code_challenge_method must be S256")
	}
	if len(a.req.CodeChallenge) != 43 || !pkceValue.MatchString(a.req.CodeChallenge) {
		return errInvalidRequest("code_challenge is not a base64url SHA-256 hash")
	}
	return nil
}

// checkPrompt: known values; none stands alone (OIDC Core §3.1.2.1).
func checkPrompt(a *authzCtx) *oauthError {
	vals := strings.Fields(a.req.Prompt)
	for _, v := range vals {
		switch v {
		case "none", "login", "consent", "select_account":
		default:
			return errInvalidRequest("prompt " + sanitize(v) + " is not supported")
		}
	}
	if slices.Contains(vals, "none") && len(vals) > 1 {
		return errInvalidRequest("prompt=none must not be combined with other values")
	}
	return nil
}

// checkMaxAge: a non-negative whole number of seconds.
func checkMaxAge(a *authzCtx) *oauthError {
	if a.maxAgeRaw == "" {
		return nil
	}
	n, err := strconv.ParseInt(a.maxAgeRaw, 10, 64)
	if err != nil || n < 0 {
		return errInvalidRequest("max_age must be a non-negative integer")
	}
	a.req.MaxAge = &n
	return nil
}

// checkPurpose: the transaction purpose, 3 to 300 characters (ida).
func checkPurpose(a *authzCtx) *oauthError {
	if a.req.Purpose == "" {
		return nil
	}
	if err := ida.ValidatePurpose(a.req.Purpose); err != nil {
		return idaError(err)
	}
	return nil
}

// checkDPoPJKT: dpop_jkt is a SHA-256 thumbprint (RFC 9449 §10).
func checkDPoPJKT(a *authzCtx) *oauthError {
	if a.req.DPoPJKT != "" && (len(a.req.DPoPJKT) != 43 || !pkceValue.MatchString(a.req.DPoPJKT)) {
		return errInvalidRequest("dpop_jkt is not a base64url SHA-256 thumbprint")
	}
	return nil
}

// checkClaimsRequest: the claims parameter and the profile scopes, as the
// client's IDA engine reads them (invalid_request or invalid_scope).
func checkClaimsRequest(a *authzCtx) *oauthError {
	cc := a.p.compileClaims(a.client, a.req.Claims, a.req.Scope, a.req.IntegrityProtected())
	req, err := cc.req, cc.err
	if err != nil {
		return idaError(err)
	}
	a.claims = req
	return nil
}

func idaError(err error) *oauthError {
	var ie *ida.Error
	if errors.As(err, &ie) {
		return newError(ie.Code, ie.Description)
	}
	return errInvalidRequest("invalid request")
}

// checkAuthenticationLevel: acr_values and the claims parameter's acr
// select the level the sign-in must reach (OIDC Core §3.1.2.1, §5.5.1.1),
// raised to the client's minimum; an essential level, or a floor, that
// cannot be reached ends the request with unmet_authentication_requirements
// (OpenID Connect Core Unmet Authentication Requirements 1.0). The rule is
// authn.Policy.Target.
func checkAuthenticationLevel(a *authzCtx) *oauthError {
	want, err := requestedACR(a.req.Claims, a.acrValues)
	if err != nil {
		return errInvalidRequest(err.Error())
	}
	target, terr := a.sv.authn().Target(want, a.levelFloors(), a.sv.authMethods)
	if terr != nil {
		return newError("unmet_authentication_requirements", "the requested authentication level cannot be met")
	}
	a.req.ACR, a.req.ACRValues = target, strings.Join(want.Values, " ")
	return nil
}

// levelFloors are the levels below which this request is never served:
// the client's minimum, and when the request can release verified_claims
// (its claims or profile scopes) the provider's level for them and those
// of the trust frameworks the client may receive.
func (a *authzCtx) levelFloors() []string {
	floors := []string{a.client.MinimumACR}
	if a.claims != nil && a.claims.AsksVerifiedClaims() {
		floors = append(floors, a.sv.authn().VerifiedClaimsFloors(a.client.TrustFrameworks)...)
	}
	return floors
}

// maxACRValues bounds the acr values a request may name.
const maxACRValues = 16

// requestedACR reads what a request asks of authentication: the acr
// member of the claims parameter's id_token or userinfo (value or values,
// and essential), else acr_values, which is always voluntary.
func requestedACR(claims, acrValues string) (authn.Request, error) {
	var out authn.Request
	if strings.Contains(claims, "acr") || strings.Contains(claims, `\u`) {
		type acrMember struct {
			Essential bool            `json:"essential"`
			Value     json.RawMessage `json:"value"`
			Values    []string        `json:"values"`
		}
		type member struct {
			ACR *acrMember `json:"acr"`
		}
		var req struct {
			IDToken  member `json:"id_token"`
			UserInfo member `json:"userinfo"`
		}
		// checkClaimsRequest has refused a claims parameter that is not
		// JSON; a member of another shape is not an acr request.
		_ = json.Unmarshal([]byte(claims), &req)
		for _, m := range []*acrMember{req.IDToken.ACR, req.UserInfo.ACR} {
			if m == nil {
				continue
			}
			var v string
			if len(m.Value) > 0 && json.Unmarshal(m.Value, &v) == nil && v != "" {
				out.Values = append(out.Values, v)
			}
			out.Values = append(out.Values, m.Values...)
			out.Essential = out.Essential || m.Essential
		}
	}
	if len(out.Values) == 0 {
		out.Values = strings.Fields(acrValues)
	}
	if len(out.Values) > maxACRValues {
		return out, errors.New("too many acr values")
	}
	for _, v := range out.Values {
		if len(v) > 256 || strings.ContainsAny(v, " \t\n") {
			return out, errors.New("an acr value is not a single printable word")
		}
	}
	return out, nil
}
