//go:build !cgo

package hsm

import "crypto"

// Token is unusable in a build without cgo.
type Token struct{}

var _ KeyToken = (*Token)(nil)

// Open says this build cannot speak PKCS#11.
func Open(Config) (*Token, error) { return nil, ErrNoPKCS11 }

func (*Token) Generate(string, string) (crypto.PublicKey, error) { return nil, ErrNoPKCS11 }
func (*Token) Signer(string) (crypto.Signer, error)              { return nil, ErrNoPKCS11 }
func (*Token) Delete(string) error                               { return ErrNoPKCS11 }
func (*Token) Protected(string) (bool, error)                    { return false, ErrNoPKCS11 }
func (*Token) Close() error                                      { return nil }
