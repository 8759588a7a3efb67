package controllers_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
	"github.com/idaop/ida-operator/controllers/conditions"
	"github.com/idaop/ida-operator/runtime/config"
)

// TestProviderExternalClaimSources: the trusted external claim sources
// reach the runtime's configuration and discovery advertises aggregated
// and distributed claims; a source trusted for a framework the provider
// does not offer is reported and the last good configuration stays.
func TestProviderExternalClaimSources(t *testing.T) {
	createNamespace(t, "idp-extclaims", nil)
	readyFramework(t, "ext-tfida", "ext_tfida", "given_name", "family_name")
	idp := newProvider("idp-extclaims", "bank", idav1alpha1.TrustFrameworkSelection{Names: []string{"ext-tfida"}})
	idp.Spec.IdentityAssurance.ExternalClaimSources = []idav1alpha1.ExternalClaimSource{{
		Issuer: "https://kyc.example", JWKSURI: "https://kyc.example/jwks", TrustFrameworks: []idav1alpha1.Identifier{"ext_tfida"},
	}}
	idp.Spec.IdentityAssurance.ExternalClaimsLookAhead = true
	create(t, idp)
	waitCondition(t, idp, idav1alpha1.ConditionConfigReady, metav1.ConditionTrue, idav1alpha1.ReasonRendered)

	if got := stringsOf(discovery(t, "idp-extclaims", "bank")["claim_types_supported"]); !slices.Equal(got, []string{"normal", "aggregated", "distributed"}) {
		t.Errorf("claim_types_supported = %v", got)
	}
	var cm corev1.ConfigMap
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: "idp-extclaims", Name: "bank-provider"}, &cm); err != nil {
		t.Fatal(err)
	}
	var p config.Provider
	if err := json.Unmarshal([]byte(cm.Data[config.ProviderConfigKey]), &p); err != nil {
		t.Fatal(err)
	}
	if x := p.ExternalClaims; x == nil || !x.LookAhead || len(x.Sources) != 1 || x.Sources[0].JWKSURI != "https://kyc.example/jwks" ||
		!slices.Equal(x.Sources[0].TrustFrameworks, []string{"ext_tfida"}) {
		t.Errorf("external_claims = %+v", p.ExternalClaims)
	}

	update(t, idp, func(idp *idav1alpha1.IdentityProvider) {
		idp.Spec.IdentityAssurance.ExternalClaimSources[0].TrustFrameworks = []idav1alpha1.Identifier{"uk_tfida"}
	})
	got := waitCondition(t, idp, idav1alpha1.ConditionConfigReady, metav1.ConditionFalse, idav1alpha1.ReasonInvalidSpec)
	if c := conditions.Find(got.Status.Conditions, idav1alpha1.ConditionConfigReady); !strings.Contains(c.Message, `"uk_tfida" is not a trust framework the provider offers`) {
		t.Errorf("the condition does not say what to fix: %s", c.Message)
	}
	if got := stringsOf(discovery(t, "idp-extclaims", "bank")["claim_types_supported"]); len(got) != 3 {
		t.Errorf("the last good discovery was replaced: %v", got)
	}
}
