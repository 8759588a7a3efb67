package trustframework

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
	"github.com/idaop/ida-operator/controllers/statuswrite"
)

// +kubebuilder:rbac:groups=ida.idaop.dev,resources=trustframeworks,verbs=get;list;watch
// +kubebuilder:rbac:groups=ida.idaop.dev,resources=trustframeworks/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=ida.idaop.dev,resources=identityproviders,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconciler validates TrustFrameworks and records the providers that
// reference them.
type Reconciler struct {
	Client   client.Client
	Recorder recorder.EventRecorder
}

// SetupWithManager registers the reconciler; a provider change re-evaluates
// the frameworks it selects now and those that still list it.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("trustframework").
		For(&idav1alpha1.TrustFramework{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.LabelChangedPredicate{}))).
		Watches(&idav1alpha1.IdentityProvider{}, handler.EnqueueRequestsFromMapFunc(r.frameworksOfProvider),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Complete(r)
}

// Reconcile brings one TrustFramework's status up to date. It writes only
// when the status changes, so steady state makes no API calls but reads.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	var tf idav1alpha1.TrustFramework
	if err := r.Client.Get(ctx, req.NamespacedName, &tf); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	providers, err := r.referencingProviders(ctx, &tf)
	if err != nil {
		return reconcile.Result{}, err
	}
	problems := Validate(&tf.Spec)

	status := desiredStatus(&tf, problems, providers)
	if equality.Semantic.DeepEqual(&tf.Status, status) {
		return reconcile.Result{}, nil
	}
	wasReady := meta.IsStatusConditionTrue(tf.Status.Conditions, idav1alpha1.ConditionReady)
	tf.Status = *status
	conflict, err := statuswrite.IfChanged(ctx, r.Client, &tf, true)
	if err != nil {
		return reconcile.Result{}, err
	}
	if conflict {
		return reconcile.Result{RequeueAfter: statuswrite.ConflictRetry}, nil
	}
	r.recordTransition(&tf, wasReady)
	log.FromContext(ctx).V(1).Info("status updated", "ready", len(problems) == 0, "providers", len(providers))
	return reconcile.Result{}, nil
}

// desiredStatus is the status a framework should have; it keeps condition
// transition times when nothing changed.
func desiredStatus(tf *idav1alpha1.TrustFramework, problems []Problem, providers []string) *idav1alpha1.TrustFrameworkStatus {
	status := tf.Status.DeepCopy()
	status.ObservedGeneration = tf.Generation
	status.Providers = providers
	status.ProviderCount = int32(len(providers))
	ready := metav1.Condition{
		Type:               idav1alpha1.ConditionReady,
		Status:             metav1.ConditionTrue,
		Reason:             idav1alpha1.ReasonReconciled,
		Message:            fmt.Sprintf("trust framework %s is valid; %d provider(s) reference it", tf.Spec.Identifier, len(providers)),
		ObservedGeneration: tf.Generation,
	}
	if len(problems) > 0 {
		msgs := make([]string, len(problems))
		for i, p := range problems {
			msgs[i] = p.String()
		}
		ready.Status = metav1.ConditionFalse
		ready.Reason = idav1alpha1.ReasonInvalidSpec
		ready.Message = "fix the spec; providers will not offer this framework until then: " + strings.Join(msgs, "; ")
	}
	meta.SetStatusCondition(&status.Conditions, ready)
	return status
}

func (r *Reconciler) recordTransition(tf *idav1alpha1.TrustFramework, wasReady bool) {
	if r.Recorder == nil {
		return
	}
	cond := meta.FindStatusCondition(tf.Status.Conditions, idav1alpha1.ConditionReady)
	switch {
	case cond.Status == metav1.ConditionTrue && !wasReady:
		r.Recorder.Eventf(tf, nil, corev1.EventTypeNormal, cond.Reason, "Validate", "%s", cond.Message)
	case cond.Status != metav1.ConditionTrue:
		r.Recorder.Eventf(tf, nil, corev1.EventTypeWarning, cond.Reason, "Validate", "%s", cond.Message)
	}
}

// referencingProviders lists, sorted as `namespace/name`, the providers
// whose trustFrameworks selection picks tf. A provider with an invalid
// selector references nothing; its own controller reports that.
func (r *Reconciler) referencingProviders(ctx context.Context, tf *idav1alpha1.TrustFramework) ([]string, error) {
	var idps idav1alpha1.IdentityProviderList
	if err := r.Client.List(ctx, &idps); err != nil {
		return nil, fmt.Errorf("listing IdentityProviders: %w", err)
	}
	var refs []string
	for i := range idps.Items {
		idp := &idps.Items[i]
		if ok, _ := idp.Spec.TrustFrameworks.Selects(tf); ok && idp.DeletionTimestamp.IsZero() {
			refs = append(refs, idp.Namespace+"/"+idp.Name)
		}
	}
	slices.Sort(refs)
	return refs, nil
}

func (r *Reconciler) frameworksOfProvider(ctx context.Context, obj client.Object) []reconcile.Request {
	idp, ok := obj.(*idav1alpha1.IdentityProvider)
	if !ok {
		return nil
	}
	var tfs idav1alpha1.TrustFrameworkList
	if err := r.Client.List(ctx, &tfs); err != nil {
		log.FromContext(ctx).Error(err, "listing TrustFrameworks for a provider change")
		return nil
	}
	key := idp.Namespace + "/" + idp.Name
	var reqs []reconcile.Request
	for i := range tfs.Items {
		tf := &tfs.Items[i]
		selected, _ := idp.Spec.TrustFrameworks.Selects(tf)
		if selected || slices.Contains(tf.Status.Providers, key) {
			reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Name: tf.Name}})
		}
	}
	return reqs
}
