// Package localnode runs a provider's runtime as a local process, exactly as
// its pod would run: the arguments of the Deployment's pod template, the
// ServiceAccount's credentials (a token from the TokenRequest API), and the
// runtime's own /readyz reported into the Deployment's status the way a
// kubelet and the Deployment controller would. The test control plane has
// no node; the demo and the end-to-end tests use this instead.
package localnode

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/idaop/ida-operator/internal/runtimecmd"
)

// Runtime is one provider runtime running locally.
type Runtime struct {
	// URL is where it listens, e.g. http://127.0.0.1:8180.
	URL  string
	done chan error
	stop context.CancelFunc
}

// Stop stops the runtime and waits for it.
func (r *Runtime) Stop() error {
	r.stop()
	return <-r.done
}

// Start waits for the Deployment the operator made for a provider, then
// runs its runtime on ln with the credentials of the pod's ServiceAccount.
// stateDir receives the ServiceAccount's kubeconfig.
func Start(ctx context.Context, admin *rest.Config, c client.Client, deployment client.ObjectKey, ln net.Listener, stateDir string, log *slog.Logger) (*Runtime, error) {
	var dep appsv1.Deployment
	if err := wait(ctx, 30*time.Second, func() error { return c.Get(ctx, deployment, &dep) }); err != nil {
		return nil, fmt.Errorf("waiting for Deployment %s: %w", deployment, err)
	}
	spec := dep.Spec.Template.Spec
	if len(spec.Containers) == 0 {
		return nil, errors.New("the runtime Deployment has no container")
	}
	args := spec.Containers[0].Args
	if len(args) == 0 || args[0] != "runtime" {
		return nil, fmt.Errorf("the runtime container runs %v, not the runtime subcommand", args)
	}
	fs := flag.NewFlagSet("runtime", flag.ContinueOnError)
	var opts runtimecmd.Options
	opts.Bind(fs)
	if err := fs.Parse(args[1:]); err != nil {
		return nil, fmt.Errorf("the pod's arguments: %w", err)
	}
	kubeconfig, err := serviceAccountKubeconfig(ctx, admin, deployment.Namespace, spec.ServiceAccountName, stateDir)
	if err != nil {
		return nil, err
	}
	opts.Kubeconfig = kubeconfig
	opts.StartTimeout = 30 * time.Second
	opts.ShutdownGrace = 2 * time.Second

	runCtx, stop := context.WithCancel(ctx)
	r := &Runtime{URL: "http://" + ln.Addr().String(), done: make(chan error, 1), stop: stop}
	served := make(chan error, 1)
	go func() { served <- runtimecmd.Serve(runCtx, opts, ln, log) }()
	go func() {
		reportReadiness(runCtx, c, deployment, r.URL+"/readyz", log)
		r.done <- <-served
	}()
	return r, nil
}

// serviceAccountKubeconfig writes a kubeconfig that authenticates as the
// ServiceAccount, with a token from the TokenRequest API as the kubelet
// would mount it.
func serviceAccountKubeconfig(ctx context.Context, admin *rest.Config, ns, sa, dir string) (string, error) {
	cs, err := kubernetes.NewForConfig(admin)
	if err != nil {
		return "", err
	}
	tr, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(ctx, sa, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](24 * 3600)},
	}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("requesting a token for ServiceAccount %s/%s: %w", ns, sa, err)
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["local"] = &clientcmdapi.Cluster{Server: admin.Host, CertificateAuthorityData: admin.CAData}
	cfg.AuthInfos[sa] = &clientcmdapi.AuthInfo{Token: tr.Status.Token}
	cfg.Contexts["runtime"] = &clientcmdapi.Context{Cluster: "local", AuthInfo: sa, Namespace: ns}
	cfg.CurrentContext = "runtime"
	path := filepath.Join(dir, ns+"-"+sa+".kubeconfig")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	return path, clientcmd.WriteToFile(*cfg, path)
}

// reportReadiness probes the runtime's /readyz and writes the result into
// the Deployment's status, only when it changes.
func reportReadiness(ctx context.Context, c client.Client, key client.ObjectKey, readyz string, log *slog.Logger) {
	hc := &http.Client{Timeout: time.Second}
	last := int32(-1)
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		ready := int32(0)
		if resp, err := hc.Get(readyz); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				ready = 1
			}
		}
		if ctx.Err() != nil {
			ready = 0
		}
		var dep appsv1.Deployment
		if err := c.Get(context.WithoutCancel(ctx), key, &dep); err == nil &&
			(ready != last || dep.Status.ObservedGeneration != dep.Generation || dep.Status.AvailableReplicas != ready) {
			dep.Status = appsv1.DeploymentStatus{
				ObservedGeneration: dep.Generation, Replicas: 1, UpdatedReplicas: 1,
				ReadyReplicas: ready, AvailableReplicas: ready, UnavailableReplicas: 1 - ready,
			}
			if err := c.Status().Update(context.WithoutCancel(ctx), &dep); err != nil {
				log.Debug("reporting runtime readiness", "err", err)
			} else {
				last = ready
			}
		}
		if ctx.Err() != nil {
			return
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
}

func wait(ctx context.Context, timeout time.Duration, f func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
