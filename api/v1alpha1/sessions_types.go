package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// SessionsSpec bounds a sign-in at the provider. The defaults are what a
// bank's online banking typically uses: signed out after 30 minutes
// without use (a shared or stolen device is not left open for long), and
// after 12 hours whatever happens (one working day; a new sign-in each
// day re-checks the password and second factor).
// +kubebuilder:validation:XValidation:rule="!has(self.idleTimeout) || !has(self.absoluteLifetime) || duration(self.idleTimeout) <= duration(self.absoluteLifetime)",message="sessions.idleTimeout must not be longer than sessions.absoluteLifetime"
type SessionsSpec struct {
	// IdleTimeout signs a person out after this long without a request
	// that uses the session (an authorization, a logout). At least 1m.
	// +kubebuilder:default="30m"
	// +optional
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1m')",message="sessions.idleTimeout must be at least 1m"
	IdleTimeout *metav1.Duration `json:"idleTimeout,omitempty"`

	// AbsoluteLifetime signs a person out this long after they signed in,
	// however active the session was. At most 720h.
	// +kubebuilder:default="12h"
	// +optional
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1m') && duration(self) <= duration('720h')",message="sessions.absoluteLifetime must be between 1m and 720h"
	AbsoluteLifetime *metav1.Duration `json:"absoluteLifetime,omitempty"`

	// MaxPerUser bounds the sessions one person has at once (browsers,
	// devices); signing in once more ends the oldest, with back-channel
	// logout to the relying parties it signed in to. Default 16.
	// +kubebuilder:default=16
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	// +optional
	MaxPerUser int32 `json:"maxPerUser,omitempty"`
}

// EgressSpec allows the runtime's outbound requests (back-channel logout)
// to reach internal addresses. By default they reach only public ones:
// a relying party cannot register a URI that makes the runtime call
// loopback, link-local, private or cluster-internal addresses (no
// server-side request forgery). The address is checked when the
// connection is made, after DNS, so a name that resolves differently
// later gets no further.
type EgressSpec struct {
	// AllowedCIDRs are internal networks the runtime may call, e.g. the
	// range of a relying party that runs in the cluster.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=43
	// +kubebuilder:validation:XValidation:rule="self.all(c, isCIDR(c))",message="each allowed CIDR must be an IP prefix such as 10.0.0.0/8"
	AllowedCIDRs []string `json:"allowedCIDRs,omitempty"`

	// AllowedHosts are host names the runtime may call whatever they
	// resolve to, e.g. `rp.team-a.svc.cluster.local`. Exact names, no
	// wildcards.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=253
	// +kubebuilder:validation:items:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	AllowedHosts []string `json:"allowedHosts,omitempty"`
}
