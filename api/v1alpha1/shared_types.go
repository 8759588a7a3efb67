package v1alpha1

// Condition types shared by every kind.
const (
	// ConditionReady is True when the object is fully reconciled and usable.
	ConditionReady = "Ready"
)

// Condition types of an IdentityProvider.
const (
	// ConditionKeysReady is True when the signing key Secret holds an active
	// key for every configured algorithm.
	ConditionKeysReady = "KeysReady"
	// ConditionConfigReady is True when the provider ConfigMap holds the
	// rendered configuration and discovery document.
	ConditionConfigReady = "ConfigReady"
	// ConditionRuntimeAvailable is True when the runtime reports ready.
	ConditionRuntimeAvailable = "RuntimeAvailable"
)

// Condition types of a RelyingParty.
const (
	// ConditionAccepted is True when the referenced provider accepts the
	// relying party. It never says whether a provider it may not attach to
	// exists.
	ConditionAccepted = "Accepted"
	// ConditionCredentialsReady is True when the client credentials are
	// available in the relying party's namespace.
	ConditionCredentialsReady = "CredentialsReady"
	// ConditionRegistered is True when the client registration is written
	// in the provider's namespace.
	ConditionRegistered = "Registered"
)

// Condition reasons. Each tells a person what happened and, with the
// message, what to do.
const (
	ReasonReconciled          = "Reconciled"
	ReasonInvalidSpec         = "InvalidSpec"
	ReasonReferencedByNothing = "NotReferenced"

	ReasonKeysGenerated          = "KeysGenerated"
	ReasonTrustFrameworkNotReady = "TrustFrameworkNotReady"
	ReasonTrustFrameworkNotFound = "TrustFrameworkNotFound"
	ReasonRendered               = "Rendered"
	ReasonRuntimeProgressing     = "RuntimeProgressing"
	ReasonRuntimeReady           = "RuntimeReady"

	ReasonAccepted             = "Accepted"
	ReasonProviderNotFound     = "ProviderNotFound"
	ReasonNotAllowedByProvider = "NotAllowedByProvider"
	ReasonNotOfferedByProvider = "NotOfferedByProvider"
	ReasonSecretNotFound       = "SecretNotFound"
	ReasonSecretGenerated      = "SecretGenerated"
	ReasonSecretAdopted        = "SecretAdopted"
	ReasonRegistrationWritten  = "RegistrationWritten"
	ReasonDisabled             = "Disabled"
)

// LocalSecretReference names a Secret in the namespace of the object that
// holds the reference.
type LocalSecretReference struct {
	// Name of the Secret.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// SecretKeySelector selects one key of a Secret in the same namespace.
type SecretKeySelector struct {
	// Name of the Secret.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
	// Key within the Secret.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Key string `json:"key"`
}

// SigningAlgorithm is a JWS algorithm this project signs or verifies with.
// +kubebuilder:validation:Enum=ES256;PS256;RS256
type SigningAlgorithm string

const (
	ES256 SigningAlgorithm = "ES256"
	PS256 SigningAlgorithm = "PS256"
	RS256 SigningAlgorithm = "RS256"
)
