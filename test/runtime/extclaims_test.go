package runtime_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/idaop/ida-operator/internal/runtimecmd"
	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/source"
	"github.com/idaop/ida-operator/test/internal/rptest"
)

// testClaimSource is an external claim source of the test: its own ES256
// key, its JWKS and a distributed claims endpoint, over TLS.
type testClaimSource struct {
	srv   *httptest.Server
	key   *ecdsa.PrivateKey
	token string
}

func startTestClaimSource(t *testing.T) *testClaimSource {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cs := &testClaimSource{key: k, token: "dist-" + rptest.RandomString()}
	mux := http.NewServeMux()
	mux.HandleFunc("/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &k.PublicKey, KeyID: "cs-1", Algorithm: "ES256", Use: "sig"}}})
	})
	mux.HandleFunc("/claims", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+cs.token {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/jwt")
		_, _ = io.WriteString(w, cs.sign(t, cs.srv.URL, map[string]any{"name": "山田 太郎", "birthdate": "1985-04-12"}, nil))
	})
	cs.srv = httptest.NewTLSServer(mux)
	t.Cleanup(cs.srv.Close)
	return cs
}

// sign is an assertion of iss (IDA §6.1) under jp_oidf_ida with claims,
// plus extra payload members.
func (cs *testClaimSource) sign(t *testing.T, iss string, claims, extra map[string]any) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: cs.key},
		(&jose.SignerOptions{}).WithType("provided-claims+jwt").WithHeader("kid", "cs-1"))
	if err != nil {
		t.Fatal(err)
	}
	p := map[string]any{"iss": iss, "sub": "kyc-4711", "iat": time.Now().Unix(), "verified_claims": map[string]any{
		"verification": map[string]any{"trust_framework": "jp_oidf_ida"}, "claims": claims,
	}}
	for k, v := range extra {
		p[k] = v
	}
	body, _ := json.Marshal(p)
	jws, err := s.Sign(body)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := jws.CompactSerialize()
	return out
}

// TestExternalClaimsWithJose: the runtime passes on the demo user's
// external verified claims (an aggregated assertion and a distributed
// reference, besides a tampered assertion, one with aud and one of an
// untrusted issuer), and a relying party built on the jose library
// validates them as IDA §6.2 says, fetching the distributed one with its
// access token.
func TestExternalClaimsWithJose(t *testing.T) {
	t.Parallel()
	root := rptest.ProjectRoot(t)
	cs := startTestClaimSource(t)
	cb := rptest.NewCallbacks(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String()
	dir := t.TempDir()
	g, err := writeConfigDir(dir, issuer, cb.RedirectURI())
	if err != nil {
		t.Fatal(err)
	}

	names := map[string]any{"name": "山田 太郎"}
	good := cs.sign(t, cs.srv.URL, names, nil)
	parts := strings.Split(cs.sign(t, cs.srv.URL, map[string]any{"name": "Mallory"}, nil), ".")
	bad := map[string]string{
		"tampered":  strings.Split(good, ".")[0] + "." + parts[1] + "." + strings.Split(good, ".")[2],
		"with aud":  cs.sign(t, cs.srv.URL, names, map[string]any{"aud": clientBasic}),
		"untrusted": cs.sign(t, "https://unknown.example", names, nil),
	}
	editJSON(t, filepath.Join(dir, config.ProviderConfigKey), func(p map[string]any) {
		p["external_claims"] = map[string]any{"sources": []any{map[string]any{
			"issuer": cs.srv.URL, "jwks_uri": cs.srv.URL + "/jwks.json", "trust_frameworks": []any{"jp_oidf_ida"},
		}}}
	})
	editJSON(t, filepath.Join(dir, source.UsersKey), func(doc map[string]any) {
		for _, u := range doc["users"].([]any) {
			u := u.(map[string]any)
			if u["username"] != "demo" {
				continue
			}
			u["external_claims"] = []any{
				map[string]any{"issuer": cs.srv.URL, "jwt": bad["tampered"]},
				map[string]any{"issuer": cs.srv.URL, "jwt": good},
				map[string]any{"issuer": cs.srv.URL, "jwt": bad["with aud"]},
				map[string]any{"issuer": "https://unknown.example", "jwt": bad["untrusted"]},
				map[string]any{"issuer": cs.srv.URL, "endpoint": cs.srv.URL + "/claims", "access_token": cs.token,
					"verified_claims": map[string]any{"verification": map[string]any{"trust_framework": "jp_oidf_ida"},
						"claims": map[string]any{"name": nil, "birthdate": nil}}},
			}
		}
	})

	logs := &rptest.SyncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- runtimecmd.Serve(ctx, runtimecmd.Options{
			ConfigDir: dir, StartTimeout: 15 * time.Second, ShutdownGrace: time.Second, HTTPClient: cs.srv.Client(),
		}, ln, slog.New(slog.NewJSONHandler(logs, nil)))
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("runtime logs:\n%s", logs)
		}
	})
	waitReady(t, issuer, done)

	c := rptest.NewClient(issuer, clientBasic, g.clientSecret, cb.RedirectURI())
	if err := c.Discover(); err != nil {
		t.Fatal(err)
	}
	vc := `{"verification": {"trust_framework": null}, "claims": {"name": null, "birthdate": null}}`
	c.Scope, c.Claims = "openid", `{"id_token": {"verified_claims": `+vc+`}, "userinfo": {"verified_claims": `+vc+`}}`
	r := c.NewRequest("")
	got := cb.Expect(r.State)
	formSignIn(t, c.AuthorizationURL(r), demoPassword)
	code, err := c.CodeFrom(rptest.Wait(t, got, 5*time.Second), r)
	if err != nil {
		t.Fatal(err)
	}
	toks, err := c.Exchange(code, r)
	if err != nil {
		t.Fatal(err)
	}
	idt, err := rptest.NewVerifier(issuer, c.Endpoints.JWKS).Verify(toks.IDToken, clientBasic)
	if err != nil {
		t.Fatal(err)
	}
	ui, err := c.UserInfo(toks.AccessToken)
	if err != nil {
		t.Fatal(err)
	}

	// The relying party: jose, trusting the claim source's CA for its
	// endpoint and keys.
	caFile := filepath.Join(t.TempDir(), "claim-source-ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cs.srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	trusted, _ := json.Marshal(map[string]string{cs.srv.URL: cs.srv.URL + "/jwks.json"})
	nctx, ncancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer ncancel()
	rp := rptest.StartNodeScript(t, nctx, root, "claimsources.mjs", "TRUSTED_SOURCES="+string(trusted), "NODE_EXTRA_CA_CERTS="+caFile)
	for where, claims := range map[string]map[string]any{"id_token": idt.Claims, "userinfo": ui} {
		raw, _ := json.Marshal(claims)
		for name, jwt := range bad {
			if strings.Contains(string(raw), jwt) {
				t.Errorf("%s: the %s assertion was passed on", where, name)
			}
		}
		line, _ := json.Marshal(map[string]any{"where": where, "claims": claims})
		rp.Send(t, string(line))
		ev := rp.Next(t, "validated")
		sources, _ := ev["sources"].(map[string]any)
		if len(sources) != 2 {
			t.Fatalf("%s: jose validated %d sources: %s", where, len(sources), rptest.Pretty(ev))
		}
		agg, _ := sources["src1"].(map[string]any)
		dist, _ := sources["src2"].(map[string]any)
		if agg["kind"] != "aggregated" || dist["kind"] != "distributed" {
			t.Fatalf("%s: sources %s", where, rptest.Pretty(sources))
		}
		aggVC, _ := agg["verified_claims"].(map[string]any)
		distVC, _ := dist["verified_claims"].(map[string]any)
		if c, _ := aggVC["claims"].(map[string]any); c["name"] != "山田 太郎" {
			t.Errorf("%s: aggregated claims %v", where, aggVC)
		}
		if c, _ := distVC["claims"].(map[string]any); c["birthdate"] != "1985-04-12" {
			t.Errorf("%s: distributed claims %v", where, distVC)
		}
		t.Logf("%s: jose validated src1 (%v, %v) and src2 (%v, %v)", where, agg["kind"], agg["iss"], dist["kind"], dist["iss"])
	}
	// The relying party's checks are real: it refuses what the provider
	// refused.
	for name, jwt := range bad {
		line, _ := json.Marshal(map[string]any{"where": name, "claims": map[string]any{
			"_claim_names": map[string]any{"verified_claims": "src1"}, "_claim_sources": map[string]any{"src1": map[string]any{"JWT": jwt}},
		}})
		rp.Send(t, string(line))
		ev := rp.Next(t, "error")
		t.Logf("jose refuses the %s assertion: %v", name, ev["error"])
	}
	// The three bad assertions were logged with their reason.
	for _, reason := range []string{"the signature does not verify", "it has aud", "the issuer is not a trusted claim source"} {
		if !strings.Contains(logs.String(), reason) {
			t.Errorf("no log says %q", reason)
		}
	}
	// Discovery says so (IDA §8).
	var doc map[string]any
	resp, err := http.Get(issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	_ = json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if got, _ := json.Marshal(doc["claim_types_supported"]); string(got) != `["normal","aggregated","distributed"]` {
		t.Errorf("claim_types_supported = %s", got)
	}
}

// editJSON rewrites a JSON file of the config dir through edit.
func editJSON(t *testing.T, path string, edit func(map[string]any)) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	if b, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// waitReady waits for the runtime's /readyz.
func waitReady(t *testing.T, issuer string, done <-chan error) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(issuer + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case err := <-done:
			t.Fatalf("runtime stopped: %v", err)
		default:
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("runtime not ready within 20s")
}
