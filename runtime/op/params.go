package op

import (
	"io"
	"mime"
	"net/http"
	"net/url"

	"github.com/idaop/ida-operator/runtime/ui"
)

// Bounds on request parameters: real requests are far smaller, and every
// value ends up in the store or in a page.
const (
	maxRequestBytes = 64 << 10
	maxValueBytes   = 8 << 10
	// maxClaimsBytes lets a claims parameter with evidence requests through.
	maxClaimsBytes = 32 << 10
	// maxRequestObjectBytes lets a request object carry such a claims
	// parameter: base64url adds a third, the header and signature little.
	maxRequestObjectBytes = maxClaimsBytes*4/3 + 4<<10
)

// readParams reads the query (GET) or the form body (POST) of an OAuth
// request, refusing oversized requests and repeated parameters.
func readParams(r *http.Request) (url.Values, *oauthError) {
	var raw string
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		raw = r.URL.RawQuery
	default:
		body, err := readForm(r)
		if err != nil {
			return nil, err
		}
		raw = body
	}
	if len(raw) > maxRequestBytes {
		return nil, errInvalidRequest("request larger than 64 KiB")
	}
	v, err := url.ParseQuery(raw)
	if err != nil {
		return nil, errInvalidRequest("malformed parameters")
	}
	if err := checkParamSizes(v); err != nil {
		return nil, err
	}
	if err := checkNoRepeatedParams(v); err != nil {
		return nil, err
	}
	return v, nil
}

// readForm reads an application/x-www-form-urlencoded body of at most
// maxRequestBytes.
func readForm(r *http.Request) (string, *oauthError) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return "", errInvalidRequest("the body must be application/x-www-form-urlencoded")
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBytes+1))
	if err != nil {
		return "", errInvalidRequest("reading the body failed")
	}
	if len(b) > maxRequestBytes {
		return "", errInvalidRequest("request larger than 64 KiB")
	}
	return string(b), nil
}

// checkParamSizes: every value at most 8 KiB, the claims parameter 32 KiB
// and a request object what carries that.
func checkParamSizes(v url.Values) *oauthError {
	for k, vs := range v {
		limit := maxValueBytes
		switch k {
		case "claims":
			limit = maxClaimsBytes
		case "request":
			limit = maxRequestObjectBytes
		case ui.FieldInteraction:
			// A sealed interaction carries its authorization request.
			limit = maxRequestBytes
		}
		if len(k) > 256 {
			return errInvalidRequest("parameter name too long")
		}
		for _, s := range vs {
			if len(s) > limit {
				return errInvalidRequest(k + ": value too large")
			}
		}
	}
	return nil
}

// checkNoRepeatedParams: request and response parameters must not be
// included more than once (RFC 6749 §3.1, §3.2), except resource, which
// names one resource per value (RFC 8707 §2).
func checkNoRepeatedParams(v url.Values) *oauthError {
	for k, vs := range v {
		if len(vs) > 1 && k != "resource" {
			return errInvalidRequest(sanitize(k) + ": repeated parameter")
		}
	}
	return nil
}

// sanitize keeps a request-supplied name printable for error_description
// (RFC 6749 allows %x20-21 / %x23-5B / %x5D-7E) and short.
func sanitize(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			b[i] = '?'
		}
	}
	return string(b)
}
