package op

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/idaop/ida-operator/runtime/config"
)

// TestFactorSeal: a second factor's secret is sealed with the newest
// signing key's derived key, bound to its user; it opens while that key
// is in the set (a newer key added meanwhile changes nothing) and not
// after it left.
func TestFactorSeal(t *testing.T) {
	t0 := time.Now().Add(-time.Hour)
	older, newer, newest := signingKey(t, config.ES256, mustKey(t), t0), signingKey(t, config.ES256, mustKey(t), t0.Add(time.Minute)), signingKey(t, config.ES256, mustKey(t), t0.Add(2*time.Minute))
	servedWith := func(keys ...config.SigningKey) *served {
		aeads, err := factorAEADs(&config.KeySet{Keys: keys}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return &served{issuer: "https://idp.example", factorAEADs: aeads}
	}
	sv := servedWith(older, newer)
	sealed, err := sv.sealFactor("alice", "JBSWY3DPEHPK3PXP")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(sealed), "JBSWY3DPEHPK3PXP") {
		t.Fatal("the secret is in the clear")
	}
	for _, tc := range []struct {
		name    string
		sv      *served
		subject string
		ok      bool
	}{
		{"the same keys", sv, "alice", true},
		{"another user", sv, "bob", false},
		{"a newer key added", servedWith(older, newer, newest), "alice", true},
		{"the oldest key gone", servedWith(newer, newest), "alice", true},
		{"the sealing key gone", servedWith(older, newest), "alice", false},
		{"another issuer", &served{issuer: "https://other.example", factorAEADs: sv.factorAEADs}, "alice", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.sv.openFactor(tc.subject, sealed)
			if tc.ok != (err == nil) || tc.ok && got != "JBSWY3DPEHPK3PXP" {
				t.Fatalf("open = %q, %v", got, err)
			}
			if !tc.ok && !errors.Is(err, errFactorUnreadable) {
				t.Fatalf("error %v", err)
			}
		})
	}
}

// TestFactorSealWithSalt: with the provider's salt, a factor is sealed
// with the salt's key and opens whatever the signing keys have become;
// one sealed before, with a signing key's, still opens while that key is
// in the set; another salt opens neither.
func TestFactorSealWithSalt(t *testing.T) {
	t0 := time.Now().Add(-time.Hour)
	k1, k2 := signingKey(t, config.ES256, mustKey(t), t0), signingKey(t, config.ES256, mustKey(t), t0.Add(time.Minute))
	servedWith := func(salt []byte, keys ...config.SigningKey) *served {
		aeads, err := factorAEADs(&config.KeySet{Keys: keys}, salt)
		if err != nil {
			t.Fatal(err)
		}
		return &served{issuer: "https://idp.example", factorAEADs: aeads}
	}
	salt, other := testSalt(), []byte(strings.Repeat("x", 32))
	sealed, err := servedWith(salt, k1).sealFactor("alice", "JBSWY3DPEHPK3PXP")
	if err != nil {
		t.Fatal(err)
	}
	before, err := servedWith(nil, k1).sealFactor("alice", "KRSXG5CTMVRXEZLU")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		sv     *served
		sealed []byte
		want   string
	}{
		{"every signing key replaced", servedWith(salt, k2), sealed, "JBSWY3DPEHPK3PXP"},
		{"no signing key at all", servedWith(salt), sealed, "JBSWY3DPEHPK3PXP"},
		{"another salt", servedWith(other, k1, k2), sealed, ""},
		{"sealed before the salt, its key still there", servedWith(salt, k1, k2), before, "KRSXG5CTMVRXEZLU"},
		{"sealed before the salt, its key gone", servedWith(salt, k2), before, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.sv.openFactor("alice", tc.sealed)
			if got != tc.want || (tc.want == "") != errors.Is(err, errFactorUnreadable) {
				t.Fatalf("open = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
