package op

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/idaop/ida-operator/runtime/store"
)

// authzRequest is an authorization request that passed every check: what
// a PAR record, an interaction and, in part, a code carry.
type authzRequest struct {
	ClientID      string `json:"client_id"`
	RedirectURI   string `json:"redirect_uri"`
	Scope         string `json:"scope"`
	State         string `json:"state,omitempty"`
	Nonce         string `json:"nonce,omitempty"`
	CodeChallenge string `json:"code_challenge"`
	Claims        string `json:"claims,omitempty"`
	Purpose       string `json:"purpose,omitempty"`
	Prompt        string `json:"prompt,omitempty"`
	MaxAge        *int64 `json:"max_age,omitempty"`
	UILocales     string `json:"ui_locales,omitempty"`
	DPoPJKT       string `json:"dpop_jkt,omitempty"`
	// ViaPAR: the request came by PAR, so it is integrity protected.
	ViaPAR bool `json:"via_par,omitempty"`
	// Signed: the request came in a request object the client signed
	// (JAR), so it is integrity protected too.
	Signed bool `json:"signed,omitempty"`
	// ExpiresAt bounds a PAR record, whatever the store's clock says.
	ExpiresAt int64 `json:"exp,omitempty"`
}

// grantInfo is what an authorization granted; codes, access and refresh
// tokens all carry it.
type grantInfo struct {
	GrantID   string `json:"grant_id"`
	ClientID  string `json:"client_id"`
	Subject   string `json:"sub"`
	Scope     string `json:"scope"`
	Claims    string `json:"claims,omitempty"`
	Purpose   string `json:"purpose,omitempty"`
	ViaPAR    bool   `json:"via_par,omitempty"`
	Signed    bool   `json:"signed,omitempty"`
	AuthTime  int64  `json:"auth_time"`
	SessionID string `json:"sid,omitempty"`
}

// codeRecord is an authorization code (KindCode, keyed by its hash).
type codeRecord struct {
	grantInfo
	RedirectURI   string `json:"redirect_uri"`
	CodeChallenge string `json:"code_challenge"`
	Nonce         string `json:"nonce,omitempty"`
	DPoPJKT       string `json:"dpop_jkt,omitempty"`
	ExpiresAt     int64  `json:"exp"`
}

// tokenRecord is an access or refresh token (KindAccessToken,
// KindRefreshToken, keyed by the token's hash).
type tokenRecord struct {
	grantInfo
	// JKT binds an access token to a DPoP key (RFC 9449 §6).
	JKT       string `json:"jkt,omitempty"`
	ExpiresAt int64  `json:"exp"`
}

// grantRecord lists the tokens issued under one grant, so that replaying
// its code or a rotated refresh token revokes all of them (KindGrant).
type grantRecord struct {
	ClientID string     `json:"client_id"`
	Revoked  bool       `json:"revoked,omitempty"`
	Tokens   []tokenRef `json:"tokens,omitempty"`
	// ExpiresAt is when the grant's last refresh token expires.
	ExpiresAt int64 `json:"exp"`
}

type tokenRef struct {
	Kind store.Kind `json:"kind"`
	Key  string     `json:"key"`
}

// sessionRecord is a signed-in browser (KindSession).
type sessionRecord struct {
	// SID is the session's public identifier (the ID token's sid); the
	// cookie value itself is never written anywhere.
	SID       string `json:"sid"`
	Subject   string `json:"sub"`
	AuthTime  int64  `json:"auth_time"`
	ExpiresAt int64  `json:"exp"`
	// Consents are hashes of the (client, scope, claims, purpose) the
	// user approved in this session.
	Consents []string `json:"consents,omitempty"`
}

// interactionRecord is a login or consent page in progress
// (KindInteraction).
type interactionRecord struct {
	CSRF    string       `json:"csrf"`
	Request authzRequest `json:"request"`
	// Stage is stageLogin or stageConsent.
	Stage     string `json:"stage"`
	Subject   string `json:"sub,omitempty"`
	AuthTime  int64  `json:"auth_time,omitempty"`
	SessionID string `json:"sid,omitempty"`
}

const (
	stageLogin   = "login"
	stageConsent = "consent"
)

// Lifetimes of what has no setting of its own.
const (
	parLifetime         = 90 * time.Second
	sessionLifetime     = 12 * time.Hour
	interactionLifetime = 10 * time.Minute
)

// randomToken returns 256 random bits, base64url: codes, tokens, ids.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// storeKey is the store key of a bearer secret: its hash, so a dump of the
// store holds nothing a client could present.
func storeKey(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// putJSON stores a record as JSON or, in a store.Local store, in the
// compact binary form of codec.go when the record has one. A record read
// back is the same either way.
func putJSON[T any](ctx context.Context, s store.Store, kind store.Kind, key string, v *T, ttl time.Duration) error {
	if ttl < time.Second {
		ttl = time.Second
	}
	var b []byte
	if br, ok := any(v).(binaryRecord); ok && store.IsLocal(s) {
		b = br.appendBinary(make([]byte, 0, 256))
	} else {
		var err error
		if b, err = json.Marshal(v); err != nil {
			return err
		}
	}
	return s.Put(ctx, kind, key, b, ttl)
}

func getJSON[T any](ctx context.Context, s store.Store, kind store.Kind, key string) (*T, error) {
	b, err := s.Get(ctx, kind, key)
	if err != nil {
		return nil, err
	}
	return decodeRecord[T](b)
}

func takeJSON[T any](ctx context.Context, s store.Store, kind store.Kind, key string) (*T, error) {
	b, err := s.Take(ctx, kind, key)
	if err != nil {
		return nil, err
	}
	return decodeRecord[T](b)
}

// decodeRecord reads either form putJSON writes.
func decodeRecord[T any](b []byte) (*T, error) {
	var v T
	if len(b) > 0 && b[0] == binaryVersion {
		br, ok := any(&v).(binaryRecord)
		if !ok {
			return nil, fmt.Errorf("op: a binary record where a %T was expected", v)
		}
		r := binReader{s: string(b[1:])}
		br.readBinary(&r)
		if r.bad || r.s != "" {
			return nil, fmt.Errorf("op: malformed binary %T record", v)
		}
		return &v, nil
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// remaining is the time left until a Unix expiry, at least a second.
func remaining(exp int64, now time.Time) time.Duration {
	return max(time.Unix(exp, 0).Sub(now), time.Second)
}

// integrityProtected: the request could not be changed on its way from
// the client (PAR or JAR), which the IDA engine asks of some requests.
func (a *authzRequest) integrityProtected() bool { return a.ViaPAR || a.Signed }

func (g *grantInfo) integrityProtected() bool { return g.ViaPAR || g.Signed }
