package controlplane

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
)

// GatewayAPICRDs is the directory of the Gateway API's standard-channel
// CRDs in the sigs.k8s.io/gateway-api module this project builds with, so
// the tests install exactly the schema and CEL rules of the types they
// render, from the Go module cache and nothing else.
func GatewayAPICRDs() (string, error) {
	root, err := ProjectRoot()
	if err != nil {
		return "", err
	}
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/gateway-api")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("finding the sigs.k8s.io/gateway-api module (go list -m): %w", err)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		return "", fmt.Errorf("the sigs.k8s.io/gateway-api module is not downloaded: run `go mod download`")
	}
	return filepath.Join(dir, "config", "crd", "standard"), nil
}
