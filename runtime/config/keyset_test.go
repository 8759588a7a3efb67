package config

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

func at(d time.Duration) *time.Time {
	t := t0.Add(d)
	return &t
}

// rotatingSet: ES256 key 0 signed from t0, key 1 takes over at +10h, key 0
// leaves the JWKS at +12h; key 2 is published and waits for +20h.
func rotatingSet(t *testing.T) *KeySet {
	k0, k1, k2 := testKey(t, ES256, 0), testKey(t, ES256, 1), testKey(t, ES256, 2)
	k0.RetiresAt, k0.ExpiresAt = at(10*time.Hour), at(12*time.Hour)
	k1.ActivatesAt = t0.Add(10 * time.Hour)
	k2.ActivatesAt = t0.Add(20 * time.Hour)
	return &KeySet{Keys: []SigningKey{k0, k1, k2}}
}

func TestKeySetQueriesAtBoundaries(t *testing.T) {
	ks := rotatingSet(t)
	id := func(i int) string { return ks.Keys[i].ID }
	cases := []struct {
		at        time.Duration
		signer    string
		published []string
	}{
		{-time.Nanosecond, "", []string{id(0), id(1), id(2)}},
		{0, id(0), []string{id(0), id(1), id(2)}},
		{10*time.Hour - time.Nanosecond, id(0), []string{id(0), id(1), id(2)}},
		{10 * time.Hour, id(1), []string{id(0), id(1), id(2)}},
		{12*time.Hour - time.Nanosecond, id(1), []string{id(0), id(1), id(2)}},
		{12 * time.Hour, id(1), []string{id(1), id(2)}},
		// key 1 has no retires_at yet: key 2 takes over when it activates.
		{20*time.Hour - time.Nanosecond, id(1), []string{id(1), id(2)}},
		{20 * time.Hour, id(2), []string{id(1), id(2)}},
	}
	for _, c := range cases {
		now := t0.Add(c.at)
		got := ""
		if k, ok := ks.Signer(ES256, now); ok {
			got = k.ID
		}
		if got != c.signer {
			t.Errorf("at %s: signer %q, want %q", c.at, got, c.signer)
		}
		var pub []string
		for _, k := range ks.Published(now) {
			pub = append(pub, k.ID)
		}
		if !reflect.DeepEqual(pub, c.published) {
			t.Errorf("at %s: published %v, want %v", c.at, pub, c.published)
		}
	}
	if _, ok := ks.Signer(PS256, t0.Add(time.Hour)); ok {
		t.Error("a PS256 signer from ES256 keys")
	}
}

func TestKeySetActive(t *testing.T) {
	ks := rotatingSet(t)
	ks.Keys = append(ks.Keys, testKey(t, RS256, 0))
	got := ks.Active(t0.Add(11 * time.Hour))
	if len(got) != 2 || got[0].ID != ks.Keys[1].ID || got[1].ID != ks.Keys[3].ID {
		t.Errorf("active: %v", got)
	}
}

func TestPublicJWKS(t *testing.T) {
	ks := rotatingSet(t)
	ks.Keys = append(ks.Keys, testKey(t, PS256, 0))
	out, err := ks.PublicJWKS(t0.Add(12 * time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(out, &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw.Keys) != 3 {
		t.Fatalf("want keys 1, 2 and the PS256 key, got %s", out)
	}
	for i, k := range raw.Keys {
		want := ks.Keys[i+1]
		if k["kid"] != want.ID || k["alg"] != want.Algorithm || k["use"] != "sig" {
			t.Errorf("key %d: %v", i, k)
		}
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
			if _, ok := k[private]; ok {
				t.Errorf("key %d publishes private member %q", i, private)
			}
		}
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(out, &set); err != nil {
		t.Fatal(err)
	}
	empty, _ := (&KeySet{}).PublicJWKS(t0)
	if string(empty) != `{"keys":[]}` {
		t.Errorf("empty set: %s", empty)
	}
}

// tokenKey is k as a key in a PKCS#11 token: only its public half and a
// seed in the set.
func tokenKey(t *testing.T, k SigningKey) SigningKey {
	t.Helper()
	jwk, err := k.JWK()
	if err != nil {
		t.Fatal(err)
	}
	if k.PublicJWK, err = jwk.Public().MarshalJSON(); err != nil {
		t.Fatal(err)
	}
	k.PrivateJWK, k.Seed = nil, []byte(strings.Repeat("s", SeedSize))
	return k
}

func TestTokenKeysPublishAndDeriveFromTheirSeed(t *testing.T) {
	inSet := testKey(t, ES256, 0)
	inToken := tokenKey(t, inSet)
	ks := &KeySet{Keys: []SigningKey{inToken}}
	if err := AsError(ks.Validate()); err != nil {
		t.Fatal(err)
	}
	fromToken, err := ks.PublicJWKS(t0)
	if err != nil {
		t.Fatal(err)
	}
	fromSet, _ := (&KeySet{Keys: []SigningKey{inSet}}).PublicJWKS(t0)
	if string(fromToken) != string(fromSet) {
		t.Errorf("a key in a token publishes\n%s\nthe same key in the set\n%s", fromToken, fromSet)
	}
	if !inToken.InToken() || inSet.InToken() {
		t.Error("InToken does not tell the two apart")
	}
	if _, err := inToken.JWK(); err == nil {
		t.Error("JWK of a key in a token gave a private key")
	}
	if string(inToken.DerivationSecret()) != string(inToken.Seed) || string(inSet.DerivationSecret()) != string(inSet.PrivateJWK) {
		t.Error("derivation secrets: the seed for a token key, the private JWK for a key in the set")
	}
}

func TestKeySetRoundTrip(t *testing.T) {
	ks := rotatingSet(t)
	ks.RotationRequest = "2026-03-01"
	data, err := ks.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseKeySet(data)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := back.Marshal()
	if string(again) != string(data) {
		t.Errorf("round trip changed the bytes:\n%s\n%s", data, again)
	}
	if back.RotationRequest != "2026-03-01" || !back.Keys[0].RetiresAt.Equal(*ks.Keys[0].RetiresAt) {
		t.Errorf("round trip lost data: %+v", back)
	}
	empty, _ := (&KeySet{}).Marshal()
	if string(empty) != `{"keys":[]}` {
		t.Errorf("empty set: %s", empty)
	}
}

func TestKeySetValidate(t *testing.T) {
	pub := testKey(t, ES256, 0)
	jwk, _ := pub.JWK()
	pubJWK, _ := jwk.Public().MarshalJSON()
	cases := []struct {
		name   string
		change func(ks *KeySet)
		want   string
	}{
		{"no kid", func(ks *KeySet) { ks.Keys[0].ID = "" }, "keys[0].kid: must not be empty"},
		{"kid twice", func(ks *KeySet) { ks.Keys[1].ID = ks.Keys[0].ID }, "keys[1].kid: \""},
		{"unknown alg", func(ks *KeySet) { ks.Keys[0].Algorithm = "HS256" }, "keys[0].alg: \"HS256\" is not supported"},
		{"not a JWK", func(ks *KeySet) { ks.Keys[0].PrivateJWK = json.RawMessage(`{"kty":"nope"}`) }, "keys[0].private_jwk:"},
		{"public only", func(ks *KeySet) { ks.Keys[0].PrivateJWK = pubJWK }, "keys[0].private_jwk: holds no private key"},
		{"EC key for PS256", func(ks *KeySet) { ks.Keys[1].PrivateJWK = ks.Keys[0].PrivateJWK }, "keys[1].private_jwk:"},
		{"RSA key for ES256", func(ks *KeySet) {
			ks.Keys[0].PrivateJWK = ks.Keys[1].PrivateJWK
			ks.Keys[0].ID = ks.Keys[1].ID + "x"
		}, "keys[0].private_jwk:"},
		{"neither half", func(ks *KeySet) { ks.Keys[0].PrivateJWK = nil }, "keys[0].private_jwk: a key needs private_jwk"},
		{"both halves", func(ks *KeySet) { ks.Keys[0].PublicJWK = pubJWK }, "keys[0].public_jwk: set beside private_jwk"},
		{"token key without seed", func(ks *KeySet) {
			ks.Keys[0].PrivateJWK, ks.Keys[0].PublicJWK = nil, pubJWK
		}, "keys[0].seed: has 0 bytes, want 32"},
		{"token key publishing its private half", func(ks *KeySet) {
			ks.Keys[0].PublicJWK, ks.Keys[0].PrivateJWK, ks.Keys[0].Seed = ks.Keys[0].PrivateJWK, nil, make([]byte, SeedSize)
		}, "keys[0].public_jwk: holds a private key"},
		{"token key of the wrong type", func(ks *KeySet) {
			ks.Keys[1].PrivateJWK, ks.Keys[1].PublicJWK, ks.Keys[1].Seed = nil, pubJWK, make([]byte, SeedSize)
		}, "keys[1].public_jwk:"},
		{"no activation", func(ks *KeySet) { ks.Keys[0].ActivatesAt = time.Time{} }, "keys[0].activates_at: must be set"},
		{"expiry without retirement", func(ks *KeySet) { ks.Keys[0].ExpiresAt = at(time.Hour) }, "keys[0].expires_at: set without retires_at"},
		{"expiry before retirement", func(ks *KeySet) {
			ks.Keys[0].RetiresAt, ks.Keys[0].ExpiresAt = at(2*time.Hour), at(time.Hour)
		}, "keys[0].expires_at: before retires_at"},
	}
	if err := testKeySet(t).Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ks := testKeySet(t)
			c.change(ks)
			err := AsError(ks.Validate())
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
			data, _ := json.Marshal(ks)
			if _, err := ParseKeySet(data); err == nil {
				t.Error("ParseKeySet accepted it")
			}
		})
	}
	if _, err := ParseKeySet([]byte(`{"keys":`)); err == nil {
		t.Error("truncated JSON accepted")
	}
}
