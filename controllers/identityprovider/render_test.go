package identityprovider

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
	"github.com/idaop/ida-operator/runtime/config"
)

// Every security switch of the spec reaches the runtime's configuration.
func TestRenderSecurity(t *testing.T) {
	idp := &idav1alpha1.IdentityProvider{
		ObjectMeta: metav1.ObjectMeta{Name: "idp", Namespace: "ns"},
		Spec: idav1alpha1.IdentityProviderSpec{
			Issuer: "https://idp.example/tenant-a",
			Users:  idav1alpha1.UserSourceSpec{Type: idav1alpha1.UserSourceBuiltin, Builtin: &idav1alpha1.BuiltinUserSource{SecretRef: idav1alpha1.LocalSecretReference{Name: "users"}}},
			Security: idav1alpha1.SecuritySpec{
				Profile:                            idav1alpha1.SecurityProfileDefault,
				RequirePushedAuthorizationRequests: true,
				RequireDPoP:                        true,
				RequireDPoPNonce:                   true,
			},
		},
	}
	tfs := []idav1alpha1.TrustFramework{{Spec: idav1alpha1.TrustFrameworkSpec{Identifier: "jp_aml", Claims: []idav1alpha1.ClaimName{"given_name"}}}}
	p, err := RenderProvider(idp, tfs)
	if err != nil {
		t.Fatal(err)
	}
	if s := p.Security; !s.RequirePAR || !s.RequireDPoP || !s.RequireDPoPNonce {
		t.Fatalf("rendered security %+v", s)
	}
	if e := p.EffectiveSecurity(); !e.RequireDPoPNonce {
		t.Fatalf("effective security %+v", e)
	}
	idp.Spec.Security.RequireDPoPNonce = false
	if p, err = RenderProvider(idp, tfs); err != nil || p.Security.RequireDPoPNonce {
		t.Fatalf("nonce off: %v %+v", err, p.Security)
	}
}

// The Redis ACL user, TLS and budget reach the runtime's configuration; a
// tls section with enabled: false renders as plain TCP.
func TestRenderRedisStore(t *testing.T) {
	idp := &idav1alpha1.IdentityProvider{
		ObjectMeta: metav1.ObjectMeta{Name: "idp", Namespace: "ns"},
		Spec: idav1alpha1.IdentityProviderSpec{
			Issuer: "https://idp.example",
			Users:  idav1alpha1.UserSourceSpec{Type: idav1alpha1.UserSourceBuiltin, Builtin: &idav1alpha1.BuiltinUserSource{SecretRef: idav1alpha1.LocalSecretReference{Name: "users"}}},
			SessionStore: idav1alpha1.SessionStoreSpec{Type: idav1alpha1.SessionStoreRedis, Redis: &idav1alpha1.RedisSpec{
				Address:           "redis.cache.svc:6380",
				Username:          "idp-a",
				PasswordSecretRef: &idav1alpha1.SecretKeySelector{Name: "redis", Key: "password"},
				MaxMemory:         ptr.To(resource.MustParse("256Mi")),
				TLS: &idav1alpha1.RedisTLSSpec{
					Enabled:                    ptr.To(true),
					CASecretRef:                &idav1alpha1.SecretKeySelector{Name: "redis-ca", Key: "ca.crt"},
					ClientCertificateSecretRef: &idav1alpha1.LocalSecretReference{Name: "redis-client"},
					ServerName:                 "redis.example.com",
				},
			}},
		},
	}
	tfs := []idav1alpha1.TrustFramework{{Spec: idav1alpha1.TrustFrameworkSpec{Identifier: "jp_aml", Claims: []idav1alpha1.ClaimName{"given_name"}}}}
	p, err := RenderProvider(idp, tfs)
	if err != nil {
		t.Fatal(err)
	}
	want := &config.RedisStore{
		Address: "redis.cache.svc:6380", Username: "idp-a",
		PasswordSecret: &config.SecretKeyRef{Name: "redis", Key: "password"},
		MaxMemoryBytes: 256 << 20,
		TLS: &config.RedisTLS{CASecret: &config.SecretKeyRef{Name: "redis-ca", Key: "ca.crt"},
			ClientCertificateSecret: "redis-client", ServerName: "redis.example.com"},
	}
	if got := p.SessionStore.Redis; !reflect.DeepEqual(got, want) {
		t.Fatalf("rendered redis %+v (tls %+v), want %+v (tls %+v)", got, got.TLS, want, want.TLS)
	}

	// Absent enabled is the CRD's default, true.
	idp.Spec.SessionStore.Redis.TLS.Enabled = nil
	if p, err = RenderProvider(idp, tfs); err != nil || p.SessionStore.Redis.TLS == nil {
		t.Fatalf("tls without enabled: %v, %+v", err, p.SessionStore.Redis)
	}
	idp.Spec.SessionStore.Redis.TLS = &idav1alpha1.RedisTLSSpec{Enabled: ptr.To(false)}
	idp.Spec.SessionStore.Redis.MaxMemory = nil
	if p, err = RenderProvider(idp, tfs); err != nil || p.SessionStore.Redis.TLS != nil || p.SessionStore.Redis.MaxMemoryBytes != 0 {
		t.Fatalf("tls off and no budget: %v, %+v", err, p.SessionStore.Redis)
	}

	// Sentinel, with its own credentials, and replica acknowledgements.
	idp.Spec.SessionStore.Redis.Address = ""
	idp.Spec.SessionStore.Redis.ReplicaAcknowledgements = 1
	idp.Spec.SessionStore.Redis.Sentinel = &idav1alpha1.RedisSentinelSpec{MasterName: "ida", Addresses: []string{"s0:26379", "s1:26379"},
		Username: "watch", PasswordSecretRef: &idav1alpha1.SecretKeySelector{Name: "sentinel", Key: "password"}}
	if p, err = RenderProvider(idp, tfs); err != nil || p.SessionStore.Redis.ReplicaAcks != 1 || !reflect.DeepEqual(p.SessionStore.Redis.Sentinel, &config.RedisSentinel{
		MasterName: "ida", Addresses: []string{"s0:26379", "s1:26379"}, Username: "watch", PasswordSecret: &config.SecretKeyRef{Name: "sentinel", Key: "password"}}) {
		t.Fatalf("sentinel: %v, %+v", err, p.SessionStore.Redis)
	}
	idp.Spec.SessionStore.Redis.Sentinel = nil
	idp.Spec.SessionStore.Redis.Cluster = &idav1alpha1.RedisClusterSpec{Addresses: []string{"r0:6379", "r1:6379"}}
	if p, err = RenderProvider(idp, tfs); err != nil || !reflect.DeepEqual(p.SessionStore.Redis.ClusterAddresses, []string{"r0:6379", "r1:6379"}) {
		t.Fatalf("cluster: %v, %+v", err, p.SessionStore.Redis)
	}
}

// The subject type and where the salt is reach the runtime's
// configuration: the generated Secret unless one is supplied.
func TestRenderSubjects(t *testing.T) {
	idp := &idav1alpha1.IdentityProvider{
		ObjectMeta: metav1.ObjectMeta{Name: "bank", Namespace: "identity"},
		Spec: idav1alpha1.IdentityProviderSpec{
			Issuer: "https://idp.example",
			Users:  idav1alpha1.UserSourceSpec{Type: idav1alpha1.UserSourceBuiltin, Builtin: &idav1alpha1.BuiltinUserSource{SecretRef: idav1alpha1.LocalSecretReference{Name: "users"}}},
		},
	}
	tfs := []idav1alpha1.TrustFramework{{Spec: idav1alpha1.TrustFrameworkSpec{Identifier: "jp_aml", Claims: []idav1alpha1.ClaimName{"given_name"}}}}
	p, err := RenderProvider(idp, tfs)
	if err != nil || p.Subjects.Type != "" || *p.Subjects.SaltSecret != (config.SecretKeyRef{Name: "bank-pairwise-salt", Key: config.PairwiseSaltKey}) {
		t.Fatalf("default: %v %+v", err, p.Subjects)
	}
	idp.Spec.Tokens.SubjectType = idav1alpha1.SubjectPairwise
	idp.Spec.Tokens.PairwiseSaltSecretRef = &idav1alpha1.SecretKeySelector{Name: "kept", Key: "salt"}
	p, err = RenderProvider(idp, tfs)
	if err != nil || p.Subjects.Type != config.SubjectPairwise || *p.Subjects.SaltSecret != (config.SecretKeyRef{Name: "kept", Key: "salt"}) {
		t.Fatalf("pairwise, supplied salt: %v %+v", err, p.Subjects)
	}
}

// The authentication levels reach the runtime in their order, with their
// method combinations, default and verified claims level.
func TestRenderAuthentication(t *testing.T) {
	idp := &idav1alpha1.IdentityProvider{
		ObjectMeta: metav1.ObjectMeta{Name: "idp", Namespace: "ns"},
		Spec: idav1alpha1.IdentityProviderSpec{
			Issuer: "https://idp.example",
			Users:  idav1alpha1.UserSourceSpec{Type: idav1alpha1.UserSourceBuiltin, Builtin: &idav1alpha1.BuiltinUserSource{SecretRef: idav1alpha1.LocalSecretReference{Name: "users"}}},
			Authentication: &idav1alpha1.AuthenticationSpec{
				Levels: []idav1alpha1.AuthenticationLevel{
					{ACR: "urn:bank:acr:pwd", Methods: []idav1alpha1.AuthenticationMethodSet{{"pwd"}}},
					{ACR: "urn:bank:acr:mfa", Methods: []idav1alpha1.AuthenticationMethodSet{{"pwd", "otp"}}},
				},
				DefaultLevel:        "urn:bank:acr:pwd",
				VerifiedClaimsLevel: "urn:bank:acr:mfa",
			},
		},
	}
	tfs := []idav1alpha1.TrustFramework{{Spec: idav1alpha1.TrustFrameworkSpec{Identifier: "jp_aml", Claims: []idav1alpha1.ClaimName{"given_name"}}}}
	p, err := RenderProvider(idp, tfs)
	if err != nil {
		t.Fatal(err)
	}
	a := p.Authentication
	if got := a.ACRValues(); !reflect.DeepEqual(got, []string{"urn:bank:acr:pwd", "urn:bank:acr:mfa"}) {
		t.Fatalf("levels %v", got)
	}
	if !reflect.DeepEqual(a.Levels[1].Methods, [][]string{{"pwd", "otp"}}) || a.DefaultLevel != "urn:bank:acr:pwd" || a.VerifiedClaimsLevel != "urn:bank:acr:mfa" {
		t.Fatalf("rendered %+v", a)
	}
	// A framework's required level travels with the levels; one the
	// provider does not declare is refused, saying what to do.
	tfs[0].Spec.RequiredAuthenticationLevel = "urn:bank:acr:mfa"
	if p, err = RenderProvider(idp, tfs); err != nil || p.Authentication.TrustFrameworkLevels["jp_aml"] != "urn:bank:acr:mfa" {
		t.Fatalf("a framework's level: %v %+v", err, p.Authentication)
	}
	tfs[0].Spec.RequiredAuthenticationLevel = "urn:bank:acr:high"
	if _, err = RenderProvider(idp, tfs); err == nil || !strings.Contains(err.Error(), "declare it in spec.authentication.levels") {
		t.Fatalf("an undeclared framework level: %v", err)
	}
	tfs[0].Spec.RequiredAuthenticationLevel = ""
	idp.Spec.Authentication = nil
	if p, err = RenderProvider(idp, tfs); err != nil || len(p.Authentication.Levels) != 0 {
		t.Fatalf("no levels: %v %+v", err, p.Authentication)
	}
}

func TestRenderExternalClaimSources(t *testing.T) {
	idp := &idav1alpha1.IdentityProvider{
		ObjectMeta: metav1.ObjectMeta{Name: "idp", Namespace: "ns"},
		Spec: idav1alpha1.IdentityProviderSpec{
			Issuer: "https://idp.example",
			Users:  idav1alpha1.UserSourceSpec{Type: idav1alpha1.UserSourceBuiltin, Builtin: &idav1alpha1.BuiltinUserSource{SecretRef: idav1alpha1.LocalSecretReference{Name: "users"}}},
		},
	}
	tfs := []idav1alpha1.TrustFramework{{Spec: idav1alpha1.TrustFrameworkSpec{Identifier: "uk_tfida", Claims: []idav1alpha1.ClaimName{"given_name"}}}}
	p, err := RenderProvider(idp, tfs)
	if err != nil {
		t.Fatal(err)
	}
	if p.ExternalClaims != nil {
		t.Errorf("external claims rendered without sources: %+v", p.ExternalClaims)
	}
	idp.Spec.IdentityAssurance.ExternalClaimSources = []idav1alpha1.ExternalClaimSource{{
		Issuer: "https://kyc.example", JWKSURI: "https://kyc.example/jwks", TrustFrameworks: []idav1alpha1.Identifier{"uk_tfida"},
	}}
	idp.Spec.IdentityAssurance.ExternalClaimsLookAhead = true
	if p, err = RenderProvider(idp, tfs); err != nil {
		t.Fatal(err)
	}
	want := &config.ExternalClaims{LookAhead: true, Sources: []config.ExternalClaimSource{{
		Issuer: "https://kyc.example", JWKSURI: "https://kyc.example/jwks", TrustFrameworks: []string{"uk_tfida"},
	}}}
	if !reflect.DeepEqual(p.ExternalClaims, want) {
		t.Errorf("external claims = %+v", p.ExternalClaims)
	}
	// A source trusted for a framework the provider does not offer is
	// refused with its path.
	idp.Spec.IdentityAssurance.ExternalClaimSources[0].TrustFrameworks = []idav1alpha1.Identifier{"de_aml"}
	if _, err := RenderProvider(idp, tfs); err == nil || !strings.Contains(err.Error(), `external_claims.sources[0].trust_frameworks[0]: "de_aml" is not a trust framework the provider offers`) {
		t.Errorf("err = %v", err)
	}
}

func TestRenderPKCS11Token(t *testing.T) {
	idp, tfs := minimalRenderable()
	p, err := RenderProvider(idp, tfs)
	if err != nil || p.PKCS11 != nil {
		t.Fatalf("keys in the Secret: pkcs11 %+v, %v", p.PKCS11, err)
	}
	idp.Spec.Signing.KeyStore = idav1alpha1.KeyStoreSpec{Type: idav1alpha1.KeyStorePKCS11, PKCS11: &idav1alpha1.PKCS11KeyStore{
		Module: "/opt/vendor/libpkcs11.so", TokenLabel: "ida", Timeout: &metav1.Duration{Duration: 1500 * time.Millisecond},
		PINSecretRef: idav1alpha1.SecretKeySelector{Name: "hsm-pin", Key: "pin"},
	}}
	if p, err = RenderProvider(idp, tfs); err != nil {
		t.Fatal(err)
	}
	want := &config.PKCS11{Module: "/opt/vendor/libpkcs11.so", TokenLabel: "ida", Timeout: config.Duration{Duration: 1500 * time.Millisecond}}
	if !reflect.DeepEqual(p.PKCS11, want) {
		t.Errorf("pkcs11 %+v, want %+v (and never the PIN)", p.PKCS11, want)
	}
}
