package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// ConditionType is the type of a condition in status.conditions.
type ConditionType string

// ConditionReason is the machine-readable cause of a condition, CamelCase
// and stable: alerts and scripts match on it, people read the message.
type ConditionReason string

// EventReason is the reason of an event that no condition carries.
type EventReason string

// Reason is a declared reason, a ConditionReason or an EventReason: what the
// controllers record must be one of the constants below. The unexported
// method keeps the set closed.
// +kubebuilder:object:generate=false
type Reason interface {
	String() string
	declared()
}

func (r ConditionReason) String() string { return string(r) }
func (ConditionReason) declared()        {}
func (r EventReason) String() string     { return string(r) }
func (EventReason) declared()            {}

// Condition types shared by every kind.
const (
	// ConditionReady is True when the object is fully reconciled and usable.
	// For an IdentityProvider and a RelyingParty it is False with the reason
	// and message of the first of their other conditions that is not True.
	ConditionReady ConditionType = "Ready"
)

// Condition types of an IdentityProvider.
const (
	// ConditionKeysReady is True when the signing key Secret holds an active
	// key for every configured algorithm.
	ConditionKeysReady ConditionType = "KeysReady"
	// ConditionConfigReady is True when the provider ConfigMap holds the
	// rendered configuration and discovery document.
	ConditionConfigReady ConditionType = "ConfigReady"
	// ConditionPairwiseSaltReady is True when the salt of pairwise subjects
	// is in its Secret and is the one recorded in status.
	ConditionPairwiseSaltReady ConditionType = "PairwiseSaltReady"
	// ConditionRuntimeAvailable is True when the runtime reports ready.
	ConditionRuntimeAvailable ConditionType = "RuntimeAvailable"
	// ConditionExposed is True when the HTTPRoute or Ingress of
	// spec.exposure routes the issuer URL to the runtime, as far as the
	// Gateway's or ingress controller's status says. Reported only when
	// spec.exposure is set. It does not hold back Ready: Ready says the
	// provider serves; Exposed says whether the edge in front of it,
	// which another controller runs, has taken the route.
	ConditionExposed ConditionType = "Exposed"
	// ConditionCertificateReady is True when spec.tls.secretName holds a
	// certificate and key that cover the issuer's host and are valid now.
	// Reported only when spec.tls is set. Like Exposed, it does not hold
	// back Ready.
	ConditionCertificateReady ConditionType = "CertificateReady"
)

// Condition types of a RelyingParty.
const (
	// ConditionAccepted is True when the referenced provider accepts the
	// relying party. It never says whether a provider it may not attach to
	// exists.
	ConditionAccepted ConditionType = "Accepted"
	// ConditionSectorReady is True when the client's `sub` can be
	// computed: public, or pairwise with a sector (OIDC Core §8.1), and
	// its sectorIdentifierURI, if any, lists every redirect URI.
	ConditionSectorReady ConditionType = "SectorReady"
	// ConditionCredentialsReady is True when the client credentials are
	// available in the relying party's namespace.
	ConditionCredentialsReady ConditionType = "CredentialsReady"
	// ConditionRegistered is True when the client registration is written
	// in the provider's namespace. While it is False its reason is that of
	// Accepted or CredentialsReady, whichever holds it back.
	ConditionRegistered ConditionType = "Registered"
)

// Reasons shared by every kind.
const (
	// ReasonReconciled goes with Ready=True.
	ReasonReconciled ConditionReason = "Reconciled"
	// ReasonInvalidSpec goes with a False condition (TrustFramework Ready,
	// ConfigReady, Accepted): the spec breaks a rule the schema cannot
	// express; the message names the fields.
	ReasonInvalidSpec ConditionReason = "InvalidSpec"
	// ReasonPending goes with Ready=False while a condition it depends on
	// has not been evaluated yet.
	ReasonPending ConditionReason = "Pending"
)

// Reasons of an IdentityProvider's conditions.
const (
	// ReasonKeysGenerated goes with KeysReady=True.
	ReasonKeysGenerated ConditionReason = "KeysGenerated"
	// ReasonKeySetUnreadable goes with KeysReady=False: the key Secret does
	// not parse, and the operator will not overwrite keys it cannot read.
	ReasonKeySetUnreadable ConditionReason = "KeySetUnreadable"
	// ReasonKeysNotWritten goes with KeysReady=False: writing the key
	// Secret failed; the operator retries.
	ReasonKeysNotWritten ConditionReason = "KeysNotWritten"

	// ReasonKeyStorePINNotFound: the Secret or key that holds the PKCS#11
	// PIN does not exist.
	ReasonKeyStorePINNotFound ConditionReason = "KeyStorePINNotFound"

	// ReasonKeyStoreUnavailable: the operator cannot sign in to the PKCS#11
	// token: the module is missing, no token has the label, or the PIN is
	// wrong. The message says which.
	ReasonKeyStoreUnavailable ConditionReason = "KeyStoreUnavailable"

	// ReasonKeyStoreUnsupported: this operator binary cannot speak PKCS#11;
	// run the pkcs11 build of the image.
	ReasonKeyStoreUnsupported ConditionReason = "KeyStoreUnsupported"

	// ReasonKeyStoreFailed: the token refused to make a key.
	ReasonKeyStoreFailed ConditionReason = "KeyStoreFailed"

	// ReasonSaltGenerated goes with PairwiseSaltReady=True: the salt is in
	// the Secret the operator generated.
	ReasonSaltGenerated ConditionReason = "SaltGenerated"
	// ReasonSaltSupplied goes with PairwiseSaltReady=True: the salt is in
	// the Secret spec.tokens.pairwiseSaltSecretRef names.
	ReasonSaltSupplied ConditionReason = "SaltSupplied"
	// ReasonSaltLost goes with PairwiseSaltReady=False: the Secret of the
	// recorded salt is gone. Running runtimes keep the salt they hold;
	// restore the Secret from a backup, or accept a new salt with the
	// ida.idaop.dev/accept-pairwise-salt annotation.
	ReasonSaltLost ConditionReason = "SaltLost"
	// ReasonSaltChanged goes with PairwiseSaltReady=False: the Secret
	// holds a salt other than the recorded one; runtimes refuse it.
	ReasonSaltChanged ConditionReason = "SaltChanged"
	// ReasonSaltSecretNotFound goes with PairwiseSaltReady=False: the
	// Secret spec.tokens.pairwiseSaltSecretRef names does not exist yet.
	ReasonSaltSecretNotFound ConditionReason = "SaltSecretNotFound"
	// ReasonSaltInvalid goes with PairwiseSaltReady=False: the salt's
	// Secret lacks the key, or holds fewer than 32 bytes.
	ReasonSaltInvalid ConditionReason = "SaltInvalid"
	// ReasonSaltNotWritten goes with PairwiseSaltReady=False: creating the
	// salt Secret failed; the operator retries.
	ReasonSaltNotWritten ConditionReason = "SaltNotWritten"

	// ReasonRendered goes with ConfigReady=True.
	ReasonRendered ConditionReason = "Rendered"
	// ReasonTrustFrameworkNotFound goes with ConfigReady=False: a named
	// TrustFramework does not exist, or the selection picks none.
	ReasonTrustFrameworkNotFound ConditionReason = "TrustFrameworkNotFound"
	// ReasonTrustFrameworkNotReady goes with ConfigReady=False: a selected
	// TrustFramework is not Ready for its current generation.
	ReasonTrustFrameworkNotReady ConditionReason = "TrustFrameworkNotReady"

	// ReasonRuntimeReady goes with RuntimeAvailable=True.
	ReasonRuntimeReady ConditionReason = "RuntimeReady"
	// ReasonRuntimeProgressing goes with RuntimeAvailable=False: no runtime
	// pod is ready yet, or replicas is 0.
	ReasonRuntimeProgressing ConditionReason = "RuntimeProgressing"

	// ReasonRouteAccepted goes with Exposed=True: every Gateway the
	// HTTPRoute names reports it Accepted with its references resolved.
	ReasonRouteAccepted ConditionReason = "RouteAccepted"
	// ReasonRoutePending goes with Exposed=False: the HTTPRoute is written
	// and a Gateway has not reported on it yet (no controller runs it, or
	// it has not caught up).
	ReasonRoutePending ConditionReason = "RoutePending"
	// ReasonRouteNotAccepted goes with Exposed=False: a Gateway reports the
	// HTTPRoute Accepted=False; the message carries its reason, e.g.
	// NotAllowedByListeners or NoMatchingListenerHostname.
	ReasonRouteNotAccepted ConditionReason = "RouteNotAccepted"
	// ReasonRouteRefsNotResolved goes with Exposed=False: a Gateway reports
	// the HTTPRoute ResolvedRefs=False (the runtime Service unusable).
	ReasonRouteRefsNotResolved ConditionReason = "RouteRefsNotResolved"
	// ReasonGatewayAPINotInstalled goes with Exposed=False: spec.exposure
	// asks for an HTTPRoute and the cluster does not serve the Gateway API
	// (gateway.networking.k8s.io/v1) or did not when the operator started.
	ReasonGatewayAPINotInstalled ConditionReason = "GatewayAPINotInstalled"
	// ReasonIngressAdmitted goes with Exposed=True: the ingress controller
	// published an address for the Ingress.
	ReasonIngressAdmitted ConditionReason = "IngressAdmitted"
	// ReasonIngressPending goes with Exposed=False: the Ingress is written
	// and no ingress controller has published an address for it yet.
	ReasonIngressPending ConditionReason = "IngressPending"
	// ReasonCertificateValid goes with CertificateReady=True; the message
	// says until when.
	ReasonCertificateValid ConditionReason = "CertificateValid"
	// ReasonCertificatePending goes with CertificateReady=False: the
	// Certificate is written and cert-manager has not issued it yet; the
	// message carries cert-manager's own reason when it gave one.
	ReasonCertificatePending ConditionReason = "CertificatePending"
	// ReasonCertManagerNotInstalled goes with CertificateReady=False:
	// spec.tls.certManager asks for a Certificate and the cluster does not
	// serve cert-manager.io/v1 (or did not when the operator started).
	ReasonCertManagerNotInstalled ConditionReason = "CertManagerNotInstalled"
	// ReasonCertificateInvalid goes with CertificateReady=False: the Secret
	// holds no usable certificate and key, or one that does not cover the
	// issuer's host, is expired or not yet valid.
	ReasonCertificateInvalid ConditionReason = "CertificateInvalid"
)

// Reasons of a RelyingParty's conditions.
const (
	// ReasonAccepted goes with Accepted=True.
	ReasonAccepted ConditionReason = "Accepted"
	// ReasonProviderNotFound goes with Accepted=False when the provider
	// would be in the relying party's own namespace and is not.
	ReasonProviderNotFound ConditionReason = "ProviderNotFound"
	// ReasonNotAllowedByProvider goes with Accepted=False: the provider
	// does not accept this namespace, or does not exist in another one; the
	// two read the same.
	ReasonNotAllowedByProvider ConditionReason = "NotAllowedByProvider"
	// ReasonNotOfferedByProvider goes with Accepted=False: the relying
	// party asks for something the provider's configuration does not offer.
	ReasonNotOfferedByProvider ConditionReason = "NotOfferedByProvider"
	// ReasonProviderConfigUnavailable goes with Accepted=False: the
	// provider's rendered configuration is missing or cannot be read, so
	// what it offers is unknown; see the provider's ConfigReady.
	ReasonProviderConfigUnavailable ConditionReason = "ProviderConfigUnavailable"

	// ReasonSectorResolved goes with SectorReady=True.
	ReasonSectorResolved ConditionReason = "SectorResolved"
	// ReasonSectorAmbiguous goes with SectorReady=False: pairwise subjects
	// and redirect URIs on several hosts, without sectorIdentifierURI.
	ReasonSectorAmbiguous ConditionReason = "SectorAmbiguous"
	// ReasonSectorIdentifierUnreachable goes with SectorReady=False: the
	// sectorIdentifierURI could not be fetched (connection, TLS, status,
	// timeout, redirect); the operator retries.
	ReasonSectorIdentifierUnreachable ConditionReason = "SectorIdentifierUnreachable"
	// ReasonSectorIdentifierInvalid goes with SectorReady=False: the
	// sectorIdentifierURI does not serve a JSON array of URLs within the
	// size limit.
	ReasonSectorIdentifierInvalid ConditionReason = "SectorIdentifierInvalid"
	// ReasonSectorIdentifierMismatch goes with SectorReady=False: the
	// array the sectorIdentifierURI serves lacks a redirect URI.
	ReasonSectorIdentifierMismatch ConditionReason = "SectorIdentifierMismatch"

	// ReasonSecretGenerated goes with CredentialsReady=True: the operator
	// owns the credentials Secret.
	ReasonSecretGenerated ConditionReason = "SecretGenerated"
	// ReasonSecretAdopted goes with CredentialsReady=True: the client secret
	// is read from a Secret the team manages.
	ReasonSecretAdopted ConditionReason = "SecretAdopted"
	// ReasonSecretNotFound goes with CredentialsReady=False: the Secret the
	// team manages does not exist yet; and with CertificateReady=False: the
	// TLS Secret does not exist (yet: cert-manager writes it once issued).
	ReasonSecretNotFound ConditionReason = "SecretNotFound"
	// ReasonSecretInvalid goes with CredentialsReady=False: the Secret the
	// team manages lacks a usable client secret.
	ReasonSecretInvalid ConditionReason = "SecretInvalid"
	// ReasonSecretConflict goes with CredentialsReady=False: a Secret this
	// relying party does not own already has the credentials Secret's name.
	ReasonSecretConflict ConditionReason = "SecretConflict"

	// ReasonRegistrationWritten goes with Registered=True.
	ReasonRegistrationWritten ConditionReason = "RegistrationWritten"
	// ReasonDisabled goes with Registered=True and Ready=False: the client
	// is registered but spec.disabled makes the provider refuse it.
	ReasonDisabled ConditionReason = "Disabled"
)

// Reasons of events that no condition carries.
const (
	// EventKeyCreated: a signing key was generated and is published before
	// it signs.
	EventKeyCreated EventReason = "KeyCreated"
	// EventKeyActivated: a published key became the one that signs.
	EventKeyActivated EventReason = "KeyActivated"
	// EventKeyRetired: a key stopped signing and stays published until the
	// tokens it signed expire.
	EventKeyRetired EventReason = "KeyRetired"
	// EventKeyRemoved: a retired key left the published set.
	EventKeyRemoved EventReason = "KeyRemoved"
	// EventRestored: an object the operator owns was edited or deleted by
	// someone else, or its spec changed, and was written back.
	EventRestored EventReason = "Reconciled"
	// EventCredentialsRepaired: the credentials Secret was edited and has
	// been restored.
	EventCredentialsRepaired EventReason = "CredentialsRepaired"
	// EventSaltAccepted: a new pairwise salt was accepted with the
	// ida.idaop.dev/accept-pairwise-salt annotation.
	EventSaltAccepted EventReason = "PairwiseSaltAccepted"
	// EventUnregistered: a client registration was removed.
	EventUnregistered EventReason = "Unregistered"
)

// Conditioned is every kind of this API: tools and tests read the status
// conditions the same way for each.
// +kubebuilder:object:generate=false
type Conditioned interface {
	GetConditions() []metav1.Condition
}

// GetConditions returns the status conditions.
func (tf *TrustFramework) GetConditions() []metav1.Condition { return tf.Status.Conditions }

// GetConditions returns the status conditions.
func (idp *IdentityProvider) GetConditions() []metav1.Condition { return idp.Status.Conditions }

// GetConditions returns the status conditions.
func (rp *RelyingParty) GetConditions() []metav1.Condition { return rp.Status.Conditions }
