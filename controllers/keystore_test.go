package controllers_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/cryptosigner"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/hsm"
	"github.com/idaop/ida-operator/runtime/hsm/hsmtest"
)

// pkcs11Provider is a provider whose keys the operator makes in the
// SoftHSM2 token of cfg, with the PIN in Secret hsm-pin.
func pkcs11Provider(ns, name string, cfg hsm.Config) *idav1alpha1.IdentityProvider {
	idp := newProvider(ns, name, idav1alpha1.TrustFrameworkSelection{Names: []string{"hsm-aml"}})
	idp.Spec.Signing = idav1alpha1.SigningSpec{
		Algorithms:      []idav1alpha1.SigningAlgorithm{idav1alpha1.ES256, idav1alpha1.PS256},
		RotationPeriod:  &metav1.Duration{Duration: 10 * 24 * time.Hour},
		PublishLeadTime: &metav1.Duration{Duration: 24 * time.Hour},
		KeyStore: idav1alpha1.KeyStoreSpec{Type: idav1alpha1.KeyStorePKCS11, PKCS11: &idav1alpha1.PKCS11KeyStore{
			Module: cfg.Module, TokenLabel: cfg.TokenLabel,
			PINSecretRef: idav1alpha1.SecretKeySelector{Name: "hsm-pin", Key: "pin"},
			Env:          []corev1.EnvVar{{Name: "SOFTHSM2_CONF", Value: "/etc/softhsm/softhsm2.conf"}},
			Volumes: []idav1alpha1.PKCS11Volume{{Name: "softhsm", MountPath: "/var/lib/softhsm",
				HostPath: &corev1.HostPathVolumeSource{Path: "/var/lib/softhsm"}}},
		}},
	}
	idp.Spec.Tokens = idav1alpha1.TokenSpec{
		IDTokenLifetime: &metav1.Duration{Duration: 5 * time.Minute}, AccessTokenLifetime: &metav1.Duration{Duration: 10 * time.Minute},
		RefreshTokenLifetime: &metav1.Duration{Duration: 48 * time.Hour}, AuthorizationCodeLifetime: &metav1.Duration{Duration: time.Minute},
	}
	return idp
}

func pinSecret(ns, pin string) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hsm-pin"}, Data: map[string][]byte{"pin": []byte(pin)}}
}

// keySet reads the provider's key Secret.
func keySet(t *testing.T, ns, name string) *config.KeySet {
	t.Helper()
	var s corev1.Secret
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name + "-signing-keys"}, &s); err != nil {
		t.Fatal(err)
	}
	ks, err := config.ParseKeySet(s.Data[config.KeySetKey])
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

// signAndVerify signs a JWT with the key signing alg at now, through the
// token, and verifies it against the JWKS the provider publishes at now:
// what a relying party does with every token.
func signAndVerify(t *testing.T, tok *hsm.Token, ks *config.KeySet, alg string, now time.Time) string {
	t.Helper()
	k, ok := ks.Signer(alg, now)
	if !ok {
		t.Fatalf("no %s key signs at %s", alg, now)
	}
	signer, err := tok.Signer(k.ID)
	if err != nil {
		t.Fatalf("the token has no key %s: %v", k.ID, err)
	}
	js, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: jose.JSONWebKey{Key: cryptosigner.Opaque(signer), KeyID: k.ID}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := js.Sign([]byte(`{"sub":"alice"}`))
	if err != nil {
		t.Fatalf("signing with %s in the token: %v", k.ID, err)
	}
	compact, _ := obj.CompactSerialize()
	jwks, err := ks.PublicJWKS(now)
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(jwks, &set); err != nil {
		t.Fatal(err)
	}
	parsed, err := jose.ParseSigned(compact, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
	if err != nil {
		t.Fatal(err)
	}
	pub := set.Key(parsed.Signatures[0].Header.KeyID)
	if len(pub) != 1 {
		t.Fatalf("the JWKS at %s has no key %s", now, k.ID)
	}
	if _, err := parsed.Verify(pub[0]); err != nil {
		t.Fatalf("a %s JWT signed in the token does not verify with the published key: %v", alg, err)
	}
	return k.ID
}

func TestProviderKeysInPKCS11Token(t *testing.T) {
	ctx := context.Background()
	cfg := hsmtest.SoftHSM(t)
	tok, err := hsm.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tok.Close() })
	const ns = "idp-hsm"
	createNamespace(t, ns, nil)
	readyFramework(t, "hsm-aml", "hsm_aml", "birthdate")
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	clock.Set(t0)
	t.Cleanup(func() { clock.Set(t0) })
	idp := pkcs11Provider(ns, "bank", cfg)
	create(t, pinSecret(ns, hsmtest.PIN), idp)
	waitCondition(t, idp, idav1alpha1.ConditionKeysReady, metav1.ConditionTrue, idav1alpha1.ReasonKeysGenerated)

	// The Secret holds public halves only; the private ones are in the
	// token, sensitive and not extractable.
	ks := keySet(t, ns, "bank")
	first := map[string]string{}
	for _, k := range ks.Keys {
		if !k.InToken() || len(k.PrivateJWK) != 0 {
			t.Fatalf("key %s is in the Secret", k.ID)
		}
		protected, err := tok.Protected(k.ID)
		if err != nil || !protected {
			t.Fatalf("key %s in the token: protected %v, %v", k.ID, protected, err)
		}
		first[k.Algorithm] = k.ID
	}
	if len(first) != 2 {
		t.Fatalf("keys %v, want one ES256 and one PS256", first)
	}
	for _, alg := range []string{config.ES256, config.PS256} {
		signAndVerify(t, tok, ks, alg, t0)
	}

	// The runtime signs in to the same token: its pkcs11 image, the PIN
	// from the Secret, the vendor's environment and volumes.
	var dep appsv1.Deployment
	eventually(t, 10*time.Second, func() error {
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "bank"}, &dep); err != nil {
			var got idav1alpha1.IdentityProvider
			_ = k8s.Get(ctx, client.ObjectKeyFromObject(idp), &got)
			return fmt.Errorf("%w; conditions %+v", err, got.Status.Conditions)
		}
		return nil
	})
	c := dep.Spec.Template.Spec.Containers[0]
	if !strings.HasSuffix(c.Image, "-pkcs11") {
		t.Errorf("runtime image %s, want the pkcs11 build", c.Image)
	}
	pin := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == config.PKCS11PINEnv })
	if pin < 0 || c.Env[pin].ValueFrom == nil || c.Env[pin].ValueFrom.SecretKeyRef.Name != "hsm-pin" || c.Env[pin].Value != "" {
		t.Errorf("runtime env %+v: want %s from Secret hsm-pin, never the PIN itself", c.Env, config.PKCS11PINEnv)
	}
	if !slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == "SOFTHSM2_CONF" }) ||
		!slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.Name == "softhsm" && m.ReadOnly }) {
		t.Errorf("runtime env %+v, mounts %+v: want the vendor's SOFTHSM2_CONF and a read-only softhsm mount", c.Env, c.VolumeMounts)
	}

	// The pod template with the vendor's parts is what the API server
	// keeps: no write in steady state.
	before := resourceVersions(t, ns)
	nudgeProvider(t, idp)
	time.Sleep(2 * time.Second)
	after := resourceVersions(t, ns)
	delete(before, "*v1alpha1.IdentityProvider/bank")
	delete(after, "*v1alpha1.IdentityProvider/bank")
	if !maps.Equal(before, after) {
		t.Errorf("writes in steady state:\nbefore %v\nafter  %v", before, after)
	}

	// A rotation: the successors are made in the token, published for the
	// lead time, then sign; the keys they replace leave the JWKS after
	// the tokens they signed have expired, and then the token.
	nudge := func(at time.Time, annotations map[string]string) {
		t.Helper()
		clock.Set(at)
		update(t, idp, func(p *idav1alpha1.IdentityProvider) { maps.Copy(p.Annotations, annotations) })
		nudgeProvider(t, idp)
	}
	waitKeys := func(at time.Time, published int) *config.KeySet {
		t.Helper()
		var ks *config.KeySet
		eventually(t, 20*time.Second, func() error {
			ks = keySet(t, ns, "bank")
			if n := len(ks.Published(at)); n != published {
				return fmt.Errorf("at %s: %d keys published, want %d", at, n, published)
			}
			return nil
		})
		return ks
	}
	nudge(t0.Add(time.Hour), map[string]string{idav1alpha1.AnnotationRotateKeys: "hsm-drill"})
	ks = waitKeys(t0.Add(time.Hour), 4)
	for _, alg := range []string{config.ES256, config.PS256} {
		if kid := signAndVerify(t, tok, ks, alg, t0.Add(time.Hour)); kid != first[alg] {
			t.Errorf("%s: %s signs before its successor's lead time, want %s", alg, kid, first[alg])
		}
	}
	for _, k := range ks.Keys {
		if protected, err := tok.Protected(k.ID); err != nil || !protected {
			t.Errorf("rotated key %s in the token: protected %v, %v", k.ID, protected, err)
		}
	}
	later := t0.Add(25 * time.Hour)
	nudge(later, nil)
	ks = waitKeys(later, 4)
	for _, alg := range []string{config.ES256, config.PS256} {
		if kid := signAndVerify(t, tok, ks, alg, later); kid == first[alg] {
			t.Errorf("%s: %s still signs after the lead time", alg, kid)
		}
	}
	gone := later.Add(50 * time.Hour)
	nudge(gone, nil)
	ks = waitKeys(gone, 2)
	for _, alg := range []string{config.ES256, config.PS256} {
		signAndVerify(t, tok, ks, alg, gone)
		// The operator deletes it from the token once the Secret without
		// it is written.
		eventually(t, 10*time.Second, func() error {
			if _, err := tok.Signer(first[alg]); !errors.Is(err, hsm.ErrNoKey) {
				return fmt.Errorf("the retired %s key %s is still in the token after it left the JWKS: %v", alg, first[alg], err)
			}
			return nil
		})
	}
}

func TestProviderPKCS11ErrorsAreConditions(t *testing.T) {
	cfg := hsmtest.SoftHSM(t)
	const ns = "idp-hsm-errors"
	createNamespace(t, ns, nil)
	readyFramework(t, "hsm-aml", "hsm_aml", "birthdate")
	idp := pkcs11Provider(ns, "bank", cfg)
	create(t, idp)
	got := waitCondition(t, idp, idav1alpha1.ConditionKeysReady, metav1.ConditionFalse, idav1alpha1.ReasonKeyStorePINNotFound)
	if m := keysMessage(got); !strings.Contains(m, "hsm-pin") {
		t.Errorf("message %q does not name the Secret", m)
	}

	const wrong = "98765"
	create(t, pinSecret(ns, wrong))
	nudgeProvider(t, idp)
	got = waitCondition(t, idp, idav1alpha1.ConditionKeysReady, metav1.ConditionFalse, idav1alpha1.ReasonKeyStoreUnavailable)
	if m := keysMessage(got); !strings.Contains(m, "PIN") || strings.Contains(m, wrong) {
		t.Errorf("message %q: want it to point at the PIN without showing it", m)
	}

	update(t, idp, func(p *idav1alpha1.IdentityProvider) { p.Spec.Signing.KeyStore.PKCS11.TokenLabel = "no-such-token" })
	got = waitCondition(t, idp, idav1alpha1.ConditionKeysReady, metav1.ConditionFalse, idav1alpha1.ReasonKeyStoreUnavailable)
	if m := keysMessage(got); !strings.Contains(m, "no-such-token") {
		t.Errorf("message %q does not name the missing token", m)
	}

	update(t, idp, func(p *idav1alpha1.IdentityProvider) {
		p.Spec.Signing.KeyStore.PKCS11.TokenLabel = cfg.TokenLabel
		p.Spec.Signing.KeyStore.PKCS11.Module = "/opt/no-such-vendor/libpkcs11.so"
	})
	got = waitCondition(t, idp, idav1alpha1.ConditionKeysReady, metav1.ConditionFalse, idav1alpha1.ReasonKeyStoreUnavailable)
	if m := keysMessage(got); !strings.Contains(m, "/opt/no-such-vendor/libpkcs11.so") {
		t.Errorf("message %q does not name the missing module", m)
	}
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "bank-signing-keys"}, &corev1.Secret{}); err == nil {
		ks := keySet(t, ns, "bank")
		if len(ks.Keys) != 0 {
			t.Errorf("keys written while the token was unreachable: %v", ks.Keys)
		}
	}

	// Each failure is counted, for the platform's dashboards.
	for _, reason := range []idav1alpha1.ConditionReason{idav1alpha1.ReasonKeyStorePINNotFound, idav1alpha1.ReasonKeyStoreUnavailable} {
		if n := keyStoreFailures(t, reason); n < 1 {
			t.Errorf("ida_operator_key_store_failures_total{reason=%q} = %v, want at least 1", reason, n)
		}
	}

	// Once the PIN is right, the keys are made.
	update(t, idp, func(p *idav1alpha1.IdentityProvider) { p.Spec.Signing.KeyStore.PKCS11.Module = cfg.Module })
	update(t, pinSecret(ns, wrong), func(s *corev1.Secret) { s.Data["pin"] = []byte(hsmtest.PIN) })
	nudgeProvider(t, idp)
	waitCondition(t, idp, idav1alpha1.ConditionKeysReady, metav1.ConditionTrue, idav1alpha1.ReasonKeysGenerated)
}

func keysMessage(idp *idav1alpha1.IdentityProvider) string {
	for _, c := range idp.Status.Conditions {
		if c.Type == string(idav1alpha1.ConditionKeysReady) {
			return c.Message
		}
	}
	return ""
}

// nudgeProvider changes an annotation so that the provider reconciles now
// rather than at its retry.
func nudgeProvider(t *testing.T, idp *idav1alpha1.IdentityProvider) {
	t.Helper()
	update(t, idp, func(p *idav1alpha1.IdentityProvider) {
		if p.Annotations == nil {
			p.Annotations = map[string]string{}
		}
		p.Annotations["test/nudge"] = time.Now().Format(time.RFC3339Nano)
	})
}

func keyStoreFailures(t *testing.T, reason idav1alpha1.ConditionReason) float64 {
	t.Helper()
	mfs, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "ida_operator_key_store_failures_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" && l.GetValue() == string(reason) {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
