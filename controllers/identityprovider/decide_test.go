package identityprovider

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
	"github.com/idaop/ida-operator/controllers/conditions"
	"github.com/idaop/ida-operator/controllers/signingkeys"
)

func framework(name string, labels map[string]string, ready metav1.ConditionStatus, observed int64) idav1alpha1.TrustFramework {
	tf := idav1alpha1.TrustFramework{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, Generation: 2}}
	if ready != "" {
		tf.Status.Conditions = []metav1.Condition{{Type: string(idav1alpha1.ConditionReady), Status: ready, ObservedGeneration: observed}}
	}
	return tf
}

func TestResolveTrustFrameworks(t *testing.T) {
	eu := map[string]string{"region": "eu"}
	all := []idav1alpha1.TrustFramework{
		framework("jp-aml", nil, metav1.ConditionTrue, 2),
		framework("de-aml", eu, metav1.ConditionTrue, 2),
		framework("eidas", eu, metav1.ConditionFalse, 2),
		framework("stale", nil, metav1.ConditionTrue, 1),
		framework("new", nil, "", 0),
	}
	byLabel := func(l map[string]string) *metav1.LabelSelector { return &metav1.LabelSelector{MatchLabels: l} }
	cases := []struct {
		name     string
		sel      idav1alpha1.TrustFrameworkSelection
		selected string // names, comma separated
		reason   idav1alpha1.ConditionReason
		mentions string
	}{
		{"by name", idav1alpha1.TrustFrameworkSelection{Names: []string{"jp-aml"}}, "jp-aml", "", ""},
		{"by name and label", idav1alpha1.TrustFrameworkSelection{Names: []string{"jp-aml"}, Selector: byLabel(map[string]string{"region": "eu"})},
			"jp-aml,de-aml,eidas", idav1alpha1.ReasonTrustFrameworkNotReady, "eidas"},
		{"missing name beats not Ready", idav1alpha1.TrustFrameworkSelection{Names: []string{"eidas", "uk-tfida"}}, "eidas", idav1alpha1.ReasonTrustFrameworkNotFound, "uk-tfida"},
		{"Ready for an older generation", idav1alpha1.TrustFrameworkSelection{Names: []string{"stale"}}, "stale", idav1alpha1.ReasonTrustFrameworkNotReady, "stale"},
		{"not evaluated yet", idav1alpha1.TrustFrameworkSelection{Names: []string{"new"}}, "new", idav1alpha1.ReasonTrustFrameworkNotReady, "new"},
		{"selects none", idav1alpha1.TrustFrameworkSelection{Selector: byLabel(map[string]string{"region": "us"})}, "", idav1alpha1.ReasonTrustFrameworkNotFound, "selects no"},
		{"invalid selector", idav1alpha1.TrustFrameworkSelection{Selector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "region", Operator: "Near"}}}},
			"", idav1alpha1.ReasonInvalidSpec, "spec.trustFrameworks.selector"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, problem, ok := resolveTrustFrameworks(tc.sel, all)
			var names []string
			for _, tf := range got {
				names = append(names, tf.Name)
			}
			if strings.Join(names, ",") != tc.selected {
				t.Errorf("selected %v, want %s", names, tc.selected)
			}
			if ok != (tc.reason == "") || problem.Reason != tc.reason || !strings.Contains(problem.Message, tc.mentions) {
				t.Errorf("got ok=%v %s (%s), want %s mentioning %q", ok, problem.Reason, problem.Message, tc.reason, tc.mentions)
			}
		})
	}
}

func TestAvailability(t *testing.T) {
	dep := func(replicas *int32, generation, observed int64, available int32) *appsv1.Deployment {
		d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "bank", Generation: generation}}
		d.Spec.Replicas = replicas
		d.Status.ObservedGeneration, d.Status.AvailableReplicas = observed, available
		return d
	}
	cases := []struct {
		name string
		dep  *appsv1.Deployment
		want conditions.Outcome
	}{
		{"one of two ready", dep(ptr.To[int32](2), 3, 3, 1), conditions.True(idav1alpha1.ReasonRuntimeReady, "1/2 runtime pod(s) ready in Deployment bank")},
		{"default one replica, none ready", dep(nil, 1, 1, 0), conditions.False(idav1alpha1.ReasonRuntimeProgressing, "0/1 runtime pod(s) ready in Deployment bank; see its pods' events if this persists")},
		{"status of an older generation", dep(nil, 2, 1, 1), conditions.False(idav1alpha1.ReasonRuntimeProgressing, "1/1 runtime pod(s) ready in Deployment bank; see its pods' events if this persists")},
		{"scaled to zero", dep(ptr.To[int32](0), 1, 1, 0), conditions.False(idav1alpha1.ReasonRuntimeProgressing, "spec.runtime.replicas is 0: the provider is not serving")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := availability(tc.dep); got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestReadiness(t *testing.T) {
	status := func(steps ...conditions.Outcome) *idav1alpha1.IdentityProviderStatus {
		s := &idav1alpha1.IdentityProviderStatus{Issuer: "https://id.bank.example"}
		for i, typ := range []idav1alpha1.ConditionType{idav1alpha1.ConditionKeysReady, idav1alpha1.ConditionPairwiseSaltReady, idav1alpha1.ConditionConfigReady, idav1alpha1.ConditionRuntimeAvailable}[:len(steps)] {
			conditions.Set(&s.Conditions, 1, typ, steps[i])
		}
		return s
	}
	keys := conditions.True(idav1alpha1.ReasonKeysGenerated, "keys")
	salt := conditions.True(idav1alpha1.ReasonSaltGenerated, "salt")
	config := conditions.True(idav1alpha1.ReasonRendered, "config")
	runtime := conditions.True(idav1alpha1.ReasonRuntimeReady, "runtime")
	cases := []struct {
		name   string
		status *idav1alpha1.IdentityProviderStatus
		want   conditions.Outcome
	}{
		{"all steps True", status(keys, salt, config, runtime), conditions.True(idav1alpha1.ReasonReconciled, "the provider is serving https://id.bank.example")},
		{"config waits for a framework", status(keys, salt, conditions.False(idav1alpha1.ReasonTrustFrameworkNotReady, "fix jp-aml"), runtime),
			conditions.False(idav1alpha1.ReasonTrustFrameworkNotReady, "ConfigReady: fix jp-aml")},
		{"keys first", status(conditions.False(idav1alpha1.ReasonKeySetUnreadable, "restore"), salt, conditions.False(idav1alpha1.ReasonInvalidSpec, "x"), runtime),
			conditions.False(idav1alpha1.ReasonKeySetUnreadable, "KeysReady: restore")},
		{"a lost salt before the config", status(keys, conditions.False(idav1alpha1.ReasonSaltLost, "restore it"), config, runtime),
			conditions.False(idav1alpha1.ReasonSaltLost, "PairwiseSaltReady: restore it")},
		{"runtime not evaluated", status(keys, salt, config), conditions.False(idav1alpha1.ReasonPending, "RuntimeAvailable is not evaluated yet")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := readiness(tc.status); got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestKeyEventNamesEveryAction(t *testing.T) {
	for kind, want := range map[string]idav1alpha1.EventReason{
		signingkeys.ActionCreated:   idav1alpha1.EventKeyCreated,
		signingkeys.ActionActivated: idav1alpha1.EventKeyActivated,
		signingkeys.ActionRetired:   idav1alpha1.EventKeyRetired,
		signingkeys.ActionRemoved:   idav1alpha1.EventKeyRemoved,
	} {
		if got := keyEvent(kind); got != want || string(got) != "Key"+kind {
			t.Errorf("keyEvent(%s) = %s, want %s", kind, got, want)
		}
	}
}
