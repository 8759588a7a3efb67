package conditions

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
)

func TestSetKeepsTransitionTimeWhileStatusHolds(t *testing.T) {
	var conds []metav1.Condition
	Set(&conds, 1, idav1alpha1.ConditionKeysReady, True(idav1alpha1.ReasonKeysGenerated, "one"))
	first := conds[0].LastTransitionTime
	conds[0].LastTransitionTime = metav1.NewTime(first.Add(-60e9))
	Set(&conds, 2, idav1alpha1.ConditionKeysReady, True(idav1alpha1.ReasonKeysGenerated, "two"))
	c := Find(conds, idav1alpha1.ConditionKeysReady)
	if c.Message != "two" || c.ObservedGeneration != 2 || !c.LastTransitionTime.Before(&first) {
		t.Fatalf("condition after a second True: %+v", c)
	}
	Set(&conds, 3, idav1alpha1.ConditionKeysReady, False(idav1alpha1.ReasonKeysNotWritten, "three"))
	if c := Find(conds, idav1alpha1.ConditionKeysReady); c.Status != metav1.ConditionFalse || c.Reason != "KeysNotWritten" || c.LastTransitionTime.Before(&first) {
		t.Fatalf("condition after False: %+v", c)
	}
}

func TestFirstNotTrue(t *testing.T) {
	cond := func(typ idav1alpha1.ConditionType, status metav1.ConditionStatus, reason string) metav1.Condition {
		return metav1.Condition{Type: string(typ), Status: status, Reason: reason, Message: "msg of " + string(typ)}
	}
	a, b := idav1alpha1.ConditionAccepted, idav1alpha1.ConditionRegistered
	cases := []struct {
		name   string
		conds  []metav1.Condition
		ok     bool
		reason idav1alpha1.ConditionReason
		msg    string
	}{
		{"all True", []metav1.Condition{cond(a, metav1.ConditionTrue, "A"), cond(b, metav1.ConditionTrue, "B")}, true, "", ""},
		{"first False wins", []metav1.Condition{cond(b, metav1.ConditionFalse, "B"), cond(a, metav1.ConditionFalse, "A")}, false, "A", "Accepted: msg of Accepted"},
		{"Unknown is not True", []metav1.Condition{cond(a, metav1.ConditionTrue, "A"), cond(b, metav1.ConditionUnknown, "B")}, false, "B", "Registered: msg of Registered"},
		{"missing is pending", []metav1.Condition{cond(a, metav1.ConditionTrue, "A")}, false, idav1alpha1.ReasonPending, "Registered is not evaluated yet"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o, ok := FirstNotTrue(tc.conds, a, b)
			if ok != tc.ok || o.True || o.Reason != tc.reason || o.Message != tc.msg {
				t.Fatalf("got %+v, %v; want %v %s %q", o, ok, tc.ok, tc.reason, tc.msg)
			}
		})
	}
}
