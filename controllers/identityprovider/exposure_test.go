package identityprovider

import (
	"errors"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
)

func TestIssuerRoute(t *testing.T) {
	for _, tc := range []struct {
		issuer, host, path, err string
	}{
		{issuer: "https://id.bank.example", host: "id.bank.example", path: "/"},
		{issuer: "https://id.bank.example/", host: "id.bank.example", path: "/"},
		{issuer: "https://bank.example/id", host: "bank.example", path: "/id"},
		{issuer: "https://bank.example/tenants/a/", host: "bank.example", path: "/tenants/a"},
		{issuer: "https://ID.Bank.Example:8443/x", host: "id.bank.example", path: "/x"},
		{issuer: "https://bank.example/caf%C3%A9", host: "bank.example", path: "/caf%C3%A9"},
		{issuer: "http://localhost:8080", err: "https issuer"},
		{issuer: "https:///nohost", err: "https issuer"},
		{issuer: "https://bank.example/a//b", err: "cannot be matched"},
		{issuer: "https://bank.example/a b", host: "bank.example", path: "/a%20b"},
	} {
		host, path, err := issuerRoute(tc.issuer)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want one saying %q", tc.issuer, err, tc.err)
			}
			continue
		}
		if err != nil || host != tc.host || path != tc.path {
			t.Errorf("%s: %q %q %v, want %q %q", tc.issuer, host, path, err, tc.host, tc.path)
		}
	}
}

func exposedProvider(exp *idav1alpha1.ExposureSpec) *idav1alpha1.IdentityProvider {
	return &idav1alpha1.IdentityProvider{
		ObjectMeta: metav1.ObjectMeta{Namespace: "identity", Name: "bank"},
		Spec:       idav1alpha1.IdentityProviderSpec{Issuer: "https://bank.example/id/", Exposure: exp},
	}
}

func TestHTTPRouteSpec(t *testing.T) {
	idp := exposedProvider(&idav1alpha1.ExposureSpec{Gateway: &idav1alpha1.GatewayExposure{ParentRefs: []idav1alpha1.GatewayRef{
		{Name: "public"}, {Name: "edge", Namespace: "gateways", SectionName: "https"},
	}}})
	spec, err := httpRouteSpec(idp)
	if err != nil {
		t.Fatal(err)
	}
	if len(spec.Hostnames) != 1 || spec.Hostnames[0] != "bank.example" {
		t.Errorf("hostnames %v", spec.Hostnames)
	}
	p := spec.ParentRefs
	if len(p) != 2 || *p[0].Namespace != "identity" || p[0].SectionName != nil || *p[1].Namespace != "gateways" || *p[1].SectionName != "https" || *p[1].Kind != "Gateway" {
		t.Errorf("parentRefs %+v", p)
	}
	rule := spec.Rules[0]
	if m := rule.Matches[0].Path; *m.Type != gatewayv1.PathMatchPathPrefix || *m.Value != "/id" {
		t.Errorf("path match %s %s, want PathPrefix /id", *m.Type, *m.Value)
	}
	if b := rule.BackendRefs[0]; b.Name != "bank" || *b.Port != 8080 || *b.Kind != "Service" {
		t.Errorf("backend %+v", b.BackendObjectReference)
	}
}

func TestIngressSpec(t *testing.T) {
	idp := exposedProvider(&idav1alpha1.ExposureSpec{Ingress: &idav1alpha1.IngressExposure{ClassName: "nginx"}})
	spec, err := ingressSpec(idp)
	if err != nil {
		t.Fatal(err)
	}
	r := spec.Rules[0]
	if *spec.IngressClassName != "nginx" || r.Host != "bank.example" || r.HTTP.Paths[0].Path != "/id" ||
		*r.HTTP.Paths[0].PathType != networkingv1.PathTypePrefix || r.HTTP.Paths[0].Backend.Service.Name != "bank" {
		t.Errorf("ingress %+v", spec)
	}
	if spec.TLS != nil {
		t.Errorf("TLS without a Secret: %+v", spec.TLS)
	}
	idp.Spec.Exposure.Ingress.TLSSecretName = "bank-tls"
	if spec, _ = ingressSpec(idp); len(spec.TLS) != 1 || spec.TLS[0].SecretName != "bank-tls" || spec.TLS[0].Hosts[0] != "bank.example" {
		t.Errorf("tls %+v", spec.TLS)
	}
}

// routeWithStatus is a route to two Gateways at generation 2 with the
// parent statuses a Gateway controller would write.
func routeWithStatus(parents ...gatewayv1.RouteParentStatus) *gatewayv1.HTTPRoute {
	idp := exposedProvider(&idav1alpha1.ExposureSpec{Gateway: &idav1alpha1.GatewayExposure{ParentRefs: []idav1alpha1.GatewayRef{
		{Name: "public"}, {Name: "edge", Namespace: "gateways", SectionName: "https"},
	}}})
	spec, _ := httpRouteSpec(idp)
	return &gatewayv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: "identity", Name: "bank", Generation: 2},
		Spec:       spec,
		Status:     gatewayv1.HTTPRouteStatus{RouteStatus: gatewayv1.RouteStatus{Parents: parents}},
	}
}

func parent(ns, name, section string, gen int64, accepted, resolved metav1.ConditionStatus, reason string) gatewayv1.RouteParentStatus {
	ref := gatewayv1.ParentReference{Name: gatewayv1.ObjectName(name)}
	if ns != "" {
		ref.Namespace = ptr.To(gatewayv1.Namespace(ns))
	}
	if section != "" {
		ref.SectionName = ptr.To(gatewayv1.SectionName(section))
	}
	return gatewayv1.RouteParentStatus{ParentRef: ref, ControllerName: "example.net/gateway", Conditions: []metav1.Condition{
		{Type: "Accepted", Status: accepted, Reason: reason, Message: "listener says so", ObservedGeneration: gen},
		{Type: "ResolvedRefs", Status: resolved, Reason: "ResolvedRefs", ObservedGeneration: gen},
	}}
}

func TestRouteExposure(t *testing.T) {
	const T, F = metav1.ConditionTrue, metav1.ConditionFalse
	edge := parent("gateways", "edge", "https", 2, T, T, "Accepted")
	for _, tc := range []struct {
		name    string
		parents []gatewayv1.RouteParentStatus
		exposed bool
		reason  idav1alpha1.ConditionReason
		says    string
	}{
		{"no Gateway has reported", nil, false, idav1alpha1.ReasonRoutePending, "identity/public has not reported"},
		{"one of two has reported", []gatewayv1.RouteParentStatus{edge}, false, idav1alpha1.ReasonRoutePending, "identity/public"},
		{"both accept, namespace omitted in status", []gatewayv1.RouteParentStatus{parent("", "public", "", 2, T, T, "Accepted"), edge}, true, idav1alpha1.ReasonRouteAccepted, "identity/public, gateways/edge"},
		{"a report on an older generation", []gatewayv1.RouteParentStatus{parent("identity", "public", "", 1, T, T, "Accepted"), edge}, false, idav1alpha1.ReasonRoutePending, "current generation"},
		{"a listener refuses", []gatewayv1.RouteParentStatus{parent("identity", "public", "", 2, F, T, "NotAllowedByListeners"), edge}, false, idav1alpha1.ReasonRouteNotAccepted, "NotAllowedByListeners"},
		{"the backend is unusable", []gatewayv1.RouteParentStatus{parent("identity", "public", "", 2, T, F, "Accepted"), edge}, false, idav1alpha1.ReasonRouteRefsNotResolved, "backend"},
		{"another listener of the Gateway is not ours", []gatewayv1.RouteParentStatus{parent("identity", "public", "", 2, T, T, "Accepted"), parent("gateways", "edge", "http", 2, T, T, "Accepted")}, false, idav1alpha1.ReasonRoutePending, "gateways/edge"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := routeExposure(routeWithStatus(tc.parents...), "https://bank.example/id")
			if o.True != tc.exposed || o.Reason != tc.reason || !strings.Contains(o.Message, tc.says) {
				t.Errorf("got %v %s %q, want %v %s saying %q", o.True, o.Reason, o.Message, tc.exposed, tc.reason, tc.says)
			}
		})
	}
}

func TestIngressExposure(t *testing.T) {
	ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "bank"}, Spec: networkingv1.IngressSpec{IngressClassName: ptr.To("nginx")}}
	if o := ingressExposure(ing, "https://bank.example"); o.True || o.Reason != idav1alpha1.ReasonIngressPending || !strings.Contains(o.Message, "IngressClass nginx") {
		t.Errorf("without an address: %+v", o)
	}
	ing.Status.LoadBalancer.Ingress = []networkingv1.IngressLoadBalancerIngress{{IP: "203.0.113.7"}}
	if o := ingressExposure(ing, "https://bank.example"); !o.True || o.Reason != idav1alpha1.ReasonIngressAdmitted || !strings.Contains(o.Message, "203.0.113.7") {
		t.Errorf("with an address: %+v", o)
	}
}

func TestExposureFailedNamesWhatFailed(t *testing.T) {
	ing := exposedProvider(&idav1alpha1.ExposureSpec{Ingress: &idav1alpha1.IngressExposure{ClassName: "nginx"}})
	if o := exposureFailed(ing, errors.New("conflict")); o.True || o.Reason != idav1alpha1.ReasonIngressPending || !strings.Contains(o.Message, "Ingress failed") {
		t.Errorf("ingress: %+v", o)
	}
	gw := exposedProvider(&idav1alpha1.ExposureSpec{Gateway: &idav1alpha1.GatewayExposure{}})
	if o := exposureFailed(gw, errors.New("conflict")); o.True || o.Reason != idav1alpha1.ReasonRoutePending || !strings.Contains(o.Message, "HTTPRoute failed") {
		t.Errorf("gateway: %+v", o)
	}
}
