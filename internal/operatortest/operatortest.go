// Package operatortest runs the operator's manager against a test control
// plane with the CRDs of other projects installed, for the tests that check
// what the operator writes against those projects' schemas (Gateway API,
// cert-manager) or real implementations of them.
package operatortest

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/idaop/ida-operator/internal/controlplane"
	"github.com/idaop/ida-operator/internal/manager"
)

// Env is a control plane with the manager running on it.
type Env struct {
	ControlPlane *controlplane.ControlPlane
	// Client is an admin client with the manager's scheme.
	Client client.Client
	stop   func()
}

// Start starts a control plane with crds installed beside the operator's
// own, then the manager, which discovers them as it would in a cluster.
func Start(crds ...string) (*Env, error) {
	cp, err := controlplane.Start(crds...)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	mgr, err := manager.New(ctx, cp.Config, manager.Options{MetricsAddr: "0", ProbeAddr: "0"})
	if err != nil {
		cancel()
		_ = cp.Stop()
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	stop := func() {
		cancel()
		<-done
		_ = cp.Stop()
	}
	c, err := client.New(cp.Config, client.Options{Scheme: manager.Scheme()})
	if err != nil {
		stop()
		return nil, fmt.Errorf("building a client: %w", err)
	}
	return &Env{ControlPlane: cp, Client: c, stop: stop}, nil
}

// Main runs a test binary's tests against an Env with the CRDs crds
// names, its client in *c; for TestMain: os.Exit(Main(m, crds, &k8s)).
func Main(m *testing.M, crds func() ([]string, error), c *client.Client) int {
	files, err := crds()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	env, err := Start(files...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer env.Stop()
	*c = env.Client
	return m.Run()
}

// Stop stops the manager, then the control plane.
func (e *Env) Stop() { e.stop() }

// Eventually calls check until it returns nil, failing t after timeout
// with its last error.
func Eventually(t testing.TB, timeout time.Duration, check func() error) {
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
