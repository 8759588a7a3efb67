package v1alpha1

import (
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// RelyingPartySpec declares one OAuth client of an IdentityProvider.
// +kubebuilder:validation:XValidation:rule="self.grantTypes.exists(g, g == 'authorization_code')",message="grantTypes must include authorization_code"
// +kubebuilder:validation:XValidation:rule="(has(self.clientAuthentication.method) && self.clientAuthentication.method == 'private_key_jwt') || (!has(self.clientAuthentication.jwks) && !has(self.clientAuthentication.jwksURI)) || (has(self.security) && (has(self.security.idTokenEncryptedResponseAlg) || has(self.security.userInfoEncryptedResponseAlg) || has(self.security.introspectionEncryptedResponseAlg)))",message="clientAuthentication.jwks and jwksURI hold keys for private_key_jwt or for encrypted responses; set method private_key_jwt or an *EncryptedResponseAlg in security, or remove them"
// +kubebuilder:validation:XValidation:rule="!has(self.security) || !(has(self.security.idTokenEncryptedResponseAlg) || has(self.security.userInfoEncryptedResponseAlg) || has(self.security.introspectionEncryptedResponseAlg)) || has(self.clientAuthentication.jwks) || has(self.clientAuthentication.jwksURI)",message="encrypted responses need your public encryption key: set clientAuthentication.jwks or jwksURI"
// +kubebuilder:validation:XValidation:rule="self.clientAuthentication.method != 'private_key_jwt' || self.credentials.source == 'Generate'",message="credentials.source Existing names a client secret; private_key_jwt clients have none"
type RelyingPartySpec struct {
	// ProviderRef names the IdentityProvider. A provider in another
	// namespace must allow this namespace in its allowedRelyingParties.
	ProviderRef ProviderReference `json:"providerRef"`

	// ClientName is shown to end-users on the consent page.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	ClientName string `json:"clientName,omitempty"`

	// RedirectURIs are compared to the request's redirect_uri exactly,
	// character for character. Absolute, without fragment; https, or http
	// on a loopback host.
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=20
	// +kubebuilder:validation:items:MaxLength=512
	// +kubebuilder:validation:XValidation:rule="self.all(u, isURL(u) && url(u).getScheme() != '' && url(u).getHostname() != '')",message="each redirect URI must be an absolute URL with a host"
	// +kubebuilder:validation:XValidation:rule="self.all(u, !u.contains('#'))",message="redirect URIs must not contain a fragment"
	RedirectURIs []string `json:"redirectURIs"`

	// PostLogoutRedirectURIs are where the provider may send the browser
	// after an RP-initiated logout (OIDC RP-Initiated Logout 1.0 §3),
	// compared to post_logout_redirect_uri exactly, character for
	// character. Absolute, without fragment; https, or http on a loopback
	// host. Absent: after logout the provider shows its own "you are
	// signed out" page.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=20
	// +kubebuilder:validation:items:MaxLength=512
	// +kubebuilder:validation:XValidation:rule="self.all(u, isURL(u) && url(u).getHostname() != '' && (url(u).getScheme() == 'https' || (url(u).getScheme() == 'http' && url(u).getHostname() in ['localhost', '127.0.0.1', '::1'])))",message="each post-logout redirect URI must be an absolute https URL (http only on localhost, 127.0.0.1 or [::1])"
	// +kubebuilder:validation:XValidation:rule="self.all(u, !u.contains('#'))",message="post-logout redirect URIs must not contain a fragment"
	PostLogoutRedirectURIs []string `json:"postLogoutRedirectURIs,omitempty"`

	// BackchannelLogoutURI receives a logout token (OIDC Back-Channel
	// Logout 1.0 §2.5) when a session that signed in to this relying
	// party ends: an https URL (http only on a loopback host), without
	// fragment. The runtime calls it only at addresses the provider's
	// spec.egress allows when they are internal. Absent: no back-channel
	// logout.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getHostname() != '' && (url(self).getScheme() == 'https' || (url(self).getScheme() == 'http' && url(self).getHostname() in ['localhost', '127.0.0.1', '::1']))",message="backchannelLogoutURI must be an absolute https URL (http only on localhost, 127.0.0.1 or [::1])"
	// +kubebuilder:validation:XValidation:rule="!self.contains('#')",message="backchannelLogoutURI must not contain a fragment"
	BackchannelLogoutURI string `json:"backchannelLogoutURI,omitempty"`

	// BackchannelLogoutSessionRequired: the relying party needs the `sid`
	// in every logout token (OIDC Back-Channel Logout 1.0 §2.4). The
	// provider always sends it, so this only documents the need. Default
	// false.
	// +optional
	BackchannelLogoutSessionRequired bool `json:"backchannelLogoutSessionRequired,omitempty"`

	// GrantTypes the client may use.
	// +kubebuilder:default={"authorization_code"}
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	GrantTypes []GrantType `json:"grantTypes,omitempty"`

	// ResponseTypes the client may use; only the code flow is offered.
	// +kubebuilder:default={"code"}
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	ResponseTypes []ResponseType `json:"responseTypes,omitempty"`

	// Scopes the client may request.
	// +kubebuilder:default={"openid"}
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:Pattern=`^[\x21\x23-\x5B\x5D-\x7E]+$`
	// +kubebuilder:validation:items:MaxLength=128
	Scopes []string `json:"scopes,omitempty"`

	// ClientAuthentication configures how the client authenticates at the
	// token endpoint.
	// +kubebuilder:default={}
	ClientAuthentication ClientAuthentication `json:"clientAuthentication,omitempty"`

	// Credentials configures where the client's credentials live in this
	// namespace.
	// +kubebuilder:default={}
	Credentials CredentialsSpec `json:"credentials,omitempty"`

	// VerifiedClaims limits what the client may request inside
	// `verified_claims`. Empty means everything the provider offers.
	// +optional
	VerifiedClaims VerifiedClaimsPolicy `json:"verifiedClaims,omitempty"`

	// Security adds requirements on top of the provider's.
	// +optional
	Security ClientSecurity `json:"security,omitempty"`

	// Disabled keeps the registration but refuses every request from the
	// client, e.g. while an incident is investigated.
	// +optional
	Disabled bool `json:"disabled,omitempty"`

	// ResourceServer lets this client introspect (RFC 7662) the access
	// tokens of every client of its provider, as the API that receives
	// them would; without it a client introspects only its own. Absent
	// means false.
	// +optional
	ResourceServer bool `json:"resourceServer,omitempty"`

	// AccessTokenFormat overrides the provider's spec.tokens.accessTokenFormat
	// for this client's access tokens: `Opaque` or `JWT` (RFC 9068). Absent
	// means the provider's.
	// +optional
	AccessTokenFormat AccessTokenFormat `json:"accessTokenFormat,omitempty"`
	// SubjectType is the `sub` this client receives: `Public` or
	// `Pairwise` (OIDC Core §8). Absent means the provider's
	// spec.tokens.subjectType. A pairwise client's sector is the host of
	// sectorIdentifierURI, or else the one host of its redirect URIs;
	// redirect URIs on several hosts need a sectorIdentifierURI.
	// +optional
	SubjectType SubjectType `json:"subjectType,omitempty"`

	// SectorIdentifierURI is an https URL serving a JSON array of URLs
	// that holds every redirect URI (OIDC Registration §2, §5); its host
	// is the sector of pairwise subjects, so relying parties of one
	// organisation on several hosts can share a `sub`. The operator
	// fetches it when the spec changes and every hour; while it cannot be
	// read or lacks a redirect URI, the client is not registered. Absent
	// means the redirect URIs' host is the sector.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() == 'https' && url(self).getHostname() != ''",message="sectorIdentifierURI must be an absolute https URL"
	// +kubebuilder:validation:XValidation:rule="!self.contains('#')",message="sectorIdentifierURI must not contain a fragment"
	SectorIdentifierURI string `json:"sectorIdentifierURI,omitempty"`
}

// ProviderReference names an IdentityProvider.
type ProviderReference struct {
	// Name of the IdentityProvider.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// Namespace of the IdentityProvider; defaults to the RelyingParty's.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace,omitempty"`
}

// GrantType is an OAuth grant type.
// +kubebuilder:validation:Enum=authorization_code;refresh_token
type GrantType string

// ResponseType is an OAuth response type.
// +kubebuilder:validation:Enum=code
type ResponseType string

// ClientAuthMethod is a token endpoint authentication method.
// +kubebuilder:validation:Enum=client_secret_basic;client_secret_post;private_key_jwt
type ClientAuthMethod string

const (
	ClientSecretBasic ClientAuthMethod = "client_secret_basic"
	ClientSecretPost  ClientAuthMethod = "client_secret_post"
	PrivateKeyJWT     ClientAuthMethod = "private_key_jwt"
)

// ClientAuthentication configures client authentication, and holds the
// client's public keys: for private_key_jwt and for encrypted responses.
// +kubebuilder:validation:XValidation:rule="!has(self.method) || self.method != 'private_key_jwt' || (has(self.jwks) != has(self.jwksURI))",message="private_key_jwt needs exactly one of jwks or jwksURI"
// +kubebuilder:validation:XValidation:rule="!has(self.jwks) || !has(self.jwksURI)",message="set either jwks or jwksURI, not both"
type ClientAuthentication struct {
	// Method is `client_secret_basic` (the default), `client_secret_post`
	// or `private_key_jwt`.
	// +kubebuilder:default=client_secret_basic
	Method ClientAuthMethod `json:"method,omitempty"`

	// JWKS is the client's public JSON Web Key Set: signature keys for
	// private_key_jwt and request objects, encryption keys (use "enc")
	// for encrypted responses.
	// +optional
	// +kubebuilder:validation:Type=object
	// +kubebuilder:pruning:PreserveUnknownFields
	JWKS *apiextensionsv1.JSON `json:"jwks,omitempty"`

	// JWKSURI is where the provider fetches the client's public keys, as
	// jwks but served by the client, so it can rotate them. https only.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() == 'https'",message="jwksURI must be an absolute https URL"
	JWKSURI string `json:"jwksURI,omitempty"`

	// SigningAlgorithm the client signs its assertions with.
	// +optional
	SigningAlgorithm SigningAlgorithm `json:"signingAlgorithm,omitempty"`
}

// CredentialsSource says where a client secret comes from.
// +kubebuilder:validation:Enum=Generate;Existing
type CredentialsSource string

const (
	// CredentialsGenerate has the operator generate the client secret.
	CredentialsGenerate CredentialsSource = "Generate"
	// CredentialsExisting reads the client secret from a Secret you manage
	// (External Secrets, Vault, ...). The operator waits for it and never
	// writes to it.
	CredentialsExisting CredentialsSource = "Existing"
)

// CredentialsSpec configures the credentials Secret.
// +kubebuilder:validation:XValidation:rule="!has(self.source) || self.source != 'Existing' || has(self.secretName)",message="credentials.source Existing needs secretName, the Secret that holds client_secret"
type CredentialsSpec struct {
	// Source is `Generate` (the default) or `Existing`.
	// +kubebuilder:default=Generate
	Source CredentialsSource `json:"source,omitempty"`

	// SecretName is the Secret in this namespace. With `Generate` the
	// operator writes `client_id`, `client_secret` (secret methods only),
	// `issuer` and `discovery_url` to it, by default
	// `<name>-oidc-credentials`. With `Existing` it reads `client_secret`
	// from it.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	SecretName string `json:"secretName,omitempty"`
}

// VerifiedClaimsPolicy limits what a client may request in verified_claims.
type VerifiedClaimsPolicy struct {
	// TrustFrameworks are the trust framework identifiers the client may
	// ask for; each must be offered by the provider.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=32
	TrustFrameworks []string `json:"trustFrameworks,omitempty"`

	// Claims the client may ask for; each must be offered by the provider.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	Claims []ClaimName `json:"claims,omitempty"`
}

// ClientSecurity adds per-client requirements.
// +kubebuilder:validation:XValidation:rule="!has(self.idTokenEncryptedResponseEnc) || has(self.idTokenEncryptedResponseAlg)",message="idTokenEncryptedResponseEnc needs idTokenEncryptedResponseAlg"
// +kubebuilder:validation:XValidation:rule="!has(self.userInfoEncryptedResponseEnc) || has(self.userInfoEncryptedResponseAlg)",message="userInfoEncryptedResponseEnc needs userInfoEncryptedResponseAlg"
// +kubebuilder:validation:XValidation:rule="!has(self.introspectionEncryptedResponseEnc) || has(self.introspectionEncryptedResponseAlg)",message="introspectionEncryptedResponseEnc needs introspectionEncryptedResponseAlg"
type ClientSecurity struct {
	// RequireDPoP accepts only DPoP-bound tokens for this client.
	// +optional
	RequireDPoP bool `json:"requireDPoP,omitempty"`

	// RequirePushedAuthorizationRequests accepts only pushed authorization
	// requests from this client.
	// +optional
	RequirePushedAuthorizationRequests bool `json:"requirePushedAuthorizationRequests,omitempty"`

	// UserInfoSignedResponseAlg makes UserInfo a signed JWT with this
	// algorithm instead of plain JSON.
	// +optional
	UserInfoSignedResponseAlg SigningAlgorithm `json:"userInfoSignedResponseAlg,omitempty"`

	// IDTokenSignedResponseAlg signs this client's ID tokens with this
	// algorithm instead of the provider's first.
	// +optional
	IDTokenSignedResponseAlg SigningAlgorithm `json:"idTokenSignedResponseAlg,omitempty"`

	// IDTokenEncryptedResponseAlg encrypts this client's ID tokens to its
	// public key (clientAuthentication.jwks or jwksURI, a key with use
	// "enc" or none) after signing them: a nested JWT (OIDC Core §10.2).
	// Absent: ID tokens are signed only.
	// +optional
	IDTokenEncryptedResponseAlg KeyEncryptionAlgorithm `json:"idTokenEncryptedResponseAlg,omitempty"`

	// IDTokenEncryptedResponseEnc is the content encryption of encrypted
	// ID tokens; needs idTokenEncryptedResponseAlg. Absent: A128CBC-HS256
	// (OIDC Dynamic Client Registration §2).
	// +optional
	IDTokenEncryptedResponseEnc ContentEncryptionAlgorithm `json:"idTokenEncryptedResponseEnc,omitempty"`

	// UserInfoEncryptedResponseAlg makes UserInfo a JWT signed (with
	// userInfoSignedResponseAlg, else the provider's first algorithm) and
	// then encrypted to the client's public key. Absent: not encrypted.
	// +optional
	UserInfoEncryptedResponseAlg KeyEncryptionAlgorithm `json:"userInfoEncryptedResponseAlg,omitempty"`

	// UserInfoEncryptedResponseEnc is the content encryption of encrypted
	// UserInfo; needs userInfoEncryptedResponseAlg. Absent: A128CBC-HS256.
	// +optional
	UserInfoEncryptedResponseEnc ContentEncryptionAlgorithm `json:"userInfoEncryptedResponseEnc,omitempty"`

	// IntrospectionEncryptedResponseAlg encrypts the signed introspection
	// answers (RFC 9701) this client asks for to its public key. Absent:
	// they are signed only.
	// +optional
	IntrospectionEncryptedResponseAlg KeyEncryptionAlgorithm `json:"introspectionEncryptedResponseAlg,omitempty"`

	// IntrospectionEncryptedResponseEnc is the content encryption of
	// encrypted introspection answers; needs
	// introspectionEncryptedResponseAlg. Absent: A128CBC-HS256.
	// +optional
	IntrospectionEncryptedResponseEnc ContentEncryptionAlgorithm `json:"introspectionEncryptedResponseEnc,omitempty"`

	// MinimumAuthenticationLevel is the acr of the weakest authentication
	// level this client's users are signed in at, whatever the client
	// asks: a session below it is stepped up, and a request for an
	// essential acr below it ends with `unmet_authentication_requirements`.
	// It must be one of the provider's `spec.authentication.levels`, or
	// the relying party is not accepted. Absent: the level the request
	// asks for, else the provider's default.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:Pattern=`^[\x21-\x7E]+$`
	MinimumAuthenticationLevel string `json:"minimumAuthenticationLevel,omitempty"`
}

// KeyEncryptionAlgorithm is a JWE key management algorithm (RFC 7518
// §4): RSA-OAEP-256 to an RSA key of at least 2048 bits, or ECDH-ES
// (direct, or wrapping with AES key wrap) to an EC key on P-256, P-384 or
// P-521. RSA1_5 and RSA-OAEP (SHA-1) are not offered.
// +kubebuilder:validation:Enum=RSA-OAEP-256;ECDH-ES;ECDH-ES+A128KW;ECDH-ES+A256KW
type KeyEncryptionAlgorithm string

// ContentEncryptionAlgorithm is a JWE content encryption algorithm (RFC
// 7518 §5).
// +kubebuilder:validation:Enum=A128GCM;A256GCM;A128CBC-HS256;A256CBC-HS512
type ContentEncryptionAlgorithm string

// RelyingPartyStatus is the observed state of a RelyingParty.
type RelyingPartyStatus struct {
	// Conditions: `Accepted`, `SectorReady`, `CredentialsReady`,
	// `Registered` and `Ready`.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// ClientID is the client's stable client_id.
	// +optional
	ClientID string `json:"clientID,omitempty"`

	// Issuer is the provider's issuer, once accepted.
	// +optional
	Issuer string `json:"issuer,omitempty"`

	// CredentialsSecretName is the Secret in this namespace that holds the
	// credentials.
	// +optional
	CredentialsSecretName string `json:"credentialsSecretName,omitempty"`
}

// RelyingParty declares an OAuth client of an IdentityProvider, in the
// relying party team's own namespace. The operator registers it with the
// provider and writes its credentials to a Secret in this namespace.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=rp,categories=ida
// +kubebuilder:printcolumn:name="Provider",type=string,JSONPath=`.spec.providerRef.name`
// +kubebuilder:printcolumn:name="Client ID",type=string,JSONPath=`.status.clientID`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type RelyingParty struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec   RelyingPartySpec   `json:"spec"`
	Status RelyingPartyStatus `json:"status,omitempty"`
}

// RelyingPartyList is a list of RelyingParties.
// +kubebuilder:object:root=true
type RelyingPartyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []RelyingParty `json:"items"`
}

func init() {
	SchemeBuilder.Register(&RelyingParty{}, &RelyingPartyList{})
}
