//go:build cgo

package runtime_test

import (
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/hsm"
	"github.com/idaop/ida-operator/runtime/hsm/hsmtest"
)

// TestOpenIDClientWithKeysInSoftHSM: a runtime whose signing keys were
// generated in SoftHSM2 (keys.json holds public halves and seeds only,
// provider.json names the token, the PIN is in IDA_PKCS11_PIN) serves
// the openid-client flow: PAR, private_key_jwt and DPoP, Chromium's
// sign-in and consent, and an ID token that openid-client's
// non-repudiation checks verify against the published JWKS.
func TestOpenIDClientWithKeysInSoftHSM(t *testing.T) {
	token := hsmtest.SoftHSM(t)
	t.Setenv(config.PKCS11PINEnv, token.PIN)
	var kids []string
	e, err := startEnv(func(dir, issuer, redirectURI string) (*generated, error) {
		g, err := writeConfigDir(dir, issuer, redirectURI)
		if err != nil {
			return nil, err
		}
		kids, err = moveKeysToToken(dir, token)
		return g, err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.close)
	e.dumpLogsOnFailure(t)
	br := getBrowser(t)

	res := openIDClientFlow(t, e, br, "openid profile", "{"+idTokenClaims+",\n"+userinfoClaims+"}",
		[]string{fapiPurpose, givenNamePurpose, familyNamePurpose, birthdatePurpose})
	hdr, _ := res["id_token_header"].(map[string]any)
	if hdr["kid"] != kids[0] || hdr["alg"] != config.ES256 {
		t.Fatalf("ID token header %v, want the token's ES256 key %s", hdr, kids[0])
	}
	keys, err := os.ReadFile(filepath.Join(e.dir, config.KeySetKey))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(keys), "private_jwk") || strings.Contains(string(keys), `"d"`) {
		t.Fatalf("keys.json holds a private key: %s", keys)
	}
}

// moveKeysToToken replaces every key of dir's keys.json by a key of the
// same algorithm generated in the token, recorded as the operator
// records one (public half and seed), and names the token in
// provider.json. It returns the new kids in the order of the key set.
func moveKeysToToken(dir string, token hsm.Config) ([]string, error) {
	tok, err := hsm.Open(token)
	if err != nil {
		return nil, err
	}
	defer tok.Close()
	var ks config.KeySet
	if err := readJSON(filepath.Join(dir, config.KeySetKey), &ks); err != nil {
		return nil, err
	}
	var kids []string
	for i, k := range ks.Keys {
		id := "rt-" + k.Algorithm + "-" + randomString()[:8]
		pub, err := tok.Generate(id, k.Algorithm)
		if err != nil {
			return nil, err
		}
		raw, err := jose.JSONWebKey{Key: pub, KeyID: id, Algorithm: k.Algorithm, Use: "sig"}.MarshalJSON()
		if err != nil {
			return nil, err
		}
		seed := make([]byte, config.SeedSize)
		_, _ = rand.Read(seed)
		at := time.Now().Add(-time.Minute)
		ks.Keys[i] = config.SigningKey{ID: id, Algorithm: k.Algorithm, PublicJWK: raw, Seed: seed, CreatedAt: at, ActivatesAt: at}
		kids = append(kids, id)
	}
	var p config.Provider
	if err := readJSON(filepath.Join(dir, config.ProviderConfigKey), &p); err != nil {
		return nil, err
	}
	p.PKCS11 = &config.PKCS11{Module: token.Module, TokenLabel: token.TokenLabel}
	if err := writeJSON(filepath.Join(dir, config.KeySetKey), ks); err != nil {
		return nil, err
	}
	return kids, writeJSON(filepath.Join(dir, config.ProviderConfigKey), p)
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}
