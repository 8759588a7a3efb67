package users

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// FactorStore is a user source that keeps users' second factors itself,
// so the bank's identity system stays their owner: the runtime hands it
// records sealed with the provider's key (opaque to it) and reads them
// back. Kinds of user records are "totp" (the code generator) and
// "passkeys" (all of a user's passkeys); each passkey also has an index
// record, by credential id, that leads a passkey alone to its user.
type FactorStore interface {
	// KeepsFactors: the source is configured to keep them.
	KeepsFactors() bool
	// UserFactor returns a user's record of kind, or ErrNotFound.
	UserFactor(ctx context.Context, subject, kind string) ([]byte, error)
	PutUserFactor(ctx context.Context, subject, kind string, value []byte) error
	// DeleteUserFactor removes it; a missing record is no error.
	DeleteUserFactor(ctx context.Context, subject, kind string) error
	// PasskeyIndex returns the index record of a credential id, or
	// ErrNotFound.
	PasskeyIndex(ctx context.Context, credentialID []byte) ([]byte, error)
	PutPasskeyIndex(ctx context.Context, credentialID, value []byte) error
	DeletePasskeyIndex(ctx context.Context, credentialID []byte) error
}

var _ FactorStore = (*HTTP)(nil)

// The factor calls of the HTTP source (docs/users.md), when
// users.http.factors is set:
//
//	GET    <url>/users/{subject}/factors/{kind}   200 {"value": "..."} | 404
//	PUT    <url>/users/{subject}/factors/{kind}   {"value": "..."} -> 200 or 204
//	DELETE <url>/users/{subject}/factors/{kind}   200, 204 or 404
//	GET    <url>/passkeys/{credential id}         200 {"value": "..."} | 404
//	PUT    <url>/passkeys/{credential id}         {"value": "..."} -> 200 or 204
//	DELETE <url>/passkeys/{credential id}         200, 204 or 404
//
// kind is totp or passkeys; a credential id is base64url without padding;
// a value is base64url without padding, sealed by the runtime, to be kept
// as it is. All are idempotent, so retried like lookups.

// KeepsFactors: users.http.factors is set.
func (h *HTTP) KeepsFactors() bool { return h.factors }

func (h *HTTP) userFactorURL(subject, kind string) string {
	return h.base + "/users/" + url.PathEscape(subject) + "/factors/" + url.PathEscape(kind)
}

func (h *HTTP) passkeyURL(credentialID []byte) string {
	return h.base + "/passkeys/" + base64.RawURLEncoding.EncodeToString(credentialID)
}

// UserFactor reads a user's record of kind.
func (h *HTTP) UserFactor(ctx context.Context, subject, kind string) ([]byte, error) {
	return h.getValue(ctx, "GET /users/{subject}/factors/{kind}", h.userFactorURL(subject, kind))
}

// PutUserFactor stores a user's record of kind.
func (h *HTTP) PutUserFactor(ctx context.Context, subject, kind string, value []byte) error {
	return h.putValue(ctx, "PUT /users/{subject}/factors/{kind}", h.userFactorURL(subject, kind), value)
}

// DeleteUserFactor removes a user's record of kind.
func (h *HTTP) DeleteUserFactor(ctx context.Context, subject, kind string) error {
	return h.deleteValue(ctx, "DELETE /users/{subject}/factors/{kind}", h.userFactorURL(subject, kind))
}

// PasskeyIndex reads a credential's index record.
func (h *HTTP) PasskeyIndex(ctx context.Context, credentialID []byte) ([]byte, error) {
	return h.getValue(ctx, "GET /passkeys/{id}", h.passkeyURL(credentialID))
}

// PutPasskeyIndex stores a credential's index record.
func (h *HTTP) PutPasskeyIndex(ctx context.Context, credentialID, value []byte) error {
	return h.putValue(ctx, "PUT /passkeys/{id}", h.passkeyURL(credentialID), value)
}

// DeletePasskeyIndex removes a credential's index record.
func (h *HTTP) DeletePasskeyIndex(ctx context.Context, credentialID []byte) error {
	return h.deleteValue(ctx, "DELETE /passkeys/{id}", h.passkeyURL(credentialID))
}

// factorValue is the body of the factor calls.
type factorValue struct {
	Value string `json:"value"`
}

func (h *HTTP) getValue(ctx context.Context, op, target string) ([]byte, error) {
	res, err := h.idempotent(ctx, op, http.MethodGet, target, nil)
	if err != nil {
		return nil, err
	}
	switch res.status {
	case http.StatusOK:
	case http.StatusNotFound:
		return nil, ErrNotFound
	default:
		return nil, unexpectedStatus(op, res.status)
	}
	var v factorValue
	if err := json.Unmarshal(res.body, &v); err != nil || v.Value == "" {
		return nil, fmt.Errorf("%w: %s: response has no value", ErrUnavailable, op)
	}
	b, err := base64.RawURLEncoding.DecodeString(v.Value)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: value is not base64url", ErrUnavailable, op)
	}
	return b, nil
}

func (h *HTTP) putValue(ctx context.Context, op, target string, value []byte) error {
	body, err := json.Marshal(factorValue{Value: base64.RawURLEncoding.EncodeToString(value)})
	if err != nil {
		return fmt.Errorf("%w: %s: encoding request: %v", ErrUnavailable, op, err)
	}
	res, err := h.idempotent(ctx, op, http.MethodPut, target, body)
	if err != nil {
		return err
	}
	if res.status != http.StatusOK && res.status != http.StatusNoContent {
		return unexpectedStatus(op, res.status)
	}
	return nil
}

func (h *HTTP) deleteValue(ctx context.Context, op, target string) error {
	res, err := h.idempotent(ctx, op, http.MethodDelete, target, nil)
	if err != nil {
		return err
	}
	switch res.status {
	case http.StatusOK, http.StatusNoContent, http.StatusNotFound:
		return nil
	}
	return unexpectedStatus(op, res.status)
}

// idempotent makes a call that may be repeated, retried as lookups are.
func (h *HTTP) idempotent(ctx context.Context, op, method, target string, body []byte) (*response, error) {
	if !h.factors {
		return nil, fmt.Errorf("%w: %s: the user source keeps no factors", ErrUnavailable, op)
	}
	for attempt := 0; ; attempt++ {
		res, retry, err := h.call(ctx, op, method, target, body)
		if !retry || attempt >= h.retries {
			return res, err
		}
		if serr := h.sleep(ctx, backoff(attempt)); serr != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrUnavailable, op, serr)
		}
	}
}
