// Package deploy tests the deployment artefacts: the container image, the
// kustomize configurations (config/default, config/namespaced, the samples,
// the trust framework catalog and config/prometheus) against a real
// kube-apiserver, the alerts with promtool, the manager's RBAC, and the
// OLM bundle in bundle/.
package deploy

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/idaop/ida-operator/hack/bundlegen/olm"
	"github.com/idaop/ida-operator/internal/controlplane"
)

var (
	root    string
	admin   client.Client
	restCfg *rest.Config
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	var err error
	if root, err = controlplane.ProjectRoot(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// The Prometheus Operator's CRDs, for config/prometheus.
	monitoringCRDs, err := controlplane.PrometheusOperatorCRDs()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cp, err := controlplane.Start(monitoringCRDs...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = cp.Stop() }()
	restCfg = cp.Config
	if admin, err = client.New(cp.Config, client.Options{}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// render builds a kustomization under config/ with the kustomize library.
func render(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	objs, err := olm.Kustomize(filepath.Join(root, "config", dir))
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) == 0 {
		t.Fatalf("config/%s renders nothing", dir)
	}
	return objs
}

func ensureNamespace(t *testing.T, name string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := admin.Create(context.Background(), ns); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("creating namespace %s: %v", name, err)
	}
}

// applyForReal server-side applies objects as the administrator.
func applyForReal(t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	if err := controlplane.Apply(context.Background(), admin, objs); err != nil {
		t.Fatal(err)
	}
}

// dryRunAll creates every object with a server-side dry run, in this order:
// CRDs applied for real first, then Namespaces created for real (a dry run
// of a Namespace would leave what lives in it nowhere to go), then the rest.
func dryRunAll(t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	ctx := context.Background()
	var crds, rest []*unstructured.Unstructured
	for _, u := range objs {
		switch u.GetKind() {
		case "CustomResourceDefinition":
			crds = append(crds, u)
		case "Namespace":
			ensureNamespace(t, u.GetName())
		default:
			rest = append(rest, u)
		}
	}
	applyForReal(t, crds)
	for _, u := range objs {
		if ns := u.GetNamespace(); ns != "" {
			ensureNamespace(t, ns)
		}
	}
	for _, u := range rest {
		u := u.DeepCopy()
		// Strict: a misspelt field is an error, not silently dropped.
		err := admin.Create(ctx, u, client.DryRunAll, client.FieldValidation("Strict"))
		if apierrors.IsAlreadyExists(err) {
			// Another test created it for real; a dry-run apply still
			// checks the object.
			err = admin.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.DryRunAll, client.FieldOwner("deploy-test"), client.ForceOwnership)
		}
		if err != nil {
			t.Errorf("%s %s/%s: the API server refuses it: %v", u.GetKind(), u.GetNamespace(), u.GetName(), err)
		}
	}
}

func find(objs []*unstructured.Unstructured, kind, namespace, name string) *unstructured.Unstructured {
	for _, u := range objs {
		if u.GetKind() == kind && u.GetNamespace() == namespace && u.GetName() == name {
			return u
		}
	}
	return nil
}
