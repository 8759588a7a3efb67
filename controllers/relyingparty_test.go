package controllers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
	"github.com/idaop/ida-operator/controllers/conditions"
	"github.com/idaop/ida-operator/controllers/relyingparty"
	"github.com/idaop/ida-operator/runtime/config"
)

// providerFixture creates a namespace with a configured provider whose
// namespaces policy is from.
func providerFixture(t *testing.T, ns string, allowed idav1alpha1.RelyingPartyNamespaces) *idav1alpha1.IdentityProvider {
	t.Helper()
	createNamespace(t, ns, nil)
	readyFramework(t, ns+"-aml", strings.ReplaceAll(ns, "-", "_")+"_aml", "given_name", "birthdate")
	idp := newProvider(ns, "bank", idav1alpha1.TrustFrameworkSelection{Names: []string{ns + "-aml"}})
	idp.Spec.AllowedRelyingParties.Namespaces = allowed
	create(t, idp)
	waitCondition(t, idp, idav1alpha1.ConditionConfigReady, metav1.ConditionTrue, idav1alpha1.ReasonRendered)
	return idp
}

func newRelyingParty(ns, name string, idp *idav1alpha1.IdentityProvider) *idav1alpha1.RelyingParty {
	return &idav1alpha1.RelyingParty{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: idav1alpha1.RelyingPartySpec{
			ProviderRef:  idav1alpha1.ProviderReference{Name: idp.Name, Namespace: idp.Namespace},
			RedirectURIs: []string{"https://app.example/cb"},
		},
	}
}

func registration(t *testing.T, rp *idav1alpha1.RelyingParty) (*corev1.Secret, *config.Client, error) {
	t.Helper()
	var s corev1.Secret
	key := client.ObjectKey{Namespace: rp.ProviderNamespace(), Name: relyingparty.RegistrationName(rp)}
	if err := k8s.Get(context.Background(), key, &s); err != nil {
		return nil, nil, err
	}
	c, err := config.ParseClient(s.Data[config.ClientKey])
	return &s, c, err
}

func credentials(t *testing.T, rp *idav1alpha1.RelyingParty) *corev1.Secret {
	t.Helper()
	var s corev1.Secret
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: rp.Namespace, Name: rp.CredentialsSecretName()}, &s); err != nil {
		t.Fatal(err)
	}
	return &s
}

func TestRelyingPartyWithGeneratedSecret(t *testing.T) {
	ctx := context.Background()
	idp := providerFixture(t, "rp-gen", idav1alpha1.RelyingPartyNamespaces{From: idav1alpha1.NamespacesFromSame})
	rp := newRelyingParty("rp-gen", "webapp", idp)
	rp.Spec.VerifiedClaims = idav1alpha1.VerifiedClaimsPolicy{TrustFrameworks: []string{"rp_gen_aml"}, Claims: []idav1alpha1.ClaimName{"birthdate"}}
	create(t, rp)
	got := waitCondition(t, rp, idav1alpha1.ConditionReady, metav1.ConditionTrue, idav1alpha1.ReasonReconciled)
	if got.Status.ClientID != "rp-gen.webapp" || got.Status.Issuer != idp.Spec.Issuer || got.Status.CredentialsSecretName != "webapp-oidc-credentials" {
		t.Errorf("status = %+v", got.Status)
	}

	creds := credentials(t, rp)
	secret := string(creds.Data["client_secret"])
	if len(secret) < 43 || string(creds.Data["client_id"]) != "rp-gen.webapp" || string(creds.Data["issuer"]) != idp.Spec.Issuer ||
		string(creds.Data["discovery_url"]) != idp.Spec.Issuer+"/.well-known/openid-configuration" {
		t.Errorf("credentials Secret data: client_id %q issuer %q discovery %q secret length %d",
			creds.Data["client_id"], creds.Data["issuer"], creds.Data["discovery_url"], len(secret))
	}
	if !metav1.IsControlledBy(creds, got) {
		t.Error("credentials Secret is not controlled by the RelyingParty")
	}
	reg, client1, err := registration(t, rp)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(reg.Data[config.ClientKey]), secret) || !client1.VerifySecret(secret) || client1.VerifySecret(secret+"x") {
		t.Error("the registration must hold a hash that verifies the secret, never the secret")
	}
	if !metav1.IsControlledBy(reg, idp) {
		t.Error("the registration is not controlled by the provider")
	}
	providerWithRPs := waitCondition(t, idp, idav1alpha1.ConditionKeysReady, metav1.ConditionTrue, idav1alpha1.ReasonKeysGenerated)
	eventually(t, 10*time.Second, func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(idp), providerWithRPs); err != nil {
			return err
		}
		if providerWithRPs.Status.AttachedRelyingParties != 1 {
			return fmt.Errorf("attachedRelyingParties = %d", providerWithRPs.Status.AttachedRelyingParties)
		}
		return nil
	})

	// Steady state: nothing is written.
	before := resourceVersions(t, "rp-gen")
	time.Sleep(3 * time.Second)
	if after := resourceVersions(t, "rp-gen"); !maps.Equal(before, after) {
		t.Errorf("writes in steady state:\nbefore %v\nafter  %v", before, after)
	}

	// Drift: an edited credentials Secret and a deleted registration come back.
	update(t, creds, func(s *corev1.Secret) { s.Data["issuer"] = []byte("https://evil.example") })
	if err := k8s.Delete(ctx, reg); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		if string(credentials(t, rp).Data["issuer"]) != idp.Spec.Issuer {
			return fmt.Errorf("issuer not restored")
		}
		_, c, err := registration(t, rp)
		if err != nil {
			return err
		}
		if !c.VerifySecret(secret) {
			return fmt.Errorf("restored registration does not verify the same secret")
		}
		return nil
	})

	// Deleting the RelyingParty removes its registration.
	if err := k8s.Delete(ctx, rp); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		if _, _, err := registration(t, rp); !apierrors.IsNotFound(err) {
			return fmt.Errorf("registration still there (%v)", err)
		}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(rp), rp); !apierrors.IsNotFound(err) {
			return fmt.Errorf("RelyingParty still there (%v)", err)
		}
		return nil
	})
}

func TestRelyingPartyAttachmentPolicy(t *testing.T) {
	idp := providerFixture(t, "rp-attach", idav1alpha1.RelyingPartyNamespaces{From: idav1alpha1.NamespacesFromSame})
	createNamespace(t, "rp-attach-team", nil)
	rp := newRelyingParty("rp-attach-team", "app", idp)
	create(t, rp)

	// Same: another namespace is refused, with a message that would read the
	// same for a provider that does not exist.
	got := waitCondition(t, rp, idav1alpha1.ConditionAccepted, metav1.ConditionFalse, idav1alpha1.ReasonNotAllowedByProvider)
	refusedMsg := conditions.Find(got.Status.Conditions, idav1alpha1.ConditionAccepted).Message
	ghost := newRelyingParty("rp-attach-team", "ghost", idp)
	ghost.Spec.ProviderRef.Name = "does-not-exist"
	create(t, ghost)
	gotGhost := waitCondition(t, ghost, idav1alpha1.ConditionAccepted, metav1.ConditionFalse, idav1alpha1.ReasonNotAllowedByProvider)
	ghostMsg := conditions.Find(gotGhost.Status.Conditions, idav1alpha1.ConditionAccepted).Message
	if strings.ReplaceAll(ghostMsg, "does-not-exist", "bank") != refusedMsg {
		t.Errorf("refusals differ, revealing the provider:\n%s\n%s", refusedMsg, ghostMsg)
	}
	if _, _, err := registration(t, rp); !apierrors.IsNotFound(err) {
		t.Errorf("a refused RP has a registration (%v)", err)
	}

	// All: accepted.
	update(t, idp, func(p *idav1alpha1.IdentityProvider) {
		p.Spec.AllowedRelyingParties.Namespaces = idav1alpha1.RelyingPartyNamespaces{From: idav1alpha1.NamespacesFromAll}
	})
	waitCondition(t, rp, idav1alpha1.ConditionReady, metav1.ConditionTrue, idav1alpha1.ReasonReconciled)

	// Selector: follows the namespace's labels both ways.
	update(t, idp, func(p *idav1alpha1.IdentityProvider) {
		p.Spec.AllowedRelyingParties.Namespaces = idav1alpha1.RelyingPartyNamespaces{
			From:     idav1alpha1.NamespacesFromSelector,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"bank.example/partner": "true"}},
		}
	})
	waitCondition(t, rp, idav1alpha1.ConditionAccepted, metav1.ConditionFalse, idav1alpha1.ReasonNotAllowedByProvider)
	eventually(t, 10*time.Second, func() error {
		if _, _, err := registration(t, rp); !apierrors.IsNotFound(err) {
			return fmt.Errorf("registration of a refused RP still there (%v)", err)
		}
		return nil
	})
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "rp-attach-team"}}
	update(t, ns, func(n *corev1.Namespace) { n.Labels["bank.example/partner"] = "true" })
	waitCondition(t, rp, idav1alpha1.ConditionReady, metav1.ConditionTrue, idav1alpha1.ReasonReconciled)
	update(t, ns, func(n *corev1.Namespace) { delete(n.Labels, "bank.example/partner") })
	waitCondition(t, rp, idav1alpha1.ConditionAccepted, metav1.ConditionFalse, idav1alpha1.ReasonNotAllowedByProvider)
	expectEvent(t, rp, corev1.EventTypeWarning, idav1alpha1.ReasonNotAllowedByProvider)
}

func TestRelyingPartyWithExistingSecret(t *testing.T) {
	idp := providerFixture(t, "rp-existing", idav1alpha1.RelyingPartyNamespaces{From: idav1alpha1.NamespacesFromSame})
	rp := newRelyingParty("rp-existing", "vaulted", idp)
	rp.Spec.Credentials = idav1alpha1.CredentialsSpec{Source: idav1alpha1.CredentialsExisting, SecretName: "from-vault"}
	create(t, rp)
	waitCondition(t, rp, idav1alpha1.ConditionCredentialsReady, metav1.ConditionFalse, idav1alpha1.ReasonSecretNotFound)
	if _, _, err := registration(t, rp); !apierrors.IsNotFound(err) {
		t.Errorf("registered before its secret exists (%v)", err)
	}

	secret := "s3cr3t-from-vault-0123456789abcdef-0123456789"
	create(t, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "rp-existing", Name: "from-vault"},
		Data:       map[string][]byte{"client_secret": []byte(secret)},
	})
	waitCondition(t, rp, idav1alpha1.ConditionReady, metav1.ConditionTrue, idav1alpha1.ReasonReconciled)
	_, c, err := registration(t, rp)
	if err != nil || !c.VerifySecret(secret) {
		t.Fatalf("registration does not verify the adopted secret (%v)", err)
	}
	var s corev1.Secret
	_ = k8s.Get(context.Background(), client.ObjectKey{Namespace: "rp-existing", Name: "from-vault"}, &s)
	if len(s.OwnerReferences) != 0 || len(s.Data) != 1 {
		t.Errorf("the operator wrote to a Secret it does not own: %+v", s.ObjectMeta)
	}
}

func TestRelyingPartyPrivateKeyJWT(t *testing.T) {
	idp := providerFixture(t, "rp-pkjwt", idav1alpha1.RelyingPartyNamespaces{From: idav1alpha1.NamespacesFromSame})
	rp := newRelyingParty("rp-pkjwt", "backend", idp)
	jwks := `{"keys":[{"kty":"EC","crv":"P-256","kid":"k1","use":"sig","alg":"ES256","x":"9I9W0EI4_DSQPJ2BWlVj65a31Rp_7keQULTJd68-Bdo","y":"DQBfzxU99tKISe4SLK1HZe5bh_UQk4EsCtFLNcymtmE"}]}`
	rp.Spec.ClientAuthentication = idav1alpha1.ClientAuthentication{
		Method: idav1alpha1.PrivateKeyJWT, SigningAlgorithm: idav1alpha1.ES256,
		JWKS: &apiextensionsv1.JSON{Raw: []byte(jwks)},
	}
	rp.Spec.Security.RequireDPoP = true
	create(t, rp)
	waitCondition(t, rp, idav1alpha1.ConditionReady, metav1.ConditionTrue, idav1alpha1.ReasonReconciled)
	_, c, err := registration(t, rp)
	if err != nil {
		t.Fatal(err)
	}
	var keys struct{ Keys []map[string]any }
	if err := json.Unmarshal(c.JWKS, &keys); err != nil || len(keys.Keys) != 1 || keys.Keys[0]["kid"] != "k1" {
		t.Errorf("registration JWKS = %s (%v)", c.JWKS, err)
	}
	if c.TokenEndpointAuthMethod != "private_key_jwt" || c.SecretHash != "" || !c.RequireDPoP {
		t.Errorf("registration = %+v", c)
	}
	if _, ok := credentials(t, rp).Data["client_secret"]; ok {
		t.Error("a private_key_jwt client got a client_secret")
	}
}

// TestRelyingPartyEncryptedResponses: a client_secret_basic relying party
// that asks for encrypted responses registers its encryption key and gets
// the registration rendered; one whose keys cannot encrypt is not Ready,
// and the condition says which key and why.
func TestRelyingPartyEncryptedResponses(t *testing.T) {
	idp := providerFixture(t, "rp-jwe", idav1alpha1.RelyingPartyNamespaces{From: idav1alpha1.NamespacesFromSame})
	key := func(use string) *apiextensionsv1.JSON {
		return &apiextensionsv1.JSON{Raw: []byte(`{"keys":[{"kty":"EC","crv":"P-256","kid":"k-` + use + `","use":"` + use + `",` +
			`"x":"9I9W0EI4_DSQPJ2BWlVj65a31Rp_7keQULTJd68-Bdo","y":"DQBfzxU99tKISe4SLK1HZe5bh_UQk4EsCtFLNcymtmE"}]}`)}
	}
	rp := newRelyingParty("rp-jwe", "sealed", idp)
	rp.Spec.ClientAuthentication.JWKS = key("enc")
	rp.Spec.Security.IDTokenEncryptedResponseAlg = "ECDH-ES"
	rp.Spec.Security.UserInfoEncryptedResponseAlg = "ECDH-ES+A256KW"
	rp.Spec.Security.UserInfoEncryptedResponseEnc = "A256GCM"
	create(t, rp)
	waitCondition(t, rp, idav1alpha1.ConditionReady, metav1.ConditionTrue, idav1alpha1.ReasonReconciled)
	_, c, err := registration(t, rp)
	if err != nil {
		t.Fatal(err)
	}
	if c.IDTokenEncryption() != (config.Encryption{Alg: "ECDH-ES", Enc: "A128CBC-HS256"}) ||
		c.UserInfoEncryption() != (config.Encryption{Alg: "ECDH-ES+A256KW", Enc: "A256GCM"}) || c.IntrospectionEncryption().On() || len(c.JWKS) == 0 {
		t.Errorf("registration = %+v", c)
	}

	sigOnly := newRelyingParty("rp-jwe", "sig-only", idp)
	sigOnly.Spec.ClientAuthentication.JWKS = key("sig")
	sigOnly.Spec.Security.IDTokenEncryptedResponseAlg = "ECDH-ES"
	create(t, sigOnly)
	got := waitCondition(t, sigOnly, idav1alpha1.ConditionReady, metav1.ConditionFalse, idav1alpha1.ReasonInvalidSpec)
	if msg := conditions.Find(got.Status.Conditions, idav1alpha1.ConditionReady).Message; !strings.Contains(msg,
		`spec.security.idTokenEncryptedResponseAlg: jwks: no key can encrypt with ECDH-ES`) || !strings.Contains(msg, `keys[0] (kid "k-sig") has use "sig"`) {
		t.Errorf("message does not say why: %s", msg)
	}
	if _, _, err := registration(t, sigOnly); !apierrors.IsNotFound(err) {
		t.Errorf("a registration that cannot encrypt was written (%v)", err)
	}
}

func TestRelyingPartyAsksForWhatIsNotOffered(t *testing.T) {
	idp := providerFixture(t, "rp-bad", idav1alpha1.RelyingPartyNamespaces{From: idav1alpha1.NamespacesFromSame})
	rp := newRelyingParty("rp-bad", "greedy", idp)
	rp.Spec.VerifiedClaims = idav1alpha1.VerifiedClaimsPolicy{TrustFrameworks: []string{"de_aml"}, Claims: []idav1alpha1.ClaimName{"nationalities"}}
	create(t, rp)
	got := waitCondition(t, rp, idav1alpha1.ConditionAccepted, metav1.ConditionFalse, idav1alpha1.ReasonNotOfferedByProvider)
	msg := conditions.Find(got.Status.Conditions, idav1alpha1.ConditionAccepted).Message
	for _, want := range []string{`spec.verifiedClaims.trustFrameworks[0]: "de_aml" is not offered`, `spec.verifiedClaims.claims[0]: "nationalities" is not offered`} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q: %s", want, msg)
		}
	}

	// A registration the runtime could not use is refused before it is written.
	plain := newRelyingParty("rp-bad", "plain-http", idp)
	plain.Spec.RedirectURIs = []string{"http://app.example/cb"}
	create(t, plain)
	got = waitCondition(t, plain, idav1alpha1.ConditionAccepted, metav1.ConditionFalse, idav1alpha1.ReasonInvalidSpec)
	if msg := conditions.Find(got.Status.Conditions, idav1alpha1.ConditionAccepted).Message; !strings.Contains(msg, "spec.redirectURIs[0]") {
		t.Errorf("message does not name the redirect URI: %s", msg)
	}
	if _, _, err := registration(t, plain); !apierrors.IsNotFound(err) {
		t.Errorf("an invalid registration was written (%v)", err)
	}
}
