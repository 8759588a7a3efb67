package op

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
)

// Request objects (JAR, RFC 9101), by value: the request parameter is a JWT
// the client signed with one of its registered keys, whose claims are the
// authorization request. Only they count; the parameters beside it are
// ignored but for client_id (RFC 9101 §6.3). A signed request is integrity
// protected, as a pushed one is.

// maxRequestObjectLifetime bounds exp - nbf (FAPI 2.0 Message Signing asks
// for at most 60 minutes); without nbf, exp may be at most that far ahead.
const maxRequestObjectLifetime = time.Hour

// requestObjectMeta are JWT claims, not authorization parameters.
var requestObjectMeta = []string{"iss", "aud", "exp", "nbf", "iat", "jti", "sub"}

func errInvalidRequestObject(desc string) *oauthError {
	return newError("invalid_request_object", desc)
}

// openRequestObject returns the authorization parameters of a request
// for client c: those of its request object when it carries one, verified
// (signed is then true: the request is integrity protected), else the
// parameters as they came. Authorize and PAR both open them here.
func (p *Provider) openRequestObject(ctx context.Context, sv *served, c *client, outer url.Values) (params url.Values, signed bool, err *oauthError) {
	if !outer.Has("request") {
		return outer, false, nil
	}
	if params, err = p.verifyRequestObject(ctx, sv, c, outer); err != nil {
		return nil, false, err
	}
	return params, true, nil
}

// verifyRequestObject verifies outer's request object for client c and
// returns the authorization request it carries.
func (p *Provider) verifyRequestObject(ctx context.Context, sv *served, c *client, outer url.Values) (url.Values, *oauthError) {
	if outer.Has("request_uri") {
		return nil, errInvalidRequest("request and request_uri must not both be sent")
	}
	var std jwt.Claims
	var all map[string]any
	if why := p.verifyClientJWT(ctx, sv, c, outer.Get("request"), &std, &all); why != "" {
		return nil, errInvalidRequestObject("the request object " + why)
	}
	now := p.now()
	switch {
	case std.Issuer != c.ClientID:
		return nil, errInvalidRequestObject("the request object's iss must be the client_id")
	case !slices.Contains([]string(std.Audience), sv.issuer):
		return nil, errInvalidRequestObject("the request object's aud must be the issuer")
	case std.Expiry == nil:
		return nil, errInvalidRequestObject("the request object has no exp")
	case !std.Expiry.Time().After(now.Add(-clockSkew)):
		return nil, errInvalidRequestObject("the request object has expired")
	case std.NotBefore != nil && std.NotBefore.Time().After(now.Add(clockSkew)):
		return nil, errInvalidRequestObject("the request object is not valid yet (nbf)")
	}
	from := now
	if std.NotBefore != nil {
		from = std.NotBefore.Time()
	}
	if std.Expiry.Time().Sub(from) > maxRequestObjectLifetime {
		return nil, errInvalidRequestObject("the request object lives longer than 60 minutes")
	}
	if id, ok := all["client_id"]; ok && id != c.ClientID {
		return nil, errInvalidRequestObject("the request object's client_id is not the client's")
	}
	if _, ok := all["request"]; ok {
		return nil, errInvalidRequestObject("a request object must not hold another")
	}
	if _, ok := all["request_uri"]; ok {
		return nil, errInvalidRequestObject("a request object must not hold a request_uri")
	}
	params := url.Values{}
	for k, v := range all {
		if slices.Contains(requestObjectMeta, k) || v == nil {
			continue
		}
		if k == "resource" {
			rs, ok := resourceValues(v)
			if !ok {
				return nil, errInvalidRequestObject("the request object's resource must be a string or an array of strings")
			}
			params[k] = rs
			continue
		}
		s, ok := paramValue(v)
		if !ok {
			return nil, errInvalidRequestObject("the request object's " + sanitize(k) + " cannot be an authorization parameter")
		}
		params.Set(k, s)
	}
	params.Set("client_id", c.ClientID)
	// The object's parameters have the bounds of a query's.
	if err := checkParamSizes(params); err != nil {
		return nil, err
	}
	return params, nil
}

// paramValue writes a request object claim as the parameter it stands
// for: strings as they are, numbers (max_age) in decimal, and objects
// (claims) and arrays as their JSON; a parameter the provider does not
// know is then ignored, as in a query (RFC 6749 §3.1).
func paramValue(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(v), true
	case map[string]any, []any:
		b, err := json.Marshal(v)
		return string(b), err == nil
	}
	return "", false
}

// resourceValues reads the resource claim of a request object: one
// indicator as a string, or several as an array (RFC 8707 §2, whose
// parameter may repeat).
func resourceValues(v any) ([]string, bool) {
	switch v := v.(type) {
	case string:
		return []string{v}, true
	case []any:
		rs := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			rs = append(rs, s)
		}
		return rs, len(rs) > 0
	}
	return nil, false
}
