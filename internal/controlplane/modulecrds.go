package controlplane

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Versions of other projects whose CRDs the tests install. The operator
// does not build with their Go modules; each is fetched from the Go module
// proxy into the module cache only for its CRD YAML, so the objects the
// operator renders are checked against the real schemas.
const (
	PrometheusOperatorVersion = "v0.88.0"
	CertManagerVersion        = "v1.19.1"
)

// PrometheusOperatorCRDs are the Prometheus Operator's PodMonitor,
// ServiceMonitor and PrometheusRule CRDs at PrometheusOperatorVersion.
func PrometheusOperatorCRDs() ([]string, error) {
	return moduleFiles("github.com/prometheus-operator/prometheus-operator", PrometheusOperatorVersion,
		filepath.Join("example", "prometheus-operator-crd"),
		"monitoring.coreos.com_podmonitors.yaml", "monitoring.coreos.com_servicemonitors.yaml", "monitoring.coreos.com_prometheusrules.yaml")
}

// CertManagerCRDs are cert-manager's Certificate, CertificateRequest,
// Issuer and ClusterIssuer CRDs at CertManagerVersion.
func CertManagerCRDs() ([]string, error) {
	return moduleFiles("github.com/cert-manager/cert-manager", CertManagerVersion, filepath.Join("deploy", "crds"),
		"cert-manager.io_certificates.yaml", "cert-manager.io_certificaterequests.yaml", "cert-manager.io_issuers.yaml", "cert-manager.io_clusterissuers.yaml")
}

// moduleFiles downloads module@version into the module cache (found there
// afterwards) and returns the paths of files in its directory dir.
func moduleFiles(module, version, dir string, files ...string) ([]string, error) {
	mod := module + "@" + version
	cmd := exec.Command("go", "mod", "download", "-json", mod)
	// Outside any module, so this project's go.mod is neither read nor changed.
	cmd.Dir = "/"
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GOWORK=off")
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go mod download %s: %w", mod, err)
	}
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(out, &info); err != nil {
		return nil, fmt.Errorf("go mod download %s: %w", mod, err)
	}
	if info.Error != "" || info.Dir == "" {
		return nil, fmt.Errorf("go mod download %s: %s", mod, info.Error)
	}
	paths := make([]string, 0, len(files))
	for _, f := range files {
		paths = append(paths, filepath.Join(info.Dir, dir, f))
	}
	return paths, nil
}
