package identityprovider

// TLS: the cert-manager Certificate of spec.tls.certManager, and what the
// TLS Secret holds. Rendering and judging are pure; the reconciler writes
// the Certificate and reads the Secret.

import (
	"crypto/tls"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
	"github.com/idaop/ida-operator/controllers/conditions"
)

// CertificateKind is cert-manager's Certificate. The operator writes it as
// unstructured data: cert-manager's Go module would bring its whole
// dependency tree for one object of a dozen fields; the tests check what
// is written against cert-manager's own CRD.
var CertificateKind = schema.GroupVersionKind{Group: "cert-manager.io", Version: "v1", Kind: "Certificate"}

// CertificateName is the name of the provider's Certificate.
func CertificateName(idp *idav1alpha1.IdentityProvider) string { return idp.Name + "-tls" }

const componentTLS = "tls"

// certificateSpec is the Certificate's spec: the issuer's host, signed by
// the named issuer into spec.tls.secretName, with an ECDSA P-256 key
// replaced at every renewal; the Secret carries the provider's labels.
func certificateSpec(idp *idav1alpha1.IdentityProvider) (map[string]any, error) {
	host, _, err := issuerRoute(idp.Spec.Issuer)
	if err != nil {
		return nil, err
	}
	cm := idp.Spec.TLS.CertManager
	kind := cm.IssuerRef.Kind
	if kind == "" {
		kind = "Issuer"
	}
	labels := map[string]any{}
	for k, v := range Labels(idp, componentTLS) {
		labels[k] = v
	}
	spec := map[string]any{
		"secretName": idp.Spec.TLS.SecretName,
		"dnsNames":   []any{host},
		"issuerRef":  map[string]any{"name": cm.IssuerRef.Name, "kind": kind, "group": CertificateKind.Group},
		"privateKey": map[string]any{"algorithm": "ECDSA", "size": int64(256), "rotationPolicy": "Always"},
		"usages":     []any{"server auth", "digital signature"},
		"secretTemplate": map[string]any{
			"labels": labels,
		},
	}
	if cm.RenewBefore != nil {
		spec["renewBefore"] = cm.RenewBefore.Duration.String()
	}
	return spec, nil
}

// certificatePending reads cert-manager's Ready condition of the
// Certificate: the message a person needs while it is not issued.
func certificatePending(cert *unstructured.Unstructured) conditions.Outcome {
	conds, _, _ := unstructured.NestedSlice(cert.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if !ok || m["type"] != "Ready" {
			continue
		}
		if m["status"] == string(metav1.ConditionFalse) {
			return conditions.False(idav1alpha1.ReasonCertificatePending, fmt.Sprintf(
				"cert-manager has not issued Certificate %s: %v: %v", cert.GetName(), m["reason"], m["message"]))
		}
	}
	return conditions.False(idav1alpha1.ReasonCertificatePending, fmt.Sprintf(
		"waiting for cert-manager to issue Certificate %s (kubectl describe certificate %s)", cert.GetName(), cert.GetName()))
}

// servingCertificate judges the TLS Secret for the issuer's host at now,
// and says when to look again: before it expires, so the condition turns
// False in time.
func servingCertificate(secret *corev1.Secret, issuer string, now time.Time) (conditions.Outcome, time.Duration) {
	host, _, err := issuerRoute(issuer)
	if err != nil {
		return conditions.False(idav1alpha1.ReasonInvalidSpec, err.Error()), 0
	}
	pair, err := tls.X509KeyPair(secret.Data[corev1.TLSCertKey], secret.Data[corev1.TLSPrivateKeyKey])
	if err != nil {
		return conditions.False(idav1alpha1.ReasonCertificateInvalid, fmt.Sprintf(
			"Secret %s holds no usable certificate and key in %s and %s: %v", secret.Name, corev1.TLSCertKey, corev1.TLSPrivateKeyKey, err)), 0
	}
	leaf := pair.Leaf
	switch {
	case leaf.VerifyHostname(host) != nil:
		return conditions.False(idav1alpha1.ReasonCertificateInvalid, fmt.Sprintf(
			"the certificate in Secret %s does not cover the issuer's host %s (it names %v)", secret.Name, host, leaf.DNSNames)), 0
	case now.Before(leaf.NotBefore):
		return conditions.False(idav1alpha1.ReasonCertificateInvalid, fmt.Sprintf(
			"the certificate in Secret %s is not valid before %s", secret.Name, leaf.NotBefore.UTC().Format(time.RFC3339))), leaf.NotBefore.Sub(now)
	case !now.Before(leaf.NotAfter):
		return conditions.False(idav1alpha1.ReasonCertificateInvalid, fmt.Sprintf(
			"the certificate in Secret %s expired at %s", secret.Name, leaf.NotAfter.UTC().Format(time.RFC3339))), 0
	}
	return conditions.True(idav1alpha1.ReasonCertificateValid, fmt.Sprintf(
		"Secret %s holds a certificate for %s valid until %s", secret.Name, host, leaf.NotAfter.UTC().Format(time.RFC3339))), leaf.NotAfter.Sub(now)
}
