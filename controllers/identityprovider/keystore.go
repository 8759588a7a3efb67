package identityprovider

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
	"github.com/idaop/ida-operator/controllers/conditions"
	"github.com/idaop/ida-operator/controllers/signingkeys"
	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/hsm"
)

// keyStoreRetry is how soon a provider whose token could not be reached is
// tried again: a person fixing a PIN or a module path sees the result
// within it, without the exponential backoff of an error.
const keyStoreRetry = 30 * time.Second

// keyStoreError is a token that cannot make a key, with the condition that
// tells a person what to do.
type keyStoreError struct{ outcome conditions.Outcome }

func (e *keyStoreError) Error() string { return e.outcome.Message }

// keyStore makes a provider's new keys: from crypto/rand for the Secret,
// inside the token for PKCS11. The token is opened only when a key must
// be made or deleted, so a provider whose keys need nothing keeps
// KeysReady while its HSM is away.
type keyStore struct {
	r   *Reconciler
	ctx context.Context
	idp *idav1alpha1.IdentityProvider
	// created are the kids made in the token by this reconcile, to delete
	// if the Secret that would record them is not written.
	created []string
	// notWritten: the plan failed, so nothing was sent to the API server.
	notWritten bool
}

func (ks *keyStore) inToken() bool {
	return ks.idp.Spec.Signing.KeyStore.Type == idav1alpha1.KeyStorePKCS11
}

// generator is the Plan's Generator for the configured store.
func (ks *keyStore) generator() signingkeys.Generator {
	if !ks.inToken() {
		return signingkeys.Generate
	}
	return func(alg string, now time.Time) (config.SigningKey, error) {
		tok, err := ks.token()
		if err != nil {
			return config.SigningKey{}, err
		}
		k, err := signingkeys.InToken(tok)(alg, now)
		if err != nil {
			ks.r.tokens().forget(ks.tokenConfig())
			return config.SigningKey{}, &keyStoreError{conditions.False(idav1alpha1.ReasonKeyStoreFailed, fmt.Sprintf(
				"the PKCS#11 token %q did not make a %s key: %v", ks.idp.Spec.Signing.KeyStore.PKCS11.TokenLabel, alg, err))}
		}
		ks.created = append(ks.created, k.ID)
		return k, nil
	}
}

func (ks *keyStore) tokenConfig() hsm.Config {
	t := ks.idp.Spec.Signing.KeyStore.PKCS11
	if t == nil {
		return hsm.Config{}
	}
	return hsm.Config{Module: t.Module, TokenLabel: t.TokenLabel}
}

// token signs in to the provider's token with the PIN from its Secret.
func (ks *keyStore) token() (hsm.KeyToken, error) {
	t := ks.idp.Spec.Signing.KeyStore.PKCS11
	if t == nil {
		return nil, &keyStoreError{conditions.False(idav1alpha1.ReasonKeyStoreUnavailable,
			"a key in a PKCS#11 token must be deleted and spec.signing.keyStore.pkcs11 no longer names the token")}
	}
	ref := t.PINSecretRef
	var secret corev1.Secret
	err := ks.r.APIReader.Get(ks.ctx, client.ObjectKey{Namespace: ks.idp.Namespace, Name: ref.Name}, &secret)
	switch {
	case apierrors.IsNotFound(err):
		return nil, &keyStoreError{conditions.False(idav1alpha1.ReasonKeyStorePINNotFound, fmt.Sprintf(
			"Secret %s, which spec.signing.keyStore.pkcs11.pinSecretRef names for the token's PIN, does not exist", ref.Name))}
	case err != nil:
		return nil, fmt.Errorf("reading the PIN Secret %s: %w", ref.Name, err)
	}
	pin, ok := secret.Data[ref.Key]
	if !ok || len(pin) == 0 {
		return nil, &keyStoreError{conditions.False(idav1alpha1.ReasonKeyStorePINNotFound, fmt.Sprintf(
			"Secret %s has no key %q with the token's PIN", ref.Name, ref.Key))}
	}
	cfg := ks.tokenConfig()
	cfg.PIN = string(pin)
	tok, err := ks.r.tokens().open(cfg)
	switch {
	case errors.Is(err, hsm.ErrNoPKCS11):
		return nil, &keyStoreError{conditions.False(idav1alpha1.ReasonKeyStoreUnsupported,
			"this operator was built without PKCS#11 support: run the pkcs11 build of the operator image (docs/security.md)")}
	case err != nil:
		// The error names the module and the token, never the PIN.
		return nil, &keyStoreError{conditions.False(idav1alpha1.ReasonKeyStoreUnavailable, fmt.Sprintf(
			"cannot sign in to the PKCS#11 token: %v; check that the module exists in the operator's container, that a token has the label, and the PIN in Secret %s", err, ref.Name))}
	}
	return tok, nil
}

// deleteRemoved deletes from the token the keys the plan removed from the
// set, once the Secret without them is written. A key left behind is not
// used again; the event says so, so that someone removes it by hand.
func (ks *keyStore) deleteRemoved(removed []string) {
	for _, kid := range removed {
		tok, err := ks.token()
		if err == nil {
			err = tok.Delete(kid)
		}
		if err != nil {
			ks.r.Events.Warning(ks.idp, idav1alpha1.EventKeyRemoved, "RotateKeys",
				"key %s left the key set but stays in the PKCS#11 token (%v); delete it there by hand", kid, err)
		}
	}
}

// abandon deletes the keys this reconcile made in the token when the
// Secret that would record them was refused: they were never published.
// An error that leaves the write's fate unknown (a timeout) keeps them:
// deleting a key the Secret may hold would break signing.
func (ks *keyStore) abandon(writeErr error) {
	refused := ks.notWritten || apierrors.IsConflict(writeErr) || apierrors.IsInvalid(writeErr) ||
		apierrors.IsForbidden(writeErr) || apierrors.IsAlreadyExists(writeErr)
	if len(ks.created) == 0 || !refused {
		return
	}
	ks.deleteRemoved(ks.created)
	ks.created = nil
}

// tokenPool keeps the operator signed in to each token it uses: signing in
// costs a module load and a login, and PKCS#11 allows one initialisation
// per module and process. A changed PIN signs in afresh.
type tokenPool struct {
	mu     sync.Mutex
	opener func(hsm.Config) (hsm.KeyToken, error)
	tokens map[tokenID]pooledToken
}

type tokenID struct{ module, label string }

type pooledToken struct {
	pin [sha256.Size]byte // a hash: the pool keeps no PIN
	tok hsm.KeyToken
}

func (p *tokenPool) open(cfg hsm.Config) (hsm.KeyToken, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	id, pin := tokenID{cfg.Module, cfg.TokenLabel}, sha256.Sum256([]byte(cfg.PIN))
	if e, ok := p.tokens[id]; ok {
		if e.pin == pin {
			return e.tok, nil
		}
		_ = e.tok.Close()
		delete(p.tokens, id)
	}
	tok, err := p.opener(cfg)
	if err != nil {
		return nil, err
	}
	if p.tokens == nil {
		p.tokens = map[tokenID]pooledToken{}
	}
	p.tokens[id] = pooledToken{pin: pin, tok: tok}
	return tok, nil
}

// forget signs out of a token that failed, so that the next use signs in
// again (an HSM that restarted has forgotten its sessions).
func (p *tokenPool) forget(cfg hsm.Config) {
	p.mu.Lock()
	defer p.mu.Unlock()
	id := tokenID{cfg.Module, cfg.TokenLabel}
	if e, ok := p.tokens[id]; ok {
		_ = e.tok.Close()
		delete(p.tokens, id)
	}
}
