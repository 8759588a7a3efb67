// Package relyingparty reconciles RelyingParties: attachment to a provider,
// credentials in the relying party's namespace, and the client registration
// in the provider's namespace.
package relyingparty

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

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
	if problems := CheckRegistration(rp); len(problems) > 0 {
		return conditions.False(idav1alpha1.ReasonInvalidSpec, "fix the spec: "+strings.Join(problems, "; "))
	}
	if problems := CheckOffered(rp, in.config); len(problems) > 0 {
		return conditions.False(idav1alpha1.ReasonNotOfferedByProvider, "fix the spec: "+strings.Join(problems, "; "))
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
		idav1alpha1.ConditionAccepted, idav1alpha1.ConditionCredentialsReady, idav1alpha1.ConditionRegistered); !ok {
		return o
	}
	if c := conditions.Find(status.Conditions, idav1alpha1.ConditionRegistered); c.Reason == string(idav1alpha1.ReasonDisabled) {
		return conditions.False(idav1alpha1.ReasonDisabled, c.Message)
	}
	return conditions.True(idav1alpha1.ReasonReconciled, fmt.Sprintf("client %s is registered; credentials are in Secret %s", status.ClientID, status.CredentialsSecretName))
}

// registrationFields maps client registration members to the RelyingParty
// fields they come from, so refusals name what the user wrote.
var registrationFields = map[string]string{
	"token_endpoint_auth_method":      "spec.clientAuthentication.method",
	"token_endpoint_auth_signing_alg": "spec.clientAuthentication.signingAlgorithm",
	"userinfo_signed_response_alg":    "spec.security.userInfoSignedResponseAlg",
	"id_token_signed_response_alg":    "spec.security.idTokenSignedResponseAlg",
	"scopes":                          "spec.scopes",
	"trust_frameworks":                "spec.verifiedClaims.trustFrameworks",
	"verified_claims":                 "spec.verifiedClaims.claims",
	"jwks":                            "spec.clientAuthentication.jwks",
	"jwks_uri":                        "spec.clientAuthentication.jwksURI",
	"redirect_uris":                   "spec.redirectURIs",
	"grant_types":                     "spec.grantTypes",
	"response_types":                  "spec.responseTypes",
}

// specProblems turns registration errors (errors.Join of "member: message")
// into lines naming the RelyingParty's fields.
func specProblems(err error) []string {
	if err == nil {
		return nil
	}
	var problems []string
	for _, line := range strings.Split(err.Error(), "\n") {
		field, rest, _ := strings.Cut(line, ":")
		name, index, _ := strings.Cut(field, "[")
		if spec, ok := registrationFields[name]; ok {
			if index != "" {
				spec += "[" + index
			}
			line = spec + ":" + rest
		}
		problems = append(problems, line)
	}
	return problems
}

// CheckRegistration reports what makes the relying party's registration
// unusable on its own, e.g. a JWK set the runtime could not read; nil when
// it is sound. The rules live in config.Client.Validate, which the runtime
// applies too.
func CheckRegistration(rp *idav1alpha1.RelyingParty) []string {
	reg := Registration(rp, "")
	if usesSecret(rp) {
		reg.SecretHash = config.HashClientSecret("not-the-secret") // the shape is what is checked
	}
	return specProblems(reg.Validate())
}

// CheckOffered reports what the relying party asks for that the provider,
// as rendered in its configuration, does not offer; nil when all is
// offered. The rules live in config.Provider.CheckClient, which the runtime
// applies too.
func CheckOffered(rp *idav1alpha1.RelyingParty, p *config.Provider) []string {
	var problems []string
	for i, u := range rp.Spec.RedirectURIs {
		if err := config.ValidateRedirectURI(u); err != nil {
			problems = append(problems, fmt.Sprintf("spec.redirectURIs[%d]: %v", i, err))
		}
	}
	return append(problems, specProblems(p.CheckClient(Registration(rp, "")))...)
}
