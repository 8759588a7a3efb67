package users

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// Builtin holds users read from a users.json document (in a cluster, a key
// of the Secret named by users.builtin.secret_name):
//
//	{"users": [{
//	  "subject": "demo-user-0001",
//	  "username": "demo",
//	  "password_hash": "$2a$10$...",       // bcrypt, see HashPassword
//	  "claims": {"name": "...", ...},      // optional standard claims
//	  "verified_claims": <object|array>,   // optional
//	  "external_claims": [...]             // optional, see External
//	}]}
//
// It is immutable: load a new one when the Secret changes.
type Builtin struct {
	bySubject  map[string]*builtinUser
	byUsername map[string]*builtinUser
	// dummyHash is compared against for unknown usernames, at the highest
	// cost in the file, so timing does not tell which usernames exist.
	dummyHash []byte
	// slots bounds concurrent bcrypt comparisons: each one is tens of
	// milliseconds of CPU, and a burst of logins must not starve the
	// token endpoint.
	slots chan struct{}
}

type builtinUser struct {
	user  User
	hash  []byte
	index int // position in users.json, for duplicate messages
}

// maxSubjectLen: OpenID Connect Core §2 says sub must not exceed 255 ASCII
// characters.
const maxSubjectLen = 255

// maxUsernameLen bounds usernames; the login form refuses longer input.
const maxUsernameLen = 256

var _ Source = (*Builtin)(nil)

// NewBuiltin parses and validates a users.json document. Every error names
// the JSON path of the member at fault.
func NewBuiltin(usersJSON []byte) (*Builtin, error) {
	b, maxCost, err := parseUsers(usersJSON)
	if err != nil {
		return nil, err
	}
	dummy, err := bcrypt.GenerateFromPassword([]byte("ida-operator dummy password"), maxCost)
	if err != nil {
		return nil, fmt.Errorf("users: preparing dummy hash: %w", err)
	}
	b.dummyHash = dummy
	return b, nil
}

// parseUsers validates users.json; it returns the users and the highest
// bcrypt cost among them, without the dummy hash (DemoUsers needs no
// second bcrypt run).
func parseUsers(usersJSON []byte) (*Builtin, int, error) {
	var doc map[string]json.RawMessage
	if err := strictUnmarshal(usersJSON, &doc); err != nil || doc == nil {
		return nil, 0, fmt.Errorf("users.json: must be a JSON object: %v", errOrNull(err))
	}
	for k := range doc {
		if k != "users" {
			return nil, 0, fmt.Errorf("users.json: %s: unknown member", k)
		}
	}
	raw, ok := doc["users"]
	if !ok || !isArray(raw) {
		return nil, 0, errors.New("users: must be an array")
	}
	var entries []json.RawMessage
	if err := json.Unmarshal(raw, &entries); err != nil {
		return nil, 0, fmt.Errorf("users: %v", err)
	}
	b := &Builtin{
		bySubject:  make(map[string]*builtinUser, len(entries)),
		byUsername: make(map[string]*builtinUser, len(entries)),
		slots:      make(chan struct{}, max(1, runtime.GOMAXPROCS(0))),
	}
	maxCost := bcrypt.MinCost
	for i, e := range entries {
		path := fmt.Sprintf("users[%d]", i)
		u, err := parseBuiltinUser(path, e)
		if err != nil {
			return nil, 0, err
		}
		u.index = i
		if prev, dup := b.bySubject[u.user.Subject]; dup {
			return nil, 0, fmt.Errorf("%s.subject: same as users[%d].subject", path, prev.index)
		}
		if prev, dup := b.byUsername[u.user.Username]; dup {
			return nil, 0, fmt.Errorf("%s.username: same as users[%d].username", path, prev.index)
		}
		b.bySubject[u.user.Subject] = u
		b.byUsername[u.user.Username] = u
		cost, _ := bcrypt.Cost(u.hash) // checked in parseBuiltinUser
		maxCost = max(maxCost, cost)
	}
	return b, maxCost, nil
}

var builtinMembers = []string{"subject", "username", "password_hash", "claims", "verified_claims", "external_claims"}

func parseBuiltinUser(path string, raw json.RawMessage) (*builtinUser, error) {
	if !isObject(raw) {
		return nil, fmt.Errorf("%s: must be an object", path)
	}
	var m map[string]json.RawMessage
	if err := strictUnmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	for k := range m {
		if !contains(builtinMembers, k) {
			// A typo such as "pasword_hash" would otherwise look like a
			// user without a password.
			return nil, fmt.Errorf("%s.%s: unknown member (expected one of %s)", path, k, strings.Join(builtinMembers, ", "))
		}
	}
	str := func(name string) (string, error) {
		v, ok := m[name]
		if !ok {
			return "", fmt.Errorf("%s.%s: required", path, name)
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", fmt.Errorf("%s.%s: must be a string", path, name)
		}
		if s == "" {
			return "", fmt.Errorf("%s.%s: must not be empty", path, name)
		}
		return s, nil
	}
	sub, err := str("subject")
	if err != nil {
		return nil, err
	}
	if len(sub) > maxSubjectLen || !isPrintableASCII(sub) {
		return nil, fmt.Errorf("%s.subject: must be at most %d printable ASCII characters", path, maxSubjectLen)
	}
	name, err := str("username")
	if err != nil {
		return nil, err
	}
	if len(name) > maxUsernameLen || !utf8.ValidString(name) || strings.TrimSpace(name) != name {
		return nil, fmt.Errorf("%s.username: must be valid UTF-8 of at most %d bytes without surrounding spaces", path, maxUsernameLen)
	}
	hash, err := str("password_hash")
	if err != nil {
		return nil, err
	}
	if _, err := bcrypt.Cost([]byte(hash)); err != nil {
		// The bcrypt error names no part of the hash.
		return nil, fmt.Errorf("%s.password_hash: not a bcrypt hash (%v)", path, err)
	}
	claims, data, err := userData(path, m["claims"], m["verified_claims"])
	if err != nil {
		return nil, err
	}
	external, err := parseExternal(path+".external_claims", m["external_claims"])
	if err != nil {
		return nil, err
	}
	return &builtinUser{
		user: User{Subject: sub, Username: name, Claims: claims, Dataset: data, External: external},
		hash: []byte(hash),
	}, nil
}

// Authenticate checks the password with bcrypt. An unknown username costs
// the same bcrypt comparison against a dummy hash.
func (b *Builtin) Authenticate(ctx context.Context, username, password string) (*User, error) {
	select {
	case b.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
	}
	defer func() { <-b.slots }()

	u := b.byUsername[username]
	hash := b.dummyHash
	if u != nil {
		hash = u.hash
	}
	err := bcrypt.CompareHashAndPassword(hash, []byte(password))
	// bcrypt reads only 72 bytes; refuse longer passwords rather than
	// accept anything sharing the first 72 bytes. Checked after the
	// comparison, so timing stays the same.
	ok := err == nil && u != nil && len(password) <= maxPasswordBytes
	if !ok {
		return nil, ErrInvalidCredentials
	}
	out := u.user
	return &out, nil
}

// Lookup finds a user by subject.
func (b *Builtin) Lookup(_ context.Context, subject string) (*User, error) {
	u, ok := b.bySubject[subject]
	if !ok {
		return nil, ErrNotFound
	}
	out := u.user
	return &out, nil
}

// Len is the number of users.
func (b *Builtin) Len() int { return len(b.bySubject) }

// strictUnmarshal refuses trailing data after the JSON value.
func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}

func errOrNull(err error) string {
	if err == nil {
		return "got null"
	}
	return err.Error()
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
