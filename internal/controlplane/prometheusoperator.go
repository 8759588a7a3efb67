package controlplane

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// PrometheusOperatorVersion is the Prometheus Operator release whose CRDs
// the tests install. The operator does not build with its Go types; its
// module is fetched from the Go module proxy only for this YAML.
const PrometheusOperatorVersion = "v0.88.0"

// PrometheusOperatorCRDs are the files of the Prometheus Operator's
// PodMonitor, ServiceMonitor and PrometheusRule CRDs at
// PrometheusOperatorVersion, downloaded into the Go module cache (and
// found there afterwards), so the manifests of config/prometheus are
// checked against the real schemas.
func PrometheusOperatorCRDs() ([]string, error) {
	mod := "github.com/prometheus-operator/prometheus-operator@" + PrometheusOperatorVersion
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
	dir := filepath.Join(info.Dir, "example", "prometheus-operator-crd")
	var files []string
	for _, kind := range []string{"podmonitors", "servicemonitors", "prometheusrules"} {
		files = append(files, filepath.Join(dir, "monitoring.coreos.com_"+kind+".yaml"))
	}
	return files, nil
}
