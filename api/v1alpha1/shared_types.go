package v1alpha1

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
