//go:build cgo

package hsm

import (
	"crypto"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"

	"github.com/ThalesGroup/crypto11"
	"github.com/miekg/pkcs11"
)

// Token is a signed-in session pool on one PKCS#11 token.
type Token struct {
	ctx *crypto11.Context
}

var _ KeyToken = (*Token)(nil)

// Open loads the module, finds the token by its label and signs in.
func Open(cfg Config) (*Token, error) {
	switch {
	case cfg.Module == "":
		return nil, errors.New("hsm: the PKCS#11 module path is empty")
	case cfg.TokenLabel == "":
		return nil, errors.New("hsm: the token label is empty")
	}
	ctx, err := crypto11.Configure(&crypto11.Config{Path: cfg.Module, TokenLabel: cfg.TokenLabel, Pin: cfg.PIN})
	if err != nil {
		if pinRefused(err) {
			err = fmt.Errorf("%w: %w", ErrPIN, err)
		}
		return nil, fmt.Errorf("hsm: opening token %q with module %s: %w", cfg.TokenLabel, cfg.Module, err)
	}
	return &Token{ctx: ctx}, nil
}

// Generate makes a key pair inside the token: crypto11 marks the private
// key CKA_SENSITIVE and not CKA_EXTRACTABLE, so it can sign but never
// leave. The id (the JWK's kid) is its CKA_ID and CKA_LABEL.
func (t *Token) Generate(id, alg string) (crypto.PublicKey, error) {
	if existing, err := t.find(id); err != nil {
		return nil, err
	} else if existing != nil {
		return nil, fmt.Errorf("hsm: the token already holds a key %q", id)
	}
	var s crypto11.Signer
	var err error
	switch alg {
	case ES256:
		s, err = t.ctx.GenerateECDSAKeyPairWithLabel([]byte(id), []byte(id), elliptic.P256())
	case PS256, RS256:
		s, err = t.ctx.GenerateRSAKeyPairWithLabel([]byte(id), []byte(id), rsaBits)
	default:
		return nil, unsupportedAlg(alg)
	}
	if err != nil {
		return nil, fmt.Errorf("hsm: generating %s key %q: %w", alg, id, err)
	}
	return s.Public(), nil
}

// Signer finds the key pair under id.
func (t *Token) Signer(id string) (crypto.Signer, error) {
	s, err := t.find(id)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, fmt.Errorf("%w: %q", ErrNoKey, id)
	}
	return jwaSigner{s}, nil
}

// jwaSigner signs as JWA asks: a PSS salt as long as the hash (RFC 7518
// §3.5). Signers that pick the salt length themselves (go-jose asks for
// rsa.PSSSaltLengthAuto) get that, which PKCS#11 needs stated.
type jwaSigner struct{ crypto11.Signer }

func (s jwaSigner) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if pss, ok := opts.(*rsa.PSSOptions); ok && pss.SaltLength == rsa.PSSSaltLengthAuto {
		opts = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: pss.Hash}
	}
	return s.Signer.Sign(rand, digest, opts)
}

// find is the key pair under id, or nil when there is none.
func (t *Token) find(id string) (crypto11.Signer, error) {
	found, err := t.ctx.FindKeyPairs([]byte(id), nil)
	switch {
	case err != nil:
		return nil, fmt.Errorf("hsm: looking up key %q: %w", id, err)
	case len(found) == 0:
		return nil, nil
	case len(found) > 1:
		return nil, fmt.Errorf("hsm: the token holds %d key pairs with id %q", len(found), id)
	}
	return found[0], nil
}

// Delete removes the key pair under id; an absent one is not an error.
func (t *Token) Delete(id string) error {
	s, err := t.find(id)
	if err != nil || s == nil {
		return err
	}
	if err := s.Delete(); err != nil {
		return fmt.Errorf("hsm: deleting key %q: %w", id, err)
	}
	return nil
}

// Protected reports whether the private key under id is sensitive and not
// extractable: what Generate promises, read back from the token.
func (t *Token) Protected(id string) (bool, error) {
	s, err := t.find(id)
	if err != nil {
		return false, err
	}
	if s == nil {
		return false, fmt.Errorf("%w: %q", ErrNoKey, id)
	}
	attrs, err := t.ctx.GetAttributes(s, []crypto11.AttributeType{crypto11.CkaSensitive, crypto11.CkaExtractable})
	if err != nil {
		return false, fmt.Errorf("hsm: reading the attributes of key %q: %w", id, err)
	}
	sensitive, extractable := attrs[crypto11.CkaSensitive], attrs[crypto11.CkaExtractable]
	if sensitive == nil || extractable == nil {
		return false, fmt.Errorf("hsm: key %q lacks CKA_SENSITIVE or CKA_EXTRACTABLE", id)
	}
	return isTrue(sensitive.Value) && !isTrue(extractable.Value), nil
}

// pinRefused: the login failed for the PIN itself (the PIN return values
// of C_Login, PKCS #11 Base Specification v2.40 §5.6).
func pinRefused(err error) bool {
	var p11 pkcs11.Error
	if !errors.As(err, &p11) {
		return false
	}
	switch p11 {
	case pkcs11.CKR_PIN_INCORRECT, pkcs11.CKR_PIN_INVALID, pkcs11.CKR_PIN_LEN_RANGE, pkcs11.CKR_PIN_LOCKED, pkcs11.CKR_PIN_EXPIRED:
		return true
	}
	return false
}

func isTrue(v []byte) bool { return len(v) == 1 && v[0] != 0 }

// Close signs out and unloads the module.
func (t *Token) Close() error { return t.ctx.Close() }
