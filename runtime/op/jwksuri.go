package op

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/idaop/ida-operator/runtime/keystrength"
)

// Bounds of fetching a client's jwks_uri (private_key_jwt): a slow or dead
// URI costs at most jwksFetchTimeout to the requests that wait for it, and
// nothing to other clients.
const (
	jwksFetchTimeout = 3 * time.Second
	jwksMaxBytes     = 64 << 10
	// jwksTTL: a fetched set is used this long, then fetched again; when
	// that fetch fails, the last good set serves until 2*jwksTTL.
	jwksTTL = 5 * time.Minute
	// jwksRefetchInterval bounds fetches of one URI: an assertion with an
	// unknown kid (a rotated client key) triggers at most one refetch per
	// interval, and a failed fetch is not retried within it.
	jwksRefetchInterval = 10 * time.Second
	jwksCacheEntries    = 256
)

// errJWKSFetch is a jwks_uri that could not be read (network, status);
// errJWKSInvalid one whose document is not an acceptable public key set.
// Their messages are safe to show the client: they hold no key material
// and no address beyond what the client registered.
var (
	errJWKSFetch   = errors.New("jwks_uri could not be fetched")
	errJWKSInvalid = errors.New("jwks_uri did not return a valid public JWK set")
)

// jwksURICache fetches and caches clients' jwks_uri documents, one entry
// per URI. Concurrent requests for one URI share one fetch.
type jwksURICache struct {
	client *http.Client
	now    func() time.Time
	log    *slog.Logger

	mu      sync.Mutex
	entries map[string]*jwksEntry
}

type jwksEntry struct {
	keys      []jose.JSONWebKey // last good set; nil before the first success
	fetchedAt time.Time         // when keys were fetched
	attempt   time.Time         // when the last fetch started
	lastErr   error             // of the last fetch, nil if it succeeded
	used      time.Time         // for eviction
	inflight  *jwksCall
}

// jwksCall is one fetch in progress; done is closed when keys/err are set.
type jwksCall struct {
	done chan struct{}
	keys []jose.JSONWebKey
	err  error
}

// newJWKSURICache uses hc (nil: a default client) without following
// redirects and with at most jwksFetchTimeout per fetch.
func newJWKSURICache(hc *http.Client, now func() time.Time, log *slog.Logger) *jwksURICache {
	var c http.Client
	if hc != nil {
		c = *hc
	} else {
		// The default transport's settings, proxy from the environment
		// included, on a transport of its own.
		c.Transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if c.Timeout == 0 || c.Timeout > jwksFetchTimeout {
		c.Timeout = jwksFetchTimeout
	}
	return &jwksURICache{client: &c, now: now, log: log, entries: map[string]*jwksEntry{}}
}

// keys returns the key set published at uri. kid is the assertion's key
// id: when the cached set lacks it, the set is fetched again (at most once
// per jwksRefetchInterval) to follow a key rotation.
func (c *jwksURICache) keys(ctx context.Context, uri, kid string) ([]jose.JSONWebKey, error) {
	now := c.now()
	c.mu.Lock()
	e := c.entry(uri, now)
	age := now.Sub(e.fetchedAt)
	fresh := e.keys != nil && age >= 0 && age < jwksTTL
	usable := e.keys != nil && age >= 0 && age < 2*jwksTTL
	recent := !e.attempt.IsZero() && !now.Before(e.attempt) && now.Sub(e.attempt) < jwksRefetchInterval
	switch {
	case fresh && (kid == "" || hasKID(e.keys, kid)):
		keys := e.keys
		c.mu.Unlock()
		return keys, nil
	case e.inflight == nil && recent:
		// Rate-limited: answer with what there is.
		keys, err := e.keys, e.lastErr
		c.mu.Unlock()
		if usable {
			return keys, nil
		}
		if err == nil {
			err = errJWKSFetch
		}
		return nil, err
	}
	call := e.inflight
	if call == nil {
		call = &jwksCall{done: make(chan struct{})}
		e.inflight, e.attempt = call, now
		go c.fetchInto(uri, e, call)
	}
	c.mu.Unlock()
	select {
	case <-call.done:
		return call.keys, call.err
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %v", errJWKSFetch, ctx.Err())
	}
}

// entry returns the entry for uri, making room for it when needed. c.mu
// is held.
func (c *jwksURICache) entry(uri string, now time.Time) *jwksEntry {
	if e, ok := c.entries[uri]; ok {
		e.used = now
		return e
	}
	if len(c.entries) >= jwksCacheEntries {
		var oldest string
		var at time.Time
		for u, e := range c.entries {
			if e.inflight == nil && (oldest == "" || e.used.Before(at)) {
				oldest, at = u, e.used
			}
		}
		if oldest != "" {
			delete(c.entries, oldest)
		}
	}
	e := &jwksEntry{used: now}
	c.entries[uri] = e
	return e
}

// fetchInto runs one fetch, detached from any request so that a client
// hanging up does not fail the others waiting, and publishes its result.
func (c *jwksURICache) fetchInto(uri string, e *jwksEntry, call *jwksCall) {
	ctx, cancel := context.WithTimeout(context.Background(), jwksFetchTimeout)
	defer cancel()
	keys, err := fetchJWKS(ctx, c.client, uri)
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	defer close(call.done)
	e.inflight = nil
	if err == nil {
		e.keys, e.fetchedAt, e.lastErr = keys, now, nil
		call.keys = keys
		return
	}
	e.lastErr = err
	age := now.Sub(e.fetchedAt)
	stale := e.keys != nil && age >= 0 && age < 2*jwksTTL
	// Only the URI's origin and path are logged, never the document.
	c.log.Warn("jwks_uri fetch failed", slog.String("jwks_uri", redactURI(uri)),
		slog.Bool("serving_cached_keys", stale), slog.String("error", err.Error()))
	if stale {
		call.keys = e.keys
		return
	}
	call.err = err
}

// fetchJWKS GETs an https jwks_uri and parses it: a JWK set of at most
// jwksMaxBytes, public keys only, at least one for signatures.
func fetchJWKS(ctx context.Context, hc *http.Client, uri string) ([]jose.JSONWebKey, error) {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("%w: not an absolute https URL", errJWKSFetch)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: bad request URL", errJWKSFetch)
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := hc.Do(req)
	if err != nil {
		// *url.Error repeats the URL; keep only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("%w: %v", errJWKSFetch, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: HTTP status %d", errJWKSFetch, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, jwksMaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: reading the body failed", errJWKSFetch)
	}
	if len(body) > jwksMaxBytes {
		return nil, fmt.Errorf("%w: larger than %d KiB", errJWKSInvalid, jwksMaxBytes>>10)
	}
	return parsePublicJWKS(body)
}

// parsePublicJWKS refuses a set holding any private or symmetric key (a
// published private key is compromised, and the client must fix it) or a
// key too weak to accept. It keeps signature and encryption keys alike:
// each use picks its own (signatureKeys, jwe.SelectKey).
func parsePublicJWKS(body []byte) ([]jose.JSONWebKey, error) {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("%w: not a JWK set", errJWKSInvalid)
	}
	for i, k := range set.Keys {
		if !k.IsPublic() {
			return nil, fmt.Errorf("%w: keys[%d] is a private or symmetric key", errJWKSInvalid, i)
		}
		if err := keystrength.Check(k.Key); err != nil {
			return nil, fmt.Errorf("%w: keys[%d] is %v", errJWKSInvalid, i, err)
		}
	}
	if len(set.Keys) == 0 {
		return nil, fmt.Errorf("%w: no keys", errJWKSInvalid)
	}
	return set.Keys, nil
}

// signatureKeys are the keys of a set that may verify signatures: use
// "sig" or no use (RFC 7517 §4.2).
func signatureKeys(keys []jose.JSONWebKey) []jose.JSONWebKey {
	var out []jose.JSONWebKey
	for _, k := range keys {
		if k.Use == "" || k.Use == "sig" {
			out = append(out, k)
		}
	}
	return out
}

func hasKID(keys []jose.JSONWebKey, kid string) bool {
	for i := range keys {
		if keys[i].KeyID == kid {
			return true
		}
	}
	return false
}

// jwksErrorDescription is what the client is told: the reason when the
// document was refused, only the category when the fetch failed (the
// cause may name internal addresses).
func jwksErrorDescription(err error) string {
	if errors.Is(err, errJWKSInvalid) {
		return "client " + err.Error()
	}
	return "client " + errJWKSFetch.Error()
}

// redactURI drops user info, query and fragment, for logs.
func redactURI(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return "(unparsable)"
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}
