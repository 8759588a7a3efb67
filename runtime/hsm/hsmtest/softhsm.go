// Package hsmtest gives tests a real PKCS#11 token: SoftHSM2 (Debian's
// softhsm2, installed by hack/test-deps.sh) with its token directory in a
// temporary folder.
package hsmtest

import (
	"os"
	"sync"
	"testing"

	"github.com/idaop/ida-operator/internal/softhsm"
	"github.com/idaop/ida-operator/runtime/hsm"
)

var (
	once   sync.Once
	shared hsm.Config
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
	// The folder outlives the tests of the binary on purpose: the token is
	// shared by all of them, and it is a few kilobytes in /tmp.
	dir, err := os.MkdirTemp("", "ida-softhsm-")
	if err != nil {
		return hsm.Config{}, err
	}
	tok, err := softhsm.Init(dir, Label, PIN)
	if err != nil {
		return hsm.Config{}, err
	}
	if err := os.Setenv(softhsm.ConfEnv, tok.Conf); err != nil {
		return hsm.Config{}, err
	}
	return tok.Config, nil
}
