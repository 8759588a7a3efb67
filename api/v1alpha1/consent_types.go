package v1alpha1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DefaultReleaseRecordRetention is a year: what a person would look back
// on; the audit log is the provider's own record.
const DefaultReleaseRecordRetention = 8760 * time.Hour

// ConsentSpec says how long the runtime keeps what people agreed to share
// and what it released about them, which each person sees (and withdraws)
// at `<issuer>/account/shared`.
type ConsentSpec struct {
	// ReleaseRecordRetention is how long the runtime keeps a person's
	// release records: which claims and verified claims went to which
	// relying party, and when (never their values). At most 100 records
	// per person are kept, the oldest go first. A remembered consent lasts
	// as long from its last use, and at least as long as the tokens
	// issued under it. The audit log keeps its own copy of every release
	// of verified claims, for as long as your log pipeline does. Default
	// 8760h (a year); between 1h and 26280h (three years).
	// +kubebuilder:default="8760h"
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1h') && duration(self) <= duration('26280h')",message="releaseRecordRetention must be between 1h and 26280h (three years)"
	// +optional
	ReleaseRecordRetention *metav1.Duration `json:"releaseRecordRetention,omitempty"`
}
