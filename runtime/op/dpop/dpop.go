// Package dpop verifies DPoP proofs (RFC 9449): the JWT a client sends in
// the DPoP header to show it holds the private key an access token is bound
// to. It is pure: the clock is passed in, and the replay cache is the
// caller's (a proof's jti is one-time; see Proof.ReplayKey).
package dpop

import (
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"net/url"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/idaop/ida-operator/runtime/keystrength"
)

// Header is the HTTP header that carries a proof.
const Header = "DPoP"

// typ is the proof's JOSE header type (RFC 9449 §4.2).
const typ = "dpop+jwt"

// MaxProofSize bounds a proof; real ones are well under 2 KiB.
const MaxProofSize = 8 << 10

// DefaultLeeway is how far iat may be from now either way.
const DefaultLeeway = 60 * time.Second

// Check is what the proof must match.
type Check struct {
	// Method is the HTTP method of the request (htm).
	Method string
	// URL is the endpoint's URL without query or fragment (htu).
	URL string
	// AccessToken, when not empty, must be hashed in ath (resource requests).
	AccessToken string
	// Algorithms the proof may be signed with.
	Algorithms []string
	// Now is the verifier's clock.
	Now time.Time
	// Leeway for iat; zero means DefaultLeeway.
	Leeway time.Duration
}

// Proof is a verified proof.
type Proof struct {
	// JKT is the RFC 7638 SHA-256 thumbprint of the proof's key, base64url.
	JKT string
	// JTI is the proof's unique identifier.
	JTI string
	// IssuedAt is the proof's iat.
	IssuedAt time.Time
	// Nonce is the proof's nonce claim, "" when it has none; the caller
	// judges it (RFC 9449 §8, §9).
	Nonce string
}

// ReplayKey is the key under which a replay cache remembers the proof:
// jti values are only unique per key.
func (p *Proof) ReplayKey() string { return p.JKT + ":" + p.JTI }

// Error is a proof that fails a rule; Reason says which, without any part
// of the proof.
type Error struct{ Reason string }

func (e *Error) Error() string { return "invalid DPoP proof: " + e.Reason }

func fail(reason string) error { return &Error{Reason: reason} }

type claims struct {
	JTI *string      `json:"jti"`
	HTM *string      `json:"htm"`
	HTU *string      `json:"htu"`
	IAT *json.Number `json:"iat"`
	ATH *string      `json:"ath"`
	// Nonce is checked by the caller, who issued it.
	Nonce *string `json:"nonce"`
}

// Verify parses a proof and applies every rule of RFC 9449 §4.3 except the
// replay check, which needs the caller's store.
func Verify(proof string, c Check) (*Proof, error) {
	if proof == "" {
		return nil, fail("missing")
	}
	if len(proof) > MaxProofSize {
		return nil, fail("too large")
	}
	algs := make([]jose.SignatureAlgorithm, 0, len(c.Algorithms))
	for _, a := range c.Algorithms {
		algs = append(algs, jose.SignatureAlgorithm(a))
	}
	jws, err := jose.ParseSignedCompact(proof, algs)
	if err != nil {
		return nil, fail("not a compact JWS signed with an accepted algorithm")
	}
	if len(jws.Signatures) != 1 {
		return nil, fail("must have one signature")
	}
	h := jws.Signatures[0].Protected
	if err := checkType(h); err != nil {
		return nil, err
	}
	jwk, err := checkKey(h)
	if err != nil {
		return nil, err
	}
	payload, err := jws.Verify(jwk)
	if err != nil {
		return nil, fail("signature does not verify with the header's jwk")
	}
	var cl claims
	if err := json.Unmarshal(payload, &cl); err != nil {
		return nil, fail("claims are not a JSON object")
	}
	if err := checkJTI(cl); err != nil {
		return nil, err
	}
	if err := checkMethod(cl, c.Method); err != nil {
		return nil, err
	}
	if err := checkURL(cl, c.URL); err != nil {
		return nil, err
	}
	iat, err := checkIssuedAt(cl, c.Now, c.Leeway)
	if err != nil {
		return nil, err
	}
	if err := checkAccessTokenHash(cl, c.AccessToken); err != nil {
		return nil, err
	}
	jkt, err := Thumbprint(jwk)
	if err != nil {
		return nil, fail("key has no thumbprint")
	}
	p := &Proof{JKT: jkt, JTI: *cl.JTI, IssuedAt: iat}
	if cl.Nonce != nil {
		p.Nonce = *cl.Nonce
	}
	return p, nil
}

// checkType: the typ header is dpop+jwt.
func checkType(h jose.Header) error {
	if t, _ := h.ExtraHeaders[jose.HeaderType].(string); t != typ {
		return fail("typ must be dpop+jwt")
	}
	return nil
}

// checkKey: the jwk header holds a valid public key of a strength the
// provider accepts, never a private one.
func checkKey(h jose.Header) (*jose.JSONWebKey, error) {
	k := h.JSONWebKey
	if k == nil || !k.Valid() {
		return nil, fail("jwk header must hold a public key")
	}
	if !k.IsPublic() {
		return nil, fail("jwk header must not hold a private key")
	}
	if err := keystrength.Check(k.Key); err != nil {
		return nil, fail("jwk header holds " + err.Error())
	}
	return k, nil
}

// checkJTI: jti is present and not empty.
func checkJTI(cl claims) error {
	if cl.JTI == nil || *cl.JTI == "" || len(*cl.JTI) > 256 {
		return fail("jti must be a non-empty string")
	}
	return nil
}

// checkMethod: htm is the request's method.
func checkMethod(cl claims, method string) error {
	if cl.HTM == nil || *cl.HTM != method {
		return fail("htm does not match the request method")
	}
	return nil
}

// checkURL: htu is the endpoint's URL, ignoring query and fragment, after
// syntax- and scheme-based normalisation (RFC 9449 §4.3 item 9, RFC 3986
// §6.2.2, §6.2.3).
func checkURL(cl claims, want string) error {
	if cl.HTU == nil {
		return fail("htu is missing")
	}
	got, err := url.Parse(*cl.HTU)
	if err != nil {
		return fail("htu is not a URL")
	}
	exp, err := url.Parse(want)
	if err != nil {
		return fail("endpoint URL is not a URL")
	}
	if normalURL(got) != normalURL(exp) {
		return fail("htu does not match the endpoint URL")
	}
	return nil
}

// normalURL is scheme, host and path in a normal form: scheme and host in
// lower case, the scheme's default port left out, percent-encoding of the
// path in one form (unreserved characters decoded, hex digits upper
// case), an empty path "/".
func normalURL(u *url.URL) string {
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname())
	port := u.Port()
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if port != "" {
		host = net.JoinHostPort(host, port)
	} else if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	path := (&url.URL{Path: u.Path}).EscapedPath()
	if path == "" {
		path = "/"
	}
	return scheme + "://" + host + path
}

// checkIssuedAt: iat is within leeway of now either way.
func checkIssuedAt(cl claims, now time.Time, leeway time.Duration) (time.Time, error) {
	if leeway <= 0 {
		leeway = DefaultLeeway
	}
	if cl.IAT == nil {
		return time.Time{}, fail("iat is missing")
	}
	f, err := cl.IAT.Float64()
	if err != nil {
		return time.Time{}, fail("iat is not a number")
	}
	iat := time.Unix(int64(f), 0)
	if iat.Before(now.Add(-leeway)) || iat.After(now.Add(leeway)) {
		return time.Time{}, fail("iat is too far from the current time")
	}
	return iat, nil
}

// checkAccessTokenHash: at a resource, ath is the base64url SHA-256 of the
// access token (RFC 9449 §4.3 item 11).
func checkAccessTokenHash(cl claims, token string) error {
	if token == "" {
		return nil
	}
	if cl.ATH == nil || *cl.ATH != ATH(token) {
		return fail("ath does not match the access token")
	}
	return nil
}

// ATH is the ath value for an access token.
func ATH(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Thumbprint is the RFC 7638 SHA-256 thumbprint of a key, base64url: the
// jkt that binds a token to the key.
func Thumbprint(k *jose.JSONWebKey) (string, error) {
	if k == nil {
		return "", errors.New("no key")
	}
	tp, err := k.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}
