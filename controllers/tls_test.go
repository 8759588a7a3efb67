package controllers_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
	"github.com/idaop/ida-operator/controllers/conditions"
	"github.com/idaop/ida-operator/internal/testpki"
)

// This suite's API server has no cert-manager: a provider that asks for a
// Certificate says so and is otherwise Ready.
func TestProviderTLSWithoutCertManager(t *testing.T) {
	createNamespace(t, "idp-nocm", nil)
	readyFramework(t, "nocm-aml", "nocm_aml", "birthdate")
	idp := newProvider("idp-nocm", "bank", idav1alpha1.TrustFrameworkSelection{Names: []string{"nocm-aml"}})
	idp.Spec.TLS = &idav1alpha1.TLSSpec{SecretName: "bank-https", CertManager: &idav1alpha1.CertManagerCertificate{
		IssuerRef: idav1alpha1.CertManagerIssuerRef{Name: "letsencrypt"},
	}}
	create(t, idp)
	got := waitCondition(t, idp, idav1alpha1.ConditionCertificateReady, metav1.ConditionFalse, idav1alpha1.ReasonCertManagerNotInstalled)
	if c := conditions.Find(got.Status.Conditions, idav1alpha1.ConditionCertificateReady); !strings.Contains(c.Message, "install cert-manager") {
		t.Errorf("CertificateReady does not say what to do: %s", c.Message)
	}
	markRuntimeAvailable(t, "idp-nocm", "bank")
	waitCondition(t, idp, idav1alpha1.ConditionReady, metav1.ConditionTrue, idav1alpha1.ReasonReconciled)
}

// A TLS Secret the platform team provides: missing, then for the wrong
// host, then right; the Ingress serves it; the runtime mounts it when it
// terminates TLS itself.
func TestProviderTLSFromASecret(t *testing.T) {
	ctx := context.Background()
	createNamespace(t, "idp-tls", nil)
	readyFramework(t, "tls-aml", "tls_aml", "birthdate")
	idp := newProvider("idp-tls", "bank", idav1alpha1.TrustFrameworkSelection{Names: []string{"tls-aml"}})
	idp.Spec.Issuer = "https://id.bank.example"
	idp.Spec.TLS = &idav1alpha1.TLSSpec{SecretName: "bank-https"}
	idp.Spec.Exposure = &idav1alpha1.ExposureSpec{Ingress: &idav1alpha1.IngressExposure{ClassName: "nginx"}}
	create(t, idp)
	got := waitCondition(t, idp, idav1alpha1.ConditionCertificateReady, metav1.ConditionFalse, idav1alpha1.ReasonSecretNotFound)
	if c := conditions.Find(got.Status.Conditions, idav1alpha1.ConditionCertificateReady); !strings.Contains(c.Message, "bank-https") {
		t.Errorf("CertificateReady does not name the Secret: %s", c.Message)
	}
	// The Ingress serves the provider's Secret for the host.
	var ing networkingv1.Ingress
	eventually(t, 10*time.Second, func() error {
		return k8s.Get(ctx, client.ObjectKey{Namespace: "idp-tls", Name: "bank"}, &ing)
	})
	if len(ing.Spec.TLS) != 1 || ing.Spec.TLS[0].SecretName != "bank-https" || ing.Spec.TLS[0].Hosts[0] != "id.bank.example" {
		t.Errorf("Ingress TLS %+v", ing.Spec.TLS)
	}

	ca := testpki.NewCA(t)
	// Valid around the controllers' clock, which other tests move on.
	ca.NotBefore, ca.NotAfter = clock.Now().Add(-24*time.Hour), clock.Now().Add(365*24*time.Hour)
	wrongCert, wrongKey := ca.Issue(t, 1, "www.bank.example")
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "idp-tls", Name: "bank-https"},
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{corev1.TLSCertKey: wrongCert, corev1.TLSPrivateKeyKey: wrongKey},
	}
	create(t, secret)
	// Nothing watches a Secret without the operator's labels: a spec change
	// brings the next look sooner than the minute's poll.
	touch := func() {
		t.Helper()
		eventually(t, 10*time.Second, func() error {
			var cur idav1alpha1.IdentityProvider
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(idp), &cur); err != nil {
				return err
			}
			if cur.Annotations == nil {
				cur.Annotations = map[string]string{}
			}
			cur.Annotations["test/touch"] = metav1.Now().String()
			return k8s.Update(ctx, &cur)
		})
	}
	touch()
	got = waitCondition(t, idp, idav1alpha1.ConditionCertificateReady, metav1.ConditionFalse, idav1alpha1.ReasonCertificateInvalid)
	if c := conditions.Find(got.Status.Conditions, idav1alpha1.ConditionCertificateReady); !strings.Contains(c.Message, "www.bank.example") {
		t.Errorf("CertificateReady does not say which host the certificate names: %s", c.Message)
	}
	certPEM, keyPEM := ca.Issue(t, 2, "id.bank.example")
	eventually(t, 10*time.Second, func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(secret), secret); err != nil {
			return err
		}
		secret.Data = map[string][]byte{corev1.TLSCertKey: certPEM, corev1.TLSPrivateKeyKey: keyPEM}
		return k8s.Update(ctx, secret)
	})
	touch()
	waitCondition(t, idp, idav1alpha1.ConditionCertificateReady, metav1.ConditionTrue, idav1alpha1.ReasonCertificateValid)

	// The runtime terminating TLS cannot go with an Ingress; without it,
	// the pods mount the Secret.
	err := k8s.Get(ctx, client.ObjectKeyFromObject(idp), idp)
	if err != nil {
		t.Fatal(err)
	}
	idp.Spec.TLS.Termination = idav1alpha1.TLSTerminationRuntime
	if err := k8s.Update(ctx, idp); err == nil || !strings.Contains(err.Error(), "cannot go with exposure") {
		t.Fatalf("termination Runtime with an Ingress: %v", err)
	}
	idp.Spec.Exposure = nil
	if err := k8s.Update(ctx, idp); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		var dep appsv1.Deployment
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: "idp-tls", Name: "bank"}, &dep); err != nil {
			return err
		}
		for _, v := range dep.Spec.Template.Spec.Volumes {
			if v.Secret != nil && v.Secret.SecretName == "bank-https" {
				return nil
			}
		}
		return errors.New("the runtime does not mount Secret bank-https")
	})
}

// TLS needs a host name to certify.
func TestProviderTLSNeedsAnHTTPSHost(t *testing.T) {
	createNamespace(t, "idp-tls-http", nil)
	idp := newProvider("idp-tls-http", "bank", idav1alpha1.TrustFrameworkSelection{Names: []string{"x"}})
	idp.Spec.Issuer = "http://localhost:8080"
	idp.Spec.TLS = &idav1alpha1.TLSSpec{SecretName: "bank-https"}
	if err := k8s.Create(context.Background(), idp); err == nil || !strings.Contains(err.Error(), "tls needs an https issuer") {
		t.Fatalf("tls with an http issuer: %v", err)
	}
}
