// Package controlplane starts the local Kubernetes control plane (the same
// kube-apiserver and etcd as the tests) with the CRDs installed. The demo and
// the integration tests share it.
package controlplane

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// K8sVersion is the version hack/envtest-assets.sh builds.
const K8sVersion = "1.37.2"

// ControlPlane is a running kube-apiserver and etcd.
type ControlPlane struct {
	env *envtest.Environment
	// Config authenticates as the control plane's administrator.
	Config *rest.Config
}

// Start starts a control plane with the project's CRDs installed, and the
// CRDs in extraCRDs (files or directories), e.g. GatewayAPICRDs. It finds
// the binaries through KUBEBUILDER_ASSETS or in bin/k8s/ under the project.
func Start(extraCRDs ...string) (*ControlPlane, error) {
	root, err := ProjectRoot()
	if err != nil {
		return nil, err
	}
	assets, err := AssetsDir(root)
	if err != nil {
		return nil, err
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     append([]string{filepath.Join(root, "config", "crd", "bases")}, extraCRDs...),
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("starting the control plane from %s: %w", assets, err)
	}
	return &ControlPlane{env: env, Config: cfg}, nil
}

// Stop stops the control plane and removes its data.
func (c *ControlPlane) Stop() error { return c.env.Stop() }

// AdminKubeconfig returns a kubeconfig for a member of system:masters, for
// people and kubectl.
func (c *ControlPlane) AdminKubeconfig() ([]byte, error) {
	user, err := c.env.AddUser(envtest.User{Name: "demo-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return nil, fmt.Errorf("adding the admin user: %w", err)
	}
	return user.KubeConfig()
}

// AssetsDir returns the directory holding kube-apiserver and etcd.
func AssetsDir(root string) (string, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir, nil
	}
	dir := filepath.Join(root, "bin", "k8s", K8sVersion+"-linux-"+runtime.GOARCH)
	if _, err := os.Stat(filepath.Join(dir, "kube-apiserver")); err != nil {
		return "", fmt.Errorf("no test control plane in %s and KUBEBUILDER_ASSETS is unset: run `make envtest` (or hack/envtest-assets.sh) first", dir)
	}
	return dir, nil
}

// ProjectRoot walks up from the working directory to the directory that
// holds go.mod.
func ProjectRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("cannot find the project root (a directory with go.mod) above the working directory")
		}
		dir = parent
	}
}
