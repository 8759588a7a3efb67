// Package users is where end-users and their verified data come from: a
// Source authenticates a person by username and password and looks them up
// by subject, returning the standard claims and the dataset the IDA engine
// evaluates.
//
// Two sources exist: Builtin (a users.json document from a Secret; the
// embedded default) and HTTP (the provider's existing KYC system). Both are
// safe for concurrent use.
//
// Errors never carry passwords, subjects or other personal data, so callers
// may log them.
package users

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/idaop/ida-operator/runtime/ida"
	"golang.org/x/crypto/bcrypt"
)

var (
	// ErrInvalidCredentials: the username is unknown or the password wrong.
	// The two are deliberately not told apart.
	ErrInvalidCredentials = errors.New("users: invalid credentials")
	// ErrNotFound: no user has the subject.
	ErrNotFound = errors.New("users: not found")
	// ErrUnavailable: the source cannot answer now. Upstream it becomes an
	// OAuth temporarily_unavailable or verified_claims_other_error, never a
	// 500.
	ErrUnavailable = errors.New("users: source unavailable")
)

// User is one end-user. Callers must not modify Claims or Dataset: sources
// share them between calls.
type User struct {
	Subject  string
	Username string
	// Claims are the standard OpenID claims (name, given_name, email,
	// birthdate, address, ...) released by scope or claims request.
	Claims map[string]json.RawMessage
	// Dataset is the JSON accepted by ida.ParseDataset:
	// {"verified_claims": <object|array>, ...other claims}.
	Dataset []byte
	// External are verified claims held by external claim sources
	// (external.go), in the order the source gave them.
	External []External
}

// Source authenticates end-users and looks them up.
type Source interface {
	// Authenticate returns the user with these credentials, or
	// ErrInvalidCredentials, or an error wrapping ErrUnavailable.
	Authenticate(ctx context.Context, username, password string) (*User, error)
	// Lookup returns the user with this subject, or ErrNotFound, or an
	// error wrapping ErrUnavailable.
	Lookup(ctx context.Context, subject string) (*User, error)
}

// HashCost is the bcrypt cost HashPassword uses.
const HashCost = bcrypt.DefaultCost

// maxPasswordBytes is bcrypt's limit; longer input would be silently cut.
const maxPasswordBytes = 72

// HashPassword returns a bcrypt hash for users.json.
func HashPassword(pw string) (string, error) {
	if pw == "" {
		return "", errors.New("users: password must not be empty")
	}
	if len(pw) > maxPasswordBytes {
		return "", fmt.Errorf("users: password longer than %d bytes", maxPasswordBytes)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), HashCost)
	if err != nil {
		return "", fmt.Errorf("users: hashing password: %w", err)
	}
	return string(h), nil
}

// reservedClaims may not be set as plain claims: sub comes from the
// subject, verified_claims has its own member, and the claim source members
// would point the engine at data the provider does not hold.
var reservedClaims = []string{"sub", "verified_claims", "_claim_names", "_claim_sources"}

// userData checks the claims and verified_claims of one user and builds
// the dataset. path prefixes error messages ("users[3]").
func userData(path string, claims, verified json.RawMessage) (map[string]json.RawMessage, []byte, error) {
	var cl map[string]json.RawMessage
	if len(claims) > 0 && !isNull(claims) {
		if !isObject(claims) {
			return nil, nil, fmt.Errorf("%s.claims: must be an object", path)
		}
		if err := json.Unmarshal(claims, &cl); err != nil {
			return nil, nil, fmt.Errorf("%s.claims: %v", path, err)
		}
		for _, r := range reservedClaims {
			if _, ok := cl[r]; ok {
				return nil, nil, fmt.Errorf("%s.claims.%s: not allowed here", path, r)
			}
		}
	}
	if cl == nil {
		cl = map[string]json.RawMessage{}
	}
	ds := make(map[string]json.RawMessage, len(cl)+1)
	for k, v := range cl {
		ds[k] = v
	}
	if len(verified) > 0 && !isNull(verified) {
		if err := checkVerifiedShape(path+".verified_claims", verified); err != nil {
			return nil, nil, err
		}
		ds["verified_claims"] = verified
	}
	data, err := json.Marshal(ds)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %v", path, err)
	}
	// The engine has the last word on what a dataset is.
	if _, err := ida.ParseDataset(data); err != nil {
		return nil, nil, fmt.Errorf("%s: %v", path, err)
	}
	return cl, data, nil
}

// checkVerifiedShape names the JSON path of the first shape error, which
// ida.ParseDataset would report relative to the dataset only.
func checkVerifiedShape(path string, raw json.RawMessage) error {
	entry := func(p string, e json.RawMessage) error {
		var m map[string]json.RawMessage
		if !isObject(e) || json.Unmarshal(e, &m) != nil {
			return fmt.Errorf("%s: must be an object", p)
		}
		v, ok := m["verification"]
		if !ok || !isObject(v) {
			return fmt.Errorf("%s.verification: must be an object", p)
		}
		var ver map[string]json.RawMessage
		if err := json.Unmarshal(v, &ver); err != nil {
			return fmt.Errorf("%s.verification: %v", p, err)
		}
		var tf string
		if err := json.Unmarshal(ver["trust_framework"], &tf); err != nil || tf == "" {
			return fmt.Errorf("%s.verification.trust_framework: must be a non-empty string", p)
		}
		c, ok := m["claims"]
		if !ok || !isObject(c) {
			return fmt.Errorf("%s.claims: must be an object", p)
		}
		return nil
	}
	switch {
	case isObject(raw):
		return entry(path, raw)
	case isArray(raw):
		var arr []json.RawMessage
		if err := json.Unmarshal(raw, &arr); err != nil {
			return fmt.Errorf("%s: %v", path, err)
		}
		if len(arr) == 0 {
			return fmt.Errorf("%s: must not be an empty array", path)
		}
		for i, e := range arr {
			if err := entry(fmt.Sprintf("%s[%d]", path, i), e); err != nil {
				return err
			}
		}
		return nil
	default:
		return fmt.Errorf("%s: must be an object or an array of objects", path)
	}
}

func firstByte(raw []byte) byte {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return 0
	}
	return raw[0]
}

func isObject(raw []byte) bool { return firstByte(raw) == '{' }
func isArray(raw []byte) bool  { return firstByte(raw) == '[' }
func isNull(raw []byte) bool   { return string(bytes.TrimSpace(raw)) == "null" }
