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
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/idaop/ida-operator/internal/runtimecmd"
	"github.com/idaop/ida-operator/test/internal/rptest"
)

var updateScreenshots = flag.Bool("update-screenshots", false, "write the login and consent screenshots to docs/screenshots/")

var (
	envOnce sync.Once
	shared  *env
	envErr  error

	fapi2Once   sync.Once
	sharedFAPI2 *env
	fapi2Err    error
)

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if sharedBr != nil {
		sharedBr.Close()
	}
	if shared != nil {
		shared.close()
	}
	if sharedFAPI2 != nil {
		sharedFAPI2.close()
	}
	if levelsEnv != nil {
		levelsEnv.close()
	}
	os.Exit(code)
}

// env is one runtime on loopback, shared by the package's tests, plus the
// relying parties' callback server.
type env struct {
	root      string // project root (go.mod)
	specDir   string
	issuer    string
	cb        *rptest.Callbacks
	cfg       *generated
	logs      *rptest.SyncBuffer
	cancel    context.CancelFunc
	done      chan error
	dir       string // the config dir
	closeOnce sync.Once
}

// getEnv starts the shared runtime on first use.
func getEnv(t *testing.T) *env {
	t.Helper()
	envOnce.Do(func() { shared, envErr = startEnv(writeConfigDir) })
	if envErr != nil {
		t.Fatal(envErr)
	}
	return shared
}

// getFAPI2Env starts, on first use, a second runtime whose provider
// follows the FAPI 2.0 Security Profile.
func getFAPI2Env(t *testing.T) *env {
	t.Helper()
	fapi2Once.Do(func() { sharedFAPI2, fapi2Err = startEnv(writeFAPI2ConfigDir) })
	if fapi2Err != nil {
		t.Fatal(fapi2Err)
	}
	return sharedFAPI2
}

// startEnv starts a runtime on loopback from the config dir write renders.
func startEnv(write func(dir, issuer, redirectURI string) (*generated, error)) (*env, error) {
	return startEnvAt("", write)
}

// startEnvAt is startEnv with the issuer at host (say localhost, which
// WebAuthn needs: an IP address cannot be an RP ID) instead of the
// loopback address.
func startEnvAt(host string, write func(dir, issuer, redirectURI string) (*generated, error)) (*env, error) {
	root, err := rptest.FindProjectRoot()
	if err != nil {
		return nil, err
	}
	spec, err := rptest.FindSpecDir()
	if err != nil {
		return nil, err
	}
	e := &env{root: root, specDir: spec, logs: &rptest.SyncBuffer{}, cb: rptest.StartCallbacks(), done: make(chan error, 1)}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.cb.Close()
		return nil, err
	}
	// IDA_TEST_ISSUER_PATH (e.g. /tenant-a) serves the provider below a
	// path, as behind a shared ingress.
	base := "http://" + ln.Addr().String()
	if host != "" {
		base = "http://" + net.JoinHostPort(host, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	}
	e.issuer = base + os.Getenv("IDA_TEST_ISSUER_PATH")
	dir, err := os.MkdirTemp("", "ida-runtime-test-")
	if err != nil {
		ln.Close()
		e.cb.Close()
		return nil, err
	}
	e.dir = dir
	e.cfg, err = write(dir, e.issuer, e.cb.RedirectURI())
	if err != nil {
		ln.Close()
		e.cb.Close()
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
			e.cb.Close()
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
		e.cb.Close()
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
