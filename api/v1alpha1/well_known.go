package v1alpha1

// Label, annotation and finalizer keys the operator writes or reads. The
// keys the runtime reads as well (the provider and component labels) are
// the operator->runtime contract and live in runtime/config.
const (
	// LabelManagedBy marks every object the operator owns; the manager
	// caches only objects that carry it.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// ManagedByOperator is LabelManagedBy's value.
	ManagedByOperator = "ida-operator"
	// LabelName and LabelInstance select one provider's runtime pods.
	LabelName     = "app.kubernetes.io/name"
	LabelInstance = "app.kubernetes.io/instance"
	// AppRuntime is LabelName's value on runtime pods.
	AppRuntime = "ida-runtime"

	// AnnotationRotateKeys on an IdentityProvider asks for a key rotation:
	// each new value schedules one new key per algorithm, published for
	// the lead time before it signs.
	AnnotationRotateKeys = "ida.idaop.dev/rotate-keys"
	// AnnotationAcceptPairwiseSalt on an IdentityProvider gives up the
	// pairwise salt whose fingerprint is its value (that in
	// status.pairwiseSaltFingerprint): the operator then records the salt
	// now in the Secret, or generates a new one if the Secret is gone.
	// Every pairwise `sub` changes, so relying parties lose the link to
	// their users; a value that names another salt does nothing.
	AnnotationAcceptPairwiseSalt = "ida.idaop.dev/accept-pairwise-salt"
	// AnnotationProviderConfigHash on runtime pods rolls them when the
	// provider configuration changes.
	AnnotationProviderConfigHash = "ida.idaop.dev/provider-config-hash"

	// AnnotationRelyingParty on a registration or credentials Secret names
	// its RelyingParty as namespace/name.
	AnnotationRelyingParty = "ida.idaop.dev/relying-party"
	// LabelRelyingPartyUID finds every registration of one RelyingParty.
	LabelRelyingPartyUID = "ida.idaop.dev/relying-party-uid"
	// FinalizerClientRegistration removes the client registration before
	// the RelyingParty goes.
	FinalizerClientRegistration = "ida.idaop.dev/client-registration"
	// ComponentCredentials is the component label's value on credentials
	// Secrets.
	ComponentCredentials = "client-credentials"
)
