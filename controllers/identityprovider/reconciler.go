package identityprovider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
	"github.com/idaop/ida-operator/controllers/conditions"
	"github.com/idaop/ida-operator/controllers/events"
	"github.com/idaop/ida-operator/controllers/statuswrite"
	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/hsm"
)

// +kubebuilder:rbac:groups=ida.idaop.dev,resources=identityproviders,verbs=get;list;watch
// +kubebuilder:rbac:groups=ida.idaop.dev,resources=identityproviders/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=ida.idaop.dev,resources=trustframeworks,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=secrets;configmaps;services;serviceaccounts,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=autoscaling,resources=horizontalpodautoscalers,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=policy,resources=poddisruptionbudgets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=roles;rolebindings,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=discovery.k8s.io,resources=endpointslices,verbs=get;list
// +kubebuilder:rbac:groups=networking.k8s.io,resources=ingresses,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=httproutes,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=cert-manager.io,resources=certificates,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconciler turns an IdentityProvider into its keys, configuration and
// runtime workload.
type Reconciler struct {
	Client client.Client
	// APIReader reads what the cache does not hold: the Kubernetes API's
	// own Service and endpoints, for the runtime's NetworkPolicy, and the
	// pairwise salt's Secret (one the platform team supplies, or a
	// restored one without labels). Nil means Client.
	APIReader client.Reader
	Events    events.Recorder
	// Now is the clock; tests inject a fake one.
	Now func() time.Time
	// RuntimeImage is the runtime's image unless a provider overrides it.
	RuntimeImage string
	// GatewayAPI reports that the cluster served HTTPRoutes when the
	// manager started (ServesKind); without it the reconciler neither
	// watches nor writes them.
	GatewayAPI bool
	// CertManager reports that the cluster served cert-manager's
	// Certificates when the manager started; without it the reconciler
	// neither watches nor writes them.
	CertManager bool
	// RuntimePKCS11Image is the runtime's image for a provider whose keys
	// are in a PKCS#11 token (a cgo build), unless the provider overrides
	// it; empty means RuntimeImage with the tag suffix -pkcs11.
	RuntimePKCS11Image string
	// OpenToken signs in to a PKCS#11 token; nil means hsm.Open.
	OpenToken func(hsm.Config) (hsm.KeyToken, error)

	poolOnce sync.Once
	pool     tokenPool
}

// tokens is the reconciler's pool of signed-in tokens.
func (r *Reconciler) tokens() *tokenPool {
	r.poolOnce.Do(func() {
		r.pool.opener = r.OpenToken
		if r.pool.opener == nil {
			r.pool.opener = func(cfg hsm.Config) (hsm.KeyToken, error) { return hsm.Open(cfg) }
		}
	})
	return &r.pool
}

// SetupWithManager registers the reconciler and what it watches.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Now == nil {
		r.Now = time.Now
	}
	b := ctrl.NewControllerManagedBy(mgr).
		Named("identityprovider").
		For(&idav1alpha1.IdentityProvider{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Owns(&corev1.Secret{}, builder.WithPredicates(predicate.NewPredicateFuncs(func(o client.Object) bool {
			return !isRegistration(o)
		}))).
		// Registrations only change the attached count: during a burst of
		// onboarding, recount every few seconds instead of once per client.
		Watches(&corev1.Secret{}, enqueueOwnerAfter(attachedCountDelay), builder.WithPredicates(predicate.NewPredicateFuncs(isRegistration))).
		// The salt Secret has no owner (it outlives the provider): found
		// by its labels, so that its deletion is reported at once.
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(providerOfSalt), builder.WithPredicates(predicate.NewPredicateFuncs(isSalt))).
		Owns(&corev1.ConfigMap{}).
		Owns(&corev1.ServiceAccount{}).
		Owns(&corev1.Service{}).
		Owns(&rbacv1.Role{}).
		Owns(&rbacv1.RoleBinding{}).
		Owns(&appsv1.Deployment{}).
		Owns(&policyv1.PodDisruptionBudget{}).
		Owns(&autoscalingv2.HorizontalPodAutoscaler{}).
		Owns(&networkingv1.Ingress{}).
		Owns(&networkingv1.NetworkPolicy{}).
		Watches(&idav1alpha1.TrustFramework{}, handler.EnqueueRequestsFromMapFunc(r.providersOfFramework))
	if r.GatewayAPI {
		// A route's status, written by the Gateway's controller, is what
		// Exposed reads.
		b = b.Owns(&gatewayv1.HTTPRoute{})
	}
	if r.CertManager {
		// cert-manager's Ready condition on the Certificate, and the Secret
		// it writes with the provider's labels, are what CertificateReady
		// reads.
		cert := &unstructured.Unstructured{}
		cert.SetGroupVersionKind(CertificateKind)
		b = b.Owns(cert).
			Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(providerOfSalt), builder.WithPredicates(predicate.NewPredicateFuncs(isTLSSecret)))
	}
	return b.Complete(r)
}

// HTTPRouteKind is the Gateway API kind spec.exposure.gateway writes.
var HTTPRouteKind = gatewayv1.SchemeGroupVersion.WithKind("HTTPRoute")

// ServesKind reports whether the API server serves gvk. A cluster without
// an optional API (Gateway API) is not an error: the reconciler then leaves
// that kind alone and says so in a condition.
func ServesKind(mapper meta.RESTMapper, gvk schema.GroupVersionKind) (bool, error) {
	_, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	switch {
	case err == nil:
		return true, nil
	case meta.IsNoMatchError(err):
		return false, nil
	default:
		return false, fmt.Errorf("discovering %s: %w", gvk, err)
	}
}

// Reconcile runs the steps in order; each reports into a condition, and a
// failed step does not stop the ones that do not depend on it.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	var idp idav1alpha1.IdentityProvider
	if err := r.Client.Get(ctx, req.NamespacedName, &idp); err != nil {
		if apierrors.IsNotFound(err) {
			forgetProvider(req.Namespace, req.Name)
		}
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if !idp.DeletionTimestamp.IsZero() {
		forgetProvider(idp.Namespace, idp.Name)
		return reconcile.Result{}, nil // owned objects go with it
	}
	now := r.Now()
	status := idp.Status.DeepCopy()
	status.ObservedGeneration = idp.Generation
	status.Issuer = idp.Spec.Issuer
	var errs []error

	keys, err := r.reconcileKeys(ctx, &idp, now)
	if apierrors.IsConflict(err) {
		// The key Secret changed under us: plan again from the newer one.
		return reconcile.Result{RequeueAfter: statuswrite.ConflictRetry}, nil
	}
	conditions.Set(&status.Conditions, idp.Generation, idav1alpha1.ConditionKeysReady, keys.condition)
	if err != nil {
		errs = append(errs, err)
	}
	if keys.condition.True {
		status.Keys = keys.summary
	}

	salt, err := r.reconcileSalt(ctx, &idp)
	conditions.Set(&status.Conditions, idp.Generation, idav1alpha1.ConditionPairwiseSaltReady, salt.condition)
	status.PairwiseSaltFingerprint = salt.fingerprint
	if err != nil {
		errs = append(errs, err)
	}

	cfg, err := r.reconcileConfig(ctx, &idp, salt.fingerprint)
	conditions.Set(&status.Conditions, idp.Generation, idav1alpha1.ConditionConfigReady, cfg.condition)
	status.TrustFrameworks = cfg.identifiers
	if err != nil {
		errs = append(errs, err)
	}

	runtimeCond := conditions.False(idav1alpha1.ReasonRuntimeProgressing, "waiting for the provider configuration")
	if cfg.hash != "" {
		runtimeCond, err = r.reconcileWorkload(ctx, &idp, cfg.hash)
		if err != nil {
			errs = append(errs, err)
		}
	}
	conditions.Set(&status.Conditions, idp.Generation, idav1alpha1.ConditionRuntimeAvailable, runtimeCond)

	if err := r.reconcileNetworkPolicy(ctx, &idp); err != nil {
		errs = append(errs, err)
	}

	exposed, wanted, err := r.reconcileExposure(ctx, &idp)
	if err != nil {
		errs = append(errs, err)
		exposed = exposureFailed(&idp, err)
	}
	if wanted {
		conditions.Set(&status.Conditions, idp.Generation, idav1alpha1.ConditionExposed, exposed)
	} else {
		conditions.Remove(&status.Conditions, idav1alpha1.ConditionExposed)
	}

	tlsState, err := r.reconcileTLS(ctx, &idp)
	if err != nil {
		errs = append(errs, err)
		tlsState.condition = conditions.False(idav1alpha1.ReasonPending, err.Error())
	}
	if tlsState.wanted {
		conditions.Set(&status.Conditions, idp.Generation, idav1alpha1.ConditionCertificateReady, tlsState.condition)
	} else {
		conditions.Remove(&status.Conditions, idav1alpha1.ConditionCertificateReady)
	}

	attached, err := r.countAttached(ctx, &idp)
	if err != nil {
		errs = append(errs, err)
	}
	status.AttachedRelyingParties = attached

	conditions.Set(&status.Conditions, idp.Generation, idav1alpha1.ConditionReady, readiness(status))
	conflict, err := statuswrite.Update(ctx, r.Client, &idp, &idp.Status, status)
	if err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return reconcile.Result{}, err
	}
	if conflict {
		return reconcile.Result{RequeueAfter: statuswrite.ConflictRetry}, nil
	}
	next := untilNext(keys.nextEvent, now)
	for _, poll := range []time.Duration{salt.poll, tlsState.recheck} {
		if poll > 0 && (next == 0 || next > poll) {
			next = poll
		}
	}
	return reconcile.Result{RequeueAfter: next}, nil
}

func isTLSSecret(o client.Object) bool {
	return o.GetLabels()[config.LabelComponent] == componentTLS
}

func isSalt(o client.Object) bool {
	return o.GetLabels()[config.LabelComponent] == config.ComponentPairwiseSalt
}

func providerOfSalt(_ context.Context, o client.Object) []reconcile.Request {
	if name := o.GetLabels()[config.LabelProvider]; name != "" {
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: name}}}
	}
	return nil
}

// attachedCountDelay batches recounts of attached relying parties.
const attachedCountDelay = 3 * time.Second

func isRegistration(o client.Object) bool {
	return o.GetLabels()[config.LabelComponent] == config.ComponentClientRegistration
}

// enqueueOwnerAfter enqueues a registration's provider after delay; the
// queue keeps one pending entry per provider, so a burst costs one
// reconcile.
func enqueueOwnerAfter(delay time.Duration) handler.TypedEventHandler[client.Object, reconcile.Request] {
	add := func(o client.Object, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		if name := o.GetLabels()[config.LabelProvider]; name != "" {
			q.AddAfter(reconcile.Request{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: name}}, delay)
		}
	}
	return handler.TypedFuncs[client.Object, reconcile.Request]{
		CreateFunc: func(_ context.Context, e event.TypedCreateEvent[client.Object], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(e.Object, q)
		},
		DeleteFunc: func(_ context.Context, e event.TypedDeleteEvent[client.Object], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(e.Object, q)
		},
	}
}

func untilNext(next, now time.Time) time.Duration {
	if next.IsZero() {
		return 0
	}
	if d := next.Sub(now); d > time.Second {
		return d
	}
	return time.Second
}

// configResult is the outcome of rendering the provider ConfigMap.
type configResult struct {
	condition   conditions.Outcome
	identifiers []string
	hash        string // of the rendered provider config; empty when none is in place
}

// reconcileConfig renders the provider config from the provider and its
// trust frameworks. While a framework is missing or not Ready, the last good
// ConfigMap keeps serving and the condition says which framework to fix.
func (r *Reconciler) reconcileConfig(ctx context.Context, idp *idav1alpha1.IdentityProvider, saltFingerprint string) (configResult, error) {
	var res configResult
	var all idav1alpha1.TrustFrameworkList
	if err := r.Client.List(ctx, &all); err != nil {
		return res, fmt.Errorf("listing TrustFrameworks: %w", err)
	}
	tfs, problem, resolved := resolveTrustFrameworks(idp.Spec.TrustFrameworks, all.Items)
	for i := range tfs {
		res.identifiers = append(res.identifiers, tfs[i].Spec.Identifier)
	}
	slices.Sort(res.identifiers)
	var existing corev1.ConfigMap
	err := r.Client.Get(ctx, types.NamespacedName{Namespace: idp.Namespace, Name: ConfigMapName(idp)}, &existing)
	if err != nil && !apierrors.IsNotFound(err) {
		return res, fmt.Errorf("reading ConfigMap %s: %w", ConfigMapName(idp), err)
	}
	if err == nil {
		res.hash = hashOf(existing.Data[config.ProviderConfigKey])
	}
	if !resolved {
		res.condition = problem
		return res, nil
	}
	provider, err := RenderProvider(idp, tfs)
	if err != nil {
		res.condition = conditions.False(idav1alpha1.ReasonInvalidSpec, err.Error())
		return res, nil
	}
	// The runtime refuses any other salt (config.Provider.CheckSalt).
	provider.Subjects.SaltFingerprint = saltFingerprint
	providerJSON, err := json.Marshal(provider)
	if err != nil {
		return res, fmt.Errorf("encoding the provider configuration: %w", err)
	}
	discovery, err := config.RenderDiscovery(provider)
	if err != nil {
		res.condition = conditions.False(idav1alpha1.ReasonInvalidSpec, "rendering discovery: "+err.Error())
		return res, nil
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: idp.Namespace, Name: ConfigMapName(idp)}}
	op, err := controllerutil.CreateOrUpdate(ctx, r.Client, cm, func() error {
		mergeLabels(&cm.ObjectMeta, Labels(idp, config.ComponentProviderConfig))
		cm.Data = map[string]string{
			config.ProviderConfigKey: string(providerJSON),
			config.DiscoveryKey:      string(discovery),
		}
		cm.BinaryData = nil
		return controllerutil.SetControllerReference(idp, cm, r.Client.Scheme())
	})
	if err != nil {
		return res, fmt.Errorf("writing ConfigMap %s: %w", cm.Name, err)
	}
	if op != controllerutil.OperationResultNone {
		r.Events.Normal(idp, idav1alpha1.ReasonRendered, "RenderConfig", "ConfigMap %s %s: %d trust framework(s)", cm.Name, op, len(tfs))
	}
	res.hash = hashOf(string(providerJSON))
	res.condition = conditions.True(idav1alpha1.ReasonRendered,
		fmt.Sprintf("ConfigMap %s holds the configuration and discovery for %s", cm.Name, strings.Join(res.identifiers, ", ")))
	return res, nil
}

func (r *Reconciler) countAttached(ctx context.Context, idp *idav1alpha1.IdentityProvider) (int32, error) {
	var regs corev1.SecretList
	if err := r.Client.List(ctx, &regs, client.InNamespace(idp.Namespace), client.MatchingLabels{
		config.LabelProvider: idp.Name, config.LabelComponent: config.ComponentClientRegistration,
	}); err != nil {
		return 0, fmt.Errorf("listing client registrations: %w", err)
	}
	return int32(len(regs.Items)), nil
}

func (r *Reconciler) providersOfFramework(ctx context.Context, obj client.Object) []reconcile.Request {
	tf, ok := obj.(*idav1alpha1.TrustFramework)
	if !ok {
		return nil
	}
	var idps idav1alpha1.IdentityProviderList
	if err := r.Client.List(ctx, &idps); err != nil {
		log.FromContext(ctx).Error(err, "listing IdentityProviders for a trust framework change")
		return nil
	}
	var reqs []reconcile.Request
	for i := range idps.Items {
		if ok, _ := idps.Items[i].Spec.TrustFrameworks.Selects(tf); ok || slices.Contains(idps.Items[i].Status.TrustFrameworks, tf.Spec.Identifier) {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&idps.Items[i])})
		}
	}
	return reqs
}

// mergeLabels sets our labels and keeps others', so that tools that label
// objects (GitOps, policy engines) are not fought.
func mergeLabels(om *metav1.ObjectMeta, labels map[string]string) {
	if om.Labels == nil {
		om.Labels = map[string]string{}
	}
	maps.Copy(om.Labels, labels)
}

func hashOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}
