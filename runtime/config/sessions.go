package config

import (
	"net/netip"
	"time"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Sessions bounds a sign-in at the provider. Zero values mean the
// defaults, so a configuration written before sessions were configurable
// keeps its meaning (with an idle timeout added).
type Sessions struct {
	// IdleTimeout signs a person out after this long without use.
	IdleTimeout Duration `json:"idle_timeout,omitzero"`
	// AbsoluteLifetime signs a person out this long after signing in.
	AbsoluteLifetime Duration `json:"absolute_lifetime,omitzero"`
	// MaxPerUser bounds one person's sessions; the oldest ends first.
	MaxPerUser int `json:"max_per_user,omitempty"`
}

// Session defaults: what a bank's online banking typically uses (see
// the IdentityProvider's spec.sessions).
const (
	DefaultSessionIdleTimeout      = 30 * time.Minute
	DefaultSessionAbsoluteLifetime = 12 * time.Hour
	DefaultSessionsPerUser         = 16
	// MaxSessionsPerUser bounds MaxPerUser: the list of a person's
	// sessions is one record in the store.
	MaxSessionsPerUser = 100
)

// Idle is the idle timeout in effect.
func (s Sessions) Idle() time.Duration {
	if s.IdleTimeout.Duration > 0 {
		return s.IdleTimeout.Duration
	}
	return min(DefaultSessionIdleTimeout, s.Absolute())
}

// Absolute is the absolute lifetime in effect.
func (s Sessions) Absolute() time.Duration {
	if s.AbsoluteLifetime.Duration > 0 {
		return s.AbsoluteLifetime.Duration
	}
	return DefaultSessionAbsoluteLifetime
}

// PerUser is the bound on one person's sessions in effect.
func (s Sessions) PerUser() int {
	if s.MaxPerUser > 0 {
		return s.MaxPerUser
	}
	return DefaultSessionsPerUser
}

func (s Sessions) validate(path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if s.IdleTimeout.Duration < 0 {
		errs = append(errs, invalid(path.Child("idle_timeout"), "must not be negative"))
	}
	if s.AbsoluteLifetime.Duration < 0 {
		errs = append(errs, invalid(path.Child("absolute_lifetime"), "must not be negative"))
	}
	if s.IdleTimeout.Duration > 0 && s.IdleTimeout.Duration > s.Absolute() {
		errs = append(errs, invalid(path.Child("idle_timeout"), "%s must not be longer than the absolute lifetime %s", s.IdleTimeout.Duration, s.Absolute()))
	}
	if s.MaxPerUser < 0 || s.MaxPerUser > MaxSessionsPerUser {
		errs = append(errs, invalid(path.Child("max_per_user"), "%d must be between 1 and %d", s.MaxPerUser, MaxSessionsPerUser))
	}
	return errs
}

// Egress lists the internal addresses the runtime's outbound requests
// (back-channel logout) may reach; every other internal address is
// refused (package runtime/egress).
type Egress struct {
	AllowedCIDRs []string `json:"allowed_cidrs,omitempty"`
	AllowedHosts []string `json:"allowed_hosts,omitempty"`
}

// Prefixes parses AllowedCIDRs; Validate has checked them.
func (e Egress) Prefixes() []netip.Prefix {
	out := make([]netip.Prefix, 0, len(e.AllowedCIDRs))
	for _, c := range e.AllowedCIDRs {
		if p, err := netip.ParsePrefix(c); err == nil {
			out = append(out, p.Masked())
		}
	}
	return out
}

func (e Egress) validate(path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, c := range e.AllowedCIDRs {
		if _, err := netip.ParsePrefix(c); err != nil {
			errs = append(errs, invalid(path.Child("allowed_cidrs").Index(i), "%q is not an IP prefix such as 10.0.0.0/8", c))
		}
	}
	for i, h := range e.AllowedHosts {
		if h == "" || len(h) > 253 {
			errs = append(errs, invalid(path.Child("allowed_hosts").Index(i), "%q is not a host name", h))
		}
	}
	return errs
}
