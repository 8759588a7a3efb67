// Package story holds what the operator's two end-to-end tests share,
// test/e2e (envtest, the runtime on loopback) and test/node (a real node,
// everything as pods): the relying party's request and the objects a
// provider's tenancy starts with.
package story

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/idaop/ida-operator/runtime/users"
)

const (
	// AccessLabel on a namespace names the provider whose
	// AllowedRelyingParties selects it.
	AccessLabel = "ida.idaop.dev/provider-access"

	// Purpose and Scope are what the relying party asks for.
	Purpose = "To open your account, we check who you are."
	Scope   = "openid profile offline_access"
)

// Tenancy is what a provider named provider in providerNS starts with, in
// the order to create them: its namespace, a team namespace labelled with
// AccessLabel for it, and its users Secret (users.json).
func Tenancy(providerNS, provider, teamNS, usersSecret string, usersJSON []byte) []client.Object {
	return []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: providerNS}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: teamNS, Labels: map[string]string{AccessLabel: provider}}},
		&corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: providerNS, Name: usersSecret},
			Data:       map[string][]byte{"users.json": usersJSON},
		},
	}
}

// DemoUsers is users.DemoUsers(password), failing t on an error.
func DemoUsers(t testing.TB, password string) []byte {
	t.Helper()
	raw, err := users.DemoUsers(password)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
