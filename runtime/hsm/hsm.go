// Package hsm keeps signing keys in a PKCS#11 token (a hardware security
// module, or SoftHSM2 in tests): keys are generated inside the token as
// sensitive and not extractable, and used through crypto.Signer, so the
// private halves never exist in this process's memory. The PKCS#11 binding
// (ThalesGroup/crypto11 over miekg/pkcs11) loads the vendor's module with
// dlopen and needs cgo: a binary built without cgo (the default static
// image) answers every call with ErrNoPKCS11.
package hsm

import (
	"crypto"
	"errors"
	"fmt"
)

// Config names a token and how to sign in to it.
type Config struct {
	// Module is the path of the vendor's PKCS#11 library (a .so).
	Module string
	// TokenLabel selects the token by its label.
	TokenLabel string
	// PIN is the user PIN.
	PIN string
}

// ErrNoPKCS11 is what a build without cgo answers.
var ErrNoPKCS11 = errors.New("hsm: this binary was built without PKCS#11 support (cgo); use the pkcs11 build of the image")

// ErrPIN is what a login refused for its PIN (wrong, locked, expired) or
// a missing PIN matches: trying again cannot help, and may lock the PIN.
var ErrPIN = errors.New("hsm: the PIN is missing or refused")

// ErrNoKey is returned for a key id the token does not hold.
var ErrNoKey = errors.New("hsm: no such key in the token")

// Key algorithms, as JWS names: what a generated key will sign with.
const (
	ES256 = "ES256"
	PS256 = "PS256"
	RS256 = "RS256"
)

// rsaBits is the size of generated RSA keys: FAPI 2.0 asks for at least
// 2048 bits.
const rsaBits = 2048

func unsupportedAlg(alg string) error {
	return fmt.Errorf("hsm: cannot generate a key for %q (ES256, PS256 or RS256)", alg)
}

// KeyToken is what the operator and the runtime need of a token; Token
// implements it.
type KeyToken interface {
	// Generate makes a key pair for alg inside the token under id and
	// returns its public half.
	Generate(id, alg string) (crypto.PublicKey, error)
	// Signer is the key pair under id, for signing.
	Signer(id string) (crypto.Signer, error)
	// Delete removes the key pair under id.
	Delete(id string) error
	Close() error
}
