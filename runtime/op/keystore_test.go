//go:build cgo

package op

import (
	"context"
	"crypto"
	"crypto/rand"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/grants"
	"github.com/idaop/ida-operator/runtime/hsm"
	"github.com/idaop/ida-operator/runtime/hsm/hsmtest"
)

// tokenKeys generates an ES256 and a PS256 key in SoftHSM2 and returns
// them as the operator records them: public half and seed, no private
// half. Ids are fresh: the token is shared by the package's tests.
func tokenKeys(t testing.TB) (hsm.Config, []config.SigningKey) {
	t.Helper()
	cfg := hsmtest.SoftHSM(t)
	tok, err := hsm.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tok.Close()
	past := time.Now().Add(-time.Hour)
	var keys []config.SigningKey
	for _, alg := range []string{config.ES256, config.PS256} {
		id := "hsm-" + alg + "-" + grants.NewSecret()[:8]
		pub, err := tok.Generate(id, alg)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := jose.JSONWebKey{Key: pub, KeyID: id, Algorithm: alg, Use: "sig"}.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		seed := make([]byte, config.SeedSize)
		_, _ = rand.Read(seed)
		keys = append(keys, config.SigningKey{ID: id, Algorithm: alg, PublicJWK: raw, Seed: seed, CreatedAt: past, ActivatesAt: past})
	}
	return cfg, keys
}

// hsmFixture is a provider whose signing keys are in SoftHSM2, opened
// through open (hsm.Open when nil), with the PIN in the environment.
func hsmFixture(t testing.TB, reg prometheus.Registerer, open func(hsm.Config) (hsm.KeyToken, error), timeout time.Duration, mods ...func(*config.Snapshot)) (*fixture, []config.SigningKey) {
	t.Helper()
	cfg, keys := tokenKeys(t)
	t.Setenv(config.PKCS11PINEnv, cfg.PIN)
	f := newFixtureWith(t, func(o *Options) {
		o.Metrics, o.OpenToken = reg, open
	}, append(mods, func(s *config.Snapshot) {
		s.Keys = &config.KeySet{Keys: keys}
		s.Provider.PKCS11 = &config.PKCS11{Module: cfg.Module, TokenLabel: cfg.TokenLabel, Timeout: config.Duration{Duration: timeout}}
	})...)
	t.Cleanup(func() { f.p.keys.token(nil) })
	return f, keys
}

// TestTokenKeysSignFlows: with the keys in SoftHSM2, a complete code flow
// gives ID tokens that go-oidc verifies against the served JWKS, ES256
// (the provider's default) and PS256 (a client's choice), each with the
// token key's kid; signed UserInfo verifies too. Nothing private is in
// the snapshot or the JWKS.
func TestTokenKeysSignFlows(t *testing.T) {
	reg := prometheus.NewRegistry()
	f, keys := hsmFixture(t, reg, nil, 0)
	ctx := context.Background()
	prov, err := oidc.NewProvider(ctx, f.issuer)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		client string
		key    config.SigningKey
	}{{clientBasic, keys[0]}, {clientSigned, keys[1]}} {
		t.Run(tc.key.Algorithm, func(t *testing.T) {
			code, verifier := f.codeFor(tc.client, nil)
			resp, tok := f.exchange(tc.client, code, verifier)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("token: %d %v", resp.StatusCode, tok)
			}
			raw, _ := tok["id_token"].(string)
			idt, err := prov.Verifier(&oidc.Config{ClientID: tc.client}).Verify(ctx, raw)
			if err != nil {
				t.Fatalf("go-oidc: %v", err)
			}
			if idt.Subject != testSubject {
				t.Fatalf("sub %q", idt.Subject)
			}
			hdr := jwsHeader(t, raw)
			if hdr.KeyID != tc.key.ID || hdr.Algorithm != tc.key.Algorithm {
				t.Fatalf("header kid %q alg %q, want %s %s", hdr.KeyID, hdr.Algorithm, tc.key.ID, tc.key.Algorithm)
			}
			if tc.client != clientSigned {
				return
			}
			// Signed UserInfo (ES256 for this client), checked against the JWKS.
			req, _ := http.NewRequest(http.MethodGet, f.url(config.PathUserInfo), nil)
			req.Header.Set("Authorization", "Bearer "+tok["access_token"].(string))
			uresp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(uresp.Body)
			uresp.Body.Close()
			if uresp.StatusCode != http.StatusOK || uresp.Header.Get("Content-Type") != "application/jwt" {
				t.Fatalf("userinfo: %d %s", uresp.StatusCode, body)
			}
			payload, err := oidc.NewRemoteKeySet(ctx, f.url(config.PathJWKS)).VerifySignature(ctx, string(body))
			if err != nil || !strings.Contains(string(payload), testSubject) {
				t.Fatalf("signed UserInfo: %v %s", err, payload)
			}
			if h := jwsHeader(t, string(body)); h.KeyID != keys[0].ID {
				t.Fatalf("UserInfo signed by %q, want the token's ES256 key %q", h.KeyID, keys[0].ID)
			}
		})
	}
	jwks := getBody(t, f.url(config.PathJWKS))
	for _, k := range keys {
		if !strings.Contains(jwks, k.ID) {
			t.Errorf("JWKS lacks %s", k.ID)
		}
	}
	if strings.Contains(jwks, `"d"`) {
		t.Errorf("the JWKS has a private member: %s", jwks)
	}
	if n := testutil.ToFloat64(f.p.keys.signatures.WithLabelValues(storePKCS11)); n < 3 {
		t.Errorf("signatures in the token: %v, want at least 3", n)
	}
	if n := testutil.ToFloat64(f.p.keys.signatures.WithLabelValues(storeSecret)); n != 0 {
		t.Errorf("signatures with a Secret key: %v", n)
	}
}

type jwsHead struct {
	KeyID     string `json:"kid"`
	Algorithm string `json:"alg"`
}

func jwsHeader(t testing.TB, raw string) jwsHead {
	t.Helper()
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256, jose.PS256, jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	h := jws.Signatures[0].Protected
	return jwsHead{KeyID: h.KeyID, Algorithm: h.Algorithm}
}

func getBody(t testing.TB, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", u, resp.StatusCode, b)
	}
	return string(b)
}

// gate makes a token hang while it is shut: every key lookup and
// signature waits for it, as a network HSM that stopped answering.
type gate struct {
	mu sync.Mutex
	ch chan struct{}
}

func (g *gate) shut() {
	g.mu.Lock()
	g.ch = make(chan struct{})
	g.mu.Unlock()
}

func (g *gate) open() {
	g.mu.Lock()
	if g.ch != nil {
		close(g.ch)
		g.ch = nil
	}
	g.mu.Unlock()
}

func (g *gate) wait() {
	g.mu.Lock()
	ch := g.ch
	g.mu.Unlock()
	if ch != nil {
		<-ch
	}
}

type gatedToken struct {
	hsm.KeyToken
	g *gate
}

func (t gatedToken) Signer(id string) (crypto.Signer, error) {
	t.g.wait()
	s, err := t.KeyToken.Signer(id)
	if err != nil {
		return nil, err
	}
	return gatedSigner{s, t.g}, nil
}

type gatedSigner struct {
	crypto.Signer
	g *gate
}

func (s gatedSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	s.g.wait()
	return s.Signer.Sign(r, digest, opts)
}

// TestTokenUnavailable: a token that stops answering fails the token
// request within the deadline with temporarily_unavailable (503); the
// next requests are refused at once, before their code is used up, and
// signed UserInfo likewise; discovery and JWKS keep answering 200 and
// readiness stays true; when the token answers again, signing resumes
// without a restart and the refused code still works.
func TestTokenUnavailable(t *testing.T) {
	const deadline = 300 * time.Millisecond
	g := &gate{}
	t.Cleanup(g.open)
	reg := prometheus.NewRegistry()
	f, _ := hsmFixture(t, reg, gatedOpen(g), deadline)
	ks := f.p.keys

	// Working: a signed-UserInfo client gets its tokens.
	code, verifier := f.codeFor(clientSigned, nil)
	resp, tok := f.exchange(clientSigned, code, verifier)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token: %d %v", resp.StatusCode, tok)
	}
	access := tok["access_token"].(string)
	codeA, verifierA := f.codeFor(clientBasic, nil)
	codeB, verifierB := f.codeFor(clientBasic, nil)

	g.shut()
	start := time.Now()
	resp, body := f.exchange(clientBasic, codeA, verifierA)
	took := time.Since(start)
	wantError(t, resp, body, http.StatusServiceUnavailable, "temporarily_unavailable")
	if took > deadline+2*time.Second {
		t.Fatalf("the hung token held the request %s, deadline %s", took, deadline)
	}
	if testutil.ToFloat64(ks.failures.WithLabelValues(hsm.ReasonTimeout)) != 1 {
		t.Fatalf("timeouts counted: %v", testutil.ToFloat64(ks.failures.WithLabelValues(hsm.ReasonTimeout)))
	}
	if ks.up() {
		t.Fatal("ida_op_keystore_up is 1 with the token hung")
	}

	// Refused at once now, the code left usable.
	start = time.Now()
	resp, body = f.exchange(clientBasic, codeB, verifierB)
	wantError(t, resp, body, http.StatusServiceUnavailable, "temporarily_unavailable")
	if took := time.Since(start); took >= deadline {
		t.Fatalf("a request while the token is down took %s: it waited for the token", took)
	}
	ur, ub := f.userinfo(access)
	wantError(t, ur, ub, http.StatusServiceUnavailable, "temporarily_unavailable")
	if testutil.ToFloat64(ks.failures.WithLabelValues(hsm.ReasonDown)) < 2 {
		t.Fatalf("refusals counted: %v", testutil.ToFloat64(ks.failures.WithLabelValues(hsm.ReasonDown)))
	}
	for _, path := range []string{config.PathDiscovery, config.PathJWKS} {
		getBody(t, f.url(path))
	}
	if !f.p.Ready() {
		t.Fatal("not ready with the token away: discovery and JWKS would go with it")
	}
	if !strings.Contains(f.logs.String(), "the PKCS#11 token is unavailable") {
		t.Fatalf("the outage is not logged: %s", f.logs.String())
	}

	// The token answers again: a probe finds it, and the code refused
	// while it was down is redeemed.
	g.open()
	for end := time.Now().Add(20 * time.Second); !ks.up(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("the token was not probed back up within 20s")
		}
	}
	resp, body = f.exchange(clientBasic, codeB, verifierB)
	if resp.StatusCode != http.StatusOK || body["id_token"] == nil {
		t.Fatalf("after recovery: %d %v", resp.StatusCode, body)
	}
	req, _ := http.NewRequest(http.MethodGet, f.url(config.PathUserInfo), nil)
	req.Header.Set("Authorization", "Bearer "+access)
	ur, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	ur.Body.Close()
	if ur.StatusCode != http.StatusOK || ur.Header.Get("Content-Type") != "application/jwt" {
		t.Fatalf("signed userinfo after recovery: %d", ur.StatusCode)
	}
	if !strings.Contains(f.logs.String(), "the PKCS#11 token answers again") {
		t.Fatal("the recovery is not logged")
	}
}

// TestTokenWithoutPIN: a provider whose token PIN is missing from the
// environment starts, serves discovery and JWKS, says so in its log, and
// answers token requests temporarily_unavailable, never a 500.
func TestTokenWithoutPIN(t *testing.T) {
	cfg, keys := tokenKeys(t)
	t.Setenv(config.PKCS11PINEnv, "")
	if err := os.Unsetenv(config.PKCS11PINEnv); err != nil {
		t.Fatal(err)
	}
	f := newFixtureWith(t, func(o *Options) { o.Metrics = prometheus.NewRegistry() }, func(s *config.Snapshot) {
		s.Keys = &config.KeySet{Keys: keys}
		s.Provider.PKCS11 = &config.PKCS11{Module: cfg.Module, TokenLabel: cfg.TokenLabel}
	})
	t.Cleanup(func() { f.p.keys.token(nil) })
	code, verifier := f.codeFor(clientBasic, nil)
	resp, body := f.exchange(clientBasic, code, verifier)
	wantError(t, resp, body, http.StatusServiceUnavailable, "temporarily_unavailable")
	getBody(t, f.url(config.PathDiscovery))
	getBody(t, f.url(config.PathJWKS))
	logs := f.logs.String()
	if !strings.Contains(logs, "its PIN is not set") || !strings.Contains(logs, config.PKCS11PINEnv) {
		t.Fatalf("the missing PIN is not logged clearly: %s", logs)
	}
	if f.p.keys.up() {
		t.Fatal("ida_op_keystore_up is 1 without a PIN")
	}
}

// gatedOpen opens the real token behind g.
func gatedOpen(g *gate) func(hsm.Config) (hsm.KeyToken, error) {
	return func(c hsm.Config) (hsm.KeyToken, error) {
		tok, err := hsm.Open(c)
		if err != nil {
			return nil, err
		}
		return gatedToken{tok, g}, nil
	}
}

// TestTokenKeysSignEverything: besides ID tokens, JWT access tokens
// (RFC 9068), signed introspection answers (RFC 9701) and logout tokens
// are signed in the token, each verifying with the published key of the
// token's kid. A logout token that cannot be signed while the token
// hangs counts as a failed delivery, and the logout page still answers.
func TestTokenKeysSignEverything(t *testing.T) {
	const deadline = 300 * time.Millisecond
	g := &gate{}
	t.Cleanup(g.open)
	basic, post := newRPEndpoint(t), newRPEndpoint(t)
	reg := prometheus.NewRegistry()
	f, keys := hsmFixture(t, reg, gatedOpen(g), deadline, withBackchannel(basic, post, true), func(s *config.Snapshot) {
		s.Provider.Tokens.AccessTokenFormat = config.AccessTokenJWT
	})
	es256 := keys[0].ID
	signedBy := func(what, raw, typ string) {
		t.Helper()
		parsed, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256})
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		h := parsed.Headers[0]
		if h.KeyID != es256 || h.ExtraHeaders[jose.HeaderType] != typ {
			t.Fatalf("%s: kid %q typ %v, want %s %s", what, h.KeyID, h.ExtraHeaders[jose.HeaderType], es256, typ)
		}
		var c jwt.Claims
		if err := parsed.Claims(publishedKey(t, f, h.KeyID), &c); err != nil || c.Issuer != f.issuer {
			t.Fatalf("%s: %v %+v", what, err, c)
		}
	}

	code, verifier := f.codeFor(clientBasic, nil)
	resp, tok := f.exchange(clientBasic, code, verifier)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token: %d %v", resp.StatusCode, tok)
	}
	at := tok["access_token"].(string)
	signedBy("access token", at, "at+jwt")

	ir := f.post(config.PathIntrospect, url.Values{"token": {at}}, map[string]string{
		"Authorization": basicAuth(clientBasic, testSecret)["Authorization"], "Accept": introspectionJWT,
	})
	raw, _ := io.ReadAll(ir.Body)
	ir.Body.Close()
	if ir.StatusCode != http.StatusOK {
		t.Fatalf("introspection: %d %s", ir.StatusCode, raw)
	}
	signedBy("introspection answer", string(raw), "token-introspection+jwt")

	b := f.browser()
	idt := f.signedInWithIDToken(b, clientBasic)
	if pg := f.get(b, f.endSessionURL(url.Values{"id_token_hint": {idt}, "post_logout_redirect_uri": {postLogoutURI}})); pg.status != http.StatusSeeOther {
		t.Fatalf("logout: %d %.300s", pg.status, pg.body)
	}
	f.p.backchannel.wg.Wait()
	if got := basic.received(); len(got) != 1 {
		t.Fatalf("logout tokens: %d", len(got))
	}
	checkLogoutToken(t, f, basic.received()[0], clientBasic)
	signedBy("logout token", basic.received()[0], "logout+jwt")

	// The token hangs: the logout still answers, the delivery fails.
	b2 := f.browser()
	idt = f.signedInWithIDToken(b2, clientBasic)
	g.shut()
	if pg := f.get(b2, f.endSessionURL(url.Values{"id_token_hint": {idt}, "post_logout_redirect_uri": {postLogoutURI}})); pg.status != http.StatusSeeOther {
		t.Fatalf("logout with the token hung: %d %.300s", pg.status, pg.body)
	}
	f.p.backchannel.wg.Wait()
	if n := testutil.ToFloat64(f.p.backchannel.outcomes.WithLabelValues(bclFailed)); n != 1 || len(basic.received()) != 1 {
		t.Fatalf("failed deliveries %v, tokens received %d", n, len(basic.received()))
	}
	// Introspection's signed answer is refused too, and plain JSON is not.
	ir = f.post(config.PathIntrospect, url.Values{"token": {at}}, map[string]string{
		"Authorization": basicAuth(clientBasic, testSecret)["Authorization"], "Accept": introspectionJWT,
	})
	wantError(t, ir, decode(t, ir), http.StatusServiceUnavailable, "temporarily_unavailable")
	ir = f.post(config.PathIntrospect, url.Values{"token": {at}}, basicAuth(clientBasic, testSecret))
	if body := decode(t, ir); ir.StatusCode != http.StatusOK || body["active"] != true {
		t.Fatalf("plain introspection with the token down: %d %v", ir.StatusCode, body)
	}
}
