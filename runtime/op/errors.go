package op

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
)

// jpTrustFramework is the trust framework of the Japanese basic profile.
const jpTrustFramework = "jp_oidf_ida"

// oauthError is one OAuth error response (RFC 6749 §4.1.2.1, §5.2).
type oauthError struct {
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
	// Status is the HTTP status for direct responses; 400 when zero.
	Status int `json:"-"`
	// Challenge, when set, is sent as WWW-Authenticate.
	Challenge string `json:"-"`
	// DPoPNonce, when set, is sent as DPoP-Nonce (use_dpop_nonce).
	DPoPNonce string `json:"-"`
	// RetryAfter, when set, is sent as Retry-After, in seconds.
	RetryAfter int `json:"-"`
}

func (e *oauthError) Error() string { return e.Code + ": " + e.Description }

func newError(code, desc string) *oauthError { return &oauthError{Code: code, Description: desc} }

func errInvalidRequest(desc string) *oauthError { return newError("invalid_request", desc) }
func errInvalidGrant(desc string) *oauthError   { return newError("invalid_grant", desc) }
func errInvalidScope(desc string) *oauthError   { return newError("invalid_scope", desc) }
func errUnauthorizedClient(desc string) *oauthError {
	return newError("unauthorized_client", desc)
}
func errInvalidDPoP(desc string) *oauthError { return newError("invalid_dpop_proof", desc) }

// errInvalidTarget: a resource indicator is malformed or names a resource
// the client may not have a token for (RFC 8707 §2).
func errInvalidTarget(desc string) *oauthError { return newError("invalid_target", desc) }
func errServer(desc string) *oauthError {
	return &oauthError{Code: "server_error", Description: desc, Status: http.StatusInternalServerError}
}
func errUnavailable(desc string) *oauthError {
	return &oauthError{Code: "temporarily_unavailable", Description: desc, Status: http.StatusServiceUnavailable}
}

// errInvalidClient is a failed client authentication: 401, with a Basic
// challenge when the client tried the Authorization header (RFC 6749 §5.2),
// else 400.
func errInvalidClient(desc string, basic bool, realm string) *oauthError {
	e := &oauthError{Code: "invalid_client", Description: desc, Status: http.StatusBadRequest}
	if basic {
		e.Status = http.StatusUnauthorized
		e.Challenge = `Basic realm="` + realm + `"`
	}
	return e
}

// storeFailed is the one answer to a session store that failed: the error
// (which names the step that met it) is logged, and the client is told to
// try again later.
func (p *Provider) storeFailed(err error) *oauthError {
	p.logStoreFailure(err)
	p.metrics.storeFailed(err)
	return errUnavailable("the session store is unavailable")
}

func (p *Provider) logStoreFailure(err error) {
	p.log.Error("session store failed", "error", err)
}

// writeJSON writes a JSON body that must never be cached (token responses,
// UserInfo, errors).
func writeJSON(w http.ResponseWriter, status int, v any) {
	var b []byte
	var err error
	if m, ok := v.(map[string]json.RawMessage); ok {
		b, err = marshalRawObject(m)
	} else {
		b, err = json.Marshal(v)
	}
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":"server_error","error_description":"encoding the response failed"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeJSONError(w http.ResponseWriter, e *oauthError) {
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	if e.Challenge != "" {
		w.Header().Set("WWW-Authenticate", e.Challenge)
	}
	if e.DPoPNonce != "" {
		w.Header().Set(DPoPNonceHeader, e.DPoPNonce)
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	setOutcome(w, e.Code)
	writeJSON(w, status, e)
}

// marshalRawObject is json.Marshal of a UserInfo-style object, byte for
// byte, without reflection: sorted keys, and members written as they are
// when they need neither compacting nor HTML escaping, which is all the
// engine's output and the user source's claims ever need. Anything else
// goes to json.Marshal.
func marshalRawObject(m map[string]json.RawMessage) ([]byte, error) {
	keys := make([]string, 0, len(m))
	n := 2
	for k, v := range m {
		if !plainJSON(k, true) || !plainJSON(string(v), false) || len(v) == 0 {
			return json.Marshal(m)
		}
		keys = append(keys, k)
		n += len(k) + len(v) + 4
	}
	slices.Sort(keys)
	b := make([]byte, 0, n)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, k...)
		b = append(b, '"', ':')
		b = append(b, m[k]...)
	}
	return append(b, '}'), nil
}

// plainJSON: s has no byte json.Marshal would change: no white space
// outside strings (compacting removes it), no control character, no <, >
// or & (HTML escaping), no U+2028 or U+2029 (their first byte is 0xE2);
// a key is also plain printable ASCII without quote or backslash.
func plainJSON(s string, key bool) bool {
	inString := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c < ' ', c == '<', c == '>', c == '&', c == 0xE2:
			return false
		case key:
			if c >= 0x80 || c == '"' || c == '\\' {
				return false
			}
		case c == ' ':
			if !inString {
				return false
			}
		case c == '"':
			inString = !inString
		case c == '\\' && inString:
			i++ // the escaped byte, a quote perhaps, is not the string's end
		}
	}
	return true
}
