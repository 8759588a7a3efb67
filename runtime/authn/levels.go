// Package authn holds authentication assurance: the levels a provider
// offers (each an acr value and the method combinations that satisfy it),
// which level an authorization request asks for, whether a session meets
// it and what is missing, and the amr a sign-in reports. It is pure: no
// I/O, no clock of its own; one-time codes (totp.go) are checked against
// a time the caller gives.
package authn

import (
	"errors"
	"slices"
)

// Authentication methods, as RFC 8176 §2 names them.
const (
	// MethodPassword: a password the user knows.
	MethodPassword = "pwd"
	// MethodOTP: a one-time code from a generator the user holds.
	MethodOTP = "otp"
	// MethodMFA: two or more factors; reported, never configured.
	MethodMFA = "mfa"
	// MethodPasskey is not an RFC 8176 value but the name levels use for
	// a passkey (WebAuthn) verified by its device (a PIN or biometric): a
	// session records it as MethodHWK or MethodSWK (see PasskeyMethod).
	MethodPasskey = "passkey"
	// MethodHWK: a proof of possession of a hardware-bound key, here a
	// passkey that cannot leave its device.
	MethodHWK = "hwk"
	// MethodSWK: a proof of possession of a software-secured key, here a
	// passkey its provider syncs between devices.
	MethodSWK = "swk"
	// MethodUser: a test that the user was present (RFC 8176 §2), which
	// every passkey sign-in makes; reported, never configured.
	MethodUser = "user"
)

// Methods are the methods a level may name.
var Methods = []string{MethodPassword, MethodOTP, MethodPasskey}

// factors are the kinds of proof a method gives (NIST SP 800-63B §5.1):
// two methods of one kind are not two factors. A passkey is accepted only
// when its device verified the user (PIN or biometric), so it is
// something held and something known or inherent, two factors alone
// (NIST SP 800-63B §5.1.9, multi-factor cryptographic authenticators).
var factors = map[string][]string{
	MethodPassword: {"know"},
	MethodOTP:      {"have"},
	MethodHWK:      {"have", "verified"},
	MethodSWK:      {"have", "verified"},
}

// PasskeyMethod is what a session records for a passkey sign-in:
// MethodSWK for a credential its authenticator says may be backed up
// (backup eligible, WebAuthn §6.1: a synced passkey), else MethodHWK.
func PasskeyMethod(backupEligible bool) string {
	if backupEligible {
		return MethodSWK
	}
	return MethodHWK
}

// did: the methods done include m; a level's passkey is either kind of
// key a passkey sign-in records.
func did(m string, done []string) bool {
	if slices.Contains(done, m) {
		return true
	}
	return m == MethodPasskey && (slices.Contains(done, MethodHWK) || slices.Contains(done, MethodSWK))
}

// Policy is the authentication levels a provider offers.
type Policy struct {
	// Levels from the weakest to the strongest; empty means the provider
	// declares none, and ID tokens carry no acr.
	Levels []Level `json:"levels,omitempty"`
	// DefaultLevel is the acr of the level a request that names none gets.
	DefaultLevel string `json:"default_level,omitempty"`
	// VerifiedClaimsLevel, when set, is the acr of the weakest level at
	// which verified_claims are released.
	VerifiedClaimsLevel string `json:"verified_claims_level,omitempty"`
	// TrustFrameworkLevels are, by trust framework identifier, the acr of
	// the weakest level at which verified claims under that framework are
	// released (TrustFramework.spec.requiredAuthenticationLevel).
	TrustFrameworkLevels map[string]string `json:"trust_framework_levels,omitempty"`
}

// Level is one authentication level.
type Level struct {
	// ACR is the acr value that names the level.
	ACR string `json:"acr"`
	// Methods are the combinations that satisfy the level: any one of
	// them, all of its methods done.
	Methods [][]string `json:"methods"`
}

// ErrUnmet: the request's essential level, or a level the client or the
// claims asked need, cannot be reached (OpenID Connect Core Unmet
// Authentication Requirements 1.0).
var ErrUnmet = errors.New("the requested authentication level cannot be met")

// Request is what an authorization request asks of authentication: the
// acr values in order of preference (the claims parameter's acr value or
// values, else acr_values; OIDC Core §3.1.2.1, §5.5.1.1) and whether they
// are essential.
type Request struct {
	Values    []string
	Essential bool
}

// rank is the strength of a level, -1 for an acr the policy lacks.
func (p *Policy) rank(acr string) int {
	return slices.IndexFunc(p.Levels, func(l Level) bool { return l.ACR == acr })
}

// Level returns the level named acr, or nil.
func (p *Policy) Level(acr string) *Level {
	if i := p.rank(acr); i >= 0 {
		return &p.Levels[i]
	}
	return nil
}

// ACRValues are the acr values the policy offers, weakest first
// (acr_values_supported).
func (p *Policy) ACRValues() []string {
	out := make([]string, len(p.Levels))
	for i, l := range p.Levels {
		out[i] = l.ACR
	}
	return out
}

// reachable: some combination uses only available methods.
func (l *Level) reachable(available []string) bool {
	return slices.ContainsFunc(l.Methods, func(combo []string) bool { return subset(combo, available) })
}

// SatisfiedBy: the done methods include one whole combination.
func (l *Level) SatisfiedBy(done []string) bool { return l.reachable(done) }

func subset(a, b []string) bool {
	for _, m := range a {
		if !did(m, b) {
			return false
		}
	}
	return true
}

// Target is the level an authorization must reach: the one the request
// asks for, raised to every floor (the client's minimum level, the level
// verified_claims need when the request asks for them). available are
// the methods the provider can offer its users.
//
// Essential values (OIDC Core §5.5.1.1): the first value offered,
// reachable and at or above every floor; none is ErrUnmet, as the acr
// returned must be one of them. Otherwise the first value offered and
// reachable; an offered but unreachable one falls back to the strongest
// reachable level below it; no value offered means the default level.
// A floor that cannot be reached is ErrUnmet. With no levels declared,
// an essential request fails (there is no acr to return), and the
// target is "".
func (p *Policy) Target(req Request, floors []string, available []string) (string, error) {
	if len(p.Levels) == 0 {
		// An essential acr, with values or without, must be returned.
		if req.Essential {
			return "", ErrUnmet
		}
		return "", nil
	}
	floor := -1
	for _, f := range floors {
		i := p.rank(f)
		if i >= 0 && !p.Levels[i].reachable(available) {
			return "", ErrUnmet
		}
		floor = max(floor, i)
	}
	if req.Essential && len(req.Values) > 0 {
		for _, v := range req.Values {
			if i := p.rank(v); i >= floor && i >= 0 && p.Levels[i].reachable(available) {
				return v, nil
			}
		}
		return "", ErrUnmet
	}
	target := p.requested(req.Values, available)
	if target < floor {
		target = floor
	}
	return p.Levels[target].ACR, nil
}

// requested is the rank of the level non-essential values select.
func (p *Policy) requested(values []string, available []string) int {
	for _, v := range values {
		i := p.rank(v)
		if i < 0 {
			continue
		}
		for ; i >= 0; i-- {
			if p.Levels[i].reachable(available) {
				return i
			}
		}
		break
	}
	if i := p.rank(p.DefaultLevel); i >= 0 {
		return i
	}
	return 0
}

// Missing is what a session that did done must still do to reach the
// level acr: the combination needing the fewest further methods, of those
// that use only available ones; nil when the level is met or unknown.
func (p *Policy) Missing(acr string, done, available []string) []string {
	l := p.Level(acr)
	if l == nil || l.SatisfiedBy(done) {
		return nil
	}
	var best []string
	for _, combo := range l.Methods {
		if !subset(combo, available) {
			continue
		}
		var need []string
		for _, m := range combo {
			if !did(m, done) {
				need = append(need, m)
			}
		}
		if best == nil || len(need) < len(best) {
			best = need
		}
	}
	return best
}

// Meets: done satisfies the level acr; an empty acr asks for nothing.
func (p *Policy) Meets(acr string, done []string) bool {
	if acr == "" {
		return true
	}
	l := p.Level(acr)
	return l != nil && l.SatisfiedBy(done)
}

// Achieved is the acr an ID token states for a session that did done:
// with values requested, the first of them done satisfies (the target
// was chosen among them, so one does); else the strongest level done
// satisfies; "" when none.
func (p *Policy) Achieved(requested []string, done []string) string {
	for _, v := range requested {
		if l := p.Level(v); l != nil && l.SatisfiedBy(done) {
			return v
		}
	}
	for i := len(p.Levels) - 1; i >= 0; i-- {
		if p.Levels[i].SatisfiedBy(done) {
			return p.Levels[i].ACR
		}
	}
	return ""
}

// AMR is the amr of a sign-in (OIDC Core §2, RFC 8176): the methods done,
// in the order done (a passkey's key followed by user, the presence its
// device tested), and mfa when they are of two or more factors.
func AMR(done []string) []string {
	out := make([]string, 0, len(done)+2)
	kinds := map[string]bool{}
	for _, m := range done {
		if slices.Contains(out, m) {
			continue
		}
		out = append(out, m)
		if (m == MethodHWK || m == MethodSWK) && !slices.Contains(out, MethodUser) {
			out = append(out, MethodUser)
		}
		for _, k := range factors[m] {
			kinds[k] = true
		}
	}
	if len(kinds) >= 2 {
		out = append(out, MethodMFA)
	}
	return out
}

// Names: some level lists method in a combination; a provider offers
// passkeys only when a level names them.
func (p *Policy) Names(method string) bool {
	for _, l := range p.Levels {
		for _, combo := range l.Methods {
			if slices.Contains(combo, method) {
				return true
			}
		}
	}
	return false
}

// ReleasableUnder: a sign-in that did done may receive verified claims
// under the trust framework: it meets the provider's verifiedClaimsLevel
// and the framework's own level (either unset asks for nothing).
func (p *Policy) ReleasableUnder(framework string, done []string) bool {
	return p.Meets(p.VerifiedClaimsLevel, done) && p.Meets(p.TrustFrameworkLevels[framework], done)
}

// VerifiedClaimsFloors are the levels a request that can release verified
// claims is raised to: the provider's, and those of the frameworks the
// client may receive.
func (p *Policy) VerifiedClaimsFloors(frameworks []string) []string {
	out := []string{p.VerifiedClaimsLevel}
	for _, f := range frameworks {
		if acr := p.TrustFrameworkLevels[f]; acr != "" {
			out = append(out, acr)
		}
	}
	return out
}
