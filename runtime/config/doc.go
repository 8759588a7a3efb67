// Package config is the contract between the operator and the runtime: the
// provider config, the signing key set and the client registrations the
// operator writes, the names of the objects and keys that hold them, and the
// one function that renders discovery metadata.
//
// The runtime never imports the CRD types; it reads only what this package
// describes, either from its own namespace or from a directory (LoadDir).
// Nothing here talks to Kubernetes, so this package imports no k8s.io code.
//
// Decoding is lenient about unknown members, so a runtime image older than
// the operator still reads what the operator writes; Validate catches what
// matters.
package config

// Names of the objects and keys the operator writes and the runtime reads.
const (
	// ProviderConfigKey holds the Provider in the ConfigMap <idp>-provider.
	ProviderConfigKey = "provider.json"
	// DiscoveryKey holds the rendered discovery document in the same
	// ConfigMap, so a person can read it with kubectl.
	DiscoveryKey = "openid-configuration.json"
	// KeySetKey holds the KeySet in the Secret <idp>-signing-keys.
	KeySetKey = "keys.json"
	// ClientKey holds the Client in each client registration Secret.
	ClientKey = "client.json"

	// LabelProvider marks an object as belonging to the IdentityProvider
	// named by its value; the runtime watches by this label.
	LabelProvider = "ida.idaop.dev/provider"
	// LabelComponent says which part of the contract an object holds.
	LabelComponent = "ida.idaop.dev/component"

	ComponentSigningKeys        = "signing-keys"
	ComponentProviderConfig     = "provider-config"
	ComponentClientRegistration = "client-registration"
	ComponentPairwiseSalt       = "pairwise-salt"
)

// Directory layout read by LoadDir (the runtime's --config-dir): the same
// keys as in the cluster, clients one file each.
const (
	ClientsDir = "clients"
)
