// Package e2e is the end-to-end test of ida-operator: a real kube-apiserver
// and etcd with the CRDs, the manager, the provider runtime run by
// internal/localnode exactly as its pod would (pod arguments, the
// ServiceAccount's TokenRequest token), Redis as the session store, the
// openid-client relying party (test/oidc-client) and a headless Debian
// Chromium for login and consent.
//
//	make envtest test-deps
//	go test ./test/e2e/ -v
//
// The manager runs as a child process (this test binary, re-executed), so
// that "restart the manager" is a real process restart. Everything it
// needs is installed by hack/test-deps.sh and hack/envtest-assets.sh; when
// something is missing the test fails and says so, it never skips.
package e2e

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/idaop/ida-operator/internal/manager"
)

// managerEnv, set to a kubeconfig path, makes the test binary run the
// manager instead of the tests.
const managerEnv = "IDA_E2E_MANAGER_KUBECONFIG"

func TestMain(m *testing.M) {
	if kc := os.Getenv(managerEnv); kc != "" {
		os.Exit(runManager(kc))
	}
	os.Exit(m.Run())
}

// runManager is the manager process: what `ida-operator manager` does,
// with the metrics and probe endpoints off, until SIGTERM.
func runManager(kubeconfig string) int {
	ctrl.SetLogger(logr.FromSlogHandler(slog.NewJSONHandler(os.Stderr, nil)))
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		fmt.Fprintln(os.Stderr, "manager:", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	mgr, err := manager.New(ctx, cfg, manager.Options{MetricsAddr: "0", ProbeAddr: "0"})
	if err != nil {
		fmt.Fprintln(os.Stderr, "manager:", err)
		return 1
	}
	if err := mgr.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "manager:", err)
		return 1
	}
	return 0
}

// managerProc is the manager running as a child process.
type managerProc struct {
	cmd  *exec.Cmd
	done chan error
}

func startManager(kubeconfig, logPath string) (*managerProc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), managerEnv+"="+kubeconfig)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// The manager dies with the test, whatever happens to the test.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, err
	}
	p := &managerProc{cmd: cmd, done: make(chan error, 1)}
	go func() {
		p.done <- cmd.Wait()
		logFile.Close()
	}()
	return p, nil
}

// stop sends SIGTERM, as the kubelet would, and waits.
func (p *managerProc) stop() error {
	if p == nil || p.cmd == nil {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.cmd = nil
		return err
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		p.cmd = nil
		return errors.New("the manager did not stop within 20s of SIGTERM")
	}
}

// exited reports an early exit of the manager.
func (p *managerProc) exited() error {
	select {
	case err := <-p.done:
		p.done <- err
		return fmt.Errorf("the manager exited: %v", err)
	default:
		return nil
	}
}
