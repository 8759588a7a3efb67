package identityprovider

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
	"github.com/idaop/ida-operator/internal/testpki"
)

func TestServingCertificate(t *testing.T) {
	ca := testpki.NewCA(t)
	certPEM, keyPEM := ca.Issue(t, 7, "bank.example")
	_, otherKey := ca.Issue(t, 8, "bank.example")
	now := time.Now()
	secret := func(cert, key []byte) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "bank-tls"},
			Data: map[string][]byte{corev1.TLSCertKey: cert, corev1.TLSPrivateKeyKey: key}}
	}
	for _, c := range []struct {
		name   string
		secret *corev1.Secret
		issuer string
		at     time.Time
		reason idav1alpha1.ConditionReason
		says   string
	}{
		{"valid for the host", secret(certPEM, keyPEM), "https://bank.example/id", now, idav1alpha1.ReasonCertificateValid, "valid until"},
		{"host in another case", secret(certPEM, keyPEM), "https://BANK.example", now, idav1alpha1.ReasonCertificateValid, "bank.example"},
		{"another host", secret(certPEM, keyPEM), "https://id.bank.example", now, idav1alpha1.ReasonCertificateInvalid, "does not cover the issuer's host id.bank.example"},
		{"expired", secret(certPEM, keyPEM), "https://bank.example", now.Add(2 * time.Hour), idav1alpha1.ReasonCertificateInvalid, "expired at"},
		{"not yet valid", secret(certPEM, keyPEM), "https://bank.example", now.Add(-2 * time.Hour), idav1alpha1.ReasonCertificateInvalid, "not valid before"},
		{"key of another certificate", secret(certPEM, otherKey), "https://bank.example", now, idav1alpha1.ReasonCertificateInvalid, "no usable certificate and key"},
		{"empty", secret(nil, nil), "https://bank.example", now, idav1alpha1.ReasonCertificateInvalid, "no usable certificate and key"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, recheck := servingCertificate(c.secret, c.issuer, c.at)
			if got.Reason != c.reason || !strings.Contains(got.Message, c.says) {
				t.Fatalf("%s: %s, want %s saying %q", got.Reason, got.Message, c.reason, c.says)
			}
			if got.True != (c.reason == idav1alpha1.ReasonCertificateValid) {
				t.Errorf("True = %v", got.True)
			}
			if got.True && (recheck <= 0 || recheck > 2*time.Hour) {
				t.Errorf("recheck in %s, want before expiry", recheck)
			}
		})
	}
}

func TestCertificateSpec(t *testing.T) {
	idp := &idav1alpha1.IdentityProvider{
		ObjectMeta: metav1.ObjectMeta{Namespace: "bank", Name: "idp"},
		Spec: idav1alpha1.IdentityProviderSpec{Issuer: "https://ID.bank.example/eu", TLS: &idav1alpha1.TLSSpec{
			SecretName:  "idp-tls",
			CertManager: &idav1alpha1.CertManagerCertificate{IssuerRef: idav1alpha1.CertManagerIssuerRef{Name: "letsencrypt"}, RenewBefore: &metav1.Duration{Duration: 720 * time.Hour}},
		}},
	}
	spec, err := certificateSpec(idp)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	for path, want := range map[string]string{
		"spec.secretName":                "idp-tls",
		"spec.issuerRef.name":            "letsencrypt",
		"spec.issuerRef.kind":            "Issuer", // the default
		"spec.issuerRef.group":           "cert-manager.io",
		"spec.renewBefore":               "720h0m0s",
		"spec.privateKey.rotationPolicy": "Always",
	} {
		got, _, _ := unstructured.NestedString(u.Object, strings.Split(path, ".")...)
		if got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
	names, _, _ := unstructured.NestedStringSlice(u.Object, "spec", "dnsNames")
	if len(names) != 1 || names[0] != "id.bank.example" {
		t.Errorf("dnsNames %v, want the issuer's host", names)
	}
	idp.Spec.Issuer = "http://localhost:8080"
	if _, err := certificateSpec(idp); err == nil {
		t.Error("a Certificate for an http issuer")
	}
}

func TestCertificatePendingCarriesCertManagersReason(t *testing.T) {
	cert := &unstructured.Unstructured{Object: map[string]any{
		"metadata": map[string]any{"name": "idp-tls"},
		"status": map[string]any{"conditions": []any{
			map[string]any{"type": "Issuing", "status": "True"},
			map[string]any{"type": "Ready", "status": "False", "reason": "DoesNotExist", "message": "Issuer letsencrypt not found"},
		}},
	}}
	if got := certificatePending(cert); got.Reason != idav1alpha1.ReasonCertificatePending || !strings.Contains(got.Message, "Issuer letsencrypt not found") {
		t.Errorf("%s: %s", got.Reason, got.Message)
	}
	delete(cert.Object, "status")
	if got := certificatePending(cert); !strings.Contains(got.Message, "waiting for cert-manager") {
		t.Errorf("no status: %s", got.Message)
	}
}

// With termination Runtime the pod mounts the TLS Secret read-only and
// the runtime serves it; with Edge (the default) the pod knows nothing of
// it.
func TestRuntimeTerminationMountsTheSecret(t *testing.T) {
	idp := &idav1alpha1.IdentityProvider{
		ObjectMeta: metav1.ObjectMeta{Namespace: "bank", Name: "idp"},
		Spec:       idav1alpha1.IdentityProviderSpec{Issuer: "https://bank.example", TLS: &idav1alpha1.TLSSpec{SecretName: "idp-tls"}},
	}
	edge := podTemplate(idp, "img", "hash")
	if len(edge.Spec.Volumes) != 1 || strings.Contains(strings.Join(edge.Spec.Containers[0].Args, " "), "--tls-") {
		t.Fatalf("termination Edge: volumes %v args %v", edge.Spec.Volumes, edge.Spec.Containers[0].Args)
	}
	idp.Spec.TLS.Termination = idav1alpha1.TLSTerminationRuntime
	pod := podTemplate(idp, "img", "hash")
	var vol *corev1.Volume
	for i := range pod.Spec.Volumes {
		if pod.Spec.Volumes[i].Name == "tls" {
			vol = &pod.Spec.Volumes[i]
		}
	}
	if vol == nil || vol.Secret == nil || vol.Secret.SecretName != "idp-tls" {
		t.Fatalf("no tls volume of Secret idp-tls: %v", pod.Spec.Volumes)
	}
	c := pod.Spec.Containers[0]
	args := strings.Join(c.Args, " ")
	if !strings.Contains(args, "--tls-cert-file=/etc/ida/tls/tls.crt") || !strings.Contains(args, "--tls-key-file=/etc/ida/tls/tls.key") {
		t.Errorf("args %v", c.Args)
	}
	mounted := false
	for _, m := range c.VolumeMounts {
		mounted = mounted || (m.Name == "tls" && m.MountPath == "/etc/ida/tls" && m.ReadOnly)
	}
	if !mounted {
		t.Errorf("mounts %v", c.VolumeMounts)
	}
}
