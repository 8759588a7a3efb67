package op

import (
	"bytes"
	"encoding/json"

	"k8s.io/utils/lru"

	"github.com/idaop/ida-operator/runtime/ida"
	"github.com/idaop/ida-operator/runtime/users"
)

// cache is a bounded map that forgets its least recently used entry when
// full (k8s.io/utils/lru), typed. It is safe for concurrent use. It caches
// only what is derived from immutable input (a parsed dataset, a compiled
// claims request), never whether a token or grant is valid: that is always
// read from the store.
type cache[K comparable, V any] struct{ c *lru.Cache }

func newCache[K comparable, V any](size int) cache[K, V] { return cache[K, V]{c: lru.New(size)} }

func (c cache[K, V]) get(k K) (V, bool) {
	v, ok := c.c.Get(k)
	if !ok {
		var zero V
		return zero, false
	}
	return v.(V), true
}

func (c cache[K, V]) put(k K, v V) { c.c.Add(k, v) }

func (c cache[K, V]) len() int { return c.c.Len() }

// Bounds of the caches: entries, and the largest input worth keeping (a
// bigger one is parsed every time, as before).
const (
	datasetCacheSize = 4096
	datasetCacheMax  = 64 << 10
	claimsCacheSize  = 1024
	claimsCacheMax   = 16 << 10
)

// cachedDataset is a user's parsed dataset with the bytes it came from: a
// hit needs the same bytes, so a changed dataset (a new users Secret, an
// answer of the KYC system that differs) is parsed again at once.
type cachedDataset struct {
	raw []byte
	ds  *ida.Dataset
}

// dataset parses the user's dataset, or returns the parse of the same
// bytes from before. Sources never modify a User's Dataset (users.User),
// and an ida.Dataset is immutable.
func (p *Provider) dataset(u *users.User) (*ida.Dataset, error) {
	raw := datasetOf(u)
	if e, ok := p.datasets.get(u.Subject); ok && bytes.Equal(e.raw, raw) {
		return e.ds, nil
	}
	ds, err := ida.ParseDataset(raw)
	if err != nil {
		return nil, err
	}
	if len(raw) <= datasetCacheMax {
		p.datasets.put(u.Subject, cachedDataset{raw: raw, ds: ds})
	}
	return ds, nil
}

// claimsKey identifies a compiled claims request: the client's engine
// (rebuilt on every configuration change, so a cached request never
// outlives the policy it was checked against) and every input of
// ida.Engine.ParseRequest.
type claimsKey struct {
	engine    *ida.Engine
	claims    string
	scope     string
	integrity bool
}

// compiledClaims is a claims request as the engine parsed it.
type compiledClaims struct {
	req *ida.Request
	err error
	// asksIDToken: the request has a non-null id_token member.
	asksIDToken bool
}

// compileClaims parses a claims request for the client, or returns the
// parse from before: grants carry the request they were authorized with,
// and the same request comes back at every token and UserInfo call.
// ParseRequest is deterministic, and an ida.Request is immutable.
func (p *Provider) compileClaims(c *client, claims, scope string, integrity bool) *compiledClaims {
	k := claimsKey{engine: c.engine, claims: claims, scope: scope, integrity: integrity}
	if p == nil {
		req, err := c.engine.ParseRequest([]byte(claims), ida.RequestOptions{Scope: scope, IntegrityProtected: integrity})
		return &compiledClaims{req: req, err: err, asksIDToken: asksIDTokenClaims(claims)}
	}
	if cc, ok := p.claims.get(k); ok {
		return cc
	}
	req, err := c.engine.ParseRequest([]byte(claims), ida.RequestOptions{Scope: scope, IntegrityProtected: integrity})
	cc := &compiledClaims{req: req, err: err, asksIDToken: asksIDTokenClaims(claims)}
	// Refused requests are not kept: only what a client was granted
	// comes back often.
	if err == nil && len(claims)+len(scope) <= claimsCacheMax {
		p.claims.put(k, cc)
	}
	return cc
}

// asksIDTokenClaims: the claims request has an id_token member.
func asksIDTokenClaims(claims string) bool {
	if claims == "" {
		return false
	}
	var v struct {
		IDToken json.RawMessage `json:"id_token"`
	}
	return json.Unmarshal([]byte(claims), &v) == nil && len(v.IDToken) > 0 && string(v.IDToken) != "null"
}
