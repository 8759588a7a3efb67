package controllers_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
)

func TestProviderNetworkPolicy(t *testing.T) {
	ctx := context.Background()
	createNamespace(t, "idp-netpol", nil)
	readyFramework(t, "netpol-aml", "netpol_aml", "birthdate")
	idp := newProvider("idp-netpol", "bank", idav1alpha1.TrustFrameworkSelection{Names: []string{"netpol-aml"}})
	idp.Spec.SessionStore = idav1alpha1.SessionStoreSpec{Type: idav1alpha1.SessionStoreRedis, Redis: &idav1alpha1.RedisSpec{Address: "redis.cache.svc:6379"}}
	idp.Spec.NetworkPolicy = &idav1alpha1.NetworkPolicySpec{EdgeNamespaces: []string{"ingress-nginx"}, MetricsNamespaces: []string{"monitoring"}}
	create(t, idp)

	key := client.ObjectKey{Namespace: "idp-netpol", Name: "bank-runtime"}
	np := &networkingv1.NetworkPolicy{}
	eventually(t, 10*time.Second, func() error { return k8s.Get(ctx, key, np) })
	if np.Spec.PodSelector.MatchLabels[idav1alpha1.LabelInstance] != "bank" || len(np.Spec.PolicyTypes) != 2 {
		t.Errorf("selector %v types %v", np.Spec.PodSelector, np.Spec.PolicyTypes)
	}
	if in := np.Spec.Ingress; len(in) != 2 || in[0].Ports[0].Port.IntValue() != 8080 || in[1].Ports[0].Port.IntValue() != 8081 {
		t.Errorf("ingress %+v", in)
	}

	// The Kubernetes API by the addresses this API server publishes.
	var svc corev1.Service
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: "default", Name: "kubernetes"}, &svc); err != nil {
		t.Fatal(err)
	}
	var cidrs, namespaces []string
	for _, r := range np.Spec.Egress {
		for _, p := range r.To {
			if p.IPBlock != nil {
				cidrs = append(cidrs, p.IPBlock.CIDR)
			}
			if p.NamespaceSelector != nil {
				namespaces = append(namespaces, p.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"])
			}
		}
	}
	if !strings.Contains(fmt.Sprint(cidrs), svc.Spec.ClusterIP+"/32") || fmt.Sprint(namespaces) != "[cache]" {
		t.Errorf("egress to %v and namespaces %v; want the API server's %s and Redis's namespace cache", cidrs, namespaces, svc.Spec.ClusterIP)
	}

	// Steady state, then the opt-out removes it.
	rv := np.ResourceVersion
	time.Sleep(2 * time.Second)
	if err := k8s.Get(ctx, key, np); err != nil || np.ResourceVersion != rv {
		t.Errorf("the NetworkPolicy was rewritten in steady state (%v)", err)
	}
	update(t, idp, func(p *idav1alpha1.IdentityProvider) { p.Spec.NetworkPolicy = nil })
	eventually(t, 10*time.Second, func() error {
		if err := k8s.Get(ctx, key, np); !apierrors.IsNotFound(err) {
			return fmt.Errorf("NetworkPolicy still there (%v)", err)
		}
		return nil
	})
}
