// Package runtime_test exercises the provider runtime (the `runtime`
// subcommand, runtimecmd.Serve) with real third-party parts: the openid-client
// npm package (test/oidc-client), github.com/coreos/go-oidc/v3 with
// golang.org/x/oauth2, and a headless Debian Chromium driven by chromedp.
//
// What it needs is installed by hack/test-deps.sh; when something is missing
// the tests fail and say so, they never skip.
//
//	hack/test-deps.sh
//	go test ./test/runtime/
//	go test ./test/runtime/ -args -update-screenshots   # rewrites docs/screenshots/*.png
package runtime_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idaop/ida-operator/internal/runtimecmd"
)

var updateScreenshots = flag.Bool("update-screenshots", false, "write the login and consent screenshots to docs/screenshots/")

const depsHint = "run hack/test-deps.sh (it installs Debian chromium and redis-server and runs npm ci in test/oidc-client)"

// chromiumPath is Debian's chromium; browsers are never downloaded here.
const chromiumPath = "/usr/bin/chromium"

var (
	envOnce sync.Once
	shared  *env
	envErr  error
)

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if sharedBr != nil {
		sharedBr.close()
	}
	if shared != nil {
		shared.close()
	}
	os.Exit(code)
}

// env is one runtime on loopback, shared by the package's tests, plus the
// relying parties' callback server.
type env struct {
	root      string // project root (go.mod)
	specDir   string
	issuer    string
	cb        *callbacks
	cfg       *generated
	logs      *syncBuffer
	cancel    context.CancelFunc
	done      chan error
	dir       string // the config dir
	closeOnce sync.Once
}

// getEnv starts the shared runtime on first use.
func getEnv(t *testing.T) *env {
	t.Helper()
	envOnce.Do(func() { shared, envErr = startEnv() })
	if envErr != nil {
		t.Fatal(envErr)
	}
	return shared
}

func startEnv() (*env, error) {
	root, err := projectRoot()
	if err != nil {
		return nil, err
	}
	spec, err := findSpecDir(root)
	if err != nil {
		return nil, err
	}
	e := &env{root: root, specDir: spec, logs: &syncBuffer{}, cb: newCallbacks(), done: make(chan error, 1)}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.cb.close()
		return nil, err
	}
	// IDA_TEST_ISSUER_PATH (e.g. /tenant-a) serves the provider below a
	// path, as behind a shared ingress.
	base := "http://" + ln.Addr().String()
	e.issuer = base + os.Getenv("IDA_TEST_ISSUER_PATH")
	dir, err := os.MkdirTemp("", "ida-runtime-test-")
	if err != nil {
		ln.Close()
		e.cb.close()
		return nil, err
	}
	e.dir = dir
	e.cfg, err = writeConfigDir(dir, e.issuer, e.cb.redirectURI())
	if err != nil {
		ln.Close()
		e.cb.close()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("writing the config dir: %w", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	log := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	go func() {
		e.done <- runtimecmd.Serve(ctx, runtimecmd.Options{
			ConfigDir: dir, StartTimeout: 15 * time.Second, ShutdownGrace: 2 * time.Second,
		}, ln, log)
	}()

	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return e, nil
			}
		}
		select {
		case err := <-e.done:
			e.cb.close()
			os.RemoveAll(dir)
			return nil, fmt.Errorf("runtime stopped before it was ready: %v\nlogs:\n%s", err, e.logs)
		default:
		}
		if time.Now().After(deadline) {
			e.close()
			return nil, fmt.Errorf("runtime not ready at %s within 20s\nlogs:\n%s", e.issuer, e.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (e *env) close() {
	e.closeOnce.Do(func() {
		e.cancel()
		select {
		case <-e.done:
		case <-time.After(5 * time.Second):
		}
		e.cb.close()
		os.RemoveAll(e.dir)
	})
}

// dumpLogsOnFailure prints the runtime's log when t fails.
func (e *env) dumpLogsOnFailure(t *testing.T) {
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("runtime logs:\n%s", e.logs)
		}
	})
}

func projectRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("no go.mod above %s", wd)
		}
	}
}

// findSpecDir is $IDA_SPEC_DIR, else ../shared/spec beside the project root.
func findSpecDir(root string) (string, error) {
	dir := os.Getenv("IDA_SPEC_DIR")
	if dir == "" {
		dir = filepath.Join(root, "..", "shared", "spec")
	}
	if _, err := os.Stat(filepath.Join(dir, "schema", "verified_claims.json")); err != nil {
		return "", fmt.Errorf("the OIDC4IDA spec folder is needed for schema validation: set IDA_SPEC_DIR or put it at ../shared/spec beside the project root (%v)", err)
	}
	return dir, nil
}

// requireChromium fails (never skips) without Debian's chromium.
func requireChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("%s is missing: %s", chromiumPath, depsHint)
	}
}

// requireNodeClient fails (never skips) without node and test/oidc-client's
// node_modules.
func requireNodeClient(t *testing.T, root string) (node, dir string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is not on PATH: install Node.js >= 20, then %s", depsHint)
	}
	dir = filepath.Join(root, "test", "oidc-client")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "openid-client", "package.json")); err != nil {
		t.Fatalf("test/oidc-client/node_modules/openid-client is missing: %s", depsHint)
	}
	return node, dir
}

// callbacks is the relying parties' redirect URI: it hands each
// authorization response to the flow waiting for its state.
type callbacks struct {
	srv     *httptest.Server
	mu      sync.Mutex
	waiting map[string]chan *url.URL
}

func newCallbacks() *callbacks {
	c := &callbacks{waiting: map[string]chan *url.URL{}}
	c.srv = httptest.NewServer(http.HandlerFunc(c.serve))
	return c
}

func (c *callbacks) redirectURI() string { return c.srv.URL + "/cb" }

func (c *callbacks) close() { c.srv.Close() }

// expect registers a flow's state before the browser is sent off.
func (c *callbacks) expect(state string) <-chan *url.URL {
	ch := make(chan *url.URL, 1)
	c.mu.Lock()
	c.waiting[state] = ch
	c.mu.Unlock()
	return ch
}

func (c *callbacks) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/cb" {
		http.NotFound(w, r)
		return
	}
	state := r.URL.Query().Get("state")
	c.mu.Lock()
	ch, ok := c.waiting[state]
	delete(c.waiting, state)
	c.mu.Unlock()
	if !ok {
		http.Error(w, "unexpected state", http.StatusBadRequest)
		return
	}
	u, _ := url.Parse(c.srv.URL + r.URL.RequestURI())
	ch <- u
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	io.WriteString(w, `<!doctype html><title>Relying party</title><p id="rp-done">Back at the relying party.</p>`)
}

// wait returns the authorization response or fails after d.
func wait(t *testing.T, ch <-chan *url.URL, d time.Duration) *url.URL {
	t.Helper()
	select {
	case u := <-ch:
		return u
	case <-time.After(d):
		t.Fatalf("no authorization response at the redirect URI within %s", d)
		return nil
	}
}

// syncBuffer collects log output from concurrent handlers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	if len(s) > 20000 {
		s = "...\n" + s[len(s)-20000:]
	}
	return strings.TrimSpace(s)
}
