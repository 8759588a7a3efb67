// Package conditions turns what a reconcile step found into the conditions
// of an object's status, the same way for every kind.
package conditions

import (
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
)

// Outcome is what one step found, ready to become a condition.
type Outcome struct {
	// True is the condition's status.
	True    bool
	Reason  idav1alpha1.ConditionReason
	Message string
}

// True is a step that succeeded.
func True(reason idav1alpha1.ConditionReason, message string) Outcome {
	return Outcome{True: true, Reason: reason, Message: message}
}

// False is a step that did not; the message says what to do.
func False(reason idav1alpha1.ConditionReason, message string) Outcome {
	return Outcome{Reason: reason, Message: message}
}

// Set records o as the condition typ of an object at generation. The
// transition time moves only when the status does.
func Set(conds *[]metav1.Condition, generation int64, typ idav1alpha1.ConditionType, o Outcome) {
	status := metav1.ConditionFalse
	if o.True {
		status = metav1.ConditionTrue
	}
	meta.SetStatusCondition(conds, metav1.Condition{
		Type:               string(typ),
		Status:             status,
		Reason:             string(o.Reason),
		Message:            o.Message,
		ObservedGeneration: generation,
	})
}

// Remove drops the condition typ, for a step that no longer applies.
func Remove(conds *[]metav1.Condition, typ idav1alpha1.ConditionType) {
	meta.RemoveStatusCondition(conds, string(typ))
}

// Find returns the condition typ, or nil.
func Find(conds []metav1.Condition, typ idav1alpha1.ConditionType) *metav1.Condition {
	return meta.FindStatusCondition(conds, string(typ))
}

// IsTrue reports whether the condition typ is present and True.
func IsTrue(conds []metav1.Condition, typ idav1alpha1.ConditionType) bool {
	return meta.IsStatusConditionTrue(conds, string(typ))
}

// FirstNotTrue is the Ready of an object whose steps are the conditions
// steps, in order: the first that is not True gives its reason and a
// message naming it; ok reports that all are True.
func FirstNotTrue(conds []metav1.Condition, steps ...idav1alpha1.ConditionType) (o Outcome, ok bool) {
	for _, typ := range steps {
		c := Find(conds, typ)
		switch {
		case c == nil:
			return False(idav1alpha1.ReasonPending, string(typ)+" is not evaluated yet"), false
		case c.Status != metav1.ConditionTrue:
			return False(idav1alpha1.ConditionReason(c.Reason), string(typ)+": "+c.Message), false
		}
	}
	return Outcome{}, true
}

// Describe reads errs as a person reads the spec, for a condition's
// message: each field and what is wrong with it ("spec.x[1]: detail; ...").
// The details quote the values they are about.
func Describe(errs field.ErrorList) string {
	parts := make([]string, len(errs))
	for i, e := range errs {
		parts[i] = e.Field + ": " + e.Detail
	}
	return strings.Join(parts, "; ")
}
