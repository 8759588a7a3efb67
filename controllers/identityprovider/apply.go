package identityprovider

import (
	"context"
	"fmt"
	"maps"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
	"github.com/idaop/ida-operator/controllers/conditions"
)

const componentRuntime = "runtime"

// reconcileWorkload makes the runtime's ServiceAccount, Role, RoleBinding,
// Deployment, Service, HorizontalPodAutoscaler (with autoscaling) and
// PodDisruptionBudget (with always more than one replica) match the
// provider, and reports the Deployment's availability, which the
// runtime's readiness probe drives.
func (r *Reconciler) reconcileWorkload(ctx context.Context, idp *idav1alpha1.IdentityProvider, configHash string) (conditions.Outcome, error) {
	labels := Labels(idp, componentRuntime)
	meta := func(name string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Namespace: idp.Namespace, Name: name}
	}
	own := func(obj client.Object) error {
		om := obj.(metav1.Object)
		if om.GetLabels() == nil {
			om.SetLabels(map[string]string{})
		}
		maps.Copy(om.GetLabels(), labels)
		return controllerutil.SetControllerReference(idp, obj, r.Client.Scheme())
	}

	sa := &corev1.ServiceAccount{ObjectMeta: meta(RuntimeName(idp))}
	if err := r.apply(ctx, sa, func() error { return own(sa) }); err != nil {
		return conditions.Outcome{}, err
	}
	role := &rbacv1.Role{ObjectMeta: meta(RuntimeRoleName(idp))}
	if err := r.apply(ctx, role, func() error {
		role.Rules = runtimeRole(idp)
		return own(role)
	}); err != nil {
		return conditions.Outcome{}, err
	}
	rb := &rbacv1.RoleBinding{ObjectMeta: meta(RuntimeRoleName(idp))}
	if err := r.apply(ctx, rb, func() error {
		rb.RoleRef = rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name}
		rb.Subjects = []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: sa.Name, Namespace: idp.Namespace}}
		return own(rb)
	}); err != nil {
		return conditions.Outcome{}, err
	}

	image := runtimeImage(idp, r.RuntimeImage, r.RuntimePKCS11Image)
	dep := &appsv1.Deployment{ObjectMeta: meta(RuntimeName(idp))}
	if err := r.apply(ctx, dep, func() error {
		want := deploymentSpec(idp, image, configHash)
		if dep.CreationTimestamp.IsZero() {
			dep.Spec.Selector = want.Selector // immutable once created
		}
		if idp.Spec.Runtime.Autoscaling == nil || dep.Spec.Replicas == nil {
			dep.Spec.Replicas = want.Replicas
		} // else the autoscaler sets them
		dep.Spec.Template = want.Template
		dep.Spec.Strategy = want.Strategy
		dep.Spec.RevisionHistoryLimit = want.RevisionHistoryLimit
		dep.Spec.ProgressDeadlineSeconds = want.ProgressDeadlineSeconds
		dep.Spec.MinReadySeconds = 0
		dep.Spec.Paused = false
		return own(dep)
	}); err != nil {
		return conditions.Outcome{}, err
	}

	svc := &corev1.Service{ObjectMeta: meta(RuntimeName(idp))}
	if err := r.apply(ctx, svc, func() error {
		svc.Spec.Selector = selectorLabels(idp)
		svc.Spec.Ports = servicePorts()
		if svc.Spec.Type == "" {
			svc.Spec.Type = corev1.ServiceTypeClusterIP
		}
		return own(svc)
	}); err != nil {
		return conditions.Outcome{}, err
	}

	hpa := &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: meta(RuntimeName(idp))}
	if idp.Spec.Runtime.Autoscaling != nil {
		if err := r.apply(ctx, hpa, func() error {
			hpa.Spec = hpaSpec(idp)
			return own(hpa)
		}); err != nil {
			return conditions.Outcome{}, err
		}
	} else if err := r.deleteOwned(ctx, hpa); err != nil {
		return conditions.Outcome{}, err
	}

	pdb := &policyv1.PodDisruptionBudget{ObjectMeta: meta(RuntimeName(idp))}
	if wantsPDB(idp) {
		if err := r.apply(ctx, pdb, func() error {
			spec := pdbSpec(idp)
			pdb.Spec.MinAvailable = spec.MinAvailable
			pdb.Spec.Selector = spec.Selector
			return own(pdb)
		}); err != nil {
			return conditions.Outcome{}, err
		}
	} else if err := r.deleteOwned(ctx, pdb); err != nil {
		return conditions.Outcome{}, err
	}

	return availability(dep), nil
}

func (r *Reconciler) apply(ctx context.Context, obj client.Object, mutate func() error) error {
	op, err := controllerutil.CreateOrUpdate(ctx, r.Client, obj, mutate)
	if err != nil {
		return fmt.Errorf("writing %T %s: %w", obj, obj.GetName(), err)
	}
	if op == controllerutil.OperationResultUpdated {
		// Either the spec changed or someone edited what we own.
		r.Events.Normal(obj, idav1alpha1.EventRestored, "Update", "restored to the state its IdentityProvider declares")
	}
	return nil
}

func (r *Reconciler) deleteOwned(ctx context.Context, obj client.Object) error {
	if err := r.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
		return client.IgnoreNotFound(err)
	}
	if err := r.Client.Delete(ctx, obj); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting %T %s: %w", obj, obj.GetName(), err)
	}
	return nil
}

const componentExposure = "exposure"

// reconcileExposure writes the HTTPRoute or Ingress spec.exposure asks for,
// removes the one it does not, and reads back what the edge's controller
// reported. wanted is false when spec.exposure is absent.
func (r *Reconciler) reconcileExposure(ctx context.Context, idp *idav1alpha1.IdentityProvider) (o conditions.Outcome, wanted bool, err error) {
	exp := idp.Spec.Exposure
	route := &gatewayv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: idp.Namespace, Name: ExposureName(idp)}}
	ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: idp.Namespace, Name: ExposureName(idp)}}
	if exp == nil || exp.Gateway == nil {
		if r.GatewayAPI {
			if err := r.deleteOwned(ctx, route); err != nil {
				return o, false, err
			}
		}
	}
	if exp == nil || exp.Ingress == nil {
		if err := r.deleteOwned(ctx, ing); err != nil {
			return o, false, err
		}
	}
	switch {
	case exp == nil:
		return o, false, nil
	case exp.Gateway != nil && !r.GatewayAPI:
		return gatewayAPIMissing(), true, nil
	case exp.Gateway != nil:
		spec, err := httpRouteSpec(idp)
		if err != nil {
			return conditions.False(idav1alpha1.ReasonInvalidSpec, err.Error()), true, nil
		}
		if err := r.apply(ctx, route, func() error {
			route.Spec = spec
			mergeLabels(&route.ObjectMeta, Labels(idp, componentExposure))
			return controllerutil.SetControllerReference(idp, route, r.Client.Scheme())
		}); err != nil {
			return o, true, err
		}
		return routeExposure(route, idp.Spec.Issuer), true, nil
	default:
		spec, err := ingressSpec(idp)
		if err != nil {
			return conditions.False(idav1alpha1.ReasonInvalidSpec, err.Error()), true, nil
		}
		if err := r.apply(ctx, ing, func() error {
			ing.Spec = spec
			mergeLabels(&ing.ObjectMeta, Labels(idp, componentExposure))
			if len(exp.Ingress.Annotations) > 0 {
				if ing.Annotations == nil {
					ing.Annotations = map[string]string{}
				}
				maps.Copy(ing.Annotations, exp.Ingress.Annotations)
			}
			return controllerutil.SetControllerReference(idp, ing, r.Client.Scheme())
		}); err != nil {
			return o, true, err
		}
		return ingressExposure(ing, idp.Spec.Issuer), true, nil
	}
}

// tlsResult is the state of spec.tls.
type tlsResult struct {
	condition conditions.Outcome
	wanted    bool
	// recheck is when to look at the Secret again (before the certificate
	// expires, or soon while it is missing); zero for never.
	recheck time.Duration
}

// tlsSecretPoll is how soon a missing or unusable TLS Secret is looked at
// again: one the platform team provides carries none of the operator's
// labels, so no watch sees it arrive.
const tlsSecretPoll = time.Minute

// reconcileTLS writes the Certificate spec.tls.certManager asks for (and
// removes it otherwise), then judges the TLS Secret. The Secret is read
// past the cache, which holds only objects with the operator's labels.
func (r *Reconciler) reconcileTLS(ctx context.Context, idp *idav1alpha1.IdentityProvider) (tlsResult, error) {
	spec := idp.Spec.TLS
	cert := &unstructured.Unstructured{}
	cert.SetGroupVersionKind(CertificateKind)
	cert.SetNamespace(idp.Namespace)
	cert.SetName(CertificateName(idp))
	if r.CertManager && (spec == nil || spec.CertManager == nil) {
		if err := r.deleteOwned(ctx, cert); err != nil {
			return tlsResult{}, err
		}
	}
	if spec == nil {
		return tlsResult{}, nil
	}
	res := tlsResult{wanted: true}
	if spec.CertManager != nil {
		if !r.CertManager {
			res.condition = conditions.False(idav1alpha1.ReasonCertManagerNotInstalled,
				"spec.tls.certManager needs cert-manager (cert-manager.io/v1 Certificates), which this cluster did not serve when the operator started: install cert-manager and restart the operator, or provide the Secret yourself and remove certManager")
			return res, nil
		}
		want, err := certificateSpec(idp)
		if err != nil {
			res.condition = conditions.False(idav1alpha1.ReasonInvalidSpec, err.Error())
			return res, nil
		}
		if err := r.apply(ctx, cert, func() error {
			cert.Object["spec"] = want
			mergeLabelsUnstructured(cert, Labels(idp, componentTLS))
			return controllerutil.SetControllerReference(idp, cert, r.Client.Scheme())
		}); err != nil {
			return res, err
		}
	}
	var secret corev1.Secret
	err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: idp.Namespace, Name: spec.SecretName}, &secret)
	switch {
	case apierrors.IsNotFound(err) && spec.CertManager != nil:
		res.condition, res.recheck = certificatePending(cert), tlsSecretPoll
		return res, nil
	case apierrors.IsNotFound(err):
		res.condition, res.recheck = conditions.False(idav1alpha1.ReasonSecretNotFound, fmt.Sprintf(
			"Secret %s does not exist: create it (type kubernetes.io/tls) with the certificate for the issuer's host, or set spec.tls.certManager", spec.SecretName)), tlsSecretPoll
		return res, nil
	case err != nil:
		return res, fmt.Errorf("reading TLS Secret %s: %w", spec.SecretName, err)
	}
	res.condition, res.recheck = servingCertificate(&secret, idp.Spec.Issuer, r.Now())
	if !res.condition.True {
		res.recheck = tlsSecretPoll
	}
	return res, nil
}

// mergeLabelsUnstructured is mergeLabels for an unstructured object.
func mergeLabelsUnstructured(u *unstructured.Unstructured, want map[string]string) {
	labels := u.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	maps.Copy(labels, want)
	u.SetLabels(labels)
}

// reconcileNetworkPolicy writes the runtime's NetworkPolicy when
// spec.networkPolicy asks for one, and removes it otherwise.
func (r *Reconciler) reconcileNetworkPolicy(ctx context.Context, idp *idav1alpha1.IdentityProvider) error {
	np := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: idp.Namespace, Name: NetworkPolicyName(idp)}}
	if idp.Spec.NetworkPolicy == nil {
		return r.deleteOwned(ctx, np)
	}
	api, err := r.apiServerEndpoints(ctx)
	if err != nil {
		return err
	}
	return r.apply(ctx, np, func() error {
		np.Spec = networkPolicySpec(idp, api)
		mergeLabels(&np.ObjectMeta, Labels(idp, componentRuntime))
		return controllerutil.SetControllerReference(idp, np, r.Client.Scheme())
	})
}

// apiServerEndpoints are the addresses of the Kubernetes API as pods
// reach it: the `kubernetes` Service's cluster IP and the endpoints the API
// server publishes behind it, sorted so the policy does not churn. Read
// past the cache, which holds only the operator's own objects.
func (r *Reconciler) apiServerEndpoints(ctx context.Context) ([]endpoint, error) {
	var svc corev1.Service
	if err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: metav1.NamespaceDefault, Name: "kubernetes"}, &svc); err != nil {
		return nil, fmt.Errorf("reading the kubernetes Service for the runtime's NetworkPolicy: %w", err)
	}
	var out []endpoint
	for _, ip := range svc.Spec.ClusterIPs {
		for _, p := range svc.Spec.Ports {
			out = append(out, endpoint{IP: ip, Port: p.Port})
		}
	}
	var slices discoveryv1.EndpointSliceList
	if err := r.APIReader.List(ctx, &slices, client.InNamespace(metav1.NamespaceDefault),
		client.MatchingLabels{discoveryv1.LabelServiceName: "kubernetes"}); err != nil {
		return nil, fmt.Errorf("listing the Kubernetes API's endpoints for the runtime's NetworkPolicy: %w", err)
	}
	for _, s := range slices.Items {
		for _, e := range s.Endpoints {
			for _, ip := range e.Addresses {
				for _, p := range s.Ports {
					if p.Port != nil {
						out = append(out, endpoint{IP: ip, Port: *p.Port})
					}
				}
			}
		}
	}
	return sortEndpoints(out), nil
}
