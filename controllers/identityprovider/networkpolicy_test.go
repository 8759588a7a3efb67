package identityprovider

import (
	"fmt"
	"slices"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
)

func policyProvider(np *idav1alpha1.NetworkPolicySpec) *idav1alpha1.IdentityProvider {
	return &idav1alpha1.IdentityProvider{
		ObjectMeta: metav1.ObjectMeta{Namespace: "identity", Name: "bank"},
		Spec:       idav1alpha1.IdentityProviderSpec{Issuer: "https://bank.example", NetworkPolicy: np},
	}
}

// peers renders a rule's destinations and ports compactly for comparison.
func peers(to []networkingv1.NetworkPolicyPeer, ports []networkingv1.NetworkPolicyPort) string {
	var out []string
	for _, p := range to {
		switch {
		case p.IPBlock != nil:
			out = append(out, p.IPBlock.CIDR)
		case p.NamespaceSelector != nil:
			out = append(out, "ns="+p.NamespaceSelector.MatchLabels[labelNamespaceName])
		}
	}
	if len(out) == 0 {
		out = []string{"anywhere"}
	}
	for _, p := range ports {
		out = append(out, fmt.Sprintf("%s/%s", *p.Protocol, p.Port.String()))
	}
	return fmt.Sprint(out)
}

func TestEgressTo(t *testing.T) {
	idp := policyProvider(&idav1alpha1.NetworkPolicySpec{})
	for _, tc := range []struct{ host, port, want string }{
		{"10.0.0.7", "6379", "[10.0.0.7/32 TCP/6379]"},
		{"fd00::7", "6379", "[fd00::7/128 TCP/6379]"},
		{"redis", "6379", "[ns=identity TCP/6379]"},
		{"redis.cache.svc", "6380", "[ns=cache TCP/6380]"},
		{"redis.cache.svc.cluster.local.", "6379", "[ns=cache TCP/6379]"},
		// A name a policy cannot resolve: only the port is held.
		{"redis.cache", "6379", "[anywhere TCP/6379]"},
		{"kyc.bank.example", "443", "[anywhere TCP/443]"},
	} {
		r := egressTo(idp, tc.host, tc.port)
		if got := peers(r.To, r.Ports); got != tc.want {
			t.Errorf("%s:%s: %s, want %s", tc.host, tc.port, got, tc.want)
		}
	}
}

func TestIngressRules(t *testing.T) {
	gateway := &idav1alpha1.ExposureSpec{Gateway: &idav1alpha1.GatewayExposure{ParentRefs: []idav1alpha1.GatewayRef{{Name: "public", Namespace: "gateways"}, {Name: "local"}}}}
	for _, tc := range []struct {
		name string
		np   idav1alpha1.NetworkPolicySpec
		exp  *idav1alpha1.ExposureSpec
		want []string
	}{
		{"edge from the Gateways, and metrics on the ops port", idav1alpha1.NetworkPolicySpec{MetricsNamespaces: []string{"monitoring"}}, gateway,
			[]string{"[ns=gateways ns=identity TCP/8080]", "[ns=monitoring TCP/8081]"}},
		{"edge named wins over the Gateways", idav1alpha1.NetworkPolicySpec{EdgeNamespaces: []string{"envoy-gateway-system"}}, gateway,
			[]string{"[ns=envoy-gateway-system TCP/8080]"}},
		{"a namespace named twice once", idav1alpha1.NetworkPolicySpec{EdgeNamespaces: []string{"edge", "edge"}}, nil, []string{"[ns=edge TCP/8080]"}},
		{"nothing named: nothing in", idav1alpha1.NetworkPolicySpec{EdgeNamespaces: []string{}}, nil, nil},
	} {
		idp := policyProvider(&tc.np)
		idp.Spec.Exposure = tc.exp
		rules := ingressRules(idp)
		var got []string
		for _, r := range rules {
			got = append(got, peers(r.From, r.Ports))
		}
		if !slices.Equal(got, tc.want) || rules == nil {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestEgressRules(t *testing.T) {
	idp := policyProvider(&idav1alpha1.NetworkPolicySpec{AdditionalEgress: []networkingv1.NetworkPolicyEgressRule{{
		Ports: []networkingv1.NetworkPolicyPort{tcp(intstr.FromInt32(443))},
	}}})
	api := sortEndpoints([]endpoint{{"172.18.0.2", 6443}, {"10.96.0.1", 443}, {"172.18.0.2", 6443}})
	describe := func() []string {
		var out []string
		for _, r := range egressRules(idp, api) {
			out = append(out, peers(r.To, r.Ports))
		}
		return out
	}
	dns := "[anywhere UDP/53 TCP/53]"
	apiRule := "[10.96.0.1/32 172.18.0.2/32 TCP/443 TCP/6443]"
	if got, want := describe(), []string{dns, apiRule, "[anywhere TCP/443]"}; !slices.Equal(got, want) {
		t.Errorf("memory store, builtin users:\n got %v\nwant %v", got, want)
	}
	idp.Spec.SessionStore = idav1alpha1.SessionStoreSpec{Type: idav1alpha1.SessionStoreRedis, Redis: &idav1alpha1.RedisSpec{Address: "redis.cache.svc:6379"}}
	idp.Spec.Users = idav1alpha1.UserSourceSpec{Type: idav1alpha1.UserSourceHTTP, HTTP: &idav1alpha1.HTTPUserSource{URL: "https://kyc.bank.example/users"}}
	idp.Spec.NetworkPolicy.AdditionalEgress = nil
	if got, want := describe(), []string{dns, apiRule, "[ns=cache TCP/6379]", "[anywhere TCP/443]"}; !slices.Equal(got, want) {
		t.Errorf("Redis and HTTP users:\n got %v\nwant %v", got, want)
	}
	idp.Spec.IdentityAssurance.ExternalClaimSources = []idav1alpha1.ExternalClaimSource{
		{Issuer: "https://kyc.example", JWKSURI: "https://keys.kyc.svc:8443/jwks", TrustFrameworks: []idav1alpha1.Identifier{"uk_tfida"}},
	}
	if got, want := describe(), []string{dns, apiRule, "[ns=cache TCP/6379]", "[anywhere TCP/443]", "[ns=kyc TCP/8443]"}; !slices.Equal(got, want) {
		t.Errorf("with an external claim source:\n got %v\nwant %v", got, want)
	}
}
