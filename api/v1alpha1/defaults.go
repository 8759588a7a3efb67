package v1alpha1

import "time"

// Defaults of optional fields. The API server applies them from the
// +kubebuilder:default markers; the controllers fall back on these for
// objects it has not defaulted (stored before a default existed, built in
// tests). TestDefaultsMatchTheSchema keeps the two equal.
const (
	DefaultRotationPeriod                  = 2160 * time.Hour
	DefaultPublishLeadTime                 = 24 * time.Hour
	DefaultIDTokenLifetime                 = 5 * time.Minute
	DefaultAccessTokenLifetime             = 10 * time.Minute
	DefaultRefreshTokenLifetime            = 720 * time.Hour
	DefaultAuthorizationCodeLifetime       = 60 * time.Second
	DefaultHTTPUsersTimeout                = 2 * time.Second
	DefaultSessionIdleTimeout              = 30 * time.Minute
	DefaultSessionAbsoluteLifetime         = 12 * time.Hour
	DefaultSessionsPerUser           int32 = 16
	DefaultReplicas                  int32 = 1
	DefaultPushedRequestsPerClient   int32 = 10000

	DefaultSecurityProfile   = SecurityProfileDefault
	DefaultAccessTokenFormat = AccessTokenOpaque
	DefaultSessionStore      = SessionStoreMemory
	DefaultClientAuth        = ClientSecretBasic
	DefaultSubjectType       = SubjectPublic
)

// DefaultSigningAlgorithms are the algorithms a provider keeps keys for
// unless it names others.
func DefaultSigningAlgorithms() []SigningAlgorithm { return []SigningAlgorithm{ES256, PS256, RS256} }
