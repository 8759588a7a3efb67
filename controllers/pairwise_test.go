package controllers_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
	"github.com/idaop/ida-operator/runtime/config"
)

func saltSecret(t *testing.T, ns, name string) (*corev1.Secret, error) {
	t.Helper()
	var s corev1.Secret
	err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &s)
	return &s, err
}

func renderedProvider(t *testing.T, ns, idpName string) *config.Provider {
	t.Helper()
	var cm corev1.ConfigMap
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: idpName + "-provider"}, &cm); err != nil {
		t.Fatal(err)
	}
	p, err := config.ParseProvider([]byte(cm.Data[config.ProviderConfigKey]))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestProviderPairwiseSalt: the operator generates the salt once, records
// its fingerprint and hands it to the runtime; a deleted salt is reported
// as lost, not replaced, until a person accepts a new one; a replaced
// salt is reported as changed.
func TestProviderPairwiseSalt(t *testing.T) {
	ctx := context.Background()
	idp := providerFixture(t, "salt-gen", idav1alpha1.RelyingPartyNamespaces{From: idav1alpha1.NamespacesFromSame})
	got := waitCondition(t, idp, idav1alpha1.ConditionPairwiseSaltReady, metav1.ConditionTrue, idav1alpha1.ReasonSaltGenerated)
	s, err := saltSecret(t, "salt-gen", "bank-pairwise-salt")
	if err != nil {
		t.Fatal(err)
	}
	salt := s.Data[config.PairwiseSaltKey]
	fp := config.SaltFingerprint(salt)
	if len(salt) != 32 || got.Status.PairwiseSaltFingerprint != fp || len(s.OwnerReferences) != 0 ||
		s.Labels[config.LabelComponent] != config.ComponentPairwiseSalt {
		t.Fatalf("salt Secret: %d bytes, owners %v, labels %v; status %q, want %q", len(salt), s.OwnerReferences, s.Labels, got.Status.PairwiseSaltFingerprint, fp)
	}
	eventually(t, 10*time.Second, func() error {
		p := renderedProvider(t, "salt-gen", "bank")
		if p.Subjects.SaltFingerprint != fp || p.Subjects.SaltSecret == nil || p.Subjects.SaltSecret.Name != "bank-pairwise-salt" {
			return fmt.Errorf("rendered subjects %+v", p.Subjects)
		}
		var dep appsv1.Deployment
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: "salt-gen", Name: "bank"}, &dep); err != nil {
			return err
		}
		if args := dep.Spec.Template.Spec.Containers[0].Args; !slices.Contains(args, "--pairwise-salt-secret=bank-pairwise-salt") {
			return fmt.Errorf("runtime args %v", args)
		}
		return nil
	})
	if doc := discovery(t, "salt-gen", "bank"); !slices.Equal(stringsOf(doc["subject_types_supported"]), []string{"public", "pairwise"}) {
		t.Errorf("subject_types_supported %v", doc["subject_types_supported"])
	}

	// Lost: reported, and no new salt appears.
	if err := k8s.Delete(ctx, s); err != nil {
		t.Fatal(err)
	}
	waitCondition(t, idp, idav1alpha1.ConditionPairwiseSaltReady, metav1.ConditionFalse, idav1alpha1.ReasonSaltLost)
	lost := waitCondition(t, idp, idav1alpha1.ConditionReady, metav1.ConditionFalse, idav1alpha1.ReasonSaltLost)
	time.Sleep(time.Second)
	if _, err := saltSecret(t, "salt-gen", "bank-pairwise-salt"); !apierrors.IsNotFound(err) {
		t.Fatalf("a lost salt was replaced: %v", err)
	}
	if lost.Status.PairwiseSaltFingerprint != fp || renderedProvider(t, "salt-gen", "bank").Subjects.SaltFingerprint != fp {
		t.Fatal("the lost salt's fingerprint was forgotten")
	}

	// An annotation naming another salt does nothing; naming the lost one
	// accepts a new salt.
	update(t, idp, func(p *idav1alpha1.IdentityProvider) {
		p.Annotations = map[string]string{idav1alpha1.AnnotationAcceptPairwiseSalt: "sha256:00000000000000000000000000000000"}
	})
	time.Sleep(time.Second)
	waitCondition(t, idp, idav1alpha1.ConditionPairwiseSaltReady, metav1.ConditionFalse, idav1alpha1.ReasonSaltLost)
	update(t, idp, func(p *idav1alpha1.IdentityProvider) { p.Annotations[idav1alpha1.AnnotationAcceptPairwiseSalt] = fp })
	accepted := waitCondition(t, idp, idav1alpha1.ConditionPairwiseSaltReady, metav1.ConditionTrue, idav1alpha1.ReasonSaltGenerated)
	expectEvent(t, idp, corev1.EventTypeNormal, idav1alpha1.EventSaltAccepted)
	s, err = saltSecret(t, "salt-gen", "bank-pairwise-salt")
	if err != nil {
		t.Fatal(err)
	}
	newFP := config.SaltFingerprint(s.Data[config.PairwiseSaltKey])
	if newFP == fp || accepted.Status.PairwiseSaltFingerprint != newFP {
		t.Fatalf("after accepting: status %q, Secret %q, old %q", accepted.Status.PairwiseSaltFingerprint, newFP, fp)
	}

	// Changed by hand: reported; the recorded salt stays what runtimes use.
	update(t, s, func(s *corev1.Secret) { s.Data[config.PairwiseSaltKey] = []byte("another salt of exactly 32 bytes") })
	waitCondition(t, idp, idav1alpha1.ConditionPairwiseSaltReady, metav1.ConditionFalse, idav1alpha1.ReasonSaltChanged)
	if p := renderedProvider(t, "salt-gen", "bank"); p.Subjects.SaltFingerprint != newFP {
		t.Fatalf("rendered fingerprint %q, want the recorded %q", p.Subjects.SaltFingerprint, newFP)
	}
}

// TestProviderSuppliedSalt: a salt the platform team keeps is waited for,
// checked and recorded; the operator never writes it.
func TestProviderSuppliedSalt(t *testing.T) {
	createNamespace(t, "salt-kept", nil)
	readyFramework(t, "salt-kept-aml", "salt_kept_aml", "given_name")
	idp := newProvider("salt-kept", "bank", idav1alpha1.TrustFrameworkSelection{Names: []string{"salt-kept-aml"}})
	idp.Spec.Tokens.SubjectType = idav1alpha1.SubjectPairwise
	idp.Spec.Tokens.PairwiseSaltSecretRef = &idav1alpha1.SecretKeySelector{Name: "kept-salt", Key: "salt"}
	create(t, idp)
	waitCondition(t, idp, idav1alpha1.ConditionPairwiseSaltReady, metav1.ConditionFalse, idav1alpha1.ReasonSaltSecretNotFound)
	if _, err := saltSecret(t, "salt-kept", "bank-pairwise-salt"); !apierrors.IsNotFound(err) {
		t.Fatalf("a salt was generated beside the supplied one: %v", err)
	}

	short := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "salt-kept", Name: "kept-salt"}, Data: map[string][]byte{"salt": []byte("too short")}}
	create(t, short)
	poke := func(v string) {
		update(t, idp, func(p *idav1alpha1.IdentityProvider) { p.Annotations = map[string]string{"test/poke": v} })
	}
	poke("1") // the Secret is not the operator's: it is read on a timer, or now
	waitCondition(t, idp, idav1alpha1.ConditionPairwiseSaltReady, metav1.ConditionFalse, idav1alpha1.ReasonSaltInvalid)

	salt := []byte("a salt the platform team backs up, 48 bytes long")
	update(t, short, func(s *corev1.Secret) { s.Data["salt"] = salt })
	poke("2")
	got := waitCondition(t, idp, idav1alpha1.ConditionPairwiseSaltReady, metav1.ConditionTrue, idav1alpha1.ReasonSaltSupplied)
	if got.Status.PairwiseSaltFingerprint != config.SaltFingerprint(salt) {
		t.Fatalf("status %q", got.Status.PairwiseSaltFingerprint)
	}
	eventually(t, 10*time.Second, func() error {
		p := renderedProvider(t, "salt-kept", "bank")
		if p.Subjects.Type != config.SubjectPairwise || p.Subjects.SaltSecret.Name != "kept-salt" || p.Subjects.SaltSecret.Key != "salt" ||
			p.Subjects.SaltFingerprint != config.SaltFingerprint(salt) {
			return fmt.Errorf("rendered subjects %+v", p.Subjects)
		}
		return nil
	})
}

// serveSector serves body at path on the test's sector server.
func serveSector(path, body string) string {
	sectorMux.HandleFunc(path, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	})
	return sectorServer.URL + path
}

// TestRelyingPartySectorIdentifier: a sectorIdentifierURI is fetched from
// a real TLS server and must list every redirect URI; unreachable, not
// JSON, or lying, the relying party is not Ready with a reason that says
// so and is not registered. Redirect URIs on two hosts need one.
func TestRelyingPartySectorIdentifier(t *testing.T) {
	idp := providerFixture(t, "sector", idav1alpha1.RelyingPartyNamespaces{From: idav1alpha1.NamespacesFromSame})
	twoHosts := []string{"https://a.example/cb", "https://b.example/cb"}
	good := serveSector("/sector/good.json", `["https://a.example/cb", "https://b.example/cb", "https://c.example/cb"]`)
	lying := serveSector("/sector/lying.json", `["https://a.example/cb"]`)
	notJSON := serveSector("/sector/page.html", `<html>not here</html>`)

	rp := func(name, sectorURI string) *idav1alpha1.RelyingParty {
		r := newRelyingParty("sector", name, idp)
		r.Spec.RedirectURIs = twoHosts
		r.Spec.SubjectType = idav1alpha1.SubjectPairwise
		r.Spec.SectorIdentifierURI = sectorURI
		create(t, r)
		return r
	}
	verified := rp("verified", good)
	cases := []struct {
		rp     *idav1alpha1.RelyingParty
		reason idav1alpha1.ConditionReason
	}{
		{rp("ambiguous", ""), idav1alpha1.ReasonSectorAmbiguous},
		{rp("lying", lying), idav1alpha1.ReasonSectorIdentifierMismatch},
		{rp("not-json", notJSON), idav1alpha1.ReasonSectorIdentifierInvalid},
		{rp("unreachable", "https://127.0.0.1:1/uris.json"), idav1alpha1.ReasonSectorIdentifierUnreachable},
	}

	waitCondition(t, verified, idav1alpha1.ConditionReady, metav1.ConditionTrue, idav1alpha1.ReasonReconciled)
	_, reg, err := registration(t, verified)
	if err != nil || reg.SubjectType != config.SubjectPairwise || reg.SectorIdentifierURI != good {
		t.Fatalf("registration %+v, %v", reg, err)
	}
	for _, tc := range cases {
		got := waitCondition(t, tc.rp, idav1alpha1.ConditionReady, metav1.ConditionFalse, tc.reason)
		waitCondition(t, tc.rp, idav1alpha1.ConditionSectorReady, metav1.ConditionFalse, tc.reason)
		if _, _, err := registration(t, tc.rp); !apierrors.IsNotFound(err) {
			t.Errorf("%s is registered (%v): %+v", tc.rp.Name, err, got.Status.Conditions)
		}
	}

	// A redirect URI the list does not hold: fetched again, refused, and
	// the registration with the old sector goes.
	update(t, verified, func(r *idav1alpha1.RelyingParty) {
		r.Spec.RedirectURIs = append(r.Spec.RedirectURIs, "https://d.example/cb")
	})
	waitCondition(t, verified, idav1alpha1.ConditionSectorReady, metav1.ConditionFalse, idav1alpha1.ReasonSectorIdentifierMismatch)
	eventually(t, 10*time.Second, func() error {
		if _, _, err := registration(t, verified); !apierrors.IsNotFound(err) {
			return fmt.Errorf("still registered: %v", err)
		}
		return nil
	})
}

// TestRelyingPartyFollowsProviderSubjectType: an RP that names no subject
// type follows its provider's; pairwise by default, its two redirect
// hosts are refused until it chooses public.
func TestRelyingPartyFollowsProviderSubjectType(t *testing.T) {
	idp := providerFixture(t, "sector-default", idav1alpha1.RelyingPartyNamespaces{From: idav1alpha1.NamespacesFromSame})
	rp := newRelyingParty("sector-default", "app", idp)
	rp.Spec.RedirectURIs = []string{"https://a.example/cb", "https://b.example/cb"}
	create(t, rp)
	waitCondition(t, rp, idav1alpha1.ConditionReady, metav1.ConditionTrue, idav1alpha1.ReasonReconciled)

	update(t, idp, func(p *idav1alpha1.IdentityProvider) { p.Spec.Tokens.SubjectType = idav1alpha1.SubjectPairwise })
	waitCondition(t, rp, idav1alpha1.ConditionSectorReady, metav1.ConditionFalse, idav1alpha1.ReasonSectorAmbiguous)

	update(t, rp, func(r *idav1alpha1.RelyingParty) { r.Spec.SubjectType = idav1alpha1.SubjectPublic })
	waitCondition(t, rp, idav1alpha1.ConditionReady, metav1.ConditionTrue, idav1alpha1.ReasonReconciled)
	_, reg, err := registration(t, rp)
	if err != nil || reg.SubjectType != config.SubjectPublic {
		t.Fatalf("registration %+v, %v", reg, err)
	}
}
