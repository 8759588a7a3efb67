package authn

import (
	"slices"
	"testing"
)

const acrPasskey = "urn:bank:acr:passkey"

// passkeyPolicy: a password level, a two-factor level a passkey alone
// also meets, and a level only a passkey meets.
func passkeyPolicy() *Policy {
	return &Policy{
		Levels: []Level{
			{ACR: acrPwd, Methods: [][]string{{MethodPassword}, {MethodPasskey}}},
			{ACR: acrMFA, Methods: [][]string{{MethodPassword, MethodOTP}, {MethodPasskey}}},
			{ACR: acrPasskey, Methods: [][]string{{MethodPasskey}}},
		},
		DefaultLevel: acrPwd,
	}
}

var withPasskeys = []string{MethodPassword, MethodOTP, MethodPasskey}

// TestPasskeyMethod: a synced passkey is a software key, a device-bound
// one a hardware key (RFC 8176 swk, hwk).
func TestPasskeyMethod(t *testing.T) {
	if got := PasskeyMethod(true); got != MethodSWK {
		t.Errorf("backup eligible: %q, want swk", got)
	}
	if got := PasskeyMethod(false); got != MethodHWK {
		t.Errorf("device bound: %q, want hwk", got)
	}
}

// TestPasskeyLevels: a passkey sign-in (recorded as hwk or swk) meets
// the levels that name passkey, and only those.
func TestPasskeyLevels(t *testing.T) {
	p := passkeyPolicy()
	for _, tc := range []struct {
		name string
		acr  string
		done []string
		want bool
	}{
		{"a synced passkey meets the passkey level", acrPasskey, []string{MethodSWK}, true},
		{"a device-bound passkey meets the passkey level", acrPasskey, []string{MethodHWK}, true},
		{"a passkey alone meets the two-factor level that lists it", acrMFA, []string{MethodHWK}, true},
		{"password and code do not meet a passkey-only level", acrPasskey, both, false},
		{"the word passkey in a session is not a passkey sign-in", acrPasskey, []string{"user"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := p.Meets(tc.acr, tc.done); got != tc.want {
				t.Fatalf("Meets(%q, %v) = %v, want %v", tc.acr, tc.done, got, tc.want)
			}
		})
	}
	if got := p.Achieved(nil, []string{MethodSWK}); got != acrPasskey {
		t.Errorf("Achieved after a passkey = %q, want the strongest level, %q", got, acrPasskey)
	}
	if got := p.Missing(acrPasskey, pwdOnly, withPasskeys); !slices.Equal(got, []string{MethodPasskey}) {
		t.Errorf("a password session at the passkey level needs %v, want [passkey]", got)
	}
	if got := p.Missing(acrPasskey, []string{MethodSWK}, withPasskeys); got != nil {
		t.Errorf("a passkey session needs %v, want nothing", got)
	}
	if got := p.Missing(acrPasskey, pwdOnly, both); got != nil {
		t.Errorf("without passkeys on offer nothing can be asked: %v", got)
	}
	if _, err := p.Target(Request{Values: []string{acrPasskey}, Essential: true}, nil, both); err == nil {
		t.Error("an essential passkey level is met by a source without passkeys")
	}
}

// TestPasskeyAMR: the key, then user (presence, RFC 8176 §2), then mfa:
// a passkey its device verified the user for is two factors alone.
func TestPasskeyAMR(t *testing.T) {
	for _, tc := range []struct {
		done, want []string
	}{
		{[]string{MethodHWK}, []string{"hwk", "user", "mfa"}},
		{[]string{MethodSWK}, []string{"swk", "user", "mfa"}},
		{[]string{MethodPassword, MethodSWK}, []string{"pwd", "swk", "user", "mfa"}},
		{[]string{MethodSWK, MethodHWK}, []string{"swk", "user", "hwk", "mfa"}},
	} {
		if got := AMR(tc.done); !slices.Equal(got, tc.want) {
			t.Errorf("AMR(%v) = %v, want %v", tc.done, got, tc.want)
		}
	}
}

// TestNames: passkeys are offered only by a provider whose levels name
// them.
func TestNames(t *testing.T) {
	if !passkeyPolicy().Names(MethodPasskey) {
		t.Error("a policy listing passkey does not name it")
	}
	if bankPolicy().Names(MethodPasskey) || (&Policy{}).Names(MethodPasskey) {
		t.Error("a policy without passkey names it")
	}
}
