package identityprovider

// Exposure: the HTTPRoute or Ingress that routes the issuer URL to the
// runtime Service. Rendering and reading back their status are pure; the
// reconciler only writes what they say.

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
	"github.com/idaop/ida-operator/controllers/conditions"
)

// ExposureName is the name of the provider's HTTPRoute or Ingress.
func ExposureName(idp *idav1alpha1.IdentityProvider) string { return idp.Name }

// routePathChars is what Gateway API allows in a path match (its
// HTTPPathMatch value pattern); an issuer path outside it cannot be routed.
var routePathChars = regexp.MustCompile(`^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|%[0-9a-fA-F]{2})+$`)

// issuerRoute is the host and path prefix of the issuer URL: the runtime
// serves every endpoint below the issuer (OIDC Discovery §4 puts the
// configuration at <issuer>/.well-known/openid-configuration), so a prefix
// match on the issuer's path is all a route needs. A trailing slash is
// dropped (Gateway API and Ingress prefixes match whole path elements);
// no path is "/".
func issuerRoute(issuer string) (host, path string, err error) {
	u, err := url.Parse(issuer)
	if err != nil {
		return "", "", fmt.Errorf("spec.issuer does not parse: %w", err)
	}
	host = strings.ToLower(u.Hostname())
	if u.Scheme != "https" || host == "" {
		return "", "", fmt.Errorf("spec.exposure needs an https issuer with a host, not %q", issuer)
	}
	path = strings.TrimRight(u.EscapedPath(), "/")
	if path == "" {
		path = "/"
	}
	if !routePathChars.MatchString(path) || strings.Contains(path, "//") {
		return "", "", fmt.Errorf("spec.issuer's path %q cannot be matched by a route: use letters, digits and -._~ in it", path)
	}
	return host, path, nil
}

// parentRefs are the Gateways of spec.exposure.gateway, with every field
// the API server would default set, so the live route compares equal.
func parentRefs(idp *idav1alpha1.IdentityProvider) []gatewayv1.ParentReference {
	gw := idp.Spec.Exposure.Gateway
	refs := make([]gatewayv1.ParentReference, 0, len(gw.ParentRefs))
	for _, p := range gw.ParentRefs {
		ns := p.Namespace
		if ns == "" {
			ns = idp.Namespace
		}
		ref := gatewayv1.ParentReference{
			Group:     ptr.To(gatewayv1.Group(gatewayv1.GroupName)),
			Kind:      ptr.To(gatewayv1.Kind("Gateway")),
			Namespace: ptr.To(gatewayv1.Namespace(ns)),
			Name:      gatewayv1.ObjectName(p.Name),
		}
		if p.SectionName != "" {
			ref.SectionName = ptr.To(gatewayv1.SectionName(p.SectionName))
		}
		refs = append(refs, ref)
	}
	return refs
}

// httpRouteSpec routes the issuer's host and path to the runtime Service.
func httpRouteSpec(idp *idav1alpha1.IdentityProvider) (gatewayv1.HTTPRouteSpec, error) {
	host, path, err := issuerRoute(idp.Spec.Issuer)
	if err != nil {
		return gatewayv1.HTTPRouteSpec{}, err
	}
	return gatewayv1.HTTPRouteSpec{
		CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: parentRefs(idp)},
		Hostnames:       []gatewayv1.Hostname{gatewayv1.Hostname(host)},
		Rules: []gatewayv1.HTTPRouteRule{{
			Matches: []gatewayv1.HTTPRouteMatch{{Path: &gatewayv1.HTTPPathMatch{
				Type:  ptr.To(gatewayv1.PathMatchPathPrefix),
				Value: ptr.To(path),
			}}},
			BackendRefs: []gatewayv1.HTTPBackendRef{{BackendRef: gatewayv1.BackendRef{
				BackendObjectReference: gatewayv1.BackendObjectReference{
					Group: ptr.To(gatewayv1.Group("")),
					Kind:  ptr.To(gatewayv1.Kind("Service")),
					Name:  gatewayv1.ObjectName(RuntimeName(idp)),
					Port:  ptr.To(gatewayv1.PortNumber(runtimePort)),
				},
				Weight: ptr.To[int32](1),
			}}},
		}},
	}, nil
}

// ingressSpec routes the issuer's host and path to the runtime Service,
// with TLS for the host when a Secret is named.
func ingressSpec(idp *idav1alpha1.IdentityProvider) (networkingv1.IngressSpec, error) {
	host, path, err := issuerRoute(idp.Spec.Issuer)
	if err != nil {
		return networkingv1.IngressSpec{}, err
	}
	in := idp.Spec.Exposure.Ingress
	spec := networkingv1.IngressSpec{
		IngressClassName: ptr.To(in.ClassName),
		Rules: []networkingv1.IngressRule{{
			Host: host,
			IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{{
					Path:     path,
					PathType: ptr.To(networkingv1.PathTypePrefix),
					Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
						Name: RuntimeName(idp),
						Port: networkingv1.ServiceBackendPort{Name: "http"},
					}},
				}},
			}},
		}},
	}
	secret := in.TLSSecretName
	if secret == "" && idp.Spec.TLS != nil {
		secret = idp.Spec.TLS.SecretName
	}
	if secret != "" {
		spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{host}, SecretName: secret}}
	}
	return spec, nil
}

// routeExposure reads the HTTPRoute's status as the Gateways' controllers
// wrote it (Gateway API RouteParentStatus): Exposed only when every Gateway
// it names reports it Accepted with ResolvedRefs, for its current
// generation.
func routeExposure(route *gatewayv1.HTTPRoute, issuer string) conditions.Outcome {
	var accepted []string
	for _, want := range route.Spec.ParentRefs {
		gw := string(ptr.Deref(want.Namespace, gatewayv1.Namespace(route.Namespace))) + "/" + string(want.Name)
		st := parentStatus(route, want)
		if st == nil {
			return conditions.False(idav1alpha1.ReasonRoutePending, fmt.Sprintf(
				"HTTPRoute %s is written; Gateway %s has not reported on it yet: check that the Gateway exists and its controller runs", route.Name, gw))
		}
		acc := fresh(st.Conditions, string(gatewayv1.RouteConditionAccepted), route.Generation)
		refs := fresh(st.Conditions, string(gatewayv1.RouteConditionResolvedRefs), route.Generation)
		switch {
		case acc == nil || refs == nil:
			return conditions.False(idav1alpha1.ReasonRoutePending, fmt.Sprintf(
				"HTTPRoute %s is written; Gateway %s has not reported on its current generation yet", route.Name, gw))
		case acc.Status != metav1.ConditionTrue:
			return conditions.False(idav1alpha1.ReasonRouteNotAccepted, fmt.Sprintf(
				"Gateway %s does not accept HTTPRoute %s (%s): %s", gw, route.Name, acc.Reason, acc.Message))
		case refs.Status != metav1.ConditionTrue:
			return conditions.False(idav1alpha1.ReasonRouteRefsNotResolved, fmt.Sprintf(
				"Gateway %s cannot use the backend of HTTPRoute %s (%s): %s", gw, route.Name, refs.Reason, refs.Message))
		}
		accepted = append(accepted, gw)
	}
	return conditions.True(idav1alpha1.ReasonRouteAccepted, fmt.Sprintf(
		"HTTPRoute %s accepted by Gateway %s: %s routes to the runtime", route.Name, strings.Join(accepted, ", "), issuer))
}

// parentStatus is the status a Gateway's controller wrote for the parent
// want, matched by the reference's Gateway API identity.
func parentStatus(route *gatewayv1.HTTPRoute, want gatewayv1.ParentReference) *gatewayv1.RouteParentStatus {
	key := func(p gatewayv1.ParentReference) string {
		return strings.Join([]string{
			string(ptr.Deref(p.Group, gatewayv1.GroupName)),
			string(ptr.Deref(p.Kind, "Gateway")),
			string(ptr.Deref(p.Namespace, gatewayv1.Namespace(route.Namespace))),
			string(p.Name),
			string(ptr.Deref(p.SectionName, "")),
		}, "/")
	}
	for i := range route.Status.Parents {
		if key(route.Status.Parents[i].ParentRef) == key(want) {
			return &route.Status.Parents[i]
		}
	}
	return nil
}

// fresh is the condition typ if it describes generation or later.
func fresh(conds []metav1.Condition, typ string, generation int64) *metav1.Condition {
	for i := range conds {
		if conds[i].Type == typ && conds[i].ObservedGeneration >= generation {
			return &conds[i]
		}
	}
	return nil
}

// ingressExposure reads the Ingress's status: an ingress controller
// publishes the address it serves the Ingress at once it has taken it.
func ingressExposure(ing *networkingv1.Ingress, issuer string) conditions.Outcome {
	var addrs []string
	for _, lb := range ing.Status.LoadBalancer.Ingress {
		if lb.IP != "" {
			addrs = append(addrs, lb.IP)
		}
		if lb.Hostname != "" {
			addrs = append(addrs, lb.Hostname)
		}
	}
	class := ptr.Deref(ing.Spec.IngressClassName, "")
	if len(addrs) == 0 {
		return conditions.False(idav1alpha1.ReasonIngressPending, fmt.Sprintf(
			"Ingress %s is written; no controller of IngressClass %s has published an address for it yet", ing.Name, class))
	}
	return conditions.True(idav1alpha1.ReasonIngressAdmitted, fmt.Sprintf(
		"Ingress %s (class %s) is served at %s: %s routes to the runtime", ing.Name, class, strings.Join(addrs, ", "), issuer))
}

// exposureFailed is Exposed when writing the route or Ingress failed; the
// reconcile is retried.
func exposureFailed(idp *idav1alpha1.IdentityProvider, err error) conditions.Outcome {
	reason, kind := idav1alpha1.ReasonRoutePending, "HTTPRoute"
	if exp := idp.Spec.Exposure; exp != nil && exp.Ingress != nil {
		reason, kind = idav1alpha1.ReasonIngressPending, "Ingress"
	}
	return conditions.False(reason, fmt.Sprintf("writing the %s failed; the operator retries: %v", kind, err))
}

// gatewayAPIMissing is Exposed when the cluster has no HTTPRoute kind.
func gatewayAPIMissing() conditions.Outcome {
	return conditions.False(idav1alpha1.ReasonGatewayAPINotInstalled,
		"spec.exposure.gateway needs the Gateway API (HTTPRoute, gateway.networking.k8s.io/v1), which this cluster did not serve when the operator started: "+
			"install the Gateway API standard CRDs and restart the operator, or use spec.exposure.ingress; the provider runs without it")
}
