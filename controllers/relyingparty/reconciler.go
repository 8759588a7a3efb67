package relyingparty

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
	"github.com/idaop/ida-operator/controllers/conditions"
	"github.com/idaop/ida-operator/controllers/events"
	"github.com/idaop/ida-operator/controllers/identityprovider"
	"github.com/idaop/ida-operator/controllers/statuswrite"
	"github.com/idaop/ida-operator/runtime/config"
)

// +kubebuilder:rbac:groups=ida.idaop.dev,resources=relyingparties,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=ida.idaop.dev,resources=relyingparties/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=ida.idaop.dev,resources=relyingparties/finalizers,verbs=update
// +kubebuilder:rbac:groups=ida.idaop.dev,resources=identityproviders,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=configmaps,verbs=get;list;watch

const (
	providerIndex = "spec.providerRef"
	// registrationIndex finds a RelyingParty's registrations among all
	// Secrets without scanning them.
	registrationIndex = "metadata.labels." + idav1alpha1.LabelRelyingPartyUID
	// existingSecretPoll is how often a Secret the RelyingParty names, and
	// the operator does not watch, is read again.
	existingSecretPoll = 10 * time.Second
)

// Reconciler attaches RelyingParties to providers and keeps their
// registrations and credentials in place.
type Reconciler struct {
	Client client.Client
	// configs caches each provider's parsed configuration by ConfigMap
	// resourceVersion: thousands of RPs share one provider.
	configs sync.Map // namespace/name -> parsedConfig
	// APIReader reads Secrets the operator does not own (and so does not
	// cache): those an RP names with credentials.source Existing.
	APIReader client.Reader
	Events    events.Recorder
	// SectorRoots verify the servers of sectorIdentifierURIs; nil means
	// the system roots. Tests trust their server's CA here.
	SectorRoots *x509.CertPool

	// sectors keeps each RP's last sectorIdentifierURI fetch, by UID, so
	// reconciles for other reasons do not fetch again.
	sectors  sync.Map // types.UID -> sectorCheck
	httpOnce sync.Once
	http     *http.Client
}

// SetupWithManager registers the reconciler and what re-evaluates an RP:
// its provider's spec and rendered configuration, its namespace's labels,
// and the Secrets it owns or is registered with.
func (r *Reconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	if err := mgr.GetFieldIndexer().IndexField(ctx, &idav1alpha1.RelyingParty{}, providerIndex, func(o client.Object) []string {
		rp := o.(*idav1alpha1.RelyingParty)
		return []string{rp.ProviderNamespace() + "/" + rp.Spec.ProviderRef.Name}
	}); err != nil {
		return err
	}
	if err := mgr.GetFieldIndexer().IndexField(ctx, &corev1.Secret{}, registrationIndex, func(o client.Object) []string {
		if uid := o.GetLabels()[idav1alpha1.LabelRelyingPartyUID]; uid != "" {
			return []string{uid}
		}
		return nil
	}); err != nil {
		return err
	}
	// What this controller creates itself needs no second look; edits and
	// deletions by others do (drift).
	notCreates := predicate.Funcs{CreateFunc: func(event.CreateEvent) bool { return false }}
	return ctrl.NewControllerManagedBy(mgr).
		Named("relyingparty").
		For(&idav1alpha1.RelyingParty{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Owns(&corev1.Secret{}, builder.WithPredicates(notCreates)).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(registrationOwner), builder.WithPredicates(notCreates)).
		Watches(&idav1alpha1.IdentityProvider{}, handler.EnqueueRequestsFromMapFunc(r.relyingPartiesOfProvider),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&corev1.ConfigMap{}, handler.EnqueueRequestsFromMapFunc(r.relyingPartiesOfConfig)).
		Watches(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(r.relyingPartiesInNamespace),
			builder.WithPredicates(predicate.LabelChangedPredicate{})).
		Complete(r)
}

// ClientID is the stable client_id of a RelyingParty. Namespaces cannot
// contain dots, so it splits back unambiguously.
func ClientID(rp *idav1alpha1.RelyingParty) string { return rp.Namespace + "." + rp.Name }

// RegistrationName is the registration Secret's name in the provider's
// namespace: derived, so that it is found again without state.
func RegistrationName(rp *idav1alpha1.RelyingParty) string {
	sum := sha256.Sum256([]byte(rp.Namespace + "/" + rp.Name))
	return rp.Spec.ProviderRef.Name + "-client-" + hex.EncodeToString(sum[:6])
}

// Reconcile brings one RelyingParty to its declared state.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	var rp idav1alpha1.RelyingParty
	if err := r.Client.Get(ctx, req.NamespacedName, &rp); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if !rp.DeletionTimestamp.IsZero() {
		return reconcile.Result{}, r.finalize(ctx, &rp)
	}
	if controllerutil.AddFinalizer(&rp, idav1alpha1.FinalizerClientRegistration) {
		if err := r.Client.Update(ctx, &rp); err != nil {
			return reconcile.Result{}, fmt.Errorf("adding finalizer: %w", err)
		}
	}

	status := rp.Status.DeepCopy()
	status.ObservedGeneration = rp.Generation
	status.ClientID = ClientID(&rp)
	res, err := r.attach(ctx, &rp, status)
	conditions.Set(&status.Conditions, rp.Generation, idav1alpha1.ConditionReady, readiness(status))
	conflict, werr := statuswrite.Update(ctx, r.Client, &rp, &rp.Status, status)
	if werr != nil {
		err = errors.Join(err, werr)
	}
	if conflict && err == nil && (res.RequeueAfter == 0 || res.RequeueAfter > statuswrite.ConflictRetry) {
		res.RequeueAfter = statuswrite.ConflictRetry
	}
	return res, err
}

// attach runs admission, credentials and registration, recording each in a
// condition. A refused RP keeps no registration.
func (r *Reconciler) attach(ctx context.Context, rp *idav1alpha1.RelyingParty, status *idav1alpha1.RelyingPartyStatus) (reconcile.Result, error) {
	in, err := r.gatherAttachment(ctx, rp)
	if err != nil {
		return reconcile.Result{}, err
	}
	decision := accept(rp, in)
	wasAccepted := conditions.IsTrue(status.Conditions, idav1alpha1.ConditionAccepted)
	conditions.Set(&status.Conditions, rp.Generation, idav1alpha1.ConditionAccepted, decision)
	if !decision.True {
		if wasAccepted || conditions.Find(status.Conditions, idav1alpha1.ConditionRegistered) == nil {
			refusedTotal.WithLabelValues(string(decision.Reason)).Inc()
			r.Events.Outcome(rp, "Attach", decision)
		}
		status.Issuer = ""
		conditions.Set(&status.Conditions, rp.Generation, idav1alpha1.ConditionSectorReady,
			conditions.False(decision.Reason, "not evaluated: the relying party is not accepted"))
		conditions.Set(&status.Conditions, rp.Generation, idav1alpha1.ConditionRegistered,
			conditions.False(decision.Reason, "not registered: the relying party is not accepted"))
		return reconcile.Result{}, r.removeRegistrations(ctx, rp, "")
	}
	status.Issuer = in.config.Issuer

	sector, sectorRequeue := r.sector(ctx, rp, in.config)
	conditions.Set(&status.Conditions, rp.Generation, idav1alpha1.ConditionSectorReady, sector)
	if !sector.True {
		// Never registered with a sector that is not verified.
		conditions.Set(&status.Conditions, rp.Generation, idav1alpha1.ConditionRegistered,
			conditions.False(sector.Reason, "not registered: see SectorReady"))
		return reconcile.Result{RequeueAfter: sectorRequeue}, r.removeRegistrations(ctx, rp, "")
	}

	creds := r.reconcileCredentials(ctx, rp, status.Issuer)
	conditions.Set(&status.Conditions, rp.Generation, idav1alpha1.ConditionCredentialsReady, creds.outcome)
	if creds.err != nil {
		return reconcile.Result{}, creds.err
	}
	status.CredentialsSecretName = rp.CredentialsSecretName()
	if !creds.outcome.True {
		conditions.Set(&status.Conditions, rp.Generation, idav1alpha1.ConditionRegistered,
			conditions.False(creds.outcome.Reason, "waiting for the client credentials"))
		return reconcile.Result{RequeueAfter: existingSecretPoll}, nil
	}
	res := reconcile.Result{RequeueAfter: sectorRequeue}

	reg, err := r.register(ctx, rp, in.provider, creds.secret)
	if err != nil {
		return reconcile.Result{}, err
	}
	conditions.Set(&status.Conditions, rp.Generation, idav1alpha1.ConditionRegistered, reg)
	if rp.Spec.Credentials.Source == idav1alpha1.CredentialsExisting && (res.RequeueAfter == 0 || res.RequeueAfter > 5*time.Minute) {
		// A Secret we do not own is not watched: notice its rotation.
		res.RequeueAfter = 5 * time.Minute
	}
	return res, nil
}

// gatherAttachment reads what accept decides on: the provider, the relying
// party's namespace and the provider's rendered configuration.
func (r *Reconciler) gatherAttachment(ctx context.Context, rp *idav1alpha1.RelyingParty) (attachment, error) {
	var in attachment
	var idp idav1alpha1.IdentityProvider
	err := r.Client.Get(ctx, types.NamespacedName{Namespace: rp.ProviderNamespace(), Name: rp.Spec.ProviderRef.Name}, &idp)
	switch {
	case err == nil:
		in.provider = &idp
	case !apierrors.IsNotFound(err):
		return in, fmt.Errorf("reading IdentityProvider: %w", err)
	}
	var ns corev1.Namespace
	if err := r.Client.Get(ctx, types.NamespacedName{Name: rp.Namespace}, &ns); err != nil {
		return in, fmt.Errorf("reading namespace %s: %w", rp.Namespace, err)
	}
	in.namespace = &ns
	if in.provider != nil {
		if in.config, in.configProblem, err = r.providerConfig(ctx, in.provider); err != nil {
			return in, err
		}
	}
	return in, nil
}

// providerConfig reads the provider's rendered configuration: what it
// really offers now. problem says why there is none to read.
func (r *Reconciler) providerConfig(ctx context.Context, idp *idav1alpha1.IdentityProvider) (p *config.Provider, problem string, err error) {
	var cm corev1.ConfigMap
	key := types.NamespacedName{Namespace: idp.Namespace, Name: identityprovider.ConfigMapName(idp)}
	if err := r.Client.Get(ctx, key, &cm); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, "the provider has no rendered configuration yet (see its ConfigReady condition)", nil
		}
		return nil, "", fmt.Errorf("reading ConfigMap %s: %w", key, err)
	}
	if cached, ok := r.configs.Load(key.String()); ok && cached.(parsedConfig).resourceVersion == cm.ResourceVersion {
		return cached.(parsedConfig).provider, "", nil
	}
	p, err = config.ParseProvider([]byte(cm.Data[config.ProviderConfigKey]))
	if err != nil {
		return nil, fmt.Sprintf("the provider's rendered configuration cannot be read: %v", err), nil
	}
	r.configs.Store(key.String(), parsedConfig{cm.ResourceVersion, p})
	return p, "", nil
}

type parsedConfig struct {
	resourceVersion string
	provider        *config.Provider
}

// register writes the client registration Secret in the provider's
// namespace, controlled by the provider so that nothing in the RP's
// namespace can delete it, and removes registrations left elsewhere (after
// providerRef changed).
func (r *Reconciler) register(ctx context.Context, rp *idav1alpha1.RelyingParty, idp *idav1alpha1.IdentityProvider, secret string) (conditions.Outcome, error) {
	registration := Registration(rp, secret)
	data, err := json.Marshal(registration)
	if err != nil {
		return conditions.Outcome{}, fmt.Errorf("encoding client registration: %w", err)
	}
	reg := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: idp.Namespace, Name: RegistrationName(rp)}}
	op, err := controllerutil.CreateOrUpdate(ctx, r.Client, reg, func() error {
		if reg.Labels == nil {
			reg.Labels = map[string]string{}
		}
		reg.Labels[idav1alpha1.LabelManagedBy] = idav1alpha1.ManagedByOperator
		reg.Labels[config.LabelProvider] = idp.Name
		reg.Labels[config.LabelComponent] = config.ComponentClientRegistration
		reg.Labels[idav1alpha1.LabelRelyingPartyUID] = string(rp.UID)
		if reg.Annotations == nil {
			reg.Annotations = map[string]string{}
		}
		reg.Annotations[idav1alpha1.AnnotationRelyingParty] = rp.Namespace + "/" + rp.Name
		reg.Type = corev1.SecretTypeOpaque
		reg.Data = map[string][]byte{config.ClientKey: data}
		return controllerutil.SetControllerReference(idp, reg, r.Client.Scheme())
	})
	if err != nil {
		return conditions.Outcome{}, fmt.Errorf("writing client registration %s/%s: %w", reg.Namespace, reg.Name, err)
	}
	switch op {
	case controllerutil.OperationResultCreated:
		registrationsWritten.Inc()
		r.Events.Normal(rp, idav1alpha1.ReasonRegistrationWritten, "Register", "registered as client %s with %s/%s; credentials in Secret %s", registration.ClientID, idp.Namespace, idp.Name, rp.CredentialsSecretName())
	case controllerutil.OperationResultUpdated:
		registrationsWritten.Inc()
		r.Events.Normal(rp, idav1alpha1.ReasonRegistrationWritten, "Register", "client registration %s updated", registration.ClientID)
	}
	if err := r.removeRegistrations(ctx, rp, reg.Namespace+"/"+reg.Name); err != nil {
		return conditions.Outcome{}, err
	}
	if rp.Spec.Disabled {
		return conditions.True(idav1alpha1.ReasonDisabled, "registered but disabled: the provider refuses every request of this client"), nil
	}
	return conditions.True(idav1alpha1.ReasonRegistrationWritten, fmt.Sprintf("registered as client %s", registration.ClientID)), nil
}

// Registration is the client registration the runtime reads for rp; it
// holds a hash of the secret, never the secret.
func Registration(rp *idav1alpha1.RelyingParty, secret string) *config.Client {
	s := &rp.Spec
	c := &config.Client{
		ClientID:                    ClientID(rp),
		ClientName:                  s.ClientName,
		Namespace:                   rp.Namespace,
		Name:                        rp.Name,
		RedirectURIs:                s.RedirectURIs,
		TokenEndpointAuthMethod:     string(s.ClientAuthentication.Method),
		TokenEndpointAuthSigningAlg: string(s.ClientAuthentication.SigningAlgorithm),
		JWKSURI:                     s.ClientAuthentication.JWKSURI,
		TrustFrameworks:             s.VerifiedClaims.TrustFrameworks,
		RequireDPoP:                 s.Security.RequireDPoP,
		RequirePAR:                  s.Security.RequirePushedAuthorizationRequests,
		UserInfoSignedResponseAlg:   string(s.Security.UserInfoSignedResponseAlg),
		IDTokenSignedResponseAlg:    string(s.Security.IDTokenSignedResponseAlg),
		MinimumACR:                  s.Security.MinimumAuthenticationLevel,
		Disabled:                    s.Disabled,
		ResourceServer:              s.ResourceServer,
		AccessTokenFormat:           string(s.AccessTokenFormat),
		SubjectType:                 identityprovider.SubjectType(s.SubjectType),
		SectorIdentifierURI:         s.SectorIdentifierURI,
		PostLogoutRedirectURIs:      s.PostLogoutRedirectURIs,
		BackchannelLogoutURI:        s.BackchannelLogoutURI,

		BackchannelLogoutSessionRequired: s.BackchannelLogoutSessionRequired,
		Scopes:                           s.Scopes,

		IDTokenEncryptedResponseAlg:       string(s.Security.IDTokenEncryptedResponseAlg),
		IDTokenEncryptedResponseEnc:       string(s.Security.IDTokenEncryptedResponseEnc),
		UserInfoEncryptedResponseAlg:      string(s.Security.UserInfoEncryptedResponseAlg),
		UserInfoEncryptedResponseEnc:      string(s.Security.UserInfoEncryptedResponseEnc),
		IntrospectionEncryptedResponseAlg: string(s.Security.IntrospectionEncryptedResponseAlg),
		IntrospectionEncryptedResponseEnc: string(s.Security.IntrospectionEncryptedResponseEnc),
	}
	if c.TokenEndpointAuthMethod == "" {
		c.TokenEndpointAuthMethod = string(idav1alpha1.DefaultClientAuth)
	}
	for _, g := range s.GrantTypes {
		c.GrantTypes = append(c.GrantTypes, string(g))
	}
	for _, t := range s.ResponseTypes {
		c.ResponseTypes = append(c.ResponseTypes, string(t))
	}
	for _, cl := range s.VerifiedClaims.Claims {
		c.VerifiedClaims = append(c.VerifiedClaims, string(cl))
	}
	if s.ClientAuthentication.JWKS != nil {
		c.JWKS = json.RawMessage(s.ClientAuthentication.JWKS.Raw)
	}
	if secret != "" {
		c.SecretHash = config.HashClientSecret(secret)
	}
	return c
}

// removeRegistrations deletes this RP's registrations except keep
// (namespace/name; empty keeps none).
func (r *Reconciler) removeRegistrations(ctx context.Context, rp *idav1alpha1.RelyingParty, keep string) error {
	var regs corev1.SecretList
	if err := r.Client.List(ctx, &regs, client.MatchingFields{registrationIndex: string(rp.UID)}); err != nil {
		return fmt.Errorf("listing registrations: %w", err)
	}
	for i := range regs.Items {
		reg := &regs.Items[i]
		if reg.Namespace+"/"+reg.Name == keep || reg.Labels[config.LabelComponent] != config.ComponentClientRegistration {
			continue
		}
		if err := r.Client.Delete(ctx, reg); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("removing registration %s/%s: %w", reg.Namespace, reg.Name, err)
		}
		r.Events.Normal(rp, idav1alpha1.EventUnregistered, "Unregister", "client registration %s/%s removed", reg.Namespace, reg.Name)
	}
	return nil
}

func (r *Reconciler) finalize(ctx context.Context, rp *idav1alpha1.RelyingParty) error {
	r.sectors.Delete(rp.UID)
	if !controllerutil.ContainsFinalizer(rp, idav1alpha1.FinalizerClientRegistration) {
		return nil
	}
	if err := r.removeRegistrations(ctx, rp, ""); err != nil {
		return err
	}
	controllerutil.RemoveFinalizer(rp, idav1alpha1.FinalizerClientRegistration)
	if err := r.Client.Update(ctx, rp); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("removing finalizer: %w", err)
	}
	return nil
}

// registrationOwner maps a registration Secret back to its RelyingParty, so
// that a deleted or edited registration is restored.
func registrationOwner(_ context.Context, obj client.Object) []reconcile.Request {
	if obj.GetLabels()[config.LabelComponent] != config.ComponentClientRegistration {
		return nil
	}
	ns, name, ok := strings.Cut(obj.GetAnnotations()[idav1alpha1.AnnotationRelyingParty], "/")
	if !ok {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: ns, Name: name}}}
}

func (r *Reconciler) byProvider(ctx context.Context, ns, name string) []reconcile.Request {
	var rps idav1alpha1.RelyingPartyList
	if err := r.Client.List(ctx, &rps, client.MatchingFields{providerIndex: ns + "/" + name}); err != nil {
		log.FromContext(ctx).Error(err, "listing RelyingParties of a provider")
		return nil
	}
	reqs := make([]reconcile.Request, len(rps.Items))
	for i := range rps.Items {
		reqs[i] = reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&rps.Items[i])}
	}
	return reqs
}

func (r *Reconciler) relyingPartiesOfProvider(ctx context.Context, obj client.Object) []reconcile.Request {
	return r.byProvider(ctx, obj.GetNamespace(), obj.GetName())
}

func (r *Reconciler) relyingPartiesOfConfig(ctx context.Context, obj client.Object) []reconcile.Request {
	if obj.GetLabels()[config.LabelComponent] != config.ComponentProviderConfig {
		return nil
	}
	return r.byProvider(ctx, obj.GetNamespace(), obj.GetLabels()[config.LabelProvider])
}

// relyingPartiesInNamespace re-evaluates a namespace's RPs whose provider is
// elsewhere: a label change may allow or refuse them.
func (r *Reconciler) relyingPartiesInNamespace(ctx context.Context, obj client.Object) []reconcile.Request {
	var rps idav1alpha1.RelyingPartyList
	if err := r.Client.List(ctx, &rps, client.InNamespace(obj.GetName())); err != nil {
		log.FromContext(ctx).Error(err, "listing RelyingParties of a namespace")
		return nil
	}
	var reqs []reconcile.Request
	for i := range rps.Items {
		if rps.Items[i].ProviderNamespace() != obj.GetName() {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&rps.Items[i])})
		}
	}
	return reqs
}
