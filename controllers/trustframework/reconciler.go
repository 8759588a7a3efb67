package trustframework

import (
	"context"
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
	"github.com/idaop/ida-operator/controllers/conditions"
	"github.com/idaop/ida-operator/controllers/events"
	"github.com/idaop/ida-operator/controllers/statuswrite"
)

// +kubebuilder:rbac:groups=ida.idaop.dev,resources=trustframeworks,verbs=get;list;watch
// +kubebuilder:rbac:groups=ida.idaop.dev,resources=trustframeworks/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=ida.idaop.dev,resources=identityproviders,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconciler validates TrustFrameworks and records the providers that
// reference them.
type Reconciler struct {
	Client client.Client
	Events events.Recorder
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

	ready := readiness(&tf, problems, providers)
	status := desiredStatus(&tf, ready, providers)
	if equality.Semantic.DeepEqual(&tf.Status, status) {
		return reconcile.Result{}, nil
	}
	wasReady := conditions.IsTrue(tf.Status.Conditions, idav1alpha1.ConditionReady)
	conflict, err := statuswrite.Update(ctx, r.Client, &tf, &tf.Status, status)
	if err != nil {
		return reconcile.Result{}, err
	}
	if conflict {
		return reconcile.Result{RequeueAfter: statuswrite.ConflictRetry}, nil
	}
	if !ready.True || !wasReady {
		// Warn on every change while invalid; tell once when it becomes Ready.
		r.Events.Outcome(&tf, "Validate", ready)
	}
	log.FromContext(ctx).V(1).Info("status updated", "ready", len(problems) == 0, "providers", len(providers))
	return reconcile.Result{}, nil
}

// desiredStatus is the status a framework should have; it keeps condition
// transition times when nothing changed.
func desiredStatus(tf *idav1alpha1.TrustFramework, ready conditions.Outcome, providers []string) *idav1alpha1.TrustFrameworkStatus {
	status := tf.Status.DeepCopy()
	status.ObservedGeneration = tf.Generation
	status.Providers = providers
	status.ProviderCount = int32(len(providers))
	conditions.Set(&status.Conditions, tf.Generation, idav1alpha1.ConditionReady, ready)
	return status
}

// readiness is the framework's Ready: valid, or the problems to fix.
func readiness(tf *idav1alpha1.TrustFramework, problems field.ErrorList, providers []string) conditions.Outcome {
	if len(problems) == 0 {
		return conditions.True(idav1alpha1.ReasonReconciled,
			fmt.Sprintf("trust framework %s is valid; %d provider(s) reference it", tf.Spec.Identifier, len(providers)))
	}
	return conditions.False(idav1alpha1.ReasonInvalidSpec,
		"fix the spec; providers will not offer this framework until then: "+conditions.Describe(problems))
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
