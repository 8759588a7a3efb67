package op

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/grants"
)

// clientURI authenticates with private_key_jwt and keys at a jwks_uri.
const clientURI = "rp-jwks-uri"

// jwksServer publishes a client's key set over TLS and counts requests.
type jwksServer struct {
	srv   *httptest.Server
	hits  atomic.Int32
	mu    sync.Mutex
	body  []byte
	delay time.Duration
}

func newJWKSServer(t *testing.T, body []byte) *jwksServer {
	t.Helper()
	js := &jwksServer{body: body}
	mux := http.NewServeMux()
	mux.HandleFunc("/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		js.hits.Add(1)
		js.mu.Lock()
		b, d := js.body, js.delay
		js.mu.Unlock()
		time.Sleep(d)
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_, _ = w.Write(b)
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		js.hits.Add(1)
		http.Redirect(w, r, "/jwks.json", http.StatusFound)
	})
	mux.HandleFunc("/missing", func(w http.ResponseWriter, r *http.Request) {
		js.hits.Add(1)
		http.NotFound(w, r)
	})
	js.srv = httptest.NewTLSServer(mux)
	t.Cleanup(js.srv.Close)
	return js
}

func (js *jwksServer) publish(body []byte) {
	js.mu.Lock()
	js.body = body
	js.mu.Unlock()
}

// publicSet is a JWK set of the public halves of keys, by kid.
func publicSet(t testing.TB, keys map[string]*ecdsa.PrivateKey) []byte {
	t.Helper()
	var set jose.JSONWebKeySet
	for kid, k := range keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.Public(), KeyID: kid, Algorithm: "ES256", Use: "sig"})
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// newJWKSURIFixture registers clientURI with js's path and gives the
// provider the TLS server's client.
func newJWKSURIFixture(t *testing.T, js *jwksServer, path string) *fixture {
	t.Helper()
	return newFixtureWith(t, func(o *Options) { o.HTTPClient = js.srv.Client() }, func(s *config.Snapshot) {
		c := baseClient(clientURI, config.AuthPrivateKeyJWT)
		c.JWKSURI = js.srv.URL + path
		c.TokenEndpointAuthSigningAlg = config.ES256
		s.Clients[clientURI] = c
	})
}

// assertionBy is a client assertion of clientURI signed by key under kid.
func (f *fixture) assertionBy(key *ecdsa.PrivateKey, kid string) string {
	f.t.Helper()
	now := f.clock.now()
	cl := jwt.Claims{
		Issuer: clientURI, Subject: clientURI, Audience: jwt.Audience{f.issuer},
		Expiry: jwt.NewNumericDate(now.Add(time.Minute)), IssuedAt: jwt.NewNumericDate(now), ID: grants.NewSecret(),
	}
	return f.signES256(key, kid, "JWT", cl)
}

// tokenWith redeems code (any string) authenticated by the assertion.
func (f *fixture) tokenWith(code, verifier, assertion string) (*http.Response, map[string]any) {
	f.t.Helper()
	form := assertionParams(assertion)
	form.Set("client_id", clientURI)
	form.Set("grant_type", "authorization_code")
	form.Set("code", code)
	form.Set("redirect_uri", redirectURI)
	form.Set("code_verifier", verifier)
	resp := f.post(config.PathToken, form, nil)
	return resp, decode(f.t, resp)
}

// authOK: the client authenticated; the made-up code is then refused.
func (f *fixture) authOK(key *ecdsa.PrivateKey, kid string) {
	f.t.Helper()
	resp, body := f.tokenWith("no-such-code", "v", f.assertionBy(key, kid))
	wantError(f.t, resp, body, http.StatusBadRequest, "invalid_grant")
}

// authRefused: invalid_client, with a description containing want.
func (f *fixture) authRefused(key *ecdsa.PrivateKey, kid, want string) {
	f.t.Helper()
	resp, body := f.tokenWith("no-such-code", "v", f.assertionBy(key, kid))
	wantError(f.t, resp, body, http.StatusBadRequest, "invalid_client")
	if d, _ := body["error_description"].(string); !strings.Contains(d, want) {
		f.t.Fatalf("error_description %q does not contain %q", d, want)
	}
}

// TestJWKSURITokenRequest: a private_key_jwt client whose keys are at a
// jwks_uri gets tokens; the set is fetched once and then served from the
// cache, and a burst of requests on a cold cache makes one fetch.
func TestJWKSURITokenRequest(t *testing.T) {
	key := mustKey(t)
	js := newJWKSServer(t, publicSet(t, map[string]*ecdsa.PrivateKey{"k1": key}))
	f := newJWKSURIFixture(t, js, "/jwks.json")

	code, verifier := f.codeFor(clientURI, nil)
	resp, body := f.tokenWith(code, verifier, f.assertionBy(key, "k1"))
	if resp.StatusCode != http.StatusOK || body["access_token"] == nil || body["id_token"] == nil {
		t.Fatalf("token request: %d %v", resp.StatusCode, body)
	}
	code, verifier = f.codeFor(clientURI, nil)
	if resp, body := f.tokenWith(code, verifier, f.assertionBy(key, "k1")); resp.StatusCode != http.StatusOK {
		t.Fatalf("second token request: %d %v", resp.StatusCode, body)
	}
	f.authOK(key, "") // no kid: every key is tried
	if n := js.hits.Load(); n != 1 {
		t.Fatalf("jwks_uri fetched %d times, want 1 (cache hits)", n)
	}
	// Wrong key under a known kid: refused, no refetch.
	f.authRefused(mustKey(t), "k1", "signature does not verify")
	if n := js.hits.Load(); n != 1 {
		t.Fatalf("jwks_uri fetched %d times after a bad signature, want 1", n)
	}

	// A cold cache and a burst: one fetch.
	js2 := newJWKSServer(t, publicSet(t, map[string]*ecdsa.PrivateKey{"k1": key}))
	js2.delay = 200 * time.Millisecond
	g := newJWKSURIFixture(t, js2, "/jwks.json")
	var wg sync.WaitGroup
	codes := make(chan string, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, body := g.tokenWith("no-such-code", "v", g.assertionBy(key, "k1"))
			code, _ := body["error"].(string)
			codes <- code
		}()
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != "invalid_grant" {
			t.Fatalf("burst request: %s, want invalid_grant (authenticated)", c)
		}
	}
	if n := js2.hits.Load(); n != 1 {
		t.Fatalf("burst fetched jwks_uri %d times, want 1", n)
	}
}

// TestJWKSURIRotation: an assertion under a kid the cached set lacks
// refetches the set once; unknown kids cannot make the provider fetch more
// than once per interval.
func TestJWKSURIRotation(t *testing.T) {
	k1, k2 := mustKey(t), mustKey(t)
	js := newJWKSServer(t, publicSet(t, map[string]*ecdsa.PrivateKey{"k1": k1}))
	f := newJWKSURIFixture(t, js, "/jwks.json")
	f.authOK(k1, "k1")

	// Within the interval of the first fetch, the new kid is not looked up.
	js.publish(publicSet(t, map[string]*ecdsa.PrivateKey{"k2": k2}))
	f.authRefused(k2, "k2", "signature does not verify")
	if n := js.hits.Load(); n != 1 {
		t.Fatalf("refetched within the interval: %d fetches, want 1", n)
	}
	f.clock.advance(jwksRefetchInterval + time.Second)
	f.authOK(k2, "k2")
	if n := js.hits.Load(); n != 2 {
		t.Fatalf("fetches after rotation: %d, want 2", n)
	}
	// k1 was retired with the new set.
	f.authRefused(k1, "k1", "signature does not verify")
	f.authRefused(k1, "k3", "signature does not verify")
	if n := js.hits.Load(); n != 2 {
		t.Fatalf("unknown kids refetched within the interval: %d fetches, want 2", n)
	}
	f.clock.advance(jwksRefetchInterval + time.Second)
	f.authRefused(k1, "k3", "signature does not verify")
	if n := js.hits.Load(); n != 3 {
		t.Fatalf("unknown kid after the interval: %d fetches, want 3", n)
	}
	f.authOK(k2, "k2")
	if n := js.hits.Load(); n != 3 {
		t.Fatalf("known kid refetched: %d fetches, want 3", n)
	}
}

// TestJWKSURIExpiryAndOutage: the set is refetched after the TTL; when the
// server is down the last good set serves until twice the TTL, then the
// client is refused.
func TestJWKSURIExpiryAndOutage(t *testing.T) {
	key := mustKey(t)
	js := newJWKSServer(t, publicSet(t, map[string]*ecdsa.PrivateKey{"k1": key}))
	f := newJWKSURIFixture(t, js, "/jwks.json")
	f.authOK(key, "k1")
	f.clock.advance(jwksTTL + time.Second)
	f.authOK(key, "k1")
	if n := js.hits.Load(); n != 2 {
		t.Fatalf("fetches after the TTL: %d, want 2", n)
	}
	js.srv.Close()
	f.clock.advance(jwksTTL + time.Second)
	f.authOK(key, "k1") // fetch fails, cached set still serves
	if !strings.Contains(f.logs.String(), "jwks_uri fetch failed") {
		t.Fatalf("no log line for the failed fetch: %s", f.logs.String())
	}
	f.clock.advance(jwksTTL)
	f.authRefused(key, "k1", "jwks_uri could not be fetched")
}

// TestJWKSURIRefusals: a jwks_uri that is down, redirects, answers an
// error, or serves an oversized, malformed or private document makes the
// client's authentication fail with invalid_client, never a 5xx, and the
// log line carries no key material.
func TestJWKSURIRefusals(t *testing.T) {
	key := mustKey(t)
	good := publicSet(t, map[string]*ecdsa.PrivateKey{"k1": key})
	private, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	if err != nil {
		t.Fatal(err)
	}
	symmetric := []byte(`{"keys":[{"kty":"oct","kid":"k1","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"}]}`)
	weakRSA, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	weak, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &weakRSA.PublicKey, KeyID: "k1", Algorithm: "PS256", Use: "sig"}}})
	if err != nil {
		t.Fatal(err)
	}
	oversized := []byte(`{"keys":[],"pad":"` + strings.Repeat("x", jwksMaxBytes) + `"}`)
	cases := []struct {
		name, path string
		body       []byte
		down       bool
		want       string
	}{
		{"server down", "/jwks.json", good, true, "jwks_uri could not be fetched"},
		{"redirect", "/moved", good, false, "jwks_uri could not be fetched"},
		{"404", "/missing", good, false, "jwks_uri could not be fetched"},
		{"oversized", "/jwks.json", oversized, false, "larger than 64 KiB"},
		{"not JSON", "/jwks.json", []byte("<html>hello</html>"), false, "not a JWK set"},
		{"not a key set", "/jwks.json", []byte(`{"keys":[{"kty":"nope"}]}`), false, "not a JWK set"},
		{"empty set", "/jwks.json", []byte(`{"keys":[]}`), false, "did not return a valid public JWK set: no keys"},
		{"private key", "/jwks.json", private, false, "private or symmetric key"},
		{"symmetric key", "/jwks.json", symmetric, false, "private or symmetric key"},
		{"RSA key under 2048 bits", "/jwks.json", weak, false, "at least 2048"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			js := newJWKSServer(t, tc.body)
			f := newJWKSURIFixture(t, js, tc.path)
			if tc.down {
				js.srv.Close()
			}
			f.authRefused(key, "k1", tc.want)
			// A failed fetch is not retried at once.
			f.authRefused(key, "k1", tc.want)
			if n := js.hits.Load(); n > 1 {
				t.Fatalf("%d fetches, want at most 1", n)
			}
			logs := f.logs.String()
			if !strings.Contains(logs, "jwks_uri fetch failed") {
				t.Fatalf("no log line: %s", logs)
			}
			d := jose.JSONWebKey{Key: key}
			raw, _ := d.MarshalJSON()
			var priv map[string]string
			_ = json.Unmarshal(raw, &priv)
			if strings.Contains(logs, priv["d"]) || strings.Contains(logs, priv["x"]) || strings.Contains(logs, "c2VjcmV0") {
				t.Fatalf("key material in the logs: %s", logs)
			}
		})
	}
}

// TestJWKSURIEncryptionKeysOnly: a set whose keys are all for encryption
// cannot check an assertion, and the client is told so.
func TestJWKSURIEncryptionKeysOnly(t *testing.T) {
	key := mustKey(t)
	f := newJWKSURIFixture(t, newJWKSServer(t, publicSetUse(t, key, "enc")), "/jwks.json")
	f.authRefused(key, "k1", "the client's jwks_uri holds no signature keys")
}

func publicSetUse(t *testing.T, key *ecdsa.PrivateKey, use string) []byte {
	t.Helper()
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1", Use: use}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestJWKSURISlowDoesNotBlockOthers: while one client's jwks_uri hangs,
// other clients are served; the hanging one fails after the fetch timeout.
func TestJWKSURISlowDoesNotBlockOthers(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the fetch timeout")
	}
	key := mustKey(t)
	release := make(chan struct{})
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	js := &jwksServer{srv: srv}
	f := newJWKSURIFixture(t, js, "/jwks.json")

	start := time.Now()
	done := make(chan map[string]any, 1)
	go func() {
		_, body := f.tokenWith("no-such-code", "v", f.assertionBy(key, "k1"))
		done <- body
	}()
	time.Sleep(100 * time.Millisecond)
	code, verifier := f.codeFor(clientBasic, nil)
	if resp, body := f.exchange(clientBasic, code, verifier); resp.StatusCode != http.StatusOK {
		t.Fatalf("other client: %d %v", resp.StatusCode, body)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("other client waited %v", d)
	}
	body := <-done
	if body["error"] != "invalid_client" || !strings.Contains(body["error_description"].(string), "jwks_uri could not be fetched") {
		t.Fatalf("hanging jwks_uri: %v", body)
	}
	if d := time.Since(start); d > jwksFetchTimeout+2*time.Second {
		t.Fatalf("hanging jwks_uri answered after %v", d)
	}
}

// TestJWKSURIRedactedInLogs: the logged URI has no query or user info.
func TestJWKSURIRedactedInLogs(t *testing.T) {
	if got := redactURI("https://u:p@rp.example.com/keys?token=abc#x"); got != "https://rp.example.com/keys" {
		t.Fatalf("redactURI = %q", got)
	}
}
