package identityprovider

// The decisions of the IdentityProvider reconciler: pure functions of what
// it read, so that each is table-tested without an API server.

import (
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
	"github.com/idaop/ida-operator/controllers/conditions"
	"github.com/idaop/ida-operator/controllers/signingkeys"
)

// resolveTrustFrameworks picks from all the frameworks the selection
// names or matches. ok is false, with the problem for ConfigReady, when a
// named one is missing, a selected one is not Ready for its generation, or
// none is selected.
func resolveTrustFrameworks(sel idav1alpha1.TrustFrameworkSelection, all []idav1alpha1.TrustFramework) (selected []idav1alpha1.TrustFramework, problem conditions.Outcome, ok bool) {
	var names []string
	for i := range all {
		picked, err := sel.Selects(&all[i])
		if err != nil {
			return nil, conditions.False(idav1alpha1.ReasonInvalidSpec, "spec.trustFrameworks.selector is invalid: "+err.Error()), false
		}
		if picked {
			selected = append(selected, all[i])
			names = append(names, all[i].Name)
		}
	}
	var missing, notReady []string
	for _, n := range sel.Names {
		if !slices.Contains(names, n) {
			missing = append(missing, n)
		}
	}
	for i := range selected {
		c := conditions.Find(selected[i].Status.Conditions, idav1alpha1.ConditionReady)
		if c == nil || c.Status != metav1.ConditionTrue || c.ObservedGeneration != selected[i].Generation {
			notReady = append(notReady, selected[i].Name)
		}
	}
	switch {
	case len(missing) > 0:
		return selected, conditions.False(idav1alpha1.ReasonTrustFrameworkNotFound,
			"TrustFramework(s) "+strings.Join(missing, ", ")+" not found: create them (e.g. from config/trustframeworks) or fix spec.trustFrameworks.names; the last rendered configuration keeps serving"), false
	case len(notReady) > 0:
		return selected, conditions.False(idav1alpha1.ReasonTrustFrameworkNotReady,
			"TrustFramework(s) "+strings.Join(notReady, ", ")+" not Ready: see their Ready condition; the last rendered configuration keeps serving"), false
	case len(selected) == 0:
		return nil, conditions.False(idav1alpha1.ReasonTrustFrameworkNotFound, "spec.trustFrameworks selects no TrustFramework"), false
	}
	return selected, conditions.Outcome{}, true
}

// availability reads the Deployment's status: pods count as available only
// once the runtime's readiness probe passes.
func availability(dep *appsv1.Deployment) conditions.Outcome {
	want := idav1alpha1.DefaultReplicas
	if dep.Spec.Replicas != nil {
		want = *dep.Spec.Replicas
	}
	if want == 0 {
		return conditions.False(idav1alpha1.ReasonRuntimeProgressing, "spec.runtime.replicas is 0: the provider is not serving")
	}
	avail := dep.Status.AvailableReplicas
	if dep.Status.ObservedGeneration >= dep.Generation && avail >= 1 {
		return conditions.True(idav1alpha1.ReasonRuntimeReady,
			fmt.Sprintf("%d/%d runtime pod(s) ready in Deployment %s", avail, want, dep.Name))
	}
	return conditions.False(idav1alpha1.ReasonRuntimeProgressing,
		fmt.Sprintf("%d/%d runtime pod(s) ready in Deployment %s; see its pods' events if this persists", avail, want, dep.Name))
}

// readiness is Ready from the step conditions: the first that is not True
// says what to do.
func readiness(status *idav1alpha1.IdentityProviderStatus) conditions.Outcome {
	if o, ok := conditions.FirstNotTrue(status.Conditions,
		idav1alpha1.ConditionKeysReady, idav1alpha1.ConditionPairwiseSaltReady, idav1alpha1.ConditionConfigReady, idav1alpha1.ConditionRuntimeAvailable); !ok {
		return o
	}
	return conditions.True(idav1alpha1.ReasonReconciled, "the provider is serving "+status.Issuer)
}

// keyEvent is the event reason of a rotation plan's action.
func keyEvent(kind string) idav1alpha1.EventReason {
	switch kind {
	case signingkeys.ActionActivated:
		return idav1alpha1.EventKeyActivated
	case signingkeys.ActionRetired:
		return idav1alpha1.EventKeyRetired
	case signingkeys.ActionRemoved:
		return idav1alpha1.EventKeyRemoved
	default:
		return idav1alpha1.EventKeyCreated
	}
}
