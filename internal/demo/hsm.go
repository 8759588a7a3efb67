package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/idaop/ida-operator/internal/softhsm"
	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/hsm"
)

// The demo provider's token, when SoftHSM2 is installed.
const (
	demoTokenLabel = "ida-demo"
	demoPINSecret  = "hsm-pin"
)

// demoHSM is the SoftHSM2 token the demo provider's keys are made in.
type demoHSM struct {
	Config hsm.Config
	Dir    string
}

// startHSM makes a fresh SoftHSM2 token under stateDir for the demo
// provider's signing keys, and points this process (the operator and the
// runtime alike) at it, as a pod's environment would. Nil, with the
// reason, when this machine or build cannot: the demo then keeps its keys
// in the Secret.
func startHSM(stateDir string) (*demoHSM, error) {
	dir := filepath.Join(stateDir, "softhsm")
	if err := os.RemoveAll(dir); err != nil { // a previous run's keys
		return nil, err
	}
	tok, err := softhsm.Init(dir, demoTokenLabel, randomString(12))
	if err != nil {
		return nil, err
	}
	if err := os.Setenv(softhsm.ConfEnv, tok.Conf); err != nil {
		return nil, err
	}
	// Signing in once tells whether this binary can load the module at all
	// (a build without cgo cannot).
	t, err := hsm.Open(tok.Config)
	if err != nil {
		return nil, err
	}
	if err := t.Close(); err != nil {
		return nil, err
	}
	// What the runtime pod gets from the PIN Secret: one process here.
	if err := os.Setenv(config.PKCS11PINEnv, tok.Config.PIN); err != nil {
		return nil, err
	}
	return &demoHSM{Config: tok.Config, Dir: dir}, nil
}

// keysInHSM changes the sample provider demo so that its keys are made in
// the token.
func keysInHSM(objs []*unstructured.Unstructured, h *demoHSM) error {
	for _, u := range objs {
		if u.GetKind() != "IdentityProvider" || u.GetNamespace() != "idp-demo" || u.GetName() != "demo" {
			continue
		}
		store := map[string]any{"type": "PKCS11", "pkcs11": map[string]any{
			"module": h.Config.Module, "tokenLabel": h.Config.TokenLabel,
			"pinSecretRef": map[string]any{"name": demoPINSecret, "key": "pin"},
		}}
		return unstructured.SetNestedMap(u.Object, store, "spec", "signing", "keyStore")
	}
	return errors.New("the samples have no IdentityProvider idp-demo/demo")
}

// createPINSecret writes the Secret the provider names for its PIN.
func createPINSecret(ctx context.Context, c client.Client, h *demoHSM) error {
	pin := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "idp-demo", Name: demoPINSecret},
		Data:       map[string][]byte{"pin": []byte(h.Config.PIN)},
	}
	if err := c.Create(ctx, pin); err != nil {
		return fmt.Errorf("creating the PIN Secret: %w", err)
	}
	return nil
}

func printHSM(out io.Writer, h *demoHSM) {
	fmt.Fprintf(out, `
The provider's signing keys were made inside a PKCS#11 token (SoftHSM2, in
%s), as sensitive and not extractable: they sign there and never leave it.
The Secret idp-demo/demo-signing-keys holds only their public halves and
schedule; the JWKS at %s is made from them. The operator rotates them as
it would keys in a Secret, and deletes retired ones from the token.
`, h.Dir, "$ISSUER/jwks")
}
