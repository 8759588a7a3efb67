// Package demo runs the whole operator on the local machine: a control plane
// (the same kube-apiserver and etcd as the tests), the CRDs, the samples and
// the manager, until interrupted. No cluster is needed.
package demo

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
	"github.com/idaop/ida-operator/internal/controlplane"
	"github.com/idaop/ida-operator/internal/manager"
	"github.com/idaop/ida-operator/runtime/users"
)

// Run starts the demo and blocks until ctx ends, then stops everything it
// started.
func Run(ctx context.Context, args []string, out io.Writer) (err error) {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	stateDir := fs.String("dir", "bin/demo", "directory for the kubeconfig and logs")
	samples := fs.String("samples", "config/samples", "directory of manifests to apply")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := os.MkdirAll(*stateDir, 0o700); err != nil {
		return err
	}
	_ = os.Remove(filepath.Join(*stateDir, "env")) // a previous run's
	logFile, err := os.Create(filepath.Join(*stateDir, "operator.log"))
	if err != nil {
		return err
	}
	defer logFile.Close()
	ctrl.SetLogger(logr.FromSlogHandler(slog.NewJSONHandler(logFile, nil)))

	fmt.Fprintln(out, "Starting the local control plane (kube-apiserver + etcd)...")
	cp, err := controlplane.Start()
	if err != nil {
		return err
	}
	defer func() {
		fmt.Fprintln(out, "Stopping the control plane...")
		err = errors.Join(err, cp.Stop())
	}()

	kubeconfigPath := filepath.Join(*stateDir, "kubeconfig")
	if err := writeKubeconfig(cp, kubeconfigPath); err != nil {
		return err
	}
	c, err := client.New(cp.Config, client.Options{Scheme: manager.Scheme()})
	if err != nil {
		return err
	}
	objs, err := controlplane.ReadManifests(*samples)
	if err != nil {
		return fmt.Errorf("reading the samples: %w", err)
	}
	// With SoftHSM2 installed (make demo installs it), the provider's keys
	// are made in a token and never leave it.
	h, err := startHSM(*stateDir)
	if err != nil {
		fmt.Fprintf(out, "Signing keys stay in a Secret: no PKCS#11 token (%v).\n", err)
	} else if err := keysInHSM(objs, h); err != nil {
		return err
	}
	if err := controlplane.Apply(ctx, c, objs); err != nil {
		return err
	}
	if h != nil {
		if err := createPINSecret(ctx, c, h); err != nil {
			return err
		}
	}
	password, err := createDemoUsers(ctx, c)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Applied %d objects from %s.\n", len(objs), *samples)

	mgr, err := manager.New(ctx, cp.Config, manager.Options{MetricsAddr: "0", ProbeAddr: "0"})
	if err != nil {
		return err
	}
	mgrCtx, cancelMgr := context.WithCancel(ctx)
	mgrDone := make(chan error, 1)
	go func() { mgrDone <- mgr.Start(mgrCtx) }()
	defer func() {
		cancelMgr()
		err = errors.Join(err, <-mgrDone)
	}()

	if err := waitForReconciled(ctx, c, 30*time.Second); err != nil {
		return err
	}
	rt, err := startRuntimes(ctx, cp, c, *stateDir, logFile)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, rt.stop()) }()
	if err := waitForProvidersReady(ctx, c, 30*time.Second); err != nil {
		return err
	}
	story, err := prepareStory(ctx, c, *stateDir)
	if err != nil {
		return err
	}
	stopCallback, err := serveCallback(story)
	if err != nil {
		return err
	}
	defer stopCallback()
	// Written once everything above answers, so a script that waits for
	// the file can use all of it.
	story.Env["DEMO_USERNAME"], story.Env["DEMO_PASSWORD"] = users.DemoUsername, password
	if err := writeEnv(story.EnvPath, story.Env); err != nil {
		return err
	}
	printSummary(ctx, out, c, kubeconfigPath, filepath.Join(*stateDir, "operator.log"))
	printStory(out, story)
	if h != nil {
		printHSM(out, h)
	}

	select {
	case <-ctx.Done():
		fmt.Fprintln(out, "\nInterrupted.")
		return nil
	case err := <-mgrDone:
		mgrDone <- err
		return fmt.Errorf("the manager stopped: %w", err)
	}
}

func writeKubeconfig(cp *controlplane.ControlPlane, path string) error {
	data, err := cp.AdminKubeconfig()
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o600)
}

// waitForReconciled waits until every sample has a Ready condition for its
// current generation.
func waitForReconciled(ctx context.Context, c client.Client, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		if reconciled(ctx, c) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the samples were not reconciled within %s; see the operator log", timeout)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func reconciled(ctx context.Context, c client.Client) bool {
	var tfs idav1alpha1.TrustFrameworkList
	var idps idav1alpha1.IdentityProviderList
	var rps idav1alpha1.RelyingPartyList
	if c.List(ctx, &tfs) != nil || c.List(ctx, &idps) != nil || c.List(ctx, &rps) != nil {
		return false
	}
	var objs []client.Object
	for i := range tfs.Items {
		objs = append(objs, &tfs.Items[i])
	}
	for i := range idps.Items {
		objs = append(objs, &idps.Items[i])
	}
	for i := range rps.Items {
		objs = append(objs, &rps.Items[i])
	}
	for _, o := range objs {
		cond := meta.FindStatusCondition(o.(idav1alpha1.Conditioned).GetConditions(), string(idav1alpha1.ConditionReady))
		if cond == nil || cond.ObservedGeneration != o.GetGeneration() {
			return false
		}
	}
	return true
}

func printSummary(ctx context.Context, out io.Writer, c client.Client, kubeconfig, logPath string) {
	var tfs idav1alpha1.TrustFrameworkList
	_ = c.List(ctx, &tfs)
	var idps idav1alpha1.IdentityProviderList
	_ = c.List(ctx, &idps)
	var rps idav1alpha1.RelyingPartyList
	_ = c.List(ctx, &rps)

	fmt.Fprintln(out, "\nThe operator is running.")
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  KIND\tNAME\tREADY\tREASON")
	for i := range tfs.Items {
		fmt.Fprintf(tw, "  TrustFramework\t%s (%s)\t%s\n", tfs.Items[i].Name, tfs.Items[i].Spec.Identifier, readiness(tfs.Items[i].Status.Conditions))
	}
	for i := range idps.Items {
		fmt.Fprintf(tw, "  IdentityProvider\t%s/%s\t%s\n", idps.Items[i].Namespace, idps.Items[i].Name, readiness(idps.Items[i].Status.Conditions))
	}
	for i := range rps.Items {
		fmt.Fprintf(tw, "  RelyingParty\t%s/%s\t%s\n", rps.Items[i].Namespace, rps.Items[i].Name, readiness(rps.Items[i].Status.Conditions))
	}
	_ = tw.Flush()

	abs, _ := filepath.Abs(kubeconfig)
	fmt.Fprintf(out, `
Kubeconfig: %s
Try:
  export KUBECONFIG=%s
  kubectl get tf,idp,rp -A
  kubectl describe tf jp-oidf-ida
  kubectl -n idp-demo get secret,configmap,deployment,service
  kubectl -n idp-demo get configmap demo-provider -o jsonpath='{.data.openid-configuration\.json}'
  kubectl -n team-a get secret webapp-oidc-credentials -o yaml
The control plane has no node: each provider's runtime runs here as a local
process, with its pod's arguments and its ServiceAccount's token, and its
readiness is reported into the Deployment's status as a kubelet would.
Operator log: %s
Press Ctrl-C to stop; everything started here stops with it.
`, abs, abs, logPath)
}

func readiness(conds []metav1.Condition) string {
	cond := meta.FindStatusCondition(conds, string(idav1alpha1.ConditionReady))
	if cond == nil {
		return "pending\t"
	}
	return string(cond.Status) + "\t" + cond.Reason
}
