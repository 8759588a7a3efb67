// Package events records the operator's events, with reasons declared in
// api/v1alpha1 only.
package events

import (
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
	"github.com/idaop/ida-operator/controllers/conditions"
)

// Recorder records events about objects. The zero Recorder records
// nothing, for reconcilers run without a manager.
type Recorder struct {
	rec recorder.EventRecorder
}

// NewRecorder wraps rec.
func NewRecorder(rec recorder.EventRecorder) Recorder { return Recorder{rec: rec} }

// Normal records that something went as intended; action is the verb the
// controller carried out.
func (r Recorder) Normal(obj client.Object, reason idav1alpha1.Reason, action, note string, args ...any) {
	r.record(obj, corev1.EventTypeNormal, reason, action, note, args...)
}

// Warning records something a person should look at.
func (r Recorder) Warning(obj client.Object, reason idav1alpha1.Reason, action, note string, args ...any) {
	r.record(obj, corev1.EventTypeWarning, reason, action, note, args...)
}

// Outcome records a step's outcome as it reads in its condition: Normal
// when True, Warning otherwise.
func (r Recorder) Outcome(obj client.Object, action string, o conditions.Outcome) {
	if o.True {
		r.Normal(obj, o.Reason, action, "%s", o.Message)
		return
	}
	r.Warning(obj, o.Reason, action, "%s", o.Message)
}

func (r Recorder) record(obj client.Object, typ string, reason idav1alpha1.Reason, action, note string, args ...any) {
	if r.rec != nil {
		r.rec.Eventf(obj, nil, typ, reason.String(), action, note, args...)
	}
}
