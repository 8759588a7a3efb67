package controllers_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
)

// A TrustFramework may vouch for authority (the Authority Claims Extension
// draft): it is Ready, and a provider using it advertises the claim and
// authority_claims_supported in its discovery document.
func TestProviderAdvertisesAuthorityClaims(t *testing.T) {
	createNamespace(t, "idp-authority", nil)
	readyFramework(t, "gbizid", "jp_gbizid_v1", "family_name", "given_name", "authority")
	idp := newProvider("idp-authority", "bank", idav1alpha1.TrustFrameworkSelection{Names: []string{"gbizid"}})
	create(t, idp)
	waitCondition(t, idp, idav1alpha1.ConditionConfigReady, metav1.ConditionTrue, idav1alpha1.ReasonRendered)
	eventually(t, 10*time.Second, func() error {
		doc := discovery(t, "idp-authority", "bank")
		if claims := stringsOf(doc["claims_in_verified_claims_supported"]); !slices.Contains(claims, "authority") {
			return fmt.Errorf("claims_in_verified_claims_supported = %v", claims)
		}
		if doc["authority_claims_supported"] != true {
			return fmt.Errorf("authority_claims_supported = %v", doc["authority_claims_supported"])
		}
		return nil
	})
}
