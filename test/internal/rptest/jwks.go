package rptest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Verifier checks ID tokens as a careful relying party does: the signature
// against the provider's published JWKS, which it caches and fetches again
// only when a token names a kid it does not know, then iss, aud and exp.
type Verifier struct {
	Issuer  string
	JWKSURI string
	HTTP    *http.Client

	mu      sync.Mutex
	keys    map[string]jose.JSONWebKey
	fetches int
}

// NewVerifier verifies ID tokens of issuer with the JWKS at jwksURI.
func NewVerifier(issuer, jwksURI string) *Verifier {
	return &Verifier{Issuer: issuer, JWKSURI: jwksURI, HTTP: &http.Client{Timeout: 5 * time.Second}, keys: map[string]jose.JSONWebKey{}}
}

// Fetches is how many times the JWKS was fetched.
func (v *Verifier) Fetches() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.fetches
}

// FetchKIDs fetches the JWKS and returns its kids, sorted.
func (v *Verifier) FetchKIDs() ([]string, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.fetchLocked(); err != nil {
		return nil, err
	}
	var kids []string
	for kid := range v.keys {
		kids = append(kids, kid)
	}
	slices.Sort(kids)
	return kids, nil
}

func (v *Verifier) fetchLocked() error {
	v.fetches++
	resp, err := v.HTTP.Get(v.JWKSURI)
	if err != nil {
		return fmt.Errorf("fetching the JWKS: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetching the JWKS: %s: %.200s", resp.Status, body)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		return fmt.Errorf("the JWKS: %w", err)
	}
	keys := map[string]jose.JSONWebKey{}
	for _, k := range set.Keys {
		if !k.IsPublic() {
			return fmt.Errorf("the JWKS publishes a private key (kid %s)", k.KeyID)
		}
		keys[k.KeyID] = k
	}
	v.keys = keys
	return nil
}

func (v *Verifier) key(kid string) (jose.JSONWebKey, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if k, ok := v.keys[kid]; ok {
		return k, nil
	}
	if err := v.fetchLocked(); err != nil {
		return jose.JSONWebKey{}, err
	}
	k, ok := v.keys[kid]
	if !ok {
		return k, fmt.Errorf("kid %q is not in the published JWKS, even fetched again", kid)
	}
	return k, nil
}

// IDToken is a verified ID token.
type IDToken struct {
	KID, Alg string
	Claims   map[string]any
}

// Verify checks an ID token issued to audience.
func (v *Verifier) Verify(token, audience string) (*IDToken, error) {
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256, jose.PS256, jose.RS256})
	if err != nil {
		return nil, fmt.Errorf("parsing the ID token: %w", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, errors.New("the ID token must have exactly one signature")
	}
	h := jws.Signatures[0].Header
	if h.KeyID == "" {
		return nil, errors.New("the ID token has no kid")
	}
	k, err := v.key(h.KeyID)
	if err != nil {
		return nil, err
	}
	if k.Algorithm != "" && k.Algorithm != h.Algorithm {
		return nil, fmt.Errorf("the ID token's alg %s differs from its key's %s", h.Algorithm, k.Algorithm)
	}
	payload, err := jws.Verify(k)
	if err != nil {
		return nil, fmt.Errorf("the ID token's signature (kid %s): %w", h.KeyID, err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, err
	}
	if claims["iss"] != v.Issuer {
		return nil, fmt.Errorf("iss %v, want %s", claims["iss"], v.Issuer)
	}
	switch aud := claims["aud"].(type) {
	case string:
		if aud != audience {
			return nil, fmt.Errorf("aud %v, want %s", aud, audience)
		}
	case []any:
		if !slices.Contains(aud, any(audience)) {
			return nil, fmt.Errorf("aud %v lacks %s", aud, audience)
		}
	default:
		return nil, fmt.Errorf("aud %v", claims["aud"])
	}
	exp, _ := claims["exp"].(float64)
	if time.Now().Unix() >= int64(exp) {
		return nil, fmt.Errorf("the ID token expired at %v", exp)
	}
	return &IDToken{KID: h.KeyID, Alg: h.Algorithm, Claims: claims}, nil
}

// WaitPublished fetches the JWKS every interval until it lists kid or
// timeout passes, and returns when it first did.
func (v *Verifier) WaitPublished(ctx context.Context, kid string, timeout, interval time.Duration) (time.Time, error) {
	var publishedAt time.Time
	err := Eventually(ctx, timeout, interval, func() error {
		published, err := v.FetchKIDs()
		if err != nil {
			return err
		}
		if !slices.Contains(published, kid) {
			return fmt.Errorf("the JWKS lists %v", published)
		}
		publishedAt = time.Now()
		return nil
	})
	return publishedAt, err
}
