// Package relyingparty reconciles RelyingParties: attachment to a provider,
// credentials in the relying party's namespace, and the client registration
// in the provider's namespace.
package relyingparty

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation/field"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
	"github.com/idaop/ida-operator/controllers/conditions"
	"github.com/idaop/ida-operator/runtime/config"
)

// attachment is what accepting a relying party depends on, read from the
// API server.
type attachment struct {
	provider  *idav1alpha1.IdentityProvider // nil when it does not exist
	namespace *corev1.Namespace             // the relying party's
	// config is the provider's rendered configuration; nil, with
	// configProblem saying why, when there is none to read.
	config        *config.Provider
	configProblem string
}

// accept decides the Accepted condition. The checks run in order and the
// first that refuses gives the reason: the provider admits the namespace,
// its configuration can be read, the registration is sound on its own, and
// the provider offers all the relying party asks for.
func accept(rp *idav1alpha1.RelyingParty, in attachment) conditions.Outcome {
	admitted := Admit(rp, in.provider, in.namespace)
	switch {
	case !admitted.True:
		return admitted
	case in.config == nil:
		return conditions.False(idav1alpha1.ReasonProviderConfigUnavailable, in.configProblem)
	}
	if errs := CheckRegistration(rp); len(errs) > 0 {
		return conditions.False(idav1alpha1.ReasonInvalidSpec, fixTheSpec(errs))
	}
	if errs := CheckOffered(rp, in.config); len(errs) > 0 {
		return conditions.False(idav1alpha1.ReasonNotOfferedByProvider, fixTheSpec(errs))
	}
	return admitted
}

// Admit decides whether rp may attach to idp (nil when it does not exist)
// given the labels of rp's namespace. Across namespaces, "no such provider"
// and "not allowed" read the same, so a namespace learns nothing about
// providers it may not use.
func Admit(rp *idav1alpha1.RelyingParty, idp *idav1alpha1.IdentityProvider, rpNamespace *corev1.Namespace) conditions.Outcome {
	provNS := rp.ProviderNamespace()
	ref := provNS + "/" + rp.Spec.ProviderRef.Name
	sameNamespace := provNS == rp.Namespace
	if idp == nil || !idp.DeletionTimestamp.IsZero() {
		if sameNamespace {
			return conditions.False(idav1alpha1.ReasonProviderNotFound, fmt.Sprintf("IdentityProvider %s not found", ref))
		}
		return refused(ref, rp.Namespace)
	}
	if sameNamespace {
		return accepted(ref)
	}
	ns := idp.Spec.AllowedRelyingParties.Namespaces
	switch ns.From {
	case idav1alpha1.NamespacesFromAll:
		return accepted(ref)
	case idav1alpha1.NamespacesFromSelector:
		if ns.Selector == nil || rpNamespace == nil {
			return refused(ref, rp.Namespace)
		}
		sel, err := metav1.LabelSelectorAsSelector(ns.Selector)
		if err != nil || !sel.Matches(labels.Set(rpNamespace.Labels)) {
			return refused(ref, rp.Namespace)
		}
		return accepted(ref)
	default: // Same, or unset
		return refused(ref, rp.Namespace)
	}
}

func accepted(ref string) conditions.Outcome {
	return conditions.True(idav1alpha1.ReasonAccepted, fmt.Sprintf("IdentityProvider %s accepts this relying party", ref))
}

func refused(ref, ns string) conditions.Outcome {
	return conditions.False(idav1alpha1.ReasonNotAllowedByProvider, fmt.Sprintf(
		"IdentityProvider %s does not exist or does not accept RelyingParties from namespace %s; ask the provider's owners to allow this namespace in spec.allowedRelyingParties", ref, ns))
}

// readiness is Ready from the step conditions: the first that is not True
// says what to do; a disabled client is registered but not Ready.
func readiness(status *idav1alpha1.RelyingPartyStatus) conditions.Outcome {
	if o, ok := conditions.FirstNotTrue(status.Conditions,
		idav1alpha1.ConditionAccepted, idav1alpha1.ConditionSectorReady, idav1alpha1.ConditionCredentialsReady, idav1alpha1.ConditionRegistered); !ok {
		return o
	}
	if c := conditions.Find(status.Conditions, idav1alpha1.ConditionRegistered); c.Reason == string(idav1alpha1.ReasonDisabled) {
		return conditions.False(idav1alpha1.ReasonDisabled, c.Message)
	}
	return conditions.True(idav1alpha1.ReasonReconciled, fmt.Sprintf("client %s is registered; credentials are in Secret %s", status.ClientID, status.CredentialsSecretName))
}

// specPaths names the registration's members as the RelyingParty fields
// they are rendered from, so that refusals name what the user wrote.
var specPaths = func() config.ClientPaths {
	spec := field.NewPath("spec")
	auth := spec.Child("clientAuthentication")
	p := config.JSONPaths // client_id, namespace, name and the secret hash are not spec fields
	p.RedirectURIs = spec.Child("redirectURIs")
	p.GrantTypes = spec.Child("grantTypes")
	p.ResponseTypes = spec.Child("responseTypes")
	p.Scopes = spec.Child("scopes")
	p.TokenEndpointAuthMethod = auth.Child("method")
	p.TokenEndpointAuthSigningAlg = auth.Child("signingAlgorithm")
	p.JWKS = auth.Child("jwks")
	p.JWKSURI = auth.Child("jwksURI")
	p.TrustFrameworks = spec.Child("verifiedClaims", "trustFrameworks")
	p.VerifiedClaims = spec.Child("verifiedClaims", "claims")
	p.UserInfoSignedResponseAlg = spec.Child("security", "userInfoSignedResponseAlg")
	p.IDTokenSignedResponseAlg = spec.Child("security", "idTokenSignedResponseAlg")
	p.AccessTokenFormat = spec.Child("accessTokenFormat")
	p.IDTokenEncryptedResponseAlg = spec.Child("security", "idTokenEncryptedResponseAlg")
	p.IDTokenEncryptedResponseEnc = spec.Child("security", "idTokenEncryptedResponseEnc")
	p.UserInfoEncryptedResponseAlg = spec.Child("security", "userInfoEncryptedResponseAlg")
	p.UserInfoEncryptedResponseEnc = spec.Child("security", "userInfoEncryptedResponseEnc")
	p.IntrospectionEncryptedResponseAlg = spec.Child("security", "introspectionEncryptedResponseAlg")
	p.IntrospectionEncryptedResponseEnc = spec.Child("security", "introspectionEncryptedResponseEnc")
	p.SubjectType = spec.Child("subjectType")
	p.SectorIdentifierURI = spec.Child("sectorIdentifierURI")
	p.MinimumACR = spec.Child("security", "minimumAuthenticationLevel")
	p.PostLogoutRedirectURIs = spec.Child("postLogoutRedirectURIs")
	p.BackchannelLogoutURI = spec.Child("backchannelLogoutURI")
	return p
}()

// CheckRegistration reports what makes the relying party's registration
// unusable on its own, e.g. a JWK set the runtime could not read; nil when
// it is sound. The rules live in config.Client.Validate, which the runtime
// applies too.
func CheckRegistration(rp *idav1alpha1.RelyingParty) field.ErrorList {
	reg := Registration(rp, "")
	if usesSecret(rp) {
		reg.SecretHash = config.HashClientSecret("not-the-secret") // the shape is what is checked
	}
	return reg.ValidateWith(specPaths)
}

// CheckOffered reports what the relying party asks for that the provider,
// as rendered in its configuration, does not offer; nil when all is
// offered. The rules live in config.Provider.CheckClient, which the runtime
// applies too.
func CheckOffered(rp *idav1alpha1.RelyingParty, p *config.Provider) field.ErrorList {
	var errs field.ErrorList
	for i, u := range rp.Spec.RedirectURIs {
		if err := config.ValidateRedirectURI(u); err != nil {
			errs = append(errs, field.Invalid(specPaths.RedirectURIs.Index(i), field.OmitValueType{}, err.Error()))
		}
	}
	return append(errs, p.CheckClientWith(Registration(rp, ""), specPaths)...)
}

// fixTheSpec is the message of a refusal for errs.
func fixTheSpec(errs field.ErrorList) string { return "fix the spec: " + conditions.Describe(errs) }
