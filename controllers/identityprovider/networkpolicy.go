package identityprovider

// The runtime's NetworkPolicy: who may reach it, and where it may connect.
// Every rule derives from the provider's spec and, for the Kubernetes API,
// from the endpoints the API server publishes; rendering is pure.

import (
	"cmp"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
)

// NetworkPolicyName is the name of the runtime's NetworkPolicy.
func NetworkPolicyName(idp *idav1alpha1.IdentityProvider) string { return idp.Name + "-runtime" }

// labelNamespaceName is the label the API server sets on every namespace
// to its name, so a policy can select namespaces by name.
const labelNamespaceName = "kubernetes.io/metadata.name"

// endpoint is an address the runtime connects to, by IP.
type endpoint struct {
	IP   string
	Port int32
}

// networkPolicySpec is the runtime's policy. apiServer are the Kubernetes
// API's addresses (its Service's cluster IP and the endpoints behind it:
// CNIs differ in which one a policy sees).
func networkPolicySpec(idp *idav1alpha1.IdentityProvider, apiServer []endpoint) networkingv1.NetworkPolicySpec {
	return networkingv1.NetworkPolicySpec{
		PodSelector: metav1.LabelSelector{MatchLabels: selectorLabels(idp)},
		PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
		Ingress:     ingressRules(idp),
		Egress:      egressRules(idp, apiServer),
	}
}

// edgeNamespaces are the namespaces whose pods may reach the runtime's
// port: the ones named, else those of the Gateways the route attaches to.
func edgeNamespaces(idp *idav1alpha1.IdentityProvider) []string {
	np := idp.Spec.NetworkPolicy
	if np.EdgeNamespaces != nil {
		return np.EdgeNamespaces
	}
	var out []string
	if exp := idp.Spec.Exposure; exp != nil && exp.Gateway != nil {
		for _, p := range exp.Gateway.ParentRefs {
			ns := p.Namespace
			if ns == "" {
				ns = idp.Namespace
			}
			out = append(out, ns)
		}
	}
	return out
}

// ingressRules let the edge namespaces reach the provider's port and the
// metrics namespaces the ops port (metrics), and nothing else in (kubelet
// probes are not pod traffic).
func ingressRules(idp *idav1alpha1.IdentityProvider) []networkingv1.NetworkPolicyIngressRule {
	rules := []networkingv1.NetworkPolicyIngressRule{}
	for _, r := range []struct {
		namespaces []string
		port       int32
	}{{edgeNamespaces(idp), runtimePort}, {idp.Spec.NetworkPolicy.MetricsNamespaces, opsPort}} {
		namespaces := slices.Clone(r.namespaces)
		slices.Sort(namespaces)
		namespaces = slices.Compact(namespaces)
		if len(namespaces) == 0 {
			continue
		}
		rule := networkingv1.NetworkPolicyIngressRule{Ports: []networkingv1.NetworkPolicyPort{tcp(intstr.FromInt32(r.port))}}
		for _, ns := range namespaces {
			rule.From = append(rule.From, namespacePeer(ns))
		}
		rules = append(rules, rule)
	}
	return rules
}

// egressRules: DNS anywhere (node-local caches included), the Kubernetes
// API by address, the session store and the user source where configured,
// then the spec's own.
func egressRules(idp *idav1alpha1.IdentityProvider, apiServer []endpoint) []networkingv1.NetworkPolicyEgressRule {
	rules := []networkingv1.NetworkPolicyEgressRule{{Ports: []networkingv1.NetworkPolicyPort{
		{Protocol: ptr.To(corev1.ProtocolUDP), Port: ptr.To(intstr.FromInt32(53))},
		tcp(intstr.FromInt32(53)),
	}}}
	if len(apiServer) > 0 {
		var api networkingv1.NetworkPolicyEgressRule
		for _, e := range apiServer {
			api.To = append(api.To, ipPeer(e.IP))
			if p := tcp(intstr.FromInt32(e.Port)); !slices.ContainsFunc(api.Ports, func(q networkingv1.NetworkPolicyPort) bool { return q.Port.IntVal == e.Port }) {
				api.Ports = append(api.Ports, p)
			}
		}
		rules = append(rules, api)
	}
	if r := idp.Spec.SessionStore.Redis; idp.Spec.SessionStore.Type == idav1alpha1.SessionStoreRedis && r != nil {
		if host, port, err := net.SplitHostPort(r.Address); err == nil {
			rules = append(rules, egressTo(idp, host, port))
		}
	}
	if h := idp.Spec.Users.HTTP; idp.Spec.Users.Type == idav1alpha1.UserSourceHTTP && h != nil {
		if u, err := url.Parse(h.URL); err == nil && u.Hostname() != "" {
			port := u.Port()
			if port == "" {
				port = map[string]string{"http": "80"}[u.Scheme]
				if port == "" {
					port = "443"
				}
			}
			rules = append(rules, egressTo(idp, u.Hostname(), port))
		}
	}
	// The keys of trusted external claim sources (https only).
	for _, src := range idp.Spec.IdentityAssurance.ExternalClaimSources {
		if u, err := url.Parse(src.JWKSURI); err == nil && u.Hostname() != "" {
			rules = append(rules, egressTo(idp, u.Hostname(), cmp.Or(u.Port(), "443")))
		}
	}
	return append(rules, idp.Spec.NetworkPolicy.AdditionalEgress...)
}

// egressTo is the narrowest rule a policy can state for host:port. An IP
// is itself; a Service name (`name`, `name.ns.svc`, `name.ns.svc.<domain>`)
// is its namespace; any other name resolves to addresses a policy cannot
// know, so only the port is held.
func egressTo(idp *idav1alpha1.IdentityProvider, host, port string) networkingv1.NetworkPolicyEgressRule {
	p, err := strconv.ParseInt(port, 10, 32)
	if err != nil {
		p = 443
	}
	rule := networkingv1.NetworkPolicyEgressRule{Ports: []networkingv1.NetworkPolicyPort{tcp(intstr.FromInt32(int32(p)))}}
	labels := strings.Split(strings.ToLower(strings.TrimSuffix(host, ".")), ".")
	switch {
	case net.ParseIP(host) != nil:
		rule.To = []networkingv1.NetworkPolicyPeer{ipPeer(host)}
	case len(labels) == 1:
		rule.To = []networkingv1.NetworkPolicyPeer{namespacePeer(idp.Namespace)}
	case len(labels) >= 3 && labels[2] == "svc":
		rule.To = []networkingv1.NetworkPolicyPeer{namespacePeer(labels[1])}
	}
	return rule
}

func tcp(port intstr.IntOrString) networkingv1.NetworkPolicyPort {
	return networkingv1.NetworkPolicyPort{Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(port)}
}

func namespacePeer(ns string) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{labelNamespaceName: ns}}}
}

func ipPeer(ip string) networkingv1.NetworkPolicyPeer {
	bits := "/32"
	if strings.Contains(ip, ":") {
		bits = "/128"
	}
	return networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: ip + bits}}
}

// sortEndpoints orders endpoints and drops repeats.
func sortEndpoints(eps []endpoint) []endpoint {
	slices.SortFunc(eps, func(a, b endpoint) int {
		if c := strings.Compare(a.IP, b.IP); c != 0 {
			return c
		}
		return int(a.Port - b.Port)
	})
	return slices.Compact(eps)
}
