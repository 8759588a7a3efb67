package controllers_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
	"github.com/idaop/ida-operator/controllers/conditions"
)

// markRuntimeAvailable writes the Deployment status a ready runtime pod
// would give it.
func markRuntimeAvailable(t *testing.T, ns, name string) {
	t.Helper()
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	eventually(t, 10*time.Second, func() error {
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(dep), dep); err != nil {
			return err
		}
		dep.Status = appsv1.DeploymentStatus{ObservedGeneration: dep.Generation, Replicas: 1, ReadyReplicas: 1, AvailableReplicas: 1, UpdatedReplicas: 1}
		return k8s.Status().Update(context.Background(), dep)
	})
}

// This suite's API server has no Gateway API: a provider that asks for an
// HTTPRoute says so and is otherwise Ready.
func TestProviderExposureWithoutGatewayAPI(t *testing.T) {
	createNamespace(t, "idp-nogw", nil)
	readyFramework(t, "nogw-aml", "nogw_aml", "birthdate")
	idp := newProvider("idp-nogw", "bank", idav1alpha1.TrustFrameworkSelection{Names: []string{"nogw-aml"}})
	idp.Spec.Exposure = &idav1alpha1.ExposureSpec{Gateway: &idav1alpha1.GatewayExposure{ParentRefs: []idav1alpha1.GatewayRef{{Name: "public"}}}}
	create(t, idp)
	got := waitCondition(t, idp, idav1alpha1.ConditionExposed, metav1.ConditionFalse, idav1alpha1.ReasonGatewayAPINotInstalled)
	if c := conditions.Find(got.Status.Conditions, idav1alpha1.ConditionExposed); !strings.Contains(c.Message, "install the Gateway API") {
		t.Errorf("Exposed does not say what to do: %s", c.Message)
	}
	markRuntimeAvailable(t, "idp-nogw", "bank")
	waitCondition(t, idp, idav1alpha1.ConditionReady, metav1.ConditionTrue, idav1alpha1.ReasonReconciled)
}

func TestProviderExposedByIngress(t *testing.T) {
	ctx := context.Background()
	createNamespace(t, "idp-ingress", nil)
	readyFramework(t, "ingress-aml", "ingress_aml", "birthdate")
	idp := newProvider("idp-ingress", "bank", idav1alpha1.TrustFrameworkSelection{Names: []string{"ingress-aml"}})
	idp.Spec.Issuer = "https://bank.example/id"
	idp.Spec.Exposure = &idav1alpha1.ExposureSpec{Ingress: &idav1alpha1.IngressExposure{
		ClassName: "nginx", TLSSecretName: "bank-tls", Annotations: map[string]string{"nginx.ingress.kubernetes.io/proxy-body-size": "64k"},
	}}
	create(t, idp)

	// Written and accepted by the API server; pending until a controller
	// publishes an address. Ready does not wait for it.
	got := waitCondition(t, idp, idav1alpha1.ConditionExposed, metav1.ConditionFalse, idav1alpha1.ReasonIngressPending)
	ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: "idp-ingress", Name: "bank"}}
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(ing), ing); err != nil {
		t.Fatal(err)
	}
	if !metav1.IsControlledBy(ing, got) {
		t.Error("the Ingress is not controlled by the provider")
	}
	expectIngress(t, ing, "bank.example", "/id")
	if len(ing.Spec.TLS) != 1 || ing.Spec.TLS[0].SecretName != "bank-tls" || ing.Spec.TLS[0].Hosts[0] != "bank.example" ||
		*ing.Spec.IngressClassName != "nginx" || ing.Annotations["nginx.ingress.kubernetes.io/proxy-body-size"] != "64k" {
		t.Errorf("ingress class %v tls %+v annotations %v", ing.Spec.IngressClassName, ing.Spec.TLS, ing.Annotations)
	}
	markRuntimeAvailable(t, "idp-ingress", "bank")
	waitCondition(t, idp, idav1alpha1.ConditionReady, metav1.ConditionTrue, idav1alpha1.ReasonReconciled)

	// The ingress controller's address makes it Exposed.
	ing.Status.LoadBalancer.Ingress = []networkingv1.IngressLoadBalancerIngress{{IP: "203.0.113.7"}}
	if err := k8s.Status().Update(ctx, ing); err != nil {
		t.Fatal(err)
	}
	got = waitCondition(t, idp, idav1alpha1.ConditionExposed, metav1.ConditionTrue, idav1alpha1.ReasonIngressAdmitted)
	if c := conditions.Find(got.Status.Conditions, idav1alpha1.ConditionExposed); !strings.Contains(c.Message, "203.0.113.7") {
		t.Errorf("Exposed message %q", c.Message)
	}

	// Steady state: the Ingress is not rewritten.
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(ing), ing); err != nil {
		t.Fatal(err)
	}
	rv := ing.ResourceVersion
	time.Sleep(2 * time.Second)
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(ing), ing); err != nil || ing.ResourceVersion != rv {
		t.Errorf("the Ingress was written in steady state (%v)", err)
	}

	// Drift is repaired; others' annotations stay.
	update(t, ing, func(i *networkingv1.Ingress) {
		i.Spec.Rules[0].HTTP.Paths[0].Path = "/"
		i.Annotations["team.example/owner"] = "edge"
	})
	eventually(t, 10*time.Second, func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(ing), ing); err != nil {
			return err
		}
		if p := ing.Spec.Rules[0].HTTP.Paths[0].Path; p != "/id" {
			return fmt.Errorf("path %s not restored", p)
		}
		return nil
	})
	if ing.Annotations["team.example/owner"] != "edge" {
		t.Errorf("another's annotation was removed: %v", ing.Annotations)
	}

	// It follows the issuer.
	update(t, idp, func(p *idav1alpha1.IdentityProvider) { p.Spec.Issuer = "https://login.bank.example/" })
	eventually(t, 10*time.Second, func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(ing), ing); err != nil {
			return err
		}
		if r := ing.Spec.Rules[0]; r.Host != "login.bank.example" || r.HTTP.Paths[0].Path != "/" {
			return fmt.Errorf("host %s path %s", r.Host, r.HTTP.Paths[0].Path)
		}
		return nil
	})

	// Without spec.exposure, no Ingress and no Exposed condition.
	update(t, idp, func(p *idav1alpha1.IdentityProvider) { p.Spec.Exposure = nil })
	eventually(t, 10*time.Second, func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(ing), ing); !apierrors.IsNotFound(err) {
			return fmt.Errorf("Ingress still there (%v)", err)
		}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(idp), idp); err != nil {
			return err
		}
		if c := conditions.Find(idp.Status.Conditions, idav1alpha1.ConditionExposed); c != nil || idp.Status.ObservedGeneration != idp.Generation {
			return fmt.Errorf("Exposed still reported: %+v", c)
		}
		return nil
	})
}

func expectIngress(t *testing.T, ing *networkingv1.Ingress, host, path string) {
	t.Helper()
	if len(ing.Spec.Rules) != 1 {
		t.Fatalf("rules %+v", ing.Spec.Rules)
	}
	r := ing.Spec.Rules[0]
	p := r.HTTP.Paths[0]
	if r.Host != host || p.Path != path || ptr.Deref(p.PathType, "") != networkingv1.PathTypePrefix ||
		p.Backend.Service.Name != "bank" || p.Backend.Service.Port.Name != "http" {
		t.Errorf("ingress rule %+v, want %s%s to Service bank port http", r, host, path)
	}
}
