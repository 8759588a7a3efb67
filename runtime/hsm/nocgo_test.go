//go:build !cgo

package hsm_test

import "testing"

// TestBuiltWithCgo: without cgo the PKCS#11 tests are not compiled, and a
// passing run would prove nothing about them.
func TestBuiltWithCgo(t *testing.T) {
	t.Fatal("runtime/hsm's tests need cgo (a C compiler and CGO_ENABLED=1) to load SoftHSM2's PKCS#11 module")
}
