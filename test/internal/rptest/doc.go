// Package rptest holds what the tests that play a relying party share: a
// headless Debian Chromium driven by chromedp for login and consent, the
// relying party's redirect URI, test/oidc-client's openid-client relying
// party as a child process, an ID token verifier that follows the published
// JWKS, and validation of verified_claims against the project's own schema
// (internal/idatest) plus the official one when the spec folder is there.
//
// Nothing here downloads anything: hack/test-deps.sh installs chromium,
// redis-server and test/oidc-client's node_modules, and a missing one fails
// the test with that hint, never skips it.
package rptest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idaop/ida-operator/internal/specdir"
	"github.com/idaop/ida-operator/internal/testlog"
)

// DepsHint says how to install what the tests need.
const DepsHint = "run hack/test-deps.sh (it installs Debian chromium and redis-server and runs npm ci in test/oidc-client)"

// ChromiumPath is Debian's chromium; browsers are never downloaded here.
const ChromiumPath = "/usr/bin/chromium"

// FindProjectRoot is the directory holding go.mod above the working
// directory.
func FindProjectRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("no go.mod above %s", wd)
		}
	}
}

// ProjectRoot is FindProjectRoot, failing t when there is none.
func ProjectRoot(t testing.TB) string {
	t.Helper()
	root, err := FindProjectRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// FindSpecDir is the official OIDC4IDA spec folder found by specdir.Find
// ($IDA_SPEC_DIR, else ../shared/spec beside the project root), or "" when
// there is none: its schemas are an extra check, the project's own schema
// always runs. A folder without schema/verified_claims.json is an error.
func FindSpecDir() (string, error) {
	dir, _ := specdir.Find()
	if dir == "" {
		return "", nil
	}
	if _, err := os.Stat(filepath.Join(dir, "schema", "verified_claims.json")); err != nil {
		return "", fmt.Errorf("the OIDC4IDA spec folder %s has no official schema: %v", dir, err)
	}
	return dir, nil
}

// SpecDir is FindSpecDir, failing t on a broken spec folder; "" (logged)
// when there is none.
func SpecDir(t testing.TB) string {
	t.Helper()
	dir, err := FindSpecDir()
	if err != nil {
		t.Fatal(err)
	}
	if dir == "" {
		_, looked := specdir.Find()
		t.Logf("official-spec-extra left out: spec folder not found; looked in %v", looked)
	}
	return dir
}

// RequireNodeClient fails (never skips) without node and
// test/oidc-client's node_modules; it returns node and the script folder.
func RequireNodeClient(t testing.TB, root string) (node, dir string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is not on PATH: install Node.js >= 20, then %s", DepsHint)
	}
	dir = filepath.Join(root, "test", "oidc-client")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "openid-client", "package.json")); err != nil {
		t.Fatalf("test/oidc-client/node_modules/openid-client is missing: %s", DepsHint)
	}
	return node, dir
}

// SyncBuffer collects output from concurrent writers (testlog.Buffer);
// String shows its end only.
type SyncBuffer struct{ testlog.Buffer }

// String is the last 20000 bytes written.
func (b *SyncBuffer) String() string { return strings.TrimSpace(b.Tail(20000)) }

// Pretty is v as indented JSON, for failure messages.
func Pretty(v any) string {
	b, err := jsonIndent(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
