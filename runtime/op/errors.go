package op

import (
	"encoding/json"
	"net/http"
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

// writeJSON writes a JSON body that must never be cached (token responses,
// UserInfo, errors).
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
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
	setOutcome(w, e.Code)
	writeJSON(w, status, e)
}
