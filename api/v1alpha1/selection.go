package v1alpha1

import (
	"fmt"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Selects reports whether the selection picks the TrustFramework, by name or
// by label. An invalid selector is an error, not a silent non-match.
func (s TrustFrameworkSelection) Selects(tf *TrustFramework) (bool, error) {
	if slices.Contains(s.Names, tf.Name) {
		return true, nil
	}
	if s.Selector == nil {
		return false, nil
	}
	sel, err := metav1.LabelSelectorAsSelector(s.Selector)
	if err != nil {
		return false, fmt.Errorf("trustFrameworks.selector: %w", err)
	}
	return sel.Matches(labels.Set(tf.Labels)), nil
}

// ProviderNamespace is the namespace of the referenced provider: the
// reference's own, or the RelyingParty's when the reference names none.
func (rp *RelyingParty) ProviderNamespace() string {
	if rp.Spec.ProviderRef.Namespace != "" {
		return rp.Spec.ProviderRef.Namespace
	}
	return rp.Namespace
}

// CredentialsSecretName is the Secret in the RelyingParty's namespace that
// holds its credentials.
func (rp *RelyingParty) CredentialsSecretName() string {
	if rp.Spec.Credentials.SecretName != "" {
		return rp.Spec.Credentials.SecretName
	}
	return rp.Name + "-oidc-credentials"
}
