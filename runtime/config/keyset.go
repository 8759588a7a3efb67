package config

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// KeySet is the provider's signing keys with their schedule. It describes
// every key's life in advance, so the runtime signs with the right key at
// any moment without waiting for the operator to act.
type KeySet struct {
	Keys []SigningKey `json:"keys"`
	// RotationRequest is the last value of the rotate-now annotation that
	// was acted on; a different value asks for a new rotation.
	RotationRequest string `json:"rotation_request,omitempty"`
}

// SigningKey is one key and its schedule.
//
// A key is published from creation until ExpiresAt. It signs from
// ActivatesAt until RetiresAt, or until a newer key of its algorithm
// activates, whichever comes first: that way a successor takes over on
// time even if the operator has not yet recorded RetiresAt.
type SigningKey struct {
	ID        string `json:"kid"`
	Algorithm string `json:"alg"`
	// PrivateJWK is the full JWK, private parts included, of a key held
	// in the key Secret.
	PrivateJWK json.RawMessage `json:"private_jwk,omitempty"`
	// PublicJWK is the public half of a key held in a PKCS#11 token: the
	// private half never leaves the token, which finds it by the kid (its
	// CKA_ID and CKA_LABEL).
	PublicJWK json.RawMessage `json:"public_jwk,omitempty"`
	// Seed is 32 random bytes from which the runtime derives the keys
	// that seal its forms and nonces, for a key held in a token: a key the
	// runtime cannot read cannot seed them.
	Seed        []byte    `json:"seed,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	ActivatesAt time.Time `json:"activates_at"`
	// RetiresAt is when the key stops signing.
	RetiresAt *time.Time `json:"retires_at,omitempty"`
	// ExpiresAt is when the key leaves the JWKS: after every token it
	// signed has expired.
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// Activated reports whether the key's activation time has come.
func (k *SigningKey) Activated(now time.Time) bool { return !k.ActivatesAt.After(now) }

// Retired reports whether the key's retirement time has come.
func (k *SigningKey) Retired(now time.Time) bool {
	return k.RetiresAt != nil && !k.RetiresAt.After(now)
}

// Expired reports whether the key has left the JWKS.
func (k *SigningKey) Expired(now time.Time) bool {
	return k.ExpiresAt != nil && !k.ExpiresAt.After(now)
}

// InToken reports whether the key's private half lives in a PKCS#11
// token rather than in the key set.
func (k *SigningKey) InToken() bool { return len(k.PrivateJWK) == 0 }

// JWK decodes the private key, for signing; a key in a token has none.
func (k *SigningKey) JWK() (jose.JSONWebKey, error) {
	if k.InToken() {
		return jose.JSONWebKey{}, errors.New("its private half is in the PKCS#11 token")
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(k.PrivateJWK); err != nil {
		return jose.JSONWebKey{}, err
	}
	return jwk, nil
}

// PublicKey is the key's public half as published: kid, alg and use=sig.
func (k *SigningKey) PublicKey() (jose.JSONWebKey, error) {
	var jwk jose.JSONWebKey
	raw := k.PrivateJWK
	if k.InToken() {
		raw = k.PublicJWK
	}
	if err := jwk.UnmarshalJSON(raw); err != nil {
		return jose.JSONWebKey{}, err
	}
	pub := jwk.Public()
	if !pub.Valid() {
		return jose.JSONWebKey{}, errors.New("no public key")
	}
	pub.KeyID, pub.Algorithm, pub.Use = k.ID, k.Algorithm, "sig"
	return pub, nil
}

// DerivationSecret is the secret the runtime's sealing and nonce keys are
// derived from: the seed of a key in a token, else the private JWK (as it
// always was, so forms sealed before an upgrade still open).
func (k *SigningKey) DerivationSecret() []byte {
	if k.InToken() {
		return k.Seed
	}
	return k.PrivateJWK
}

// Signer returns the key that signs with alg at now: the newest activated
// key of that algorithm that has not retired.
func (ks *KeySet) Signer(alg string, now time.Time) (*SigningKey, bool) {
	var best *SigningKey
	for i := range ks.Keys {
		k := &ks.Keys[i]
		if k.Algorithm != alg || !k.Activated(now) || k.Retired(now) || k.Expired(now) {
			continue
		}
		if best == nil || k.ActivatesAt.After(best.ActivatesAt) {
			best = k
		}
	}
	return best, best != nil
}

// Active returns the signing key of each algorithm that has one at now, in
// the order their algorithms first appear in the set.
func (ks *KeySet) Active(now time.Time) []SigningKey {
	var out []SigningKey
	var seen []string
	for _, k := range ks.Keys {
		if slices.Contains(seen, k.Algorithm) {
			continue
		}
		seen = append(seen, k.Algorithm)
		if s, ok := ks.Signer(k.Algorithm, now); ok {
			out = append(out, *s)
		}
	}
	return out
}

// Published returns the keys in the JWKS at now: upcoming, active, and
// retired but not yet expired.
func (ks *KeySet) Published(now time.Time) []SigningKey {
	var out []SigningKey
	for _, k := range ks.Keys {
		if !k.Expired(now) {
			out = append(out, k)
		}
	}
	return out
}

// PublicJWKS renders the JWKS served at jwks_uri: the public parts of the
// published keys, each with kid, alg and use=sig.
func (ks *KeySet) PublicJWKS(now time.Time) ([]byte, error) {
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	for _, k := range ks.Published(now) {
		pub, err := k.PublicKey()
		if err != nil {
			return nil, fmt.Errorf("key %s: %w", k.ID, err)
		}
		set.Keys = append(set.Keys, pub)
	}
	return json.Marshal(set)
}

// ParseKeySet decodes and validates a key set.
func ParseKeySet(data []byte) (*KeySet, error) {
	var ks KeySet
	if err := json.Unmarshal(data, &ks); err != nil {
		return nil, err
	}
	if err := AsError(ks.Validate()); err != nil {
		return nil, err
	}
	return &ks, nil
}

// Marshal encodes the key set; equal sets give equal bytes, so the
// operator can tell that nothing changed and skip the write.
func (ks *KeySet) Marshal() ([]byte, error) {
	if ks.Keys == nil {
		c := *ks
		c.Keys = []SigningKey{}
		return json.Marshal(c)
	}
	return json.Marshal(ks)
}

// Validate checks every key: a unique kid, a supported algorithm, a private
// key that fits it, and a schedule in order.
func (ks *KeySet) Validate() field.ErrorList {
	var errs field.ErrorList
	for i, k := range ks.Keys {
		path := field.NewPath("keys").Index(i)
		if k.ID == "" {
			errs = append(errs, field.Required(path.Child("kid"), "must not be empty"))
		} else if slices.ContainsFunc(ks.Keys[:i], func(o SigningKey) bool { return o.ID == k.ID }) {
			errs = append(errs, invalid(path.Child("kid"), "%q is used twice", k.ID))
		}
		if !slices.Contains(SupportedAlgorithms, k.Algorithm) {
			errs = append(errs, invalid(path.Child("alg"), "%q is not supported", k.Algorithm))
		} else {
			errs = append(errs, checkKeyMaterial(path, k)...)
		}
		if k.ActivatesAt.IsZero() {
			errs = append(errs, field.Required(path.Child("activates_at"), "must be set"))
		}
		if k.ExpiresAt != nil && k.RetiresAt == nil {
			errs = append(errs, invalid(path.Child("expires_at"), "set without retires_at"))
		}
		if k.ExpiresAt != nil && k.RetiresAt != nil && k.ExpiresAt.Before(*k.RetiresAt) {
			errs = append(errs, invalid(path.Child("expires_at"), "before retires_at"))
		}
	}
	return errs
}

// MinRSABits is the smallest RSA modulus accepted for signing keys
// (FAPI 2.0 Security Profile §5.4.1).
const MinRSABits = 2048

// SeedSize is the length of a token key's Seed.
const SeedSize = 32

// checkKeyMaterial: a key is either in the set (a private JWK) or in a
// token (a public JWK and a seed), and fits its algorithm.
func checkKeyMaterial(path *field.Path, k SigningKey) field.ErrorList {
	switch {
	case len(k.PrivateJWK) > 0 && len(k.PublicJWK) > 0:
		return field.ErrorList{invalid(path.Child("public_jwk"), "set beside private_jwk: a key is either in the set or in a token")}
	case len(k.PrivateJWK) > 0:
		if err := checkJWK(k, k.PrivateJWK, true); err != nil {
			return field.ErrorList{invalid(path.Child("private_jwk"), "%v", err)}
		}
	case len(k.PublicJWK) > 0:
		var errs field.ErrorList
		if err := checkJWK(k, k.PublicJWK, false); err != nil {
			errs = append(errs, invalid(path.Child("public_jwk"), "%v", err))
		}
		if len(k.Seed) != SeedSize {
			errs = append(errs, invalid(path.Child("seed"), "has %d bytes, want %d", len(k.Seed), SeedSize))
		}
		return errs
	default:
		return field.ErrorList{field.Required(path.Child("private_jwk"), "a key needs private_jwk, or public_jwk when it is in a token")}
	}
	return nil
}

// checkJWK checks raw is a JWK of the right half that fits k's algorithm.
func checkJWK(k SigningKey, raw json.RawMessage, private bool) error {
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(raw); err != nil {
		return err
	}
	if private == jwk.IsPublic() {
		if private {
			return errors.New("holds no private key")
		}
		return errors.New("holds a private key: a key in a token publishes only its public half")
	}
	if jwk.KeyID != "" && jwk.KeyID != k.ID {
		return fmt.Errorf("kid %q differs from the key's kid %q", jwk.KeyID, k.ID)
	}
	key := jwk.Key
	if pub, ok := jwk.Public().Key.(crypto.PublicKey); ok && pub != nil {
		key = pub
	}
	switch key := key.(type) {
	case *ecdsa.PublicKey:
		if k.Algorithm != ES256 || key.Curve != elliptic.P256() {
			return fmt.Errorf("an EC key on %s does not fit %s", key.Curve.Params().Name, k.Algorithm)
		}
	case *rsa.PublicKey:
		if k.Algorithm != PS256 && k.Algorithm != RS256 {
			return fmt.Errorf("an RSA key does not fit %s", k.Algorithm)
		}
		if key.N.BitLen() < MinRSABits {
			return fmt.Errorf("RSA key has %d bits, fewer than %d", key.N.BitLen(), MinRSABits)
		}
	default:
		return fmt.Errorf("a %T does not fit %s", jwk.Key, k.Algorithm)
	}
	return nil
}
