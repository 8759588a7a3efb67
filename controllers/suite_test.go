package controllers_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/idaop/ida-operator/internal/controlplane"
	"github.com/idaop/ida-operator/internal/manager"
)

// The controllers run in a real manager against a real kube-apiserver.

var (
	k8s   client.Client
	clock = &fakeClock{t: time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)}
	// sectorServer serves relying parties' sectorIdentifierURIs over TLS;
	// the operator trusts its CA. Tests add their paths to sectorMux.
	sectorMux    = http.NewServeMux()
	sectorServer *httptest.Server
)

// fakeClock is the controllers' clock in these tests; only key rotation
// reads it.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	// The controllers' logs go nowhere unless asked for with -v.
	flag.Parse()
	ctrl.SetLogger(logr.FromSlogHandler(slog.NewTextHandler(logOutput(), nil)))
	cp, err := controlplane.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = cp.Stop() }()

	sectorServer = httptest.NewTLSServer(sectorMux)
	defer sectorServer.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	mgr, err := manager.New(ctx, cp.Config, manager.Options{MetricsAddr: "0", ProbeAddr: "0", Now: clock.Now,
		SectorRoots: sectorServer.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	// A direct client, not the manager's cache, so tests see the API
	// server's truth.
	if k8s, err = client.New(cp.Config, client.Options{Scheme: manager.Scheme()}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

func logOutput() io.Writer {
	if testing.Verbose() {
		return os.Stderr
	}
	return io.Discard
}

// eventually polls check until it returns nil or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %v", timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
