package runtimecmd

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/users"
)

// TestStartsWithTheHSMAway: a runtime whose signing key is in a PKCS#11
// token it cannot use (no PIN in its environment, a module that is not
// there) starts and is ready, serves discovery and the key's public half
// in the JWKS, says in its log which variable is missing, and answers a
// token request temporarily_unavailable rather than failing or hanging.
// Readiness stays true on purpose: a pod out of its Service would take
// discovery and JWKS, which relying parties still need, with it.
func TestStartsWithTheHSMAway(t *testing.T) {
	t.Setenv(config.PKCS11PINEnv, "")
	if err := os.Unsetenv(config.PKCS11PINEnv); err != nil {
		t.Fatal(err)
	}
	ln := listen(t)
	dir := writeConfigDir(t, "http://"+ln.Addr().String(), config.SessionStore{Type: config.SessionStoreMemory}, func(p *config.Provider) {
		p.PKCS11 = &config.PKCS11{Module: "/nonexistent/libpkcs11.so", TokenLabel: "ida"}
	})
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := jose.JSONWebKey{Key: priv.Public(), KeyID: "in-the-token", Algorithm: config.ES256, Use: "sig"}.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	seed := make([]byte, config.SeedSize)
	_, _ = rand.Read(seed)
	at := time.Now().Add(-time.Hour)
	keys, _ := json.Marshal(config.KeySet{Keys: []config.SigningKey{{ID: "in-the-token", Algorithm: config.ES256, PublicJWK: pub, Seed: seed, CreatedAt: at, ActivatesAt: at}}})
	if err := os.WriteFile(filepath.Join(dir, config.KeySetKey), keys, 0o600); err != nil {
		t.Fatal(err)
	}
	base, logs := serveLogging(t, dir, ln) // waits for /readyz

	for _, path := range []string{"/readyz", config.PathDiscovery, config.PathJWKS} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
		if path == config.PathJWKS && !strings.Contains(string(body), `"in-the-token"`) {
			t.Fatalf("JWKS lacks the token's key: %s", body)
		}
	}
	if !strings.Contains(logs.String(), config.PKCS11PINEnv) {
		t.Fatalf("the log does not name %s: %s", config.PKCS11PINEnv, logs.String())
	}

	br := browser()
	login := get(t, br, authorizeURL(base))
	consent := post(t, br, base+"/interaction/login", url.Values{"interaction": {login.interaction}, "csrf_token": {login.csrfT}, "username": {users.DemoUsername}, "password": {testPassword}})
	code := codeFrom(t, post(t, br, base+"/interaction/consent", url.Values{"interaction": {consent.interaction}, "csrf_token": {consent.csrfT}, "decision": {"approve"}}))
	req, _ := http.NewRequest(http.MethodPost, base+config.PathToken, strings.NewReader(url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier},
	}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(testClient), url.QueryEscape(testSecret))
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var answer map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&answer)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || answer["error"] != "temporarily_unavailable" {
		t.Fatalf("token: %d %v", resp.StatusCode, answer)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("the token request took %s", took)
	}
}
