package controllers_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
	"github.com/idaop/ida-operator/controllers/conditions"
)

func newTrustFramework(name, id string, labels map[string]string, claims ...idav1alpha1.ClaimName) *idav1alpha1.TrustFramework {
	return &idav1alpha1.TrustFramework{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec: idav1alpha1.TrustFrameworkSpec{
			Identifier: id,
			Evidence: []idav1alpha1.EvidenceSpec{{
				Type:          idav1alpha1.EvidenceDocument,
				DocumentTypes: []idav1alpha1.Identifier{"passport"},
				CheckMethods:  []idav1alpha1.Identifier{"vpip"},
			}},
			Claims: claims,
		},
	}
}

func newProvider(ns, name string, sel idav1alpha1.TrustFrameworkSelection) *idav1alpha1.IdentityProvider {
	return &idav1alpha1.IdentityProvider{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: idav1alpha1.IdentityProviderSpec{
			Issuer:          "https://" + name + ".example",
			TrustFrameworks: sel,
			Users: idav1alpha1.UserSourceSpec{
				Type:    idav1alpha1.UserSourceBuiltin,
				Builtin: &idav1alpha1.BuiltinUserSource{SecretRef: idav1alpha1.LocalSecretReference{Name: "users"}},
			},
		},
	}
}

// readyCondition fetches the framework and returns its Ready condition for
// the current generation, or an error saying why there is none yet.
func readyCondition(ctx context.Context, name string) (*idav1alpha1.TrustFramework, *metav1.Condition, error) {
	var tf idav1alpha1.TrustFramework
	if err := k8s.Get(ctx, client.ObjectKey{Name: name}, &tf); err != nil {
		return nil, nil, err
	}
	cond := conditions.Find(tf.Status.Conditions, idav1alpha1.ConditionReady)
	if cond == nil || cond.ObservedGeneration != tf.Generation || tf.Status.ObservedGeneration != tf.Generation {
		return nil, nil, fmt.Errorf("TrustFramework %s generation %d not reconciled yet", name, tf.Generation)
	}
	return &tf, cond, nil
}

func TestTrustFrameworkReadiness(t *testing.T) {
	ctx := context.Background()
	tf := newTrustFramework("readiness", "readiness_aml", nil, "given_name", "family_name#ja-Kana-JP", "customer_number")
	if err := k8s.Create(ctx, tf); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(ctx, tf) })

	// An unregistered claim name is refused with a condition naming it.
	eventually(t, 10*time.Second, func() error {
		_, cond, err := readyCondition(ctx, tf.Name)
		if err != nil {
			return err
		}
		if cond.Status != metav1.ConditionFalse || cond.Reason != string(idav1alpha1.ReasonInvalidSpec) {
			return fmt.Errorf("Ready is %s/%s, want False/%s", cond.Status, cond.Reason, idav1alpha1.ReasonInvalidSpec)
		}
		if !strings.Contains(cond.Message, `spec.claims[2]: "customer_number" is not a registered claim`) {
			return fmt.Errorf("message does not name the bad claim: %s", cond.Message)
		}
		return nil
	})
	expectEvent(t, tf, corev1.EventTypeWarning, idav1alpha1.ReasonInvalidSpec)

	// Fixing the spec makes it Ready.
	eventually(t, 5*time.Second, func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(tf), tf); err != nil {
			return err
		}
		tf.Spec.Claims[2] = "https://bank.example/claims/customer_number"
		return k8s.Update(ctx, tf)
	})
	eventually(t, 10*time.Second, func() error {
		_, cond, err := readyCondition(ctx, tf.Name)
		if err != nil {
			return err
		}
		if cond.Status != metav1.ConditionTrue || cond.Reason != string(idav1alpha1.ReasonReconciled) {
			return fmt.Errorf("Ready is %s/%s: %s", cond.Status, cond.Reason, cond.Message)
		}
		return nil
	})
	expectEvent(t, tf, corev1.EventTypeNormal, idav1alpha1.ReasonReconciled)
}

func TestTrustFrameworkListsReferencingProviders(t *testing.T) {
	ctx := context.Background()
	byName := newTrustFramework("refs-by-name", "refs_by_name", nil, "birthdate")
	byLabel := newTrustFramework("refs-by-label", "refs_by_label", map[string]string{"tier": "gold"}, "birthdate")
	for _, tf := range []*idav1alpha1.TrustFramework{byName, byLabel} {
		if err := k8s.Create(ctx, tf); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = k8s.Delete(ctx, tf) })
	}
	p1 := newProvider("default", "p1", idav1alpha1.TrustFrameworkSelection{Names: []string{"refs-by-name"}})
	p2 := newProvider("kube-public", "p2", idav1alpha1.TrustFrameworkSelection{
		Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "gold"}},
		Names:    []string{"refs-by-name"},
	})
	for _, p := range []*idav1alpha1.IdentityProvider{p1, p2} {
		if err := k8s.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = k8s.Delete(ctx, p) })
	}
	expectProviders(t, "refs-by-name", "default/p1", "kube-public/p2")
	expectProviders(t, "refs-by-label", "kube-public/p2")

	// A provider that stops selecting a framework drops out of its status.
	eventually(t, 5*time.Second, func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(p2), p2); err != nil {
			return err
		}
		p2.Spec.TrustFrameworks.Names = nil
		return k8s.Update(ctx, p2)
	})
	expectProviders(t, "refs-by-name", "default/p1")
	expectProviders(t, "refs-by-label", "kube-public/p2")

	// Relabelling the framework re-evaluates selectors.
	eventually(t, 5*time.Second, func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(byLabel), byLabel); err != nil {
			return err
		}
		byLabel.Labels = map[string]string{"tier": "silver"}
		return k8s.Update(ctx, byLabel)
	})
	expectProviders(t, "refs-by-label")

	// Deleting a provider removes it.
	if err := k8s.Delete(ctx, p1); err != nil {
		t.Fatal(err)
	}
	expectProviders(t, "refs-by-name")

	// Steady state: no further writes.
	var before idav1alpha1.TrustFramework
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(byName), &before); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	var after idav1alpha1.TrustFramework
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(byName), &after); err != nil {
		t.Fatal(err)
	}
	if before.ResourceVersion != after.ResourceVersion {
		t.Errorf("TrustFramework written in steady state: resourceVersion %s -> %s", before.ResourceVersion, after.ResourceVersion)
	}
}

func expectProviders(t *testing.T, tfName string, want ...string) {
	t.Helper()
	eventually(t, 10*time.Second, func() error {
		tf, _, err := readyCondition(context.Background(), tfName)
		if err != nil {
			return err
		}
		if !slices.Equal(tf.Status.Providers, want) || int(tf.Status.ProviderCount) != len(want) {
			return fmt.Errorf("%s lists providers %v (count %d), want %v", tfName, tf.Status.Providers, tf.Status.ProviderCount, want)
		}
		return nil
	})
}

// expectEvent waits for an event about obj with the type and reason.
func expectEvent(t *testing.T, obj client.Object, eventType string, reason idav1alpha1.Reason) {
	t.Helper()
	eventually(t, 10*time.Second, func() error {
		var events eventsv1.EventList
		if err := k8s.List(context.Background(), &events); err != nil {
			return err
		}
		for _, e := range events.Items {
			if e.Regarding.Name == obj.GetName() && e.Type == eventType && e.Reason == reason.String() {
				return nil
			}
		}
		return fmt.Errorf("no %s event %s about %s", eventType, reason, obj.GetName())
	})
}
