package runtimecmd

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/idaop/ida-operator/controllers/signingkeys"
	"github.com/idaop/ida-operator/internal/controlplane"
	"github.com/idaop/ida-operator/internal/monitoring"
	"github.com/idaop/ida-operator/internal/testlog"
	"github.com/idaop/ida-operator/internal/testpki"
	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/ida"
	"github.com/idaop/ida-operator/runtime/store/storetest"
	"github.com/idaop/ida-operator/runtime/users"
)

const (
	testClient   = "team-a.webapp"
	testSecret   = "correct-horse-battery-staple-0123456789-abcdef"
	testPassword = "demo-password"
	redirectURI  = "https://rp.example/cb"
)

// writeConfigDir writes a provider with one client and the demo user into
// a --config-dir.
func writeConfigDir(t *testing.T, issuer string, sessions config.SessionStore, mods ...func(*config.Provider)) string {
	t.Helper()
	dir := t.TempDir()
	d := func(m time.Duration) config.Duration { return config.Duration{Duration: m} }
	provider := config.Provider{
		Issuer:            issuer,
		SigningAlgorithms: []string{config.ES256},
		Tokens: config.Lifetimes{IDToken: d(5 * time.Minute), AccessToken: d(10 * time.Minute),
			RefreshToken: d(24 * time.Hour), AuthorizationCode: d(time.Minute)},
		Users:        config.UserSource{Type: config.UsersBuiltin, Builtin: &config.BuiltinUsers{SecretName: "users"}},
		SessionStore: sessions,
		IDA: ida.Policy{TrustFrameworks: []ida.TrustFramework{{
			Identifier: "uk_tfida", EvidenceTypes: []string{"document"}, DocumentTypes: []string{"passport", "idcard", "driving_permit"},
			CheckMethods: []string{"vpip", "pvr", "data"}, Claims: []string{"given_name", "family_name", "birthdate", "address"},
		}}},
	}
	for _, m := range mods {
		m(&provider)
	}
	key, err := signingkeys.Generate(config.ES256, time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	client := config.Client{
		ClientID: testClient, ClientName: "Team A", Namespace: "team-a", Name: "webapp",
		RedirectURIs: []string{redirectURI}, GrantTypes: []string{"authorization_code"}, ResponseTypes: []string{"code"},
		Scopes: []string{"openid", "profile"}, TokenEndpointAuthMethod: config.AuthClientSecretBasic,
		SecretHash: config.HashClientSecret(testSecret), TrustFrameworks: []string{"uk_tfida"},
		VerifiedClaims: []string{"given_name", "family_name", "birthdate"},
	}
	demo, err := users.DemoUsers(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, v any) {
		data, ok := v.([]byte)
		if !ok {
			if data, err = json.Marshal(v); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(config.ProviderConfigKey, provider)
	write(config.KeySetKey, config.KeySet{Keys: []config.SigningKey{key}})
	write(filepath.Join(config.ClientsDir, "webapp.json"), client)
	write("users.json", demo)
	return dir
}

// serve starts a runtime on ln and stops it with the test.
func serve(t *testing.T, dir string, ln net.Listener) string {
	t.Helper()
	base, _ := serveLogging(t, dir, ln)
	return base
}

// serveLogging is serve with the loggers of `ida-operator runtime`
// (JSONLogs), writing into the returned buffer.
func serveLogging(t *testing.T, dir string, ln net.Listener) (string, *testlog.Buffer) {
	t.Helper()
	logs := &testlog.Buffer{}
	log, audit := JSONLogs(logs)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, Options{ConfigDir: dir, StartTimeout: 10 * time.Second, ShutdownGrace: time.Second, Audit: audit}, ln, log)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("runtime stopped with %v", err)
		}
	})
	base := "http://" + ln.Addr().String()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base, logs
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("runtime at %s not ready: %v", base, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

var (
	hiddenInteraction = regexp.MustCompile(`name="interaction" value="([^"]+)"`)
	hiddenCSRF        = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
)

// browser is a user agent whose cookies, like a browser's, are shared by
// every port of 127.0.0.1; it stops at the relying party.
func browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type page struct {
	status             int
	location, body     string
	interaction, csrfT string
}

func get(t *testing.T, c *http.Client, target string) page {
	t.Helper()
	resp, err := c.Get(target)
	return read(t, resp, err)
}

func post(t *testing.T, c *http.Client, target string, form url.Values) page {
	t.Helper()
	resp, err := c.PostForm(target, form)
	return read(t, resp, err)
}

func read(t *testing.T, resp *http.Response, err error) page {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	p := page{status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(b)}
	if m := hiddenInteraction.FindStringSubmatch(p.body); m != nil {
		p.interaction = m[1]
	}
	if m := hiddenCSRF.FindStringSubmatch(p.body); m != nil {
		p.csrfT = m[1]
	}
	return p
}

func authorizeURL(base string) string {
	q := url.Values{
		"response_type": {"code"}, "client_id": {testClient}, "redirect_uri": {redirectURI},
		"scope": {"openid profile"}, "state": {"s1"}, "nonce": {"n1"},
		"code_challenge": {challenge()}, "code_challenge_method": {"S256"},
		"claims": {`{"userinfo":{"verified_claims":{"verification":{"trust_framework":null},"claims":{"given_name":null,"birthdate":null}}}}`},
	}
	return base + config.PathAuthorize + "?" + q.Encode()
}

const verifier = "dBjftJeZ4CVP-mpO8i3HmdQa0eYrzNhvYY3X6ZfzTGA"

func challenge() string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func codeFrom(t *testing.T, p page) string {
	t.Helper()
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, redirectURI) {
		t.Fatalf("want a redirect to the client, got %d %q %.300s", p.status, p.location, p.body)
	}
	u, _ := url.Parse(p.location)
	if u.Query().Get("code") == "" {
		t.Fatalf("no code in %s", p.location)
	}
	return u.Query().Get("code")
}

// TestTwoRuntimesShareRedis signs in at one runtime and redeems the code,
// reads UserInfo and reuses the session at the other: all state lives in
// Redis.
func TestTwoRuntimesShareRedis(t *testing.T) {
	addr := storetest.StartRedis(t)
	lnA, lnB := listen(t), listen(t)
	issuer := "http://" + lnA.Addr().String()
	dir := writeConfigDir(t, issuer, config.SessionStore{Type: config.SessionStoreRedis, Redis: &config.RedisStore{Address: addr}})
	a, logsA := serveLogging(t, dir, lnA)
	b := serve(t, dir, lnB)

	br := browser()
	login := get(t, br, authorizeURL(a))
	if login.status != http.StatusOK || login.interaction == "" {
		t.Fatalf("authorize at A: %d %.300s", login.status, login.body)
	}
	// The login form is posted to B: the interaction lives in Redis.
	form := url.Values{"interaction": {login.interaction}, "csrf_token": {login.csrfT}, "username": {users.DemoUsername}, "password": {testPassword}}
	consent := post(t, br, b+"/interaction/login", form)
	if consent.status != http.StatusOK || consent.interaction == "" {
		t.Fatalf("login at B: %d %q %.300s", consent.status, consent.location, consent.body)
	}
	form = url.Values{"interaction": {consent.interaction}, "csrf_token": {consent.csrfT}, "decision": {"approve"}}
	code := codeFrom(t, post(t, br, a+"/interaction/consent", form))

	// The code issued by A is redeemed at B.
	req, _ := http.NewRequest(http.MethodPost, b+config.PathToken, strings.NewReader(url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier},
	}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(testClient), url.QueryEscape(testSecret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tokens struct {
		AccessToken string `json:"access_token"`
		IDToken     string `json:"id_token"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tokens)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || tokens.AccessToken == "" || tokens.IDToken == "" {
		t.Fatalf("token at B: %d %+v", resp.StatusCode, tokens)
	}

	// UserInfo at A with the token B issued carries verified_claims.
	req, _ = http.NewRequest(http.MethodGet, a+config.PathUserInfo, nil)
	req.Header.Set("Authorization", "Bearer "+tokens.AccessToken)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var info map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&info)
	resp.Body.Close()
	vc, _ := info["verified_claims"].(map[string]any)
	claims, _ := vc["claims"].(map[string]any)
	if resp.StatusCode != http.StatusOK || info["sub"] != users.DemoSubject || claims["given_name"] == nil {
		t.Fatalf("userinfo at A: %d %v", resp.StatusCode, info)
	}
	// A's log holds the audit event of that release, written before the
	// answer, with the claim's name and never its value.
	var event map[string]any
	for _, line := range strings.Split(logsA.String(), "\n") {
		if strings.Contains(line, `"logger":"audit"`) {
			if err := json.Unmarshal([]byte(line), &event); err != nil {
				t.Fatalf("audit line is not JSON: %s", line)
			}
		}
	}
	if event["target"] != "userinfo" || event["client_id"] != testClient || !strings.Contains(fmt.Sprint(event["claims"]), "given_name") {
		t.Fatalf("no audit event for the release at A: %v\n%s", event, logsA.String())
	}
	if name, _ := claims["given_name"].(string); name == "" || strings.Contains(logsA.String(), name) {
		t.Fatalf("the log holds the released value %q", name)
	}

	// The session signed in through A and B is known to B: no login page.
	again := get(t, br, authorizeURL(b))
	codeFrom(t, again)
}

// TestRefusesBadConfigAndKeepsServing breaks the config dir under a running
// runtime: it keeps serving the last good configuration.
func TestRefusesBadConfigAndKeepsServing(t *testing.T) {
	ln := listen(t)
	dir := writeConfigDir(t, "http://"+ln.Addr().String(), config.SessionStore{Type: config.SessionStoreMemory})
	base := serve(t, dir, ln)
	if err := os.WriteFile(filepath.Join(dir, config.ProviderConfigKey), []byte(`{"issuer": 42}`), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // more than the directory's poll interval
	resp, err := http.Get(base + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || doc["issuer"] != base {
		t.Fatalf("discovery after a bad edit: %d %v", resp.StatusCode, doc["issuer"])
	}
	if r, _ := http.Get(base + "/readyz"); r == nil || r.StatusCode != http.StatusOK {
		t.Fatal("not ready after a bad edit")
	}
}

// The operational paths answer beside the provider's, with their methods
// enforced; everything else is the provider's to route.
func TestOperationalRoutes(t *testing.T) {
	ln := listen(t)
	base := serve(t, writeConfigDir(t, "http://"+ln.Addr().String(), config.SessionStore{Type: config.SessionStoreMemory}), ln)
	call := func(method, path string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, c := range []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, "/healthz", http.StatusOK},
		{http.MethodGet, "/readyz", http.StatusOK},
		{http.MethodPost, "/healthz", http.StatusMethodNotAllowed},
		{http.MethodGet, "/.well-known/openid-configuration", http.StatusOK},
		{http.MethodGet, "/no-such-endpoint", http.StatusNotFound},
		{http.MethodGet, "/healthz/", http.StatusNotFound},
	} {
		if got, body := call(c.method, c.path); got != c.status {
			t.Errorf("%s %s: %d, want %d: %.200s", c.method, c.path, got, c.status, body)
		}
	}
	// The discovery request above is counted.
	status, body := call(http.MethodGet, "/metrics")
	if status != http.StatusOK || !strings.Contains(body, `ida_op_requests_total{endpoint="discovery"`) {
		t.Fatalf("metrics: %d %.300s", status, body)
	}
	// The memory store says how full it is.
	for _, m := range []string{"ida_store_memory_used_bytes ", "ida_store_memory_budget_bytes "} {
		if !strings.Contains(body, "\n"+m) {
			t.Errorf("metrics lack %s", m)
		}
	}
	// The alerts and the dashboard name only metrics the runtime exports
	// itself, besides its provider's (checked in runtime/op).
	root, err := controlplane.ProjectRoot()
	if err != nil {
		t.Fatal(err)
	}
	used, err := monitoring.UsedMetrics(root)
	if err != nil {
		t.Fatal(err)
	}
	exported, err := monitoring.ExportedText(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{"ida_store_", "ida_users_"} {
		if missing := monitoring.Missing(used, prefix, exported); len(missing) > 0 {
			t.Errorf("config/prometheus or config/grafana name metrics the runtime does not export: %v", missing)
		}
	}
}

// An issuer with a path (https://bank.example/id behind a route that
// matches the prefix /id) is served entirely below that path; the probes
// stay at the root, where the kubelet calls them.
func TestServesBelowTheIssuerPath(t *testing.T) {
	ln := listen(t)
	issuer := "http://" + ln.Addr().String() + "/id"
	base := serve(t, writeConfigDir(t, issuer, config.SessionStore{Type: config.SessionStoreMemory}), ln)
	get := func(u string) (int, map[string]any) {
		t.Helper()
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var doc map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&doc)
		return resp.StatusCode, doc
	}
	status, doc := get(issuer + "/.well-known/openid-configuration")
	if status != http.StatusOK || doc["issuer"] != issuer {
		t.Fatalf("discovery below the path: %d issuer %v", status, doc["issuer"])
	}
	for _, k := range []string{"jwks_uri", "authorization_endpoint", "token_endpoint", "userinfo_endpoint", "pushed_authorization_request_endpoint"} {
		if u, _ := doc[k].(string); !strings.HasPrefix(u, issuer+"/") {
			t.Errorf("%s = %q, not below the issuer", k, u)
		}
	}
	if status, jwks := get(doc["jwks_uri"].(string)); status != http.StatusOK || len(jwks["keys"].([]any)) == 0 {
		t.Errorf("jwks_uri: %d %v", status, jwks)
	}
	if status, _ := get(base + "/.well-known/openid-configuration"); status != http.StatusNotFound {
		t.Errorf("discovery at the root: %d, want 404 (only the issuer's path is the provider's)", status)
	}
	if status, _ := get(base + "/readyz"); status != http.StatusOK {
		t.Errorf("/readyz at the root: %d", status)
	}
}

// With an ops listener the provider's port answers only the provider: an
// issuer at the root of its host, routed whole to that port, does not show
// its metrics or probes to the internet.
func TestOperationalRoutesOnTheirOwnPort(t *testing.T) {
	ln, opsLn := listen(t), listen(t)
	dir := writeConfigDir(t, "http://"+ln.Addr().String(), config.SessionStore{Type: config.SessionStoreMemory})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	log, _ := JSONLogs(io.Discard)
	go func() {
		done <- Serve(ctx, Options{ConfigDir: dir, StartTimeout: 10 * time.Second, ShutdownGrace: time.Second, OpsListener: opsLn}, ln, log)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("runtime stopped with %v", err)
		}
	})
	base, ops := "http://"+ln.Addr().String(), "http://"+opsLn.Addr().String()
	status := func(u string) int {
		resp, err := http.Get(u)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	deadline := time.Now().Add(10 * time.Second)
	for status(ops+"/readyz") != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("not ready on the ops port")
		}
		time.Sleep(50 * time.Millisecond)
	}
	for u, want := range map[string]int{
		ops + "/healthz": http.StatusOK,
		ops + "/metrics": http.StatusOK,
		base + "/.well-known/openid-configuration": http.StatusOK,
		base + "/metrics":                          http.StatusNotFound,
		base + "/healthz":                          http.StatusNotFound,
		base + "/readyz":                           http.StatusNotFound,
		ops + "/.well-known/openid-configuration":  http.StatusNotFound,
	} {
		if got := status(u); got != want {
			t.Errorf("GET %s: %d, want %d", u, got, want)
		}
	}
}

// With --tls-cert-file and --tls-key-file the provider's port speaks https
// with that certificate (a client verifies it against its CA), probes and
// metrics stay plain http on the ops port for the kubelet, and the two
// flags go together.
func TestServesTLSFromFiles(t *testing.T) {
	ca := testpki.NewCA(t)
	certFile, keyFile := ca.IssueFiles(t, t.TempDir(), 42)
	ln, ops := listen(t), listen(t)
	issuer := "https://" + ln.Addr().String()
	dir := writeConfigDir(t, issuer, config.SessionStore{Type: config.SessionStoreMemory})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, Options{ConfigDir: dir, StartTimeout: 10 * time.Second, ShutdownGrace: time.Second,
			TLSCertFile: certFile, TLSKeyFile: keyFile, OpsListener: ops}, ln, slog.New(slog.DiscardHandler))
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("runtime stopped with %v", err)
		}
	})
	opsBase := "http://" + ops.Addr().String()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(opsBase + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool}}}
	resp, err := client.Get(issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || resp.StatusCode != http.StatusOK || doc["issuer"] != issuer {
		t.Fatalf("discovery over TLS: %d %v %v", resp.StatusCode, doc["issuer"], err)
	}
	if s := resp.TLS.PeerCertificates[0].SerialNumber.Int64(); s != 42 {
		t.Errorf("served certificate serial %d, want 42", s)
	}
	// Plain http on the provider's port gets no OpenID answer.
	if resp, err := http.Get("http://" + ln.Addr().String() + "/.well-known/openid-configuration"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("plain http answered on the TLS port")
		}
	}

	err = Serve(context.Background(), Options{ConfigDir: dir, TLSCertFile: certFile}, listen(t), slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "go together") {
		t.Errorf("--tls-cert-file alone: %v", err)
	}
}
