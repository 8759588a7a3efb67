// Package softhsm makes a SoftHSM2 token (Debian's softhsm2) in a directory
// of its own: a real PKCS#11 token for the tests and the demo, with the
// same module an HSM vendor's would take the place of.
package softhsm

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/idaop/ida-operator/runtime/hsm"
)

// ConfEnv is the variable SoftHSM2 reads its configuration file from. It
// is read once per process, when the module is first loaded.
const ConfEnv = "SOFTHSM2_CONF"

// modulePaths are where Debian puts SoftHSM2's PKCS#11 library.
var modulePaths = []string{
	"/usr/lib/softhsm/libsofthsm2.so",
	"/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
}

// ErrNotInstalled: softhsm2-util or the module is missing.
var ErrNotInstalled = errors.New("SoftHSM2 is not installed (Debian package softhsm2; hack/softhsm.sh installs it)")

// Module is the path of SoftHSM2's PKCS#11 library ($SOFTHSM2_MODULE
// first), or ErrNotInstalled.
func Module() (string, error) {
	if m := os.Getenv("SOFTHSM2_MODULE"); m != "" {
		return m, nil
	}
	for _, p := range modulePaths {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", ErrNotInstalled
}

// Token is a token initialised in a directory.
type Token struct {
	// Config signs in to the token.
	Config hsm.Config
	// Conf is its configuration file, for ConfEnv.
	Conf string
}

// Init makes a token labelled label with the user PIN pin in dir/tokens,
// and its configuration file dir/softhsm2.conf. It does not set ConfEnv:
// the caller decides which process reads it.
func Init(dir, label, pin string) (*Token, error) {
	module, err := Module()
	if err != nil {
		return nil, err
	}
	util, err := exec.LookPath("softhsm2-util")
	if err != nil {
		return nil, ErrNotInstalled
	}
	tokens := filepath.Join(dir, "tokens")
	if err := os.MkdirAll(tokens, 0o700); err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	if err := os.WriteFile(conf, []byte("directories.tokendir = "+tokens+"\nobjectstore.backend = file\nlog.level = ERROR\n"), 0o600); err != nil {
		return nil, err
	}
	// The SO PIN only matters to re-initialise the token; it is random and
	// forgotten.
	cmd := exec.Command(util, "--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", randomPIN())
	cmd.Env = append(os.Environ(), ConfEnv+"="+conf)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("softhsm2-util --init-token: %w: %s", err, out)
	}
	return &Token{Config: hsm.Config{Module: module, TokenLabel: label, PIN: pin}, Conf: conf}, nil
}

// randomPIN is a throwaway PIN of 16 base32 characters.
func randomPIN() string { return rand.Text()[:16] }
