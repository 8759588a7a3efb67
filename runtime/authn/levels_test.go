package authn

import (
	"errors"
	"slices"
	"testing"
)

const (
	acrPwd = "urn:bank:acr:pwd"
	acrMFA = "urn:bank:acr:mfa"
	acrTop = "urn:bank:acr:otp-only-or-more"
)

func bankPolicy() *Policy {
	return &Policy{
		Levels: []Level{
			{ACR: acrPwd, Methods: [][]string{{MethodPassword}}},
			{ACR: acrMFA, Methods: [][]string{{MethodPassword, MethodOTP}}},
		},
		DefaultLevel: acrPwd,
	}
}

var (
	both    = []string{MethodPassword, MethodOTP}
	pwdOnly = []string{MethodPassword}
)

// TestTarget: which level a request is served at (OIDC Core §3.1.2.1
// acr_values, §5.5.1.1 the acr claim), with the floors of the client and
// of verified_claims.
func TestTarget(t *testing.T) {
	for _, tc := range []struct {
		name      string
		policy    *Policy
		req       Request
		floors    []string
		available []string
		want      string
		unmet     bool
	}{
		{name: "no request gets the default level", req: Request{}, available: both, want: acrPwd},
		{name: "acr_values selects a level", req: Request{Values: []string{acrMFA}}, available: both, want: acrMFA},
		{name: "the first offered value in order of preference", req: Request{Values: []string{"urn:unknown", acrMFA, acrPwd}}, available: both, want: acrMFA},
		{name: "an unknown non-essential value gets the default", req: Request{Values: []string{"urn:unknown"}}, available: both, want: acrPwd},
		{name: "an unreachable non-essential level falls back to the best reachable", req: Request{Values: []string{acrMFA}}, available: pwdOnly, want: acrPwd},
		{name: "essential and offered", req: Request{Values: []string{acrMFA}, Essential: true}, available: both, want: acrMFA},
		{name: "essential and unknown is unmet", req: Request{Values: []string{"urn:unknown"}, Essential: true}, available: both, unmet: true},
		{name: "essential and unreachable is unmet", req: Request{Values: []string{acrMFA}, Essential: true}, available: pwdOnly, unmet: true},
		{name: "essential values: the first reachable one", req: Request{Values: []string{acrMFA, acrPwd}, Essential: true}, available: pwdOnly, want: acrPwd},
		{name: "a floor raises a weaker request", req: Request{Values: []string{acrPwd}}, floors: []string{acrMFA}, available: both, want: acrMFA},
		{name: "a floor raises the default", floors: []string{"", acrMFA}, available: both, want: acrMFA},
		{name: "a floor does not lower a stronger request", req: Request{Values: []string{acrMFA}}, floors: []string{acrPwd}, available: both, want: acrMFA},
		{name: "an unreachable floor is unmet", floors: []string{acrMFA}, available: pwdOnly, unmet: true},
		{name: "an essential value below the floor is unmet (the acr must be one asked for)", req: Request{Values: []string{acrPwd}, Essential: true}, floors: []string{acrMFA}, available: both, unmet: true},
		{name: "an essential value at the floor", req: Request{Values: []string{acrPwd, acrMFA}, Essential: true}, floors: []string{acrMFA}, available: both, want: acrMFA},
		{name: "no levels: nothing to reach", policy: &Policy{}, req: Request{Values: []string{acrMFA}}, available: both, want: ""},
		{name: "no levels: an essential acr is unmet", policy: &Policy{}, req: Request{Values: []string{acrMFA}, Essential: true}, available: both, unmet: true},
		{name: "no levels: an essential acr without values is unmet", policy: &Policy{}, req: Request{Essential: true}, available: both, unmet: true},
		{name: "essential without values: the default level, whose acr is returned", req: Request{Essential: true}, available: both, want: acrPwd},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.policy
			if p == nil {
				p = bankPolicy()
			}
			got, err := p.Target(tc.req, tc.floors, tc.available)
			if tc.unmet {
				if !errors.Is(err, ErrUnmet) {
					t.Fatalf("Target = %q, %v; want ErrUnmet", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Target = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// TestMissing: a session is stepped up by only what it lacks.
func TestMissing(t *testing.T) {
	p := bankPolicy()
	p.Levels = append(p.Levels, Level{ACR: acrTop, Methods: [][]string{{MethodOTP}, {MethodPassword, MethodOTP}}})
	for _, tc := range []struct {
		name       string
		acr        string
		done, want []string
	}{
		{name: "a password session at the MFA level needs the code only", acr: acrMFA, done: pwdOnly, want: []string{MethodOTP}},
		{name: "a met level needs nothing", acr: acrMFA, done: both, want: nil},
		{name: "no session needs the whole combination", acr: acrMFA, done: nil, want: both},
		{name: "the combination needing fewest further methods", acr: acrTop, done: nil, want: []string{MethodOTP}},
		{name: "an unknown level needs nothing this function can name", acr: "urn:unknown", done: nil, want: nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := p.Missing(tc.acr, tc.done, both); !slices.Equal(got, tc.want) {
				t.Fatalf("Missing = %v, want %v", got, tc.want)
			}
		})
	}
	if got := p.Missing(acrMFA, pwdOnly, pwdOnly); got != nil {
		t.Fatalf("a combination with an unavailable method is not offered: %v", got)
	}
}

func TestMeets(t *testing.T) {
	p := bankPolicy()
	for _, tc := range []struct {
		acr  string
		done []string
		want bool
	}{
		{"", nil, true},
		{acrPwd, pwdOnly, true},
		{acrMFA, pwdOnly, false},
		{acrMFA, both, true},
		{acrPwd, both, true},
		{"urn:unknown", both, false},
		{acrPwd, []string{MethodOTP}, false},
	} {
		if got := p.Meets(tc.acr, tc.done); got != tc.want {
			t.Errorf("Meets(%q, %v) = %v, want %v", tc.acr, tc.done, got, tc.want)
		}
	}
}

// TestAchieved: the acr an ID token states.
func TestAchieved(t *testing.T) {
	p := bankPolicy()
	for _, tc := range []struct {
		name      string
		requested []string
		done      []string
		want      string
	}{
		{name: "nothing requested: the strongest level met", done: both, want: acrMFA},
		{name: "nothing requested, password only", done: pwdOnly, want: acrPwd},
		{name: "a requested level met is stated, even below what was done", requested: []string{acrPwd}, done: both, want: acrPwd},
		{name: "the first requested level met", requested: []string{acrMFA, acrPwd}, done: both, want: acrMFA},
		{name: "a requested level not met falls to the strongest met", requested: []string{acrMFA}, done: pwdOnly, want: acrPwd},
		{name: "nothing met", done: nil, want: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := p.Achieved(tc.requested, tc.done); got != tc.want {
				t.Fatalf("Achieved = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestAMR: RFC 8176 values; mfa for two factors, not two methods of one.
func TestAMR(t *testing.T) {
	for _, tc := range []struct {
		done, want []string
	}{
		{pwdOnly, []string{"pwd"}},
		{both, []string{"pwd", "otp", "mfa"}},
		{[]string{"pwd", "pwd"}, []string{"pwd"}},
		{[]string{"otp"}, []string{"otp"}},
		{nil, []string{}},
	} {
		if got := AMR(tc.done); !slices.Equal(got, tc.want) {
			t.Errorf("AMR(%v) = %v, want %v", tc.done, got, tc.want)
		}
	}
}

// TestReleasableUnder: verified claims under a framework need the
// provider's level and the framework's own.
func TestReleasableUnder(t *testing.T) {
	p := bankPolicy()
	p.TrustFrameworkLevels = map[string]string{"jp_aml": acrMFA}
	for _, tc := range []struct {
		name, vcLevel, framework string
		done                     []string
		want                     bool
	}{
		{"no level anywhere", "", "de_aml", pwdOnly, true},
		{"the framework's level unmet", "", "jp_aml", pwdOnly, false},
		{"the framework's level met", "", "jp_aml", both, true},
		{"the provider's level unmet for a framework without one", acrMFA, "de_aml", pwdOnly, false},
		{"both met", acrPwd, "jp_aml", both, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p.VerifiedClaimsLevel = tc.vcLevel
			if got := p.ReleasableUnder(tc.framework, tc.done); got != tc.want {
				t.Fatalf("ReleasableUnder(%q, %v) = %v, want %v", tc.framework, tc.done, got, tc.want)
			}
		})
	}
	p.VerifiedClaimsLevel = acrPwd
	if got := p.VerifiedClaimsFloors([]string{"de_aml", "jp_aml"}); !slices.Equal(got, []string{acrPwd, acrMFA}) {
		t.Fatalf("floors %v", got)
	}
	if got := p.VerifiedClaimsFloors([]string{"de_aml"}); !slices.Equal(got, []string{acrPwd}) {
		t.Fatalf("floors of a client without the framework: %v", got)
	}
}
