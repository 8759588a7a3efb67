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

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"

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

// WaitCondition waits until the provider's condition typ, for its current
// generation, has status and reason, and returns its message.
func WaitCondition(t testing.TB, c client.Client, idp *idav1alpha1.IdentityProvider, typ idav1alpha1.ConditionType, status metav1.ConditionStatus, reason idav1alpha1.ConditionReason) string {
	t.Helper()
	var msg string
	Eventually(t, 20*time.Second, func() error {
		var got idav1alpha1.IdentityProvider
		if err := c.Get(context.Background(), client.ObjectKeyFromObject(idp), &got); err != nil {
			return err
		}
		cond := meta.FindStatusCondition(got.Status.Conditions, string(typ))
		if cond == nil || cond.ObservedGeneration != got.Generation {
			return fmt.Errorf("%s not reported for generation %d", typ, got.Generation)
		}
		if cond.Status != status || cond.Reason != string(reason) {
			return fmt.Errorf("%s is %s/%s (%s), want %s/%s", typ, cond.Status, cond.Reason, cond.Message, status, reason)
		}
		msg = cond.Message
		return nil
	})
	return msg
}

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
