// Package controllers wires the reconcilers of ida-operator into a manager.
package controllers

import (
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/idaop/ida-operator/controllers/trustframework"
)

// Setup registers every reconciler with the manager.
func Setup(mgr ctrl.Manager) error {
	tf := &trustframework.Reconciler{
		Client:   mgr.GetClient(),
		Recorder: mgr.GetEventRecorder("trustframework-controller"),
	}
	if err := tf.SetupWithManager(mgr); err != nil {
		return err
	}
	return nil
}
