package deploy

import (
	"context"
	"fmt"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The manager's identity, as the API server sees its pod.
var managerUser = authorizationv1.SubjectAccessReviewSpec{
	User:   "system:serviceaccount:" + operatorNamespace + ":" + managerSA,
	Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + operatorNamespace, "system:authenticated"},
}

// access is one request the manager may or may not make.
type access struct {
	verb, group, resource, subresource, namespace string
}

func (a access) String() string {
	r := a.resource
	if a.subresource != "" {
		r += "/" + a.subresource
	}
	if a.group != "" {
		r += "." + a.group
	}
	where := "cluster-wide"
	if a.namespace != "" {
		where = "in " + a.namespace
	}
	return fmt.Sprintf("%s %s %s", a.verb, r, where)
}

func allowed(t *testing.T, a access) bool {
	t.Helper()
	sar := &authorizationv1.SubjectAccessReview{Spec: managerUser}
	sar.Spec.ResourceAttributes = &authorizationv1.ResourceAttributes{
		Verb: a.verb, Group: a.group, Resource: a.resource, Subresource: a.subresource, Namespace: a.namespace,
	}
	if err := admin.Create(context.Background(), sar); err != nil {
		t.Fatal(err)
	}
	return sar.Status.Allowed
}

// What the manager needs wherever it manages providers and relying parties
// (team-a stands for an RP namespace, idp-demo for a provider's).
func neededIn(ns string) []access {
	return []access{
		{"get", "ida.idaop.dev", "identityproviders", "", ns},
		{"list", "ida.idaop.dev", "identityproviders", "", ns},
		{"watch", "ida.idaop.dev", "identityproviders", "", ns},
		{"update", "ida.idaop.dev", "identityproviders", "status", ns},
		{"patch", "ida.idaop.dev", "relyingparties", "status", ns},
		{"update", "ida.idaop.dev", "relyingparties", "finalizers", ns},
		{"create", "", "secrets", "", ns},
		{"get", "", "secrets", "", ns},
		{"update", "", "secrets", "", ns},
		{"delete", "", "secrets", "", ns},
		{"create", "", "configmaps", "", ns},
		{"create", "", "services", "", ns},
		{"create", "", "serviceaccounts", "", ns},
		{"create", "apps", "deployments", "", ns},
		{"update", "apps", "deployments", "", ns},
		{"create", "rbac.authorization.k8s.io", "roles", "", ns},
		{"create", "rbac.authorization.k8s.io", "rolebindings", "", ns},
		{"create", "policy", "poddisruptionbudgets", "", ns},
		{"create", "autoscaling", "horizontalpodautoscalers", "", ns},
		{"update", "autoscaling", "horizontalpodautoscalers", "", ns},
		{"create", "networking.k8s.io", "ingresses", "", ns},
		{"create", "networking.k8s.io", "networkpolicies", "", ns},
		{"update", "networking.k8s.io", "networkpolicies", "", ns},
		{"update", "networking.k8s.io", "ingresses", "", ns},
		{"create", "gateway.networking.k8s.io", "httproutes", "", ns},
		{"update", "gateway.networking.k8s.io", "httproutes", "", ns},
		{"create", "events.k8s.io", "events", "", ns},
	}
}

// What the manager needs whatever it manages.
var neededAlways = []access{
	{"get", "ida.idaop.dev", "trustframeworks", "", ""},
	{"list", "ida.idaop.dev", "trustframeworks", "", ""},
	{"watch", "ida.idaop.dev", "trustframeworks", "", ""},
	{"update", "ida.idaop.dev", "trustframeworks", "status", ""},
	{"list", "", "namespaces", "", ""},
	{"watch", "", "namespaces", "", ""},
	{"get", "coordination.k8s.io", "leases", "", operatorNamespace},
	{"create", "coordination.k8s.io", "leases", "", operatorNamespace},
	{"update", "coordination.k8s.io", "leases", "", operatorNamespace},
	{"create", "events.k8s.io", "events", "", operatorNamespace},
	// Events of the cluster-scoped TrustFrameworks go to "default".
	{"create", "events.k8s.io", "events", "", "default"},
	// The Kubernetes API's addresses, for a provider's NetworkPolicy.
	{"list", "discovery.k8s.io", "endpointslices", "", "default"},
}

// What the manager must never be able to do.
var forbiddenAlways = []access{
	{"delete", "apiextensions.k8s.io", "customresourcedefinitions", "", ""},
	{"create", "apiextensions.k8s.io", "customresourcedefinitions", "", ""},
	{"update", "apiextensions.k8s.io", "customresourcedefinitions", "", ""},
	{"create", "rbac.authorization.k8s.io", "clusterroles", "", ""},
	{"create", "rbac.authorization.k8s.io", "clusterrolebindings", "", ""},
	{"escalate", "rbac.authorization.k8s.io", "roles", "", "team-a"},
	{"escalate", "rbac.authorization.k8s.io", "clusterroles", "", ""},
	{"bind", "rbac.authorization.k8s.io", "clusterroles", "", ""},
	{"bind", "rbac.authorization.k8s.io", "roles", "", "team-a"},
	{"impersonate", "", "users", "", ""},
	{"impersonate", "", "serviceaccounts", "", "team-a"},
	{"get", "", "nodes", "", ""},
	{"list", "", "nodes", "", ""},
	{"create", "", "pods", "", "team-a"},
	{"create", "", "pods", "exec", "team-a"},
	{"get", "", "pods", "exec", "team-a"},
	{"create", "", "pods", "attach", "team-a"},
	{"create", "", "serviceaccounts", "token", "team-a"},
	{"create", "", "namespaces", "", ""},
	{"update", "", "namespaces", "", ""},
	{"patch", "", "namespaces", "", ""},
	{"delete", "", "namespaces", "", ""},
	{"create", "ida.idaop.dev", "trustframeworks", "", ""},
	{"delete", "ida.idaop.dev", "trustframeworks", "", ""},
	{"update", "ida.idaop.dev", "identityproviders", "", "idp-demo"},
	{"create", "ida.idaop.dev", "relyingparties", "", "team-a"},
	{"create", "coordination.k8s.io", "leases", "", "kube-system"},
	{"create", "admissionregistration.k8s.io", "validatingwebhookconfigurations", "", ""},
}

// installRBAC applies the RBAC objects of a rendering (and the namespaces
// they live in) for real, and returns an uninstall function.
func installRBAC(t *testing.T, objs []*unstructured.Unstructured) func() {
	t.Helper()
	var rbac []*unstructured.Unstructured
	for _, u := range objs {
		switch u.GetKind() {
		case "Namespace":
			ensureNamespace(t, u.GetName())
		case "ServiceAccount", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding":
			if u.GetNamespace() != "" {
				ensureNamespace(t, u.GetNamespace())
			}
			rbac = append(rbac, u)
		}
	}
	applyForReal(t, rbac)
	return func() {
		for _, u := range rbac {
			if err := admin.Delete(context.Background(), u.DeepCopy()); err != nil && !apierrors.IsNotFound(err) {
				t.Errorf("deleting %s %s: %v", u.GetKind(), u.GetName(), err)
			}
		}
	}
}

// expect checks accesses. The RBAC authorizer sees new bindings a moment
// after they are written, so what must be allowed is polled for a while
// (and checked first); what must be refused is checked after that, once.
func expect(t *testing.T, allow, deny []access) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for _, a := range allow {
		for !allowed(t, a) {
			if time.Now().After(deadline) {
				t.Errorf("the manager cannot %s; it needs to", a)
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	for _, a := range deny {
		ok := allowed(t, a)
		// A refusal may be the lag of a binding just deleted: wait for it
		// too, but report what stays allowed.
		for ok && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
			ok = allowed(t, a)
		}
		if ok {
			t.Errorf("the manager can %s; it must not", a)
		}
	}
}

// impersonated is a client that authenticates as the manager's
// ServiceAccount (impersonation by the administrator).
func impersonated(t *testing.T) client.Client {
	t.Helper()
	cfg := rest.CopyConfig(restCfg)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: managerUser.User, Groups: managerUser.Groups}
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func secretIn(ns, name string) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, StringData: map[string]string{"k": "v"}}
}

// config/default: the manager manages every namespace, so it may hold
// Secrets anywhere ("configured for all"), and no more than it needs.
func TestRBACDefaultIsLeastPrivilege(t *testing.T) {
	for _, ns := range []string{"team-a", "idp-demo", "elsewhere"} {
		ensureNamespace(t, ns)
	}
	uninstall := installRBAC(t, render(t, "default"))
	defer uninstall()
	var allow []access
	allow = append(allow, neededAlways...)
	allow = append(allow, neededIn("team-a")...)
	allow = append(allow, neededIn("idp-demo")...)
	allow = append(allow, access{"get", "", "secrets", "", "elsewhere"})
	expect(t, allow, forbiddenAlways)

	// The same through real requests made as the manager.
	ctx := context.Background()
	sa := impersonated(t)
	if err := sa.Create(ctx, secretIn("team-a", "rbac-test-credentials")); err != nil {
		t.Errorf("the manager cannot create a Secret in an RP namespace: %v", err)
	}
	var tfs unstructured.UnstructuredList
	tfs.SetAPIVersion("ida.idaop.dev/v1alpha1")
	tfs.SetKind("TrustFrameworkList")
	if err := sa.List(ctx, &tfs); err != nil {
		t.Errorf("the manager cannot list TrustFrameworks: %v", err)
	}
	cr := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "rbac-test-escalation"}, Rules: []rbacv1.PolicyRule{{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}}}}
	if err := sa.Create(ctx, cr); !apierrors.IsForbidden(err) {
		t.Errorf("creating a ClusterRole as the manager: got %v, want Forbidden", err)
	}
	// A Role granting more than the manager holds is refused (no escalate).
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "rbac-test-escalation"}, Rules: cr.Rules}
	if err := sa.Create(ctx, role); !apierrors.IsForbidden(err) {
		t.Errorf("creating an all-powerful Role as the manager: got %v, want Forbidden", err)
	}
	ns := &corev1.Namespace{}
	if err := sa.Get(ctx, client.ObjectKey{Name: "team-a"}, ns); err != nil {
		t.Fatalf("the manager cannot read a Namespace: %v", err)
	}
	ns.Labels = map[string]string{"rbac-test": "x"}
	if err := sa.Update(ctx, ns); !apierrors.IsForbidden(err) {
		t.Errorf("updating a Namespace as the manager: got %v, want Forbidden", err)
	}
}

// config/namespaced: the manager may read and write Secrets (and
// everything else namespaced) only in the namespaces it is given.
func TestRBACNamespacedKeepsSecretsOfOtherNamespaces(t *testing.T) {
	objs := render(t, "namespaced")
	dep := find(objs, "Deployment", operatorNamespace, managerName)
	if dep == nil {
		t.Fatal("no manager Deployment")
	}
	managed := namespacesFlag(t, dep)
	if len(managed) == 0 {
		t.Fatal("config/namespaced does not pass --namespaces")
	}
	for _, ns := range append(managed, "elsewhere") {
		ensureNamespace(t, ns)
	}
	uninstall := installRBAC(t, objs)
	defer uninstall()
	var allow []access
	allow = append(allow, neededAlways...)
	for _, ns := range managed {
		allow = append(allow, neededIn(ns)...)
	}
	deny := append([]access{}, forbiddenAlways...)
	for _, verb := range []string{"get", "list", "watch", "create", "update", "delete"} {
		deny = append(deny,
			access{verb, "", "secrets", "", "elsewhere"},
			access{verb, "", "secrets", "", "kube-system"},
		)
	}
	deny = append(deny,
		access{"list", "", "secrets", "", ""}, // across all namespaces
		access{"create", "apps", "deployments", "", "elsewhere"},
		access{"create", "", "configmaps", "", "elsewhere"},
		access{"create", "rbac.authorization.k8s.io", "roles", "", "elsewhere"},
		access{"list", "ida.idaop.dev", "relyingparties", "", ""},
	)
	expect(t, allow, deny)

	ctx := context.Background()
	sa := impersonated(t)
	if err := admin.Create(ctx, secretIn("elsewhere", "not-the-operators")); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	if err := sa.Get(ctx, client.ObjectKey{Namespace: "elsewhere", Name: "not-the-operators"}, &corev1.Secret{}); !apierrors.IsForbidden(err) {
		t.Errorf("reading a Secret of an unlisted namespace as the manager: got %v, want Forbidden", err)
	}
	if err := sa.Create(ctx, secretIn(managed[0], "rbac-test-namespaced")); err != nil {
		t.Errorf("the manager cannot create a Secret in %s, a namespace it manages: %v", managed[0], err)
	}
}
