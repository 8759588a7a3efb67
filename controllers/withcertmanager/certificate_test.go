// Package withcertmanager_test runs the controllers against a control
// plane that serves cert-manager's API, its CRDs installed from the
// cert-manager module: the Certificates the operator renders meet the real
// schema, and CertificateReady follows what cert-manager reports and
// writes.
package withcertmanager_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
	"github.com/idaop/ida-operator/controllers/identityprovider"
	"github.com/idaop/ida-operator/internal/controlplane"
	"github.com/idaop/ida-operator/internal/operatortest"
	"github.com/idaop/ida-operator/internal/testpki"
)

var k8s client.Client

func TestMain(m *testing.M) {
	os.Exit(operatortest.Main(m, controlplane.CertManagerCRDs, &k8s))
}

var eventually = operatortest.Eventually

// waitCertificateReady waits for CertificateReady, for the provider's
// current generation, to have status and reason, and returns its message.
func waitCertificateReady(t *testing.T, idp *idav1alpha1.IdentityProvider, status metav1.ConditionStatus, reason idav1alpha1.ConditionReason) string {
	t.Helper()
	return operatortest.WaitCondition(t, k8s, idp, idav1alpha1.ConditionCertificateReady, status, reason)
}

func certificate() *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(identityprovider.CertificateKind)
	u.SetNamespace("identity")
	u.SetName("bank-tls")
	return u
}

func TestCertManagerCertificate(t *testing.T) {
	ctx := context.Background()
	if err := k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "identity"}}); err != nil {
		t.Fatal(err)
	}
	tf := &idav1alpha1.TrustFramework{
		ObjectMeta: metav1.ObjectMeta{Name: "cm-aml"},
		Spec: idav1alpha1.TrustFrameworkSpec{
			Identifier: "cm_aml",
			Evidence:   []idav1alpha1.EvidenceSpec{{Type: idav1alpha1.EvidenceDocument, DocumentTypes: []idav1alpha1.Identifier{"passport"}}},
			Claims:     []idav1alpha1.ClaimName{"birthdate"},
		},
	}
	idp := &idav1alpha1.IdentityProvider{
		ObjectMeta: metav1.ObjectMeta{Namespace: "identity", Name: "bank"},
		Spec: idav1alpha1.IdentityProviderSpec{
			Issuer:          "https://id.bank.example",
			TrustFrameworks: idav1alpha1.TrustFrameworkSelection{Names: []string{"cm-aml"}},
			Users: idav1alpha1.UserSourceSpec{
				Type:    idav1alpha1.UserSourceBuiltin,
				Builtin: &idav1alpha1.BuiltinUserSource{SecretRef: idav1alpha1.LocalSecretReference{Name: "users"}},
			},
			TLS: &idav1alpha1.TLSSpec{
				SecretName: "bank-https",
				CertManager: &idav1alpha1.CertManagerCertificate{
					IssuerRef:   idav1alpha1.CertManagerIssuerRef{Name: "bank-ca", Kind: "ClusterIssuer"},
					RenewBefore: &metav1.Duration{Duration: 360 * time.Hour},
				},
			},
		},
	}
	for _, o := range []client.Object{tf, idp} {
		if err := k8s.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}

	// Written, kept whole by cert-manager's schema (a field it does not
	// know would be pruned), owned by the provider, pending until issued.
	waitCertificateReady(t, idp, metav1.ConditionFalse, idav1alpha1.ReasonCertificatePending)
	cert := certificate()
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(cert), cert); err != nil {
		t.Fatal(err)
	}
	var owner idav1alpha1.IdentityProvider
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(idp), &owner); err != nil || !metav1.IsControlledBy(cert, &owner) {
		t.Errorf("the Certificate is not controlled by the provider (%v)", err)
	}
	for path, want := range map[string]string{
		"spec.secretName": "bank-https", "spec.issuerRef.name": "bank-ca", "spec.issuerRef.kind": "ClusterIssuer",
		"spec.issuerRef.group": "cert-manager.io", "spec.renewBefore": "360h0m0s", "spec.privateKey.algorithm": "ECDSA",
		"spec.privateKey.rotationPolicy": "Always",
	} {
		if got, _, _ := unstructured.NestedString(cert.Object, strings.Split(path, ".")...); got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
	if names, _, _ := unstructured.NestedStringSlice(cert.Object, "spec", "dnsNames"); len(names) != 1 || names[0] != "id.bank.example" {
		t.Errorf("dnsNames %v", names)
	}
	if labels, _, _ := unstructured.NestedStringMap(cert.Object, "spec", "secretTemplate", "labels"); labels[idav1alpha1.LabelManagedBy] != idav1alpha1.ManagedByOperator {
		t.Errorf("secretTemplate.labels %v: the Secret cert-manager writes would not be watched", labels)
	}

	// cert-manager reports why it cannot issue: the condition says so.
	eventually(t, 5*time.Second, func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(cert), cert); err != nil {
			return err
		}
		_ = unstructured.SetNestedSlice(cert.Object, []any{map[string]any{
			"type": "Ready", "status": "False", "reason": "DoesNotExist", "message": "ClusterIssuer bank-ca not found",
			"lastTransitionTime": time.Now().UTC().Format(time.RFC3339),
		}}, "status", "conditions")
		return k8s.Status().Update(ctx, cert)
	})
	eventually(t, 20*time.Second, func() error {
		msg := waitCertificateReady(t, idp, metav1.ConditionFalse, idav1alpha1.ReasonCertificatePending)
		if !strings.Contains(msg, "ClusterIssuer bank-ca not found") {
			return fmt.Errorf("CertificateReady does not carry cert-manager's reason: %s", msg)
		}
		return nil
	})

	// cert-manager issues: it writes the Secret with the template's labels.
	ca := testpki.NewCA(t)
	certPEM, keyPEM := ca.Issue(t, 9, "id.bank.example")
	labels, _, _ := unstructured.NestedStringMap(cert.Object, "spec", "secretTemplate", "labels")
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "identity", Name: "bank-https", Labels: labels},
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{corev1.TLSCertKey: certPEM, corev1.TLSPrivateKeyKey: keyPEM},
	}
	if err := k8s.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	if msg := waitCertificateReady(t, idp, metav1.ConditionTrue, idav1alpha1.ReasonCertificateValid); !strings.Contains(msg, "id.bank.example") {
		t.Errorf("CertificateReady: %s", msg)
	}

	// Steady state: the Certificate is not rewritten.
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(cert), cert); err != nil {
		t.Fatal(err)
	}
	rv := cert.GetResourceVersion()
	time.Sleep(2 * time.Second)
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(cert), cert); err != nil || cert.GetResourceVersion() != rv {
		t.Errorf("the Certificate was written in steady state (%v)", err)
	}

	// Drift is repaired.
	eventually(t, 5*time.Second, func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(cert), cert); err != nil {
			return err
		}
		_ = unstructured.SetNestedStringSlice(cert.Object, []string{"evil.example"}, "spec", "dnsNames")
		return k8s.Update(ctx, cert)
	})
	eventually(t, 20*time.Second, func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(cert), cert); err != nil {
			return err
		}
		if names, _, _ := unstructured.NestedStringSlice(cert.Object, "spec", "dnsNames"); len(names) != 1 || names[0] != "id.bank.example" {
			return fmt.Errorf("dnsNames still %v", names)
		}
		return nil
	})

	// Without certManager the Certificate goes; the Secret, now the
	// platform team's, is still judged.
	eventually(t, 5*time.Second, func() error {
		var cur idav1alpha1.IdentityProvider
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(idp), &cur); err != nil {
			return err
		}
		cur.Spec.TLS.CertManager = nil
		return k8s.Update(ctx, &cur)
	})
	eventually(t, 20*time.Second, func() error {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(cert), certificate())
		if err == nil {
			return fmt.Errorf("the Certificate is still there")
		}
		return client.IgnoreNotFound(err)
	})
	waitCertificateReady(t, idp, metav1.ConditionTrue, idav1alpha1.ReasonCertificateValid)
}
