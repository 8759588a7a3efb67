package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// EvidenceType is an evidence type of the Identity Assurance schema.
// +kubebuilder:validation:Enum=document;electronic_record;vouch;electronic_signature
type EvidenceType string

const (
	EvidenceDocument            EvidenceType = "document"
	EvidenceElectronicRecord    EvidenceType = "electronic_record"
	EvidenceVouch               EvidenceType = "vouch"
	EvidenceElectronicSignature EvidenceType = "electronic_signature"
)

// VerificationElement is a member of the `verification` object that a trust
// framework may require in every dataset it vouches for.
// +kubebuilder:validation:Enum=assurance_level;assurance_process;time;verification_process;evidence
type VerificationElement string

// Identifier is a value from the OpenID Foundation's predefined values for
// identity assurance (for example `passport`, `vpip`, `bank_account`), or a
// collision-resistant custom value such as a URI under a domain you control.
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=256
// +kubebuilder:validation:Pattern=`^[^\s]+$`
type Identifier string

// ClaimName names an end-user claim: a registered claim (OpenID Connect Core,
// the Identity Assurance claims registration), optionally with a language tag
// (`family_name#ja-Kana-JP`), or a custom claim prefixed by a URI.
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=256
// +kubebuilder:validation:Pattern=`^[^\s]+$`
type ClaimName string

// TrustFrameworkSpec declares one trust framework: what it can vouch for and
// what every dataset verified under it must carry.
// +kubebuilder:validation:XValidation:rule="!has(self.requiredElements) || !self.requiredElements.exists(e, e == 'evidence') || (has(self.evidence) && size(self.evidence) > 0)",message="a trust framework that requires evidence must list at least one evidence type in spec.evidence"
// +kubebuilder:validation:XValidation:rule="!has(self.requiredElements) || !self.requiredElements.exists(e, e == 'assurance_level') || (has(self.assuranceLevels) && size(self.assuranceLevels) > 0)",message="a trust framework that requires assurance_level must list its levels in spec.assuranceLevels"
type TrustFrameworkSpec struct {
	// Identifier is the `trust_framework` value datasets carry, e.g. `jp_aml`,
	// `de_aml`, `eidas`, `uk_tfida`, `nist_800_63A`. Object names cannot
	// hold underscores, so it is separate from metadata.name. An identifier
	// starting with a lowercase letter, or an https URI for a framework of
	// your own. Immutable: providers publish it and datasets are stored
	// under it.
	// +kubebuilder:validation:MinLength=2
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z][A-Za-z0-9_]*$') || (self.startsWith('https://') && isURL(self))",message="identifier must be a predefined-style identifier such as jp_aml or nist_800_63A (a lowercase letter, then letters, digits or _) or an https URI"
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="identifier is immutable"
	Identifier string `json:"identifier"`

	// DisplayName is the framework's name for people, shown on consent pages.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	DisplayName string `json:"displayName,omitempty"`

	// Description says what the framework is, e.g. the law it implements.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Description string `json:"description,omitempty"`

	// AssuranceLevels are the `assurance_level` values the framework
	// defines, e.g. `substantial` and `high` for eIDAS. Empty when the
	// framework has no levels.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MaxLength=64
	// +kubebuilder:validation:items:MinLength=1
	AssuranceLevels []string `json:"assuranceLevels,omitempty"`

	// Evidence lists the evidence types accepted under this framework, with
	// the document types, record types and check methods of each. It feeds
	// the provider's `evidence_supported`, `documents_supported`,
	// `documents_check_methods_supported` and `electronic_records_supported`.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=4
	Evidence []EvidenceSpec `json:"evidence,omitempty"`

	// Claims are the end-user claims this framework can vouch for; they
	// feed `claims_in_verified_claims_supported`. A provider never releases
	// another claim inside `verified_claims` under this framework.
	// `authority` (the Authority Claims Extension draft: which company or
	// person the End-User may act for) also makes providers advertise
	// `authority_claims_supported`.
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=64
	Claims []ClaimName `json:"claims"`

	// RequiredElements are the verification elements every dataset under
	// this framework must hold; a dataset that lacks one is never released.
	// `trust_framework` is always required and is not listed.
	// +optional
	// +listType=set
	RequiredElements []VerificationElement `json:"requiredElements,omitempty"`

	// RequiredAuthenticationLevel is the `acr` of the weakest
	// authentication level at which a provider releases verified claims
	// under this framework: a request that can release them is stepped up
	// to it, and a grant below it gets none of this framework's (others'
	// are released at their own levels). Every IdentityProvider selecting
	// the framework must declare the level in `spec.authentication`, or
	// its configuration is refused. Absent: the provider's own
	// `verifiedClaimsLevel` alone applies.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:Pattern=`^[\x21-\x7E]+$`
	RequiredAuthenticationLevel string `json:"requiredAuthenticationLevel,omitempty"`
}

// EvidenceSpec is one evidence type accepted under a trust framework.
// +kubebuilder:validation:XValidation:rule="self.type != 'document' || (has(self.documentTypes) && size(self.documentTypes) > 0)",message="document evidence must list at least one document type in documentTypes"
// +kubebuilder:validation:XValidation:rule="self.type == 'document' || !has(self.documentTypes)",message="documentTypes is only allowed for document evidence"
// +kubebuilder:validation:XValidation:rule="self.type != 'electronic_record' || (has(self.electronicRecordTypes) && size(self.electronicRecordTypes) > 0)",message="electronic_record evidence must list at least one record type in electronicRecordTypes"
// +kubebuilder:validation:XValidation:rule="self.type == 'electronic_record' || !has(self.electronicRecordTypes)",message="electronicRecordTypes is only allowed for electronic_record evidence"
// +kubebuilder:validation:XValidation:rule="self.type == 'vouch' || !has(self.attestationTypes)",message="attestationTypes is only allowed for vouch evidence"
// +kubebuilder:validation:XValidation:rule="self.type == 'electronic_signature' || !has(self.signatureTypes)",message="signatureTypes is only allowed for electronic_signature evidence"
// +kubebuilder:validation:XValidation:rule="self.type != 'electronic_signature' || !has(self.checkMethods)",message="checkMethods is not allowed for electronic_signature evidence, which has no check_details"
type EvidenceSpec struct {
	// Type is the evidence type.
	Type EvidenceType `json:"type"`

	// DocumentTypes are the `document_details.type` values accepted, e.g.
	// `passport`, `idcard`, `jp_drivers_license`. Only for `document`.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	DocumentTypes []Identifier `json:"documentTypes,omitempty"`

	// ElectronicRecordTypes are the `record.type` values accepted, e.g.
	// `bank_account`, `mno`. Only for `electronic_record`.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	ElectronicRecordTypes []Identifier `json:"electronicRecordTypes,omitempty"`

	// AttestationTypes are the `attestation.type` values accepted, e.g.
	// `written_attestation`. Only for `vouch`.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=16
	AttestationTypes []Identifier `json:"attestationTypes,omitempty"`

	// SignatureTypes are the `signature_type` values accepted. Only for
	// `electronic_signature`.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=16
	SignatureTypes []Identifier `json:"signatureTypes,omitempty"`

	// CheckMethods are the `check_details[].check_method` values accepted,
	// e.g. `vpip`, `pvr`, `kbv`, `data`.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=32
	CheckMethods []Identifier `json:"checkMethods,omitempty"`
}

// TrustFrameworkStatus is the observed state of a TrustFramework.
type TrustFrameworkStatus struct {
	// Conditions: `Ready` is True when the framework is valid and can be
	// referenced by providers.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Providers are the IdentityProviders (`namespace/name`) that reference
	// this framework, sorted.
	// +optional
	// +listType=set
	Providers []string `json:"providers,omitempty"`

	// ProviderCount is the number of entries in Providers.
	// +optional
	ProviderCount int32 `json:"providerCount,omitempty"`
}

// TrustFramework declares one identity assurance trust framework: its
// assurance levels, evidence, documents, check methods and the claims it can
// vouch for. Cluster-scoped: a catalog that every provider can reference.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=tf,categories=ida
// +kubebuilder:printcolumn:name="Identifier",type=string,JSONPath=`.spec.identifier`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Providers",type=integer,JSONPath=`.status.providerCount`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type TrustFramework struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec   TrustFrameworkSpec   `json:"spec"`
	Status TrustFrameworkStatus `json:"status,omitempty"`
}

// TrustFrameworkList is a list of TrustFrameworks.
// +kubebuilder:object:root=true
type TrustFrameworkList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []TrustFramework `json:"items"`
}

func init() {
	SchemeBuilder.Register(&TrustFramework{}, &TrustFrameworkList{})
}
