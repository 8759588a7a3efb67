package config

import (
	"time"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Consent is how the provider keeps what people agreed to share and what
// it released about them, for the page where they see and withdraw it.
type Consent struct {
	// ReleaseRetention is how long a person's release records are kept;
	// zero means DefaultReleaseRetention. A remembered consent lasts as
	// long from its last use, and at least as long as its tokens.
	ReleaseRetention Duration `json:"release_retention,omitzero"`
}

// DefaultReleaseRetention is a year: what a person would look back on.
// The audit log, not this, is the provider's legal record.
const DefaultReleaseRetention = 365 * 24 * time.Hour

// MaxReleaseRecords bounds one person's release records; the oldest go.
const MaxReleaseRecords = 100

// Retention is ReleaseRetention with its default.
func (c Consent) Retention() time.Duration {
	if c.ReleaseRetention.Duration <= 0 {
		return DefaultReleaseRetention
	}
	return c.ReleaseRetention.Duration
}

func (c Consent) validate(path *field.Path) field.ErrorList {
	if c.ReleaseRetention.Duration < 0 {
		return field.ErrorList{field.Invalid(path.Child("release_retention"), c.ReleaseRetention.String(), "must not be negative")}
	}
	return nil
}
