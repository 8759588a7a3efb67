// Package hsmtest gives tests a real PKCS#11 token: SoftHSM2 (Debian's
// softhsm2, installed by hack/test-deps.sh) with its token directory in a
// temporary folder.
package hsmtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/idaop/ida-operator/runtime/hsm"
)

// modulePaths are where Debian puts SoftHSM2's PKCS#11 library.
var modulePaths = []string{
	"/usr/lib/softhsm/libsofthsm2.so",
	"/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
}

var (
	once   sync.Once
	shared hsm.Config
	dir    string
	err    error
)

// The PIN of the test token, and its label.
const (
	PIN   = "1234"
	Label = "ida-test"
)

// SoftHSM returns a Config for a SoftHSM2 token that lives as long as the
// test binary. SoftHSM reads SOFTHSM2_CONF once per process, so every test
// of a package shares the one token; give keys distinct ids. A missing
// SoftHSM fails the test, never skips it.
func SoftHSM(t testing.TB) hsm.Config {
	t.Helper()
	once.Do(func() { shared, err = setUp() })
	if err != nil {
		t.Fatalf("SoftHSM2: %v (run hack/test-deps.sh to install Debian's softhsm2)", err)
	}
	return shared
}

func setUp() (hsm.Config, error) {
	module := os.Getenv("SOFTHSM2_MODULE")
	for _, p := range modulePaths {
		if module != "" {
			break
		}
		if _, err := os.Stat(p); err == nil {
			module = p
		}
	}
	util, err := exec.LookPath("softhsm2-util")
	if err != nil || module == "" {
		return hsm.Config{}, os.ErrNotExist
	}
	// The folder outlives the tests of the binary on purpose: the token is
	// shared by all of them, and it is a few kilobytes in /tmp.
	if dir, err = os.MkdirTemp("", "ida-softhsm-"); err != nil {
		return hsm.Config{}, err
	}
	tokens := filepath.Join(dir, "tokens")
	if err := os.Mkdir(tokens, 0o700); err != nil {
		return hsm.Config{}, err
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	if err := os.WriteFile(conf, []byte("directories.tokendir = "+tokens+"\nobjectstore.backend = file\nlog.level = ERROR\n"), 0o600); err != nil {
		return hsm.Config{}, err
	}
	if err := os.Setenv("SOFTHSM2_CONF", conf); err != nil {
		return hsm.Config{}, err
	}
	out, err := exec.Command(util, "--init-token", "--free", "--label", Label, "--pin", PIN, "--so-pin", "5678").CombinedOutput()
	if err != nil {
		return hsm.Config{}, &initError{out: string(out), err: err}
	}
	return hsm.Config{Module: module, TokenLabel: Label, PIN: PIN}, nil
}

type initError struct {
	out string
	err error
}

func (e *initError) Error() string {
	return "softhsm2-util --init-token: " + e.err.Error() + ": " + e.out
}
