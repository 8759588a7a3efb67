package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// IdentityProviderSpec declares one OpenID Provider with Identity Assurance.
// +kubebuilder:validation:XValidation:rule="self.runtime.replicas <= 1 || self.sessionStore.type == 'Redis'",message="more than one runtime replica needs a shared session store: set sessionStore.type to Redis"
// +kubebuilder:validation:XValidation:rule="!has(self.runtime.autoscaling) || self.runtime.autoscaling.maxReplicas <= 1 || self.sessionStore.type == 'Redis'",message="autoscaling to more than one runtime replica needs a shared session store: set sessionStore.type to Redis"
// +kubebuilder:validation:XValidation:rule="!has(self.exposure) || (self.issuer.startsWith('https://') && !self.issuer.matches('^https://([[]|[0-9.]+(:|/|$))'))",message="exposure needs an https issuer whose host is a DNS name, not an IP address: routes and Ingresses match host names"
// +kubebuilder:validation:XValidation:rule="!has(self.networkPolicy) || has(self.networkPolicy.edgeNamespaces) || (has(self.exposure) && has(self.exposure.gateway))",message="networkPolicy needs edgeNamespaces (where your ingress controller's or Gateway's proxies run) unless exposure.gateway names the Gateways; set it to [] to let nothing in but metrics"
// +kubebuilder:validation:XValidation:rule="!has(self.tls) || (self.issuer.startsWith('https://') && !self.issuer.matches('^https://([[]|[0-9.]+(:|/|$))'))",message="tls needs an https issuer whose host is a DNS name: certificates are issued for host names"
// +kubebuilder:validation:XValidation:rule="!has(self.tls) || !has(self.tls.termination) || self.tls.termination != 'Runtime' || !has(self.exposure)",message="tls.termination Runtime cannot go with exposure: HTTPRoutes and Ingresses speak plain http to the runtime; pass TLS through to the runtime Service yourself, or use termination Edge"
// +kubebuilder:validation:XValidation:rule="self.security.profile != 'FAPI2' || self.signing.algorithms.all(a, a != 'RS256')",message="FAPI2 allows only PS256 and ES256: remove RS256 from signing.algorithms"
// +kubebuilder:validation:XValidation:rule="self.security.profile != 'FAPI2' || !has(self.tokens.authorizationCodeLifetime) || duration(self.tokens.authorizationCodeLifetime) <= duration('60s')",message="FAPI2 allows authorization codes to live at most 60s: shorten tokens.authorizationCodeLifetime"
type IdentityProviderSpec struct {
	// Issuer is the provider's issuer identifier: an https URL without query
	// or fragment. http is accepted only for loopback hosts (localhost,
	// 127.0.0.1, [::1]) so the demo can run without certificates.
	// Discovery is served at `<issuer>/.well-known/openid-configuration`.
	// +kubebuilder:validation:MinLength=8
	// +kubebuilder:validation:MaxLength=512
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() in ['https', 'http']",message="issuer must be an absolute https URL"
	// +kubebuilder:validation:XValidation:rule="!isURL(self) || url(self).getScheme() == 'https' || url(self).getHostname() in ['localhost', '127.0.0.1', '::1']",message="issuer must use https; http is allowed only for loopback hosts (localhost, 127.0.0.1, [::1])"
	// +kubebuilder:validation:XValidation:rule="!self.contains('?') && !self.contains('#')",message="issuer must not contain a query or fragment"
	Issuer string `json:"issuer"`

	// TrustFrameworks selects the TrustFrameworks this provider offers, by
	// name, by label selector, or both (the union). Their identifiers,
	// evidence and claims make up the provider's identity assurance
	// metadata.
	TrustFrameworks TrustFrameworkSelection `json:"trustFrameworks"`

	// Scopes are extra scope values the provider supports besides `openid`,
	// `profile`, `email`, `address`, `phone` and `offline_access`.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:Pattern=`^[\x21\x23-\x5B\x5D-\x7E]+$`
	// +kubebuilder:validation:items:MaxLength=128
	Scopes []string `json:"scopes,omitempty"`

	// Profiles are identity assurance profiles the provider implements.
	// `JapaneseBasic` enables the scopes of the OpenID Foundation Japan's
	// basic profile (`jp_oidf_ida`, `jp_oidf_ida_with_evidence`, the age
	// scopes and `jp_oidf_ida_msisdn`), answered at UserInfo only.
	// +optional
	// +listType=set
	Profiles []Profile `json:"profiles,omitempty"`

	// Signing configures the keys that sign ID tokens and UserInfo.
	// +kubebuilder:default={}
	Signing SigningSpec `json:"signing,omitempty"`

	// Tokens configures token and code lifetimes.
	// +kubebuilder:default={}
	Tokens TokenSpec `json:"tokens,omitempty"`

	// Security configures the security profile the provider enforces.
	// +kubebuilder:default={}
	Security SecuritySpec `json:"security,omitempty"`

	// Users configures where end-users and their verified data come from.
	Users UserSourceSpec `json:"users"`

	// Authentication declares the authentication levels the provider
	// offers: each an `acr` value and the method combinations that satisfy
	// it. Absent: no levels; ID tokens carry `amr` and `auth_time` but no
	// `acr`, and a request for an essential `acr` is refused with
	// `unmet_authentication_requirements`.
	// +optional
	Authentication *AuthenticationSpec `json:"authentication,omitempty"`

	// Sessions bounds how long a person stays signed in at the provider:
	// an idle timeout and an absolute lifetime. Defaults: 30m idle, 12h
	// absolute.
	// +kubebuilder:default={}
	Sessions SessionsSpec `json:"sessions,omitempty"`

	// Egress says which internal addresses the runtime may call out to
	// (back-channel logout). Absent: only public addresses; loopback,
	// link-local, private and cluster-internal ones are refused.
	// +optional
	Egress *EgressSpec `json:"egress,omitempty"`

	// SessionStore holds per-request state: codes, sessions, PAR requests,
	// refresh tokens and replay caches. Never the Kubernetes API.
	// +kubebuilder:default={}
	SessionStore SessionStoreSpec `json:"sessionStore,omitempty"`

	// AllowedRelyingParties says which namespaces may attach RelyingParties
	// to this provider. Defaults to the provider's own namespace.
	// +kubebuilder:default={}
	AllowedRelyingParties AllowedRelyingParties `json:"allowedRelyingParties,omitempty"`

	// IdentityAssurance configures what the provider offers beyond its
	// trust frameworks: attachments and transformed claims.
	// +kubebuilder:default={}
	IdentityAssurance IdentityAssuranceSpec `json:"identityAssurance,omitempty"`

	// Consent says how long remembered consents and release records are
	// kept (the "your shared information" page).
	// +kubebuilder:default={}
	Consent ConsentSpec `json:"consent,omitempty"`

	// Runtime configures the Deployment that serves the provider.
	// +kubebuilder:default={}
	Runtime RuntimeSpec `json:"runtime,omitempty"`

	// Exposure makes the runtime reachable at the issuer URL through a
	// Gateway API HTTPRoute or an Ingress that the provider owns. Absent:
	// the operator exposes nothing and the runtime's Service (port 8080)
	// is yours to route; the Exposed condition is then not reported.
	// +optional
	Exposure *ExposureSpec `json:"exposure,omitempty"`

	// TLS is the certificate for the issuer's host: a kubernetes.io/tls
	// Secret you provide, or one cert-manager issues and renews; and who
	// serves it: the Ingress (exposure.ingress, unless it names a Secret of
	// its own) or, with termination Runtime, the runtime itself, for
	// clusters that pass TLS through. Its state is the CertificateReady
	// condition. Absent: TLS is terminated by something the operator does
	// not manage (a Gateway's listener, a load balancer).
	// +optional
	TLS *TLSSpec `json:"tls,omitempty"`

	// NetworkPolicy limits the runtime pods' traffic with a NetworkPolicy
	// the provider owns: in, only from the edge and metrics namespaces to
	// the runtime's port; out, only to DNS, the Kubernetes API, the Redis
	// session store and the HTTP user source when configured, and
	// additionalEgress. Absent: no NetworkPolicy (opt in; a policy that
	// leaves out where your edge's proxies run would make the issuer
	// unreachable).
	// +optional
	NetworkPolicy *NetworkPolicySpec `json:"networkPolicy,omitempty"`
}

// NetworkPolicySpec says who may talk to the runtime besides what the
// provider's spec already names.
type NetworkPolicySpec struct {
	// EdgeNamespaces are the namespaces whose pods may reach the runtime:
	// where your Gateway's or ingress controller's proxies run. Absent: the
	// namespaces of spec.exposure.gateway.parentRefs, right for Gateway
	// implementations that run the proxy beside the Gateway.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=63
	// +kubebuilder:validation:items:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	EdgeNamespaces []string `json:"edgeNamespaces,omitempty"`

	// MetricsNamespaces are the namespaces whose pods may scrape the
	// runtime's /metrics (on the same port), e.g. `monitoring`.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=63
	// +kubebuilder:validation:items:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	MetricsNamespaces []string `json:"metricsNamespaces,omitempty"`

	// AdditionalEgress are egress rules appended to the ones the operator
	// derives, e.g. TCP 443 to the internet when a relying party registers
	// a jwksURI, which the runtime fetches.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=16
	AdditionalEgress []networkingv1.NetworkPolicyEgressRule `json:"additionalEgress,omitempty"`
}

// ExposureSpec routes the issuer URL's host and path to the runtime's
// Service, through exactly one of a Gateway or an Ingress.
// +kubebuilder:validation:XValidation:rule="has(self.gateway) != has(self.ingress)",message="set exactly one of exposure.gateway (an HTTPRoute) or exposure.ingress (an Ingress)"
type ExposureSpec struct {
	// Gateway attaches an HTTPRoute (gateway.networking.k8s.io/v1) named
	// after the provider to existing Gateways. Needs the Gateway API CRDs;
	// without them the Exposed condition says so and the rest of the
	// provider runs.
	// +optional
	Gateway *GatewayExposure `json:"gateway,omitempty"`

	// Ingress writes an Ingress (networking.k8s.io/v1) named after the
	// provider, for clusters without Gateway API.
	// +optional
	Ingress *IngressExposure `json:"ingress,omitempty"`
}

// GatewayExposure is the HTTPRoute's attachment. Its hostname is the
// issuer's host and its one rule matches the issuer's path as a prefix.
type GatewayExposure struct {
	// ParentRefs are the Gateways the route attaches to. A Gateway in
	// another namespace must allow routes from the provider's namespace
	// (its listener's allowedRoutes.namespaces).
	// +listType=atomic
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=8
	ParentRefs []GatewayRef `json:"parentRefs"`
}

// GatewayRef names a Gateway and, optionally, one of its listeners.
type GatewayRef struct {
	// Name of the Gateway.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Name string `json:"name"`

	// Namespace of the Gateway. Absent: the provider's namespace.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Namespace string `json:"namespace,omitempty"`

	// SectionName is the Gateway listener to attach to, typically its
	// https listener. Absent: every listener that accepts the route.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	SectionName string `json:"sectionName,omitempty"`
}

// IngressExposure is the Ingress's class and TLS. Its one rule's host is
// the issuer's host and its path the issuer's path, as a Prefix.
type IngressExposure struct {
	// ClassName is the IngressClass that serves the Ingress.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	ClassName string `json:"className"`

	// TLSSecretName is a kubernetes.io/tls Secret in the provider's
	// namespace holding the certificate for the issuer's host. Absent: the
	// Ingress declares no TLS and the ingress controller's default
	// certificate (or TLS terminated in front of it) must cover the host.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	TLSSecretName string `json:"tlsSecretName,omitempty"`

	// Annotations are added to the Ingress, for what the ingress
	// controller reads from them (timeouts, a cert-manager issuer). Others'
	// annotations on the Ingress are kept.
	// +optional
	// +kubebuilder:validation:MaxProperties=32
	Annotations map[string]string `json:"annotations,omitempty"`
}

// TLSTermination says what serves the provider's certificate.
// +kubebuilder:validation:Enum=Edge;Runtime
type TLSTermination string

const (
	// TLSTerminationEdge: the Ingress or Gateway in front of the runtime
	// serves the certificate and speaks plain http to the runtime.
	TLSTerminationEdge TLSTermination = "Edge"
	// TLSTerminationRuntime: the runtime serves https on its port with the
	// Secret mounted, and picks up a renewed certificate without a restart.
	TLSTerminationRuntime TLSTermination = "Runtime"
)

// TLSSpec names the provider's certificate and how it is made and served.
type TLSSpec struct {
	// SecretName is the kubernetes.io/tls Secret, in the provider's
	// namespace, holding the certificate for the issuer's host (tls.crt,
	// tls.key). With certManager, cert-manager writes it; otherwise you do,
	// and the CertificateReady condition says whether it covers the host
	// and until when.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	SecretName string `json:"secretName"`

	// CertManager has cert-manager issue and renew the certificate: the
	// provider owns a Certificate (cert-manager.io/v1) for the issuer's
	// host that writes secretName. Needs cert-manager's CRDs; without them
	// CertificateReady says so and the rest of the provider runs.
	// +optional
	CertManager *CertManagerCertificate `json:"certManager,omitempty"`

	// Termination is Edge (default: the Ingress or Gateway serves the
	// certificate) or Runtime (the runtime pods serve https themselves,
	// with the Secret mounted; the edge must pass TLS through, so this
	// cannot be combined with exposure).
	// +kubebuilder:default=Edge
	// +optional
	Termination TLSTermination `json:"termination,omitempty"`
}

// CertManagerCertificate is what the provider's Certificate asks of
// cert-manager.
type CertManagerCertificate struct {
	// IssuerRef is the cert-manager Issuer (in the provider's namespace) or
	// ClusterIssuer that signs the certificate.
	IssuerRef CertManagerIssuerRef `json:"issuerRef"`

	// RenewBefore is how long before expiry cert-manager renews. Absent:
	// cert-manager's default (a third of the certificate's lifetime).
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1h')",message="renewBefore must be at least 1h"
	// +optional
	RenewBefore *metav1.Duration `json:"renewBefore,omitempty"`
}

// CertManagerIssuerRef names an Issuer or ClusterIssuer.
type CertManagerIssuerRef struct {
	// Name of the Issuer or ClusterIssuer.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// Kind is Issuer (default) or ClusterIssuer.
	// +kubebuilder:validation:Enum=Issuer;ClusterIssuer
	// +kubebuilder:default=Issuer
	// +optional
	Kind string `json:"kind,omitempty"`
}

// TrustFrameworkSelection selects TrustFrameworks by name and/or label.
// +kubebuilder:validation:XValidation:rule="(has(self.names) && size(self.names) > 0) || has(self.selector)",message="select at least one trust framework: set names or selector"
type TrustFrameworkSelection struct {
	// Names of TrustFramework objects (metadata.name, not identifier).
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=253
	Names []string `json:"names,omitempty"`

	// Selector selects TrustFramework objects by label.
	// +optional
	Selector *metav1.LabelSelector `json:"selector,omitempty"`
}

// Profile is an identity assurance profile.
// +kubebuilder:validation:Enum=JapaneseBasic
type Profile string

// ProfileJapaneseBasic is OpenID Foundation Japan's basic profile with
// scopes and UserInfo.
const ProfileJapaneseBasic Profile = "JapaneseBasic"

// SigningSpec configures signing keys and their rotation.
// +kubebuilder:validation:XValidation:rule="!has(self.rotationPeriod) || !has(self.publishLeadTime) || duration(self.rotationPeriod) > duration(self.publishLeadTime)",message="rotationPeriod must be longer than publishLeadTime"
type SigningSpec struct {
	// Algorithms to keep a key for; ID tokens are signed with the first
	// unless a client registered another. ES256 and PS256 suit FAPI 2.0;
	// RS256 is what OpenID Connect requires every provider to offer.
	// +kubebuilder:default={"ES256","PS256","RS256"}
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=3
	Algorithms []SigningAlgorithm `json:"algorithms,omitempty"`

	// RotationPeriod is how long a key signs before the next one takes
	// over.
	// +kubebuilder:default="2160h"
	RotationPeriod *metav1.Duration `json:"rotationPeriod,omitempty"`

	// PublishLeadTime is how long a new key is published in the JWKS before
	// it signs anything, so relying parties' caches hold it in time.
	// +kubebuilder:default="24h"
	PublishLeadTime *metav1.Duration `json:"publishLeadTime,omitempty"`

	// KeyStore says where the private halves of the signing keys live:
	// in a Secret the operator writes (the default), or inside a PKCS#11
	// token (a hardware security module) they never leave.
	// +kubebuilder:default={type: Secret}
	KeyStore KeyStoreSpec `json:"keyStore,omitempty"`
}

// KeyStoreType names where signing keys live.
// +kubebuilder:validation:Enum=Secret;PKCS11
type KeyStoreType string

const (
	// KeyStoreSecret keeps whole keys in the Secret <name>-signing-keys.
	KeyStoreSecret KeyStoreType = "Secret"
	// KeyStorePKCS11 generates keys inside a PKCS#11 token as sensitive
	// and not extractable; the Secret then holds only their public halves
	// and schedule.
	KeyStorePKCS11 KeyStoreType = "PKCS11"
)

// KeyStoreSpec is where signing keys live. Changing it rotates: the next
// key is made in the new store and signs after publishLeadTime, while the
// current one signs on from the old store until then and stays published
// until the tokens it signed have expired. Keep pkcs11 set while keys in
// the token are still published (status.signingKeys lists them).
// +kubebuilder:validation:XValidation:rule="self.type != 'PKCS11' || has(self.pkcs11)",message="keyStore.type PKCS11 needs keyStore.pkcs11"
type KeyStoreSpec struct {
	// Type is Secret or PKCS11.
	// +kubebuilder:default=Secret
	Type KeyStoreType `json:"type,omitempty"`

	// PKCS11 names the token and how to sign in to it.
	// +optional
	PKCS11 *PKCS11KeyStore `json:"pkcs11,omitempty"`
}

// PKCS11KeyStore names a PKCS#11 token. The operator and the runtime both
// sign in to it (the operator to make and delete keys, the runtime to
// sign), so both need the vendor's module at Module and the pkcs11 build
// of the image; see docs/security.md.
type PKCS11KeyStore struct {
	// Module is the absolute path of the vendor's PKCS#11 library (a
	// .so) inside the operator's and the runtime's containers.
	// +kubebuilder:validation:MinLength=2
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:Pattern=`^/[^\x00]*\.so(\.[0-9]+)*$`
	Module string `json:"module"`

	// TokenLabel selects the token by its label (CKA_LABEL of the token,
	// at most 32 bytes).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=32
	TokenLabel string `json:"tokenLabel"`

	// PINSecretRef is the key of a Secret in the provider's namespace
	// that holds the token's user PIN.
	PINSecretRef SecretKeySelector `json:"pinSecretRef"`

	// Timeout bounds each call of the runtime to the token (a signature,
	// the login). A token that does not answer in time makes the token
	// endpoint answer temporarily_unavailable at once, not hang, and is
	// probed until it answers again.
	// +kubebuilder:default="2s"
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('100ms') && duration(self) <= duration('10s')",message="timeout must be between 100ms and 10s"
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// Env is given to the runtime container: what the vendor's module
	// reads to find its configuration (SOFTHSM2_CONF,
	// ChrystokiConfigurationPath, ...). Names starting with IDA_ are
	// reserved.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:XValidation:rule="self.all(e, !e.name.startsWith('IDA_'))",message="env names starting with IDA_ are reserved for the runtime"
	Env []corev1.EnvVar `json:"env,omitempty"`

	// Volumes are mounted into the runtime container: the vendor's module
	// and its configuration when the image does not hold them.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=8
	Volumes []PKCS11Volume `json:"volumes,omitempty"`
}

// PKCS11Volume is one volume of the runtime pod for the PKCS#11 module,
// from exactly one source.
// +kubebuilder:validation:XValidation:rule="[has(self.hostPath), has(self.configMap), has(self.secret), has(self.persistentVolumeClaim), has(self.csi)].filter(x, x).size() == 1",message="a volume needs exactly one of hostPath, configMap, secret, persistentVolumeClaim and csi"
type PKCS11Volume struct {
	// Name of the volume in the pod; names starting with ida- are the
	// runtime's own.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +kubebuilder:validation:XValidation:rule="!self.startsWith('ida-')",message="volume names starting with ida- are reserved for the runtime"
	Name string `json:"name"`

	// MountPath is where the runtime container sees the volume.
	// +kubebuilder:validation:MinLength=2
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:Pattern=`^/`
	// +kubebuilder:validation:XValidation:rule="!(self in ['/', '/tmp', '/etc', '/usr', '/lib', '/proc', '/dev', '/sys'])",message="mountPath must not hide a directory the runtime needs"
	MountPath string `json:"mountPath"`

	// ReadOnly mounts the volume read-only. Some modules write to their
	// token directory (SoftHSM2 keeps its lock files there).
	// +kubebuilder:default=true
	ReadOnly *bool `json:"readOnly,omitempty"`

	// HostPath is a directory of the node.
	// +optional
	HostPath *corev1.HostPathVolumeSource `json:"hostPath,omitempty"`
	// ConfigMap is a ConfigMap in the provider's namespace.
	// +optional
	ConfigMap *corev1.ConfigMapVolumeSource `json:"configMap,omitempty"`
	// Secret is a Secret in the provider's namespace.
	// +optional
	Secret *corev1.SecretVolumeSource `json:"secret,omitempty"`
	// PersistentVolumeClaim is a claim in the provider's namespace.
	// +optional
	PersistentVolumeClaim *corev1.PersistentVolumeClaimVolumeSource `json:"persistentVolumeClaim,omitempty"`
	// CSI is an inline CSI volume (a secrets-store driver, say).
	// +optional
	CSI *corev1.CSIVolumeSource `json:"csi,omitempty"`
}

// TokenSpec configures lifetimes. A retired signing key stays published for
// longer than the longest of them.
type TokenSpec struct {
	// IDTokenLifetime is the lifetime of ID tokens.
	// +kubebuilder:default="5m"
	IDTokenLifetime *metav1.Duration `json:"idTokenLifetime,omitempty"`
	// AccessTokenLifetime is the lifetime of access tokens.
	// +kubebuilder:default="10m"
	AccessTokenLifetime *metav1.Duration `json:"accessTokenLifetime,omitempty"`
	// RefreshTokenLifetime is the lifetime of refresh tokens. Under the
	// Default profile each use rotates the token; under FAPI2 a client
	// keeps its refresh token, as FAPI 2.0 asks.
	// +kubebuilder:default="720h"
	RefreshTokenLifetime *metav1.Duration `json:"refreshTokenLifetime,omitempty"`
	// AuthorizationCodeLifetime is the lifetime of authorization codes; at
	// most 60s under FAPI2.
	// +kubebuilder:default="60s"
	AuthorizationCodeLifetime *metav1.Duration `json:"authorizationCodeLifetime,omitempty"`

	// AccessTokenFormat is `Opaque` (a random handle that only this
	// provider can look up) or `JWT` (RFC 9068: an `at+jwt` signed with the
	// provider's keys that a resource server can check with the published
	// JWKS). Both are revocable and introspectable.
	// +kubebuilder:default=Opaque
	// +optional
	AccessTokenFormat AccessTokenFormat `json:"accessTokenFormat,omitempty"`

	// AccessTokenAudience is the `aud` of JWT access tokens: the
	// identifier of the resource server that accepts them. Absent means
	// the issuer, whose UserInfo endpoint is the resource.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	// +optional
	AccessTokenAudience string `json:"accessTokenAudience,omitempty"`

	// Resources are the resource indicators (RFC 8707) clients may name in
	// a `resource` parameter: the identifiers of the APIs that accept this
	// provider's access tokens. A token asked for with `resource` has those
	// as its `aud` (and works at UserInfo only if the issuer is among
	// them); one asked for without has accessTokenAudience. The issuer is
	// always allowed. Absent means only the issuer.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=512
	// +kubebuilder:validation:XValidation:rule="self.all(r, !r.contains('#') && r.matches('^[a-zA-Z][a-zA-Z0-9+.-]*:.+'))",message="each resource must be an absolute URI without a fragment (RFC 8707)"
	Resources []string `json:"resources,omitempty"`

	// SubjectType is the `sub` relying parties receive unless one chooses
	// its own (RelyingParty spec.subjectType). `Public`: the person's id
	// at this provider, the same for every relying party. `Pairwise`: a
	// pseudonym per sector (OIDC Core §8.1), the host of a relying
	// party's redirect URIs or of its sectorIdentifierURI, so relying
	// parties of different sectors cannot join their records on it.
	// +kubebuilder:default=Public
	// +optional
	SubjectType SubjectType `json:"subjectType,omitempty"`

	// PairwiseSaltSecretRef names a key of a Secret in the provider's
	// namespace that holds the salt of pairwise subjects, at least 32
	// bytes, for a platform team that keeps the salt itself (restored
	// with a rebuilt cluster, every pairwise `sub` stays the same).
	// Absent means the operator generates 256 random bits once into the
	// Secret `<name>-pairwise-salt`, key `pairwise-salt`, and keeps it
	// when the provider is deleted. Either way the operator records the
	// salt's fingerprint in status and never replaces a salt silently.
	// +optional
	PairwiseSaltSecretRef *SecretKeySelector `json:"pairwiseSaltSecretRef,omitempty"`
}

// SubjectType is the kind of `sub` a relying party receives (OIDC Core
// §8).
// +kubebuilder:validation:Enum=Public;Pairwise
type SubjectType string

const (
	// SubjectPublic: the same `sub` for every relying party.
	SubjectPublic SubjectType = "Public"
	// SubjectPairwise: a different `sub` per sector.
	SubjectPairwise SubjectType = "Pairwise"
)

// AccessTokenFormat is how access tokens look to resource servers.
// +kubebuilder:validation:Enum=Opaque;JWT
type AccessTokenFormat string

const (
	// AccessTokenOpaque: random handles.
	AccessTokenOpaque AccessTokenFormat = "Opaque"
	// AccessTokenJWT: JWT access tokens (RFC 9068).
	AccessTokenJWT AccessTokenFormat = "JWT"
)

// SecurityProfile is the security profile a provider enforces.
// +kubebuilder:validation:Enum=Default;FAPI2
type SecurityProfile string

const (
	// SecurityProfileDefault is OpenID Connect with PKCE (S256) required.
	SecurityProfileDefault SecurityProfile = "Default"
	// SecurityProfileFAPI2 is the FAPI 2.0 Security Profile: PAR, DPoP,
	// private_key_jwt, PS256 or ES256.
	SecurityProfileFAPI2 SecurityProfile = "FAPI2"
)

// AuthenticationSpec declares authentication levels (authentication
// assurance: how sure the provider is that the person at the keyboard is
// the user), as opposed to identity assurance (how well the user's claims
// were verified).
// +kubebuilder:validation:XValidation:rule="self.levels.all(l, self.levels.exists_one(m, m.acr == l.acr))",message="each level needs its own acr value"
// +kubebuilder:validation:XValidation:rule="self.levels.exists(l, l.acr == self.defaultLevel)",message="defaultLevel must be the acr of one of the levels"
// +kubebuilder:validation:XValidation:rule="!has(self.verifiedClaimsLevel) || self.levels.exists(l, l.acr == self.verifiedClaimsLevel)",message="verifiedClaimsLevel must be the acr of one of the levels"
type AuthenticationSpec struct {
	// Levels the provider offers, from the weakest to the strongest: the
	// order is what "at or above a level" means, and a relying party
	// asking for a level the user cannot reach (without `essential`) gets
	// the strongest reachable level below it. Published as
	// `acr_values_supported`.
	// +listType=atomic
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=16
	Levels []AuthenticationLevel `json:"levels"`

	// DefaultLevel is the acr of the level a request that names none (or
	// only unknown ones) gets. With the HTTP user source without
	// `factors` it must be reachable by password alone.
	// +kubebuilder:validation:MaxLength=256
	DefaultLevel string `json:"defaultLevel"`

	// VerifiedClaimsLevel is the acr of the weakest level at which
	// `verified_claims` are released: a request for them is stepped up to
	// it, and a grant below it gets none. Absent: verified claims are
	// released at any level. Set it, so that identity data never leaves
	// behind a password alone.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	VerifiedClaimsLevel string `json:"verifiedClaimsLevel,omitempty"`
}

// AuthenticationLevel is one level.
type AuthenticationLevel struct {
	// ACR is the value that names the level in `acr_values`, the claims
	// parameter and the ID token's `acr`: the platform team's own name
	// (`urn:bank:acr:mfa`) or a registered one. Printable ASCII without
	// spaces.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:Pattern=`^[\x21-\x7E]+$`
	ACR string `json:"acr"`

	// Methods are the combinations of methods that satisfy the level: any
	// one combination, every method in it done in the session. For
	// example `[[pwd]]`, or `[[pwd, otp]]` for two factors.
	// +listType=atomic
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=8
	Methods []AuthenticationMethodSet `json:"methods"`
}

// AuthenticationMethodSet is one combination of methods, all required.
// +listType=set
// +kubebuilder:validation:MinItems=1
// +kubebuilder:validation:MaxItems=4
type AuthenticationMethodSet []AuthenticationMethod

// AuthenticationMethod is an RFC 8176 method value: `pwd` (the user
// source's password) or `otp` (a time-based one-time code, RFC 6238, from
// an authenticator app the user enrols after a password sign-in); or
// `passkey` (WebAuthn, its device verifying the user with a PIN or
// biometric: two factors alone; ID tokens say `hwk` or `swk`, `user` and
// `mfa`). `otp` and `passkey` need the builtin user source, or the HTTP
// one with `factors: true`.
// +kubebuilder:validation:Enum=pwd;otp;passkey
type AuthenticationMethod string

// SecuritySpec configures the security profile.
type SecuritySpec struct {
	// Profile is `Default` (PKCE S256 required) or `FAPI2` (also PAR,
	// sender-constrained tokens with DPoP, private_key_jwt only).
	// +kubebuilder:default=Default
	Profile SecurityProfile `json:"profile,omitempty"`

	// RequirePushedAuthorizationRequests refuses authorization requests
	// that were not pushed first (RFC 9126). Always true under FAPI2.
	// +optional
	RequirePushedAuthorizationRequests bool `json:"requirePushedAuthorizationRequests,omitempty"`

	// RequireDPoP issues only DPoP-bound access tokens (RFC 9449). Always
	// true under FAPI2.
	// +optional
	RequireDPoP bool `json:"requireDPoP,omitempty"`

	// RequireDPoPNonce accepts a DPoP proof (at PAR, token and UserInfo)
	// only with a nonce the provider handed out in a DPoP-Nonce header in
	// the last 5 to 10 minutes (RFC 9449 §8, §9), so a proof made in
	// advance by a stolen key is useless. A client's first proof is
	// answered with use_dpop_nonce and the nonce to retry with.
	// +optional
	RequireDPoPNonce bool `json:"requireDPoPNonce,omitempty"`

	// PushedRequestsPerClient is how many pushed authorization requests
	// (RFC 9126) one client may make within the 90 seconds a request_uri
	// lives; more are refused with HTTP 429 and temporarily_unavailable
	// until the window ends. It bounds the session store one client can
	// fill, so a misbehaving client cannot lock out everyone else's
	// sign-ins.
	// +kubebuilder:default=10000
	// +kubebuilder:validation:Minimum=10
	// +kubebuilder:validation:Maximum=10000000
	// +optional
	PushedRequestsPerClient int32 `json:"pushedRequestsPerClient,omitempty"`
}

// UserSourceType is where end-users come from.
// +kubebuilder:validation:Enum=Builtin;HTTP
type UserSourceType string

const (
	// UserSourceBuiltin reads users, password hashes and datasets from a
	// Secret.
	UserSourceBuiltin UserSourceType = "Builtin"
	// UserSourceHTTP asks the provider's KYC system over HTTP.
	UserSourceHTTP UserSourceType = "HTTP"
)

// UserSourceSpec configures the user source.
// +kubebuilder:validation:XValidation:rule="self.type == 'Builtin' ? has(self.builtin) && !has(self.http) : has(self.http) && !has(self.builtin)",message="set builtin when type is Builtin and http when type is HTTP, not both"
type UserSourceSpec struct {
	// Type is `Builtin` or `HTTP`.
	// +kubebuilder:default=Builtin
	Type UserSourceType `json:"type,omitempty"`

	// Builtin reads users from a Secret in the provider's namespace.
	// +optional
	Builtin *BuiltinUserSource `json:"builtin,omitempty"`

	// HTTP asks an existing KYC system for a subject's datasets.
	// +optional
	HTTP *HTTPUserSource `json:"http,omitempty"`
}

// BuiltinUserSource reads users from a Secret.
type BuiltinUserSource struct {
	// SecretRef names a Secret in the provider's namespace whose key
	// `users.json` holds the users, their password hashes and their
	// verified claims datasets.
	SecretRef LocalSecretReference `json:"secretRef"`
}

// HTTPUserSource asks an existing KYC system for datasets.
type HTTPUserSource struct {
	// URL is called with the subject to fetch its datasets, and with the
	// credentials a person types to sign in: https, or http on loopback
	// only.
	// +kubebuilder:validation:MaxLength=512
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() in ['https', 'http']",message="url must be an absolute http(s) URL"
	// +kubebuilder:validation:XValidation:rule="!isURL(self) || url(self).getScheme() == 'https' || url(self).getHostname() in ['localhost', '127.0.0.1', '::1']",message="url must use https: the user source receives passwords; http is allowed only for loopback hosts (localhost, 127.0.0.1, [::1])"
	URL string `json:"url"`

	// Timeout bounds one call.
	// +kubebuilder:default="2s"
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// CredentialsSecretRef names a key of a Secret in the provider's
	// namespace holding a bearer token for the KYC system.
	// +optional
	CredentialsSecretRef *SecretKeySelector `json:"credentialsSecretRef,omitempty"`

	// Factors says the KYC system keeps users' second factors: the
	// runtime reads and writes them (sealed, opaque to it) through the
	// factor calls of docs/users.md, so one-time codes and passkeys can be
	// offered and the bank's system stays their owner. Absent or false:
	// only password levels can be reached with this source.
	// +optional
	Factors bool `json:"factors,omitempty"`
}

// SessionStoreType is a kind of session store.
// +kubebuilder:validation:Enum=Memory;Redis
type SessionStoreType string

const (
	// SessionStoreMemory keeps state in the runtime's memory: one replica.
	SessionStoreMemory SessionStoreType = "Memory"
	// SessionStoreRedis shares state between replicas through Redis.
	SessionStoreRedis SessionStoreType = "Redis"
)

// SessionStoreSpec configures the session store.
// +kubebuilder:validation:XValidation:rule="has(self.type) && self.type == 'Redis' ? has(self.redis) : !has(self.redis)",message="set redis exactly when type is Redis"
type SessionStoreSpec struct {
	// Type is `Memory` (one replica) or `Redis`.
	// +kubebuilder:default=Memory
	Type SessionStoreType `json:"type,omitempty"`

	// Redis configures the Redis server.
	// +optional
	Redis *RedisSpec `json:"redis,omitempty"`
}

// RedisSpec configures Redis: one server, a master found through
// Sentinel, or a Cluster.
// +kubebuilder:validation:XValidation:rule="!has(self.username) || has(self.passwordSecretRef)",message="username needs passwordSecretRef: an ACL user signs in with its password"
// +kubebuilder:validation:XValidation:rule="[has(self.address), has(self.sentinel), has(self.cluster)].filter(b, b).size() == 1",message="set exactly one of address, sentinel and cluster"
type RedisSpec struct {
	// Address is `host:port` of a single Redis server.
	// +kubebuilder:validation:MinLength=3
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[^\s:/]+:[0-9]{1,5}$`
	// +optional
	Address string `json:"address,omitempty"`

	// Sentinel reaches the master through Redis Sentinel and follows it
	// when a replica is promoted.
	// +optional
	Sentinel *RedisSentinelSpec `json:"sentinel,omitempty"`

	// Cluster reaches a Redis Cluster through its seed nodes.
	// +optional
	Cluster *RedisClusterSpec `json:"cluster,omitempty"`

	// ReplicaAcknowledgements makes each write (codes, tokens, sessions,
	// replay markers) wait until this many replicas have it (Redis'
	// WAIT, at most 100ms), so that a failover right after loses none of
	// them; a write not acknowledged in time fails with
	// temporarily_unavailable. Keep it below the number of replicas a
	// master has after a failover. Absent or 0 means Redis' asynchronous
	// replication: a failover may lose the last writes before it.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=5
	// +optional
	ReplicaAcknowledgements int32 `json:"replicaAcknowledgements,omitempty"`

	// Username is the Redis ACL user (Redis 6 or newer) the runtime signs
	// in as, with the password from passwordSecretRef, which it then
	// needs. Give each provider a user of its own limited to its keys
	// (`~ida:*`) and, with maxMemory, allowed `info`. Absent means Redis'
	// `default` user.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:Pattern=`^[!-~]+$`
	// +optional
	Username string `json:"username,omitempty"`

	// PasswordSecretRef names a key of a Secret in the provider's namespace
	// holding the Redis password (of username when set, else of the
	// `default` user). Absent means no password.
	// +optional
	PasswordSecretRef *SecretKeySelector `json:"passwordSecretRef,omitempty"`

	// TLS connects to Redis over TLS 1.2 or newer. Absent means plain TCP.
	// +optional
	TLS *RedisTLSSpec `json:"tls,omitempty"`

	// MaxMemory is this provider's budget for Redis: while Redis'
	// used_memory (read at most every second) is over it, the runtime
	// refuses new state (new sign-ins, codes, PAR requests) with
	// temporarily_unavailable, while replay markers, counters and live
	// state keep working. Set it below Redis' own maxmemory and run Redis
	// with `maxmemory-policy noeviction`. used_memory is the whole
	// server's, shared by every provider using it. At least 1Mi. Absent
	// means no budget of the runtime's own.
	// +kubebuilder:validation:XValidation:rule="isQuantity(string(self)) && quantity(string(self)).compareTo(quantity('1Mi')) >= 0",message="maxMemory must be at least 1Mi: an empty Redis already uses about 1 MB"
	// +optional
	MaxMemory *resource.Quantity `json:"maxMemory,omitempty"`
}

// RedisSentinelSpec names a master that Redis Sentinel monitors.
// +kubebuilder:validation:XValidation:rule="!has(self.username) || has(self.passwordSecretRef)",message="username needs passwordSecretRef"
type RedisSentinelSpec struct {
	// MasterName is the name the sentinels monitor the master under.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	MasterName string `json:"masterName"`

	// Addresses are `host:port` of the sentinels; the runtime asks them in
	// turn where the master is.
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=9
	// +kubebuilder:validation:items:MaxLength=253
	// +kubebuilder:validation:items:Pattern=`^[^\s:/]+:[0-9]{1,5}$`
	Addresses []string `json:"addresses"`

	// Username is the ACL user for the sentinels themselves (the data
	// nodes use the redis section's). Absent means the default user.
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:Pattern=`^[!-~]+$`
	// +optional
	Username string `json:"username,omitempty"`

	// PasswordSecretRef holds the sentinels' password. Absent means none.
	// +optional
	PasswordSecretRef *SecretKeySelector `json:"passwordSecretRef,omitempty"`
}

// RedisClusterSpec names the seed nodes of a Redis Cluster.
type RedisClusterSpec struct {
	// Addresses are `host:port` of some of the cluster's nodes; the
	// runtime learns the rest, and the slots, from them.
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=253
	// +kubebuilder:validation:items:Pattern=`^[^\s:/]+:[0-9]{1,5}$`
	Addresses []string `json:"addresses"`
}

// RedisTLSSpec says how the runtime verifies Redis and what it presents.
// +kubebuilder:validation:XValidation:rule="!has(self.enabled) || self.enabled || (!has(self.caSecretRef) && !has(self.clientCertificateSecretRef) && !has(self.serverName))",message="caSecretRef, clientCertificateSecretRef and serverName apply only with TLS: remove them or set enabled to true"
type RedisTLSSpec struct {
	// Enabled turns TLS on. Defaults to true, so a `tls` section alone
	// means TLS; false connects in plain text and allows no other field.
	// +kubebuilder:default=true
	// +optional
	Enabled *bool `json:"enabled,omitempty"`

	// CASecretRef names a key of a Secret in the provider's namespace
	// holding the PEM certificates that verify the server (such as the
	// `ca.crt` of a cert-manager Secret). Absent means the system roots of
	// the runtime's image.
	// +optional
	CASecretRef *SecretKeySelector `json:"caSecretRef,omitempty"`

	// ClientCertificateSecretRef names a Secret in the provider's
	// namespace whose `tls.crt` and `tls.key` (a kubernetes.io/tls
	// Secret) the runtime presents, for a Redis run with
	// `tls-auth-clients yes`. Absent means no client certificate.
	// +optional
	ClientCertificateSecretRef *LocalSecretReference `json:"clientCertificateSecretRef,omitempty"`

	// ServerName is the DNS name the server's certificate must carry,
	// when it is not the host of address (an IP address, or a Service
	// name the certificate does not list). Absent means the host of
	// address.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	// +optional
	ServerName string `json:"serverName,omitempty"`
}

// FromNamespaces says which namespaces may attach relying parties.
// +kubebuilder:validation:Enum=Same;All;Selector
type FromNamespaces string

const (
	// NamespacesFromSame allows the provider's own namespace only.
	NamespacesFromSame FromNamespaces = "Same"
	// NamespacesFromAll allows every namespace.
	NamespacesFromAll FromNamespaces = "All"
	// NamespacesFromSelector allows namespaces whose labels match.
	NamespacesFromSelector FromNamespaces = "Selector"
)

// AllowedRelyingParties says which namespaces may attach relying parties,
// as Gateway API's allowedRoutes does for routes.
type AllowedRelyingParties struct {
	// Namespaces selects the namespaces.
	// +kubebuilder:default={from: Same}
	Namespaces RelyingPartyNamespaces `json:"namespaces,omitempty"`
}

// RelyingPartyNamespaces selects namespaces.
// +kubebuilder:validation:XValidation:rule="self.from == 'Selector' ? has(self.selector) : !has(self.selector)",message="selector must be set exactly when from is Selector"
type RelyingPartyNamespaces struct {
	// From is `Same` (the provider's namespace), `All`, or `Selector`.
	// +kubebuilder:default=Same
	From FromNamespaces `json:"from,omitempty"`

	// Selector selects namespaces by label when From is `Selector`.
	// +optional
	Selector *metav1.LabelSelector `json:"selector,omitempty"`
}

// AttachmentKind is a kind of attachment.
// +kubebuilder:validation:Enum=embedded;external
type AttachmentKind string

// DigestAlgorithm is a digest algorithm for external attachments.
// +kubebuilder:validation:Enum=sha-256;sha-384;sha-512
type DigestAlgorithm string

// IdentityAssuranceSpec configures identity assurance features.
type IdentityAssuranceSpec struct {
	// Attachments the provider releases with evidence: `embedded`,
	// `external`, both, or none (the default).
	// +optional
	// +listType=set
	Attachments []AttachmentKind `json:"attachments,omitempty"`

	// DigestAlgorithms for external attachments.
	// +kubebuilder:default={"sha-256"}
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	DigestAlgorithms []DigestAlgorithm `json:"digestAlgorithms,omitempty"`

	// TransformedClaims configures OpenID Connect Advanced Syntax for
	// Claims transformed claims.
	// +kubebuilder:default={}
	TransformedClaims TransformedClaimsSpec `json:"transformedClaims,omitempty"`

	// ExternalClaimSources are the external claim sources whose verified
	// claims the runtime passes on as aggregated or distributed claims
	// (IDA §6), when a user source holds them for a person. An assertion
	// from an issuer not listed here is never passed on. Absent: none,
	// and discovery advertises normal claims only.
	// +optional
	// +listType=map
	// +listMapKey=issuer
	// +kubebuilder:validation:MaxItems=32
	ExternalClaimSources []ExternalClaimSource `json:"externalClaimSources,omitempty"`

	// ExternalClaimsLookAhead, when true, describes each passed-on source
	// in `_claim_names` (its trust framework and claim names, IDA §6.1)
	// so relying parties can decide before fetching a distributed one.
	// Default false: sources are named only.
	// +optional
	ExternalClaimsLookAhead bool `json:"externalClaimsLookAhead,omitempty"`
}

// ExternalClaimSource is one trusted external claim source.
type ExternalClaimSource struct {
	// Issuer is the `iss` of the source's assertions, compared exactly: an
	// https URL.
	// +kubebuilder:validation:MinLength=9
	// +kubebuilder:validation:MaxLength=512
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() == 'https'",message="issuer must be an absolute https URL"
	// +kubebuilder:validation:XValidation:rule="!self.contains('?') && !self.contains('#')",message="issuer must not contain a query or fragment"
	Issuer string `json:"issuer"`

	// JWKSURI is where the source publishes its signing keys: an https URL.
	// The runtime fetches it with a 3 s timeout and a 64 KiB limit, caches
	// it for 5 minutes, and needs egress to it.
	// +kubebuilder:validation:MinLength=9
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() == 'https'",message="jwksURI must be an absolute https URL"
	JWKSURI string `json:"jwksURI"`

	// TrustFrameworks are the trust frameworks the source is trusted to
	// vouch under; each must be one the provider offers. An assertion
	// under any other framework is never passed on.
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=64
	TrustFrameworks []Identifier `json:"trustFrameworks"`
}

// TransformedClaimsSpec configures transformed claims.
type TransformedClaimsSpec struct {
	// MaxDepth is the most functions one transformed claim may chain.
	// +kubebuilder:default=8
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=64
	MaxDepth int32 `json:"maxDepth,omitempty"`

	// MaxCount is the most custom transformed claims one request may
	// define; 0 allows predefined ones only.
	// +kubebuilder:default=16
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=256
	MaxCount *int32 `json:"maxCount,omitempty"`

	// Predefined are transformed claims relying parties may request by
	// `::name`, published as `transformed_claims_predefined`.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	Predefined map[string]TransformedClaim `json:"predefined,omitempty"`
}

// TransformedClaim derives a claim from a base claim through functions.
type TransformedClaim struct {
	// Claim is the base claim, e.g. `birthdate`.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	Claim string `json:"claim"`

	// Fn is the function chain, applied in order; each entry is a function
	// name or an array `[name, arg...]`, e.g. `["years_ago", ["gte", 18]]`.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=64
	Fn []apiextensionsv1.JSON `json:"fn"`
}

// RuntimeSpec configures the runtime Deployment.
type RuntimeSpec struct {
	// Replicas of the runtime. More than one needs a Redis session store.
	// Ignored while autoscaling is set: the HorizontalPodAutoscaler then
	// sets the Deployment's replicas.
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=50
	Replicas *int32 `json:"replicas,omitempty"`

	// Autoscaling scales the runtime on CPU with a HorizontalPodAutoscaler
	// (autoscaling/v2) the provider owns. A maxReplicas above one needs a
	// Redis session store, as replicas does. Absent: the Deployment runs
	// replicas pods and no autoscaler exists.
	// +optional
	Autoscaling *AutoscalingSpec `json:"autoscaling,omitempty"`

	// Image overrides the runtime image; by default the operator's own.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	Image string `json:"image,omitempty"`

	// Resources of the runtime container.
	// +optional
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`

	// NodeSelector of the runtime pods.
	// +optional
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`

	// Tolerations of the runtime pods.
	// +optional
	// +listType=atomic
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`

	// PodAnnotations are added to the runtime pods.
	// +optional
	PodAnnotations map[string]string `json:"podAnnotations,omitempty"`
}

// AutoscalingSpec bounds the runtime's replicas and sets the CPU
// utilisation the autoscaler keeps them at. The autoscaler needs the
// cluster's metrics API (metrics-server) and the runtime's CPU request
// (spec.runtime.resources, 50m by default).
// +kubebuilder:validation:XValidation:rule="!has(self.minReplicas) || self.minReplicas <= self.maxReplicas",message="autoscaling.minReplicas must not exceed maxReplicas"
type AutoscalingSpec struct {
	// MinReplicas is the fewest runtime pods. With more than one the
	// provider also keeps a PodDisruptionBudget.
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=50
	MinReplicas *int32 `json:"minReplicas,omitempty"`

	// MaxReplicas is the most runtime pods.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=50
	MaxReplicas int32 `json:"maxReplicas"`

	// TargetCPUUtilizationPercentage is the average CPU use, in percent of
	// the runtime container's CPU request, the autoscaler aims for.
	// +kubebuilder:default=70
	// +kubebuilder:validation:Minimum=10
	// +kubebuilder:validation:Maximum=100
	TargetCPUUtilizationPercentage *int32 `json:"targetCPUUtilizationPercentage,omitempty"`
}

// SigningKeyStatus summarises the signing keys.
type SigningKeyStatus struct {
	// Active are the key IDs that sign now, one per algorithm.
	// +optional
	// +listType=atomic
	Active []string `json:"active,omitempty"`
	// Published are the key IDs in the JWKS: active, upcoming and retired
	// ones still needed to verify issued tokens.
	// +optional
	// +listType=atomic
	Published []string `json:"published,omitempty"`
	// NextRotationTime is when the next key becomes active.
	// +optional
	NextRotationTime *metav1.Time `json:"nextRotationTime,omitempty"`
}

// IdentityProviderStatus is the observed state of an IdentityProvider.
type IdentityProviderStatus struct {
	// Conditions: `KeysReady`, `PairwiseSaltReady`, `ConfigReady`,
	// `RuntimeAvailable`, `Ready`, and `Exposed` when spec.exposure is set.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Issuer is the issuer the runtime serves.
	// +optional
	Issuer string `json:"issuer,omitempty"`

	// TrustFrameworks are the identifiers the provider offers, sorted.
	// +optional
	// +listType=set
	TrustFrameworks []string `json:"trustFrameworks,omitempty"`

	// Keys summarises the signing keys.
	// +optional
	Keys SigningKeyStatus `json:"keys,omitempty"`

	// AttachedRelyingParties is the number of accepted RelyingParties.
	// +optional
	AttachedRelyingParties int32 `json:"attachedRelyingParties,omitempty"`

	// PairwiseSaltFingerprint names the pairwise salt in use (the first
	// 128 bits of its SHA-256). The operator compares the salt's Secret
	// with it: a salt that is gone or different is reported by
	// PairwiseSaltReady, never replaced quietly. Empty until a salt was
	// first seen.
	// +optional
	PairwiseSaltFingerprint string `json:"pairwiseSaltFingerprint,omitempty"`
}

// IdentityProvider declares an OpenID Provider with Identity Assurance. The
// operator turns it into signing keys, a provider ConfigMap with the
// discovery document, and a runtime Deployment and Service.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=idp,categories=ida
// +kubebuilder:printcolumn:name="Issuer",type=string,JSONPath=`.spec.issuer`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Exposed",type=string,JSONPath=`.status.conditions[?(@.type=="Exposed")].status`
// +kubebuilder:printcolumn:name="RPs",type=integer,JSONPath=`.status.attachedRelyingParties`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type IdentityProvider struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec   IdentityProviderSpec   `json:"spec"`
	Status IdentityProviderStatus `json:"status,omitempty"`
}

// IdentityProviderList is a list of IdentityProviders.
// +kubebuilder:object:root=true
type IdentityProviderList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []IdentityProvider `json:"items"`
}

func init() {
	SchemeBuilder.Register(&IdentityProvider{}, &IdentityProviderList{})
}
