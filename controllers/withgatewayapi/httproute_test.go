// Package withgatewayapi_test runs the controllers against a control plane
// that serves the Gateway API, its standard CRDs installed from the
// sigs.k8s.io/gateway-api module the operator is built with: the HTTPRoutes
// the operator renders meet the real schema and CEL rules.
package withgatewayapi_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
	"github.com/idaop/ida-operator/internal/controlplane"
	"github.com/idaop/ida-operator/internal/operatortest"
)

var k8s client.Client

func TestMain(m *testing.M) {
	os.Exit(operatortest.Main(m, gatewayAPICRDs, &k8s))
}

// gatewayAPICRDs is the Gateway API's standard-channel CRD directory.
func gatewayAPICRDs() ([]string, error) {
	dir, err := controlplane.GatewayAPICRDs()
	return []string{dir}, err
}

var eventually = operatortest.Eventually

// waitExposed waits for the provider's Exposed condition, for its current
// generation, to have status and reason, and returns its message.
func waitExposed(t *testing.T, idp *idav1alpha1.IdentityProvider, status metav1.ConditionStatus, reason idav1alpha1.ConditionReason) string {
	t.Helper()
	return operatortest.WaitCondition(t, k8s, idp, idav1alpha1.ConditionExposed, status, reason)
}

func provider(ns string) *idav1alpha1.IdentityProvider {
	return &idav1alpha1.IdentityProvider{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "bank"},
		Spec: idav1alpha1.IdentityProviderSpec{
			Issuer:          "https://bank.example/id",
			TrustFrameworks: idav1alpha1.TrustFrameworkSelection{Names: []string{"gw-aml"}},
			Users: idav1alpha1.UserSourceSpec{
				Type:    idav1alpha1.UserSourceBuiltin,
				Builtin: &idav1alpha1.BuiltinUserSource{SecretRef: idav1alpha1.LocalSecretReference{Name: "users"}},
			},
			Exposure: &idav1alpha1.ExposureSpec{Gateway: &idav1alpha1.GatewayExposure{ParentRefs: []idav1alpha1.GatewayRef{
				{Name: "public", Namespace: "gateways", SectionName: "https"},
			}}},
		},
	}
}

// acceptedBy writes the parent status a Gateway controller writes for a
// route it takes, as that controller would.
func acceptedBy(route *gatewayv1.HTTPRoute, accepted metav1.ConditionStatus, reason string) {
	route.Status.Parents = []gatewayv1.RouteParentStatus{{
		ParentRef:      route.Spec.ParentRefs[0],
		ControllerName: "gateway.example.net/controller",
		Conditions: []metav1.Condition{
			{Type: "Accepted", Status: accepted, Reason: reason, Message: "checked by the test's gateway", ObservedGeneration: route.Generation, LastTransitionTime: metav1.Now()},
			{Type: "ResolvedRefs", Status: metav1.ConditionTrue, Reason: "ResolvedRefs", ObservedGeneration: route.Generation, LastTransitionTime: metav1.Now()},
		},
	}}
}

func TestHTTPRouteExposure(t *testing.T) {
	ctx := context.Background()
	for _, ns := range []string{"identity", "gateways"} {
		if err := k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			t.Fatal(err)
		}
	}
	tf := &idav1alpha1.TrustFramework{
		ObjectMeta: metav1.ObjectMeta{Name: "gw-aml"},
		Spec: idav1alpha1.TrustFrameworkSpec{
			Identifier: "gw_aml",
			Evidence:   []idav1alpha1.EvidenceSpec{{Type: idav1alpha1.EvidenceDocument, DocumentTypes: []idav1alpha1.Identifier{"passport"}}},
			Claims:     []idav1alpha1.ClaimName{"birthdate"},
		},
	}
	idp := provider("identity")
	for _, o := range []client.Object{tf, idp} {
		if err := k8s.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}

	// Written, accepted by the Gateway API's own schema, and pending until
	// a Gateway reports on it.
	msg := waitExposed(t, idp, metav1.ConditionFalse, idav1alpha1.ReasonRoutePending)
	if !strings.Contains(msg, "gateways/public") {
		t.Errorf("Exposed does not name the Gateway: %s", msg)
	}
	route := &gatewayv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "identity", Name: "bank"}}
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(route), route); err != nil {
		t.Fatal(err)
	}
	var owner idav1alpha1.IdentityProvider
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(idp), &owner); err != nil || !metav1.IsControlledBy(route, &owner) {
		t.Errorf("the HTTPRoute is not controlled by the provider (%v)", err)
	}
	expectRoute(t, route, "bank.example", "/id")

	// A Gateway that refuses it, then one that accepts it.
	acceptedBy(route, metav1.ConditionFalse, "NotAllowedByListeners")
	if err := k8s.Status().Update(ctx, route); err != nil {
		t.Fatal(err)
	}
	if msg := waitExposed(t, idp, metav1.ConditionFalse, idav1alpha1.ReasonRouteNotAccepted); !strings.Contains(msg, "NotAllowedByListeners") {
		t.Errorf("Exposed does not carry the Gateway's reason: %s", msg)
	}
	eventually(t, 5*time.Second, func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(route), route); err != nil {
			return err
		}
		acceptedBy(route, metav1.ConditionTrue, "Accepted")
		return k8s.Status().Update(ctx, route)
	})
	waitExposed(t, idp, metav1.ConditionTrue, idav1alpha1.ReasonRouteAccepted)

	// Steady state: the route is not rewritten.
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(route), route); err != nil {
		t.Fatal(err)
	}
	rv := route.ResourceVersion
	time.Sleep(2 * time.Second)
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(route), route); err != nil || route.ResourceVersion != rv {
		t.Errorf("the route was written in steady state (%v)", err)
	}

	// Drift is repaired.
	eventually(t, 5*time.Second, func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(route), route); err != nil {
			return err
		}
		route.Spec.Hostnames = []gatewayv1.Hostname{"evil.example"}
		return k8s.Update(ctx, route)
	})
	eventually(t, 10*time.Second, func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(route), route); err != nil {
			return err
		}
		if h := route.Spec.Hostnames; len(h) != 1 || h[0] != "bank.example" {
			return fmt.Errorf("hostnames %v not restored", h)
		}
		return nil
	})

	// The route follows the spec: a new issuer and another Gateway make a
	// new generation, which the old report does not cover.
	eventually(t, 5*time.Second, func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(idp), idp); err != nil {
			return err
		}
		idp.Spec.Issuer = "https://login.bank.example/tenants/a/"
		idp.Spec.Exposure.Gateway.ParentRefs = append(idp.Spec.Exposure.Gateway.ParentRefs, idav1alpha1.GatewayRef{Name: "internal"})
		return k8s.Update(ctx, idp)
	})
	waitExposed(t, idp, metav1.ConditionFalse, idav1alpha1.ReasonRoutePending)
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(route), route); err != nil {
		t.Fatal(err)
	}
	expectRoute(t, route, "login.bank.example", "/tenants/a")
	if p := route.Spec.ParentRefs; len(p) != 2 || string(*p[1].Namespace) != "identity" || p[1].Name != "internal" {
		t.Errorf("parentRefs %+v", p)
	}

	// Switched to an Ingress: the route goes.
	eventually(t, 5*time.Second, func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(idp), idp); err != nil {
			return err
		}
		idp.Spec.Exposure = &idav1alpha1.ExposureSpec{Ingress: &idav1alpha1.IngressExposure{ClassName: "nginx"}}
		return k8s.Update(ctx, idp)
	})
	waitExposed(t, idp, metav1.ConditionFalse, idav1alpha1.ReasonIngressPending)
	eventually(t, 10*time.Second, func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(route), route); !apierrors.IsNotFound(err) {
			return fmt.Errorf("HTTPRoute still there (%v)", err)
		}
		return nil
	})
}

func expectRoute(t *testing.T, route *gatewayv1.HTTPRoute, host, path string) {
	t.Helper()
	if h := route.Spec.Hostnames; len(h) != 1 || string(h[0]) != host {
		t.Errorf("hostnames %v, want %s", h, host)
	}
	if len(route.Spec.Rules) != 1 {
		t.Fatalf("rules %+v", route.Spec.Rules)
	}
	r := route.Spec.Rules[0]
	m := r.Matches[0].Path
	b := r.BackendRefs[0]
	if *m.Type != gatewayv1.PathMatchPathPrefix || *m.Value != path || b.Name != "bank" || ptr.Deref(b.Port, 0) != 8080 {
		t.Errorf("rule matches %s %s backend %s:%v, want PathPrefix %s to bank:8080", *m.Type, *m.Value, b.Name, b.Port, path)
	}
}
