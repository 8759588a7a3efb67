package events

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	fakeevents "k8s.io/client-go/tools/events"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
	"github.com/idaop/ida-operator/controllers/conditions"
)

func TestOutcomeIsNormalOnlyWhenTrue(t *testing.T) {
	fake := fakeevents.NewFakeRecorder(4)
	r := NewRecorder(fake)
	obj := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "app"}}
	r.Outcome(obj, "Attach", conditions.False(idav1alpha1.ReasonNotAllowedByProvider, "ask 100% nicely"))
	r.Outcome(obj, "Attach", conditions.True(idav1alpha1.ReasonAccepted, "accepted"))
	r.Normal(obj, idav1alpha1.EventKeyCreated, "RotateKeys", "ES256 key %s", "k1")
	for _, want := range []string{
		"Warning NotAllowedByProvider ask 100% nicely",
		"Normal Accepted accepted",
		"Normal KeyCreated ES256 key k1",
	} {
		if got := <-fake.Events; got != want {
			t.Errorf("event %q, want %q", got, want)
		}
	}
}

func TestZeroRecorderRecordsNothing(t *testing.T) {
	Recorder{}.Warning(&corev1.Secret{}, idav1alpha1.ReasonSecretConflict, "Credentials", "no recorder, no panic")
}
