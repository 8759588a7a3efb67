package v1alpha1_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/idaop/ida-operator/internal/controlplane"
)

// These tests run against a real kube-apiserver: what they assert is what
// `kubectl apply` users meet.

var (
	k8s  client.Client
	root string
)

func TestMain(m *testing.M) {
	os.Exit(runWithControlPlane(m))
}

func runWithControlPlane(m *testing.M) int {
	cp, err := controlplane.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = cp.Stop() }()
	if k8s, err = client.New(cp.Config, client.Options{}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if root, err = controlplane.ProjectRoot(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

const validTrustFramework = `
apiVersion: ida.idaop.dev/v1alpha1
kind: TrustFramework
metadata: {name: test-tf}
spec:
  identifier: test_aml
  assuranceLevels: [substantial, high]
  evidence:
    - type: document
      documentTypes: [passport, idcard]
      checkMethods: [vpip]
    - type: electronic_record
      electronicRecordTypes: [bank_account]
    - type: vouch
      attestationTypes: [written_attestation]
    - type: electronic_signature
      signatureTypes: [qes_eidas]
  claims: [given_name, family_name, birthdate]
  requiredElements: [evidence, assurance_level, time]
`

const validIdentityProvider = `
apiVersion: ida.idaop.dev/v1alpha1
kind: IdentityProvider
metadata: {name: test-idp, namespace: default}
spec:
  issuer: https://id.bank.example
  trustFrameworks: {names: [test-tf]}
  users: {type: Builtin, builtin: {secretRef: {name: users}}}
`

// fapi2IdentityProvider is a valid provider under FAPI2, with the longest
// code lifetime FAPI 2.0 allows: validIdentityProvider's spec, extended.
const fapi2IdentityProvider = validIdentityProvider + `  signing: {algorithms: [ES256]}
  security: {profile: FAPI2}
  tokens: {authorizationCodeLifetime: 60s}
`

// levelsIdentityProvider offers a password level and a two-factor one,
// verified claims only at the second.
const levelsIdentityProvider = validIdentityProvider + `  authentication:
    levels:
    - {acr: "urn:bank:acr:pwd", methods: [[pwd]]}
    - {acr: "urn:bank:acr:mfa", methods: [[pwd, otp]]}
    defaultLevel: "urn:bank:acr:pwd"
    verifiedClaimsLevel: "urn:bank:acr:mfa"
`

const validRelyingParty = `
apiVersion: ida.idaop.dev/v1alpha1
kind: RelyingParty
metadata: {name: test-rp, namespace: default}
spec:
  providerRef: {name: test-idp}
  redirectURIs: [https://app.example/cb, http://127.0.0.1:3000/cb]
`

func decode(t *testing.T, doc string) *unstructured.Unstructured {
	t.Helper()
	objs, err := controlplane.DecodeYAML([]byte(doc))
	if err != nil || len(objs) != 1 {
		t.Fatalf("decoding test object: %v", err)
	}
	return objs[0]
}

// set assigns value at a dotted path (`spec.signing.algorithms`); a nil
// value deletes the member.
func set(u *unstructured.Unstructured, path string, value any) {
	fields := strings.Split(path, ".")
	if value == nil {
		unstructured.RemoveNestedField(u.Object, fields...)
		return
	}
	if err := unstructured.SetNestedField(u.Object, value, fields...); err != nil {
		panic(fmt.Sprintf("set %s: %v", path, err))
	}
}

func createDryRun(u *unstructured.Unstructured) error {
	return k8s.Create(context.Background(), u, client.DryRunAll)
}

func TestValidObjectsAreAccepted(t *testing.T) {
	for _, doc := range []string{validTrustFramework, validIdentityProvider, fapi2IdentityProvider, levelsIdentityProvider, validRelyingParty} {
		u := decode(t, doc)
		if err := createDryRun(u); err != nil {
			t.Errorf("valid %s refused: %v", u.GetKind(), err)
		}
	}
}

// TestEncryptingRelyingPartyAccepted: a client_secret_basic relying party
// may register keys when it asks for encrypted responses.
func TestEncryptingRelyingPartyAccepted(t *testing.T) {
	encKey := map[string]any{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA", "use": "enc"}
	for name, auth := range map[string]map[string]any{
		"jwks":    {"jwks": map[string]any{"keys": []any{encKey}}},
		"jwksURI": {"jwksURI": "https://app.example/jwks"},
	} {
		u := decode(t, validRelyingParty)
		set(u, "spec.clientAuthentication", auth)
		set(u, "spec.security", map[string]any{
			"idTokenEncryptedResponseAlg": "ECDH-ES", "userInfoEncryptedResponseAlg": "ECDH-ES+A128KW",
			"userInfoEncryptedResponseEnc": "A256GCM", "introspectionEncryptedResponseAlg": "ECDH-ES+A256KW",
		})
		if err := createDryRun(u); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestDefaultsAreApplied(t *testing.T) {
	idp := decode(t, validIdentityProvider)
	if err := createDryRun(idp); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]any{
		"spec.signing.algorithms":                    []any{"ES256", "PS256", "RS256"},
		"spec.signing.rotationPeriod":                "2160h",
		"spec.tokens.idTokenLifetime":                "5m",
		"spec.tokens.subjectType":                    "Public",
		"spec.security.profile":                      "Default",
		"spec.sessionStore.type":                     "Memory",
		"spec.allowedRelyingParties.namespaces.from": "Same",
		"spec.runtime.replicas":                      int64(1),
		"spec.identityAssurance.digestAlgorithms":    []any{"sha-256"},
		"spec.consent.releaseRecordRetention":        "8760h",
	} {
		got, _, _ := unstructured.NestedFieldCopy(idp.Object, strings.Split(path, ".")...)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s defaulted to %#v, want %#v", path, got, want)
		}
	}
	rp := decode(t, validRelyingParty)
	if err := createDryRun(rp); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]any{
		"spec.grantTypes":                  []any{"authorization_code"},
		"spec.responseTypes":               []any{"code"},
		"spec.scopes":                      []any{"openid"},
		"spec.clientAuthentication.method": "client_secret_basic",
		"spec.credentials.source":          "Generate",
	} {
		got, _, _ := unstructured.NestedFieldCopy(rp.Object, strings.Split(path, ".")...)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s defaulted to %#v, want %#v", path, got, want)
		}
	}
}

// admissionCase is one invalid object: the valid base with one change, and
// the field and message the API server must name in its refusal.
type admissionCase struct {
	name      string
	base      string
	path      string
	value     any
	wantField string
	wantMsg   string
}

var redisPassword = map[string]any{"name": "redis", "key": "password"}

// redisStore is a Redis session store at redis:6379 with fields added
// (or, given as nil, removed).
func redisStore(fields map[string]any) map[string]any {
	r := map[string]any{"address": "redis:6379"}
	for k, v := range fields {
		if v == nil {
			delete(r, k)
			continue
		}
		r[k] = v
	}
	return map[string]any{"type": "Redis", "redis": r}
}

// A Redis store with TLS, an ACL user and a budget is accepted; a tls
// section alone means TLS.
func TestRedisSessionStoreAccepted(t *testing.T) {
	for _, tc := range []struct {
		name     string
		redis    map[string]any
		defaults map[string]any
	}{
		{"everything", map[string]any{
			"username": "idp-a", "passwordSecretRef": redisPassword, "maxMemory": "256Mi",
			"tls": map[string]any{"caSecretRef": map[string]any{"name": "redis-ca", "key": "ca.crt"},
				"clientCertificateSecretRef": map[string]any{"name": "redis-client"}, "serverName": "redis.cache.svc"},
		}, map[string]any{"spec.sessionStore.redis.tls.enabled": true, "spec.sessionStore.redis.maxMemory": "256Mi"}},
		{"tls section alone", map[string]any{"tls": map[string]any{}}, map[string]any{"spec.sessionStore.redis.tls.enabled": true}},
		{"tls off", map[string]any{"tls": map[string]any{"enabled": false}}, map[string]any{"spec.sessionStore.redis.tls.enabled": false}},
		{"budget as an integer", map[string]any{"maxMemory": int64(1 << 20)}, map[string]any{"spec.sessionStore.redis.maxMemory": int64(1 << 20)}},
		{"sentinel", map[string]any{"address": nil, "replicaAcknowledgements": int64(1), "sentinel": map[string]any{
			"masterName": "ida", "addresses": []any{"sentinel-0.redis:26379", "sentinel-1.redis:26379"},
			"username": "sentinel-user", "passwordSecretRef": redisPassword}}, nil},
		{"cluster", map[string]any{"address": nil, "cluster": map[string]any{"addresses": []any{"redis-0:6379", "redis-1:6379"}}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idp := decode(t, validIdentityProvider)
			set(idp, "spec.sessionStore", redisStore(tc.redis))
			if err := createDryRun(idp); err != nil {
				t.Fatalf("refused: %v", err)
			}
			for path, want := range tc.defaults {
				got, _, _ := unstructured.NestedFieldCopy(idp.Object, strings.Split(path, ".")...)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %#v, want %#v", path, got, want)
				}
			}
		})
	}
}

var (
	gatewayExposure = map[string]any{"parentRefs": []any{map[string]any{"name": "public", "namespace": "gateways", "sectionName": "https"}}}
	ingressExposure = map[string]any{"className": "nginx", "tlsSecretName": "bank-tls"}
)

// exposedSpec is validIdentityProvider's spec with another issuer and an
// Ingress.
func exposedSpec(issuer string, ingress map[string]any) map[string]any {
	return map[string]any{
		"issuer":          issuer,
		"trustFrameworks": map[string]any{"names": []any{"test-tf"}},
		"users":           map[string]any{"type": "Builtin", "builtin": map[string]any{"secretRef": map[string]any{"name": "users"}}},
		"exposure":        map[string]any{"ingress": ingress},
	}
}

func TestAdmissionAutoscalingDefaults(t *testing.T) {
	idp := decode(t, validIdentityProvider)
	set(idp, "spec.sessionStore", redisStore(map[string]any{}))
	set(idp, "spec.runtime", map[string]any{"autoscaling": map[string]any{"maxReplicas": int64(4)}})
	if err := createDryRun(idp); err != nil {
		t.Fatalf("refused: %v", err)
	}
	for path, want := range map[string]any{
		"spec.runtime.autoscaling.minReplicas":                    int64(1),
		"spec.runtime.autoscaling.targetCPUUtilizationPercentage": int64(70),
	} {
		if got, _, _ := unstructured.NestedFieldCopy(idp.Object, strings.Split(path, ".")...); got != want {
			t.Errorf("%s = %#v, want %#v", path, got, want)
		}
	}
}

func TestAdmissionAcceptsNetworkPolicy(t *testing.T) {
	for name, np := range map[string]map[string]any{
		"edge and metrics":       {"edgeNamespaces": []any{"ingress-nginx"}, "metricsNamespaces": []any{"monitoring"}},
		"nothing in":             {"edgeNamespaces": []any{}},
		"with additional egress": {"edgeNamespaces": []any{"edge"}, "additionalEgress": []any{map[string]any{"ports": []any{map[string]any{"protocol": "TCP", "port": int64(443)}}}}},
	} {
		t.Run(name, func(t *testing.T) {
			idp := decode(t, validIdentityProvider)
			set(idp, "spec.networkPolicy", np)
			if err := createDryRun(idp); err != nil {
				t.Fatalf("refused: %v", err)
			}
		})
	}
	t.Run("edge from the gateway", func(t *testing.T) {
		idp := decode(t, validIdentityProvider)
		set(idp, "spec.exposure", map[string]any{"gateway": gatewayExposure})
		set(idp, "spec.networkPolicy", map[string]any{})
		if err := createDryRun(idp); err != nil {
			t.Fatalf("refused: %v", err)
		}
	})
}

func TestAdmissionAcceptsExternalClaimSources(t *testing.T) {
	idp := decode(t, validIdentityProvider)
	set(idp, "spec.identityAssurance.externalClaimSources", []any{
		map[string]any{"issuer": "https://kyc.example", "jwksURI": "https://kyc.example/.well-known/jwks.json", "trustFrameworks": []any{"uk_tfida", "de_aml"}},
		map[string]any{"issuer": "https://verifier.example/tenant/7", "jwksURI": "https://keys.verifier.example/7", "trustFrameworks": []any{"uk_tfida"}},
	})
	set(idp, "spec.identityAssurance.externalClaimsLookAhead", true)
	if err := createDryRun(idp); err != nil {
		t.Fatalf("refused: %v", err)
	}
}

// pkcs11Store is spec.signing with a valid PKCS#11 key store, changed by
// fields.
func pkcs11Store(fields map[string]any) map[string]any {
	t := map[string]any{"module": "/usr/lib/softhsm/libsofthsm2.so", "tokenLabel": "ida", "pinSecretRef": map[string]any{"name": "hsm-pin", "key": "pin"}}
	for k, v := range fields {
		t[k] = v
	}
	return map[string]any{"keyStore": map[string]any{"type": "PKCS11", "pkcs11": t}}
}

func TestAdmissionAcceptsPKCS11KeyStore(t *testing.T) {
	idp := decode(t, validIdentityProvider)
	set(idp, "spec.signing", pkcs11Store(map[string]any{
		"env": []any{map[string]any{"name": "SOFTHSM2_CONF", "value": "/etc/softhsm/softhsm2.conf"}},
		"volumes": []any{
			map[string]any{"name": "module", "mountPath": "/usr/lib/softhsm", "hostPath": map[string]any{"path": "/usr/lib/softhsm", "type": "Directory"}},
			map[string]any{"name": "tokens", "mountPath": "/var/lib/softhsm", "readOnly": false, "persistentVolumeClaim": map[string]any{"claimName": "softhsm-tokens"}},
		},
	}))
	if err := createDryRun(idp); err != nil {
		t.Fatalf("refused: %v", err)
	}
}

func TestAdmissionAcceptsExposure(t *testing.T) {
	for name, exp := range map[string]map[string]any{
		"gateway": {"gateway": gatewayExposure},
		"ingress": {"ingress": ingressExposure},
	} {
		t.Run(name, func(t *testing.T) {
			idp := decode(t, validIdentityProvider)
			set(idp, "spec.issuer", "https://bank.example/id")
			set(idp, "spec.exposure", exp)
			if err := createDryRun(idp); err != nil {
				t.Fatalf("refused: %v", err)
			}
		})
	}
}

func TestAdmissionRejections(t *testing.T) {
	jwks := map[string]any{"keys": []any{map[string]any{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}}}
	cases := []admissionCase{
		// TrustFramework: CEL rules.
		{"identifier uppercase start", validTrustFramework, "spec.identifier", "JP_AML", "spec.identifier", "predefined-style identifier"},
		{"identifier with dash", validTrustFramework, "spec.identifier", "jp-aml", "spec.identifier", "predefined-style identifier"},
		{"identifier http URI", validTrustFramework, "spec.identifier", "http://tf.example/x", "spec.identifier", "or an https URI"},
		{"evidence required but none", validTrustFramework, "spec.evidence", nil, "spec", "requires evidence must list at least one evidence type"},
		{"assurance_level required but no levels", validTrustFramework, "spec.assuranceLevels", nil, "spec", "requires assurance_level must list its levels"},
		{"document without document types", validTrustFramework, "spec.evidence", []any{map[string]any{"type": "document"}}, "spec.evidence[0]", "document evidence must list at least one document type"},
		{"document types on a record", validTrustFramework, "spec.evidence", []any{map[string]any{"type": "electronic_record", "electronicRecordTypes": []any{"mno"}, "documentTypes": []any{"passport"}}}, "spec.evidence[0]", "documentTypes is only allowed for document evidence"},
		{"record without record types", validTrustFramework, "spec.evidence", []any{map[string]any{"type": "electronic_record"}}, "spec.evidence[0]", "must list at least one record type"},
		{"record types on a document", validTrustFramework, "spec.evidence", []any{map[string]any{"type": "document", "documentTypes": []any{"passport"}, "electronicRecordTypes": []any{"mno"}}}, "spec.evidence[0]", "electronicRecordTypes is only allowed"},
		{"attestation types on a document", validTrustFramework, "spec.evidence", []any{map[string]any{"type": "document", "documentTypes": []any{"passport"}, "attestationTypes": []any{"written_attestation"}}}, "spec.evidence[0]", "attestationTypes is only allowed for vouch"},
		{"signature types on a vouch", validTrustFramework, "spec.evidence", []any{map[string]any{"type": "vouch", "signatureTypes": []any{"qes"}}}, "spec.evidence[0]", "signatureTypes is only allowed"},
		{"check methods on a signature", validTrustFramework, "spec.evidence", []any{map[string]any{"type": "electronic_signature", "checkMethods": []any{"vpip"}}}, "spec.evidence[0]", "has no check_details"},
		// TrustFramework: enums, lists, required.
		{"unknown evidence type", validTrustFramework, "spec.evidence", []any{map[string]any{"type": "utility_bill"}}, "spec.evidence[0].type", `Unsupported value: "utility_bill"`},
		{"unknown required element", validTrustFramework, "spec.requiredElements", []any{"status"}, "spec.requiredElements[0]", `Unsupported value: "status"`},
		{"duplicate evidence type", validTrustFramework, "spec.evidence", []any{map[string]any{"type": "vouch"}, map[string]any{"type": "vouch"}}, "spec.evidence[1]", "Duplicate value"},
		{"duplicate claim", validTrustFramework, "spec.claims", []any{"birthdate", "birthdate"}, "spec.claims[1]", "Duplicate value"},
		{"no claims", validTrustFramework, "spec.claims", []any{}, "spec.claims", "should have at least 1 items"},
		{"claims missing", validTrustFramework, "spec.claims", nil, "spec.claims", "Required value"},
		{"claim with whitespace", validTrustFramework, "spec.claims", []any{"given name"}, "spec.claims[0]", "should match"},

		// IdentityProvider: issuer.
		{"issuer http on a public host", validIdentityProvider, "spec.issuer", "http://id.bank.example", "spec.issuer", "http is allowed only for loopback hosts"},
		{"issuer not a URL", validIdentityProvider, "spec.issuer", "id.bank.example/path", "spec.issuer", "issuer must be an absolute https URL"},
		{"issuer with query", validIdentityProvider, "spec.issuer", "https://id.bank.example/?tenant=1", "spec.issuer", "must not contain a query or fragment"},
		{"issuer with fragment", validIdentityProvider, "spec.issuer", "https://id.bank.example/#x", "spec.issuer", "must not contain a query or fragment"},
		{"issuer ftp", validIdentityProvider, "spec.issuer", "ftp://id.bank.example", "spec.issuer", "issuer must be an absolute https URL"},
		// IdentityProvider: cross-field rules.
		{"no trust framework selected", validIdentityProvider, "spec.trustFrameworks", map[string]any{}, "spec.trustFrameworks", "select at least one trust framework"},
		{"replicas without shared store", validIdentityProvider, "spec.runtime", map[string]any{"replicas": int64(2)}, "spec", "more than one runtime replica needs a shared session store"},
		{"FAPI2 with RS256", validIdentityProvider, "spec.security", map[string]any{"profile": "FAPI2"}, "spec", "FAPI2 allows only PS256 and ES256"},
		{"unknown access token format", validIdentityProvider, "spec.tokens", map[string]any{"accessTokenFormat": "PASETO"}, "spec.tokens.accessTokenFormat", `Unsupported value: "PASETO"`},
		{"resource with a fragment", validIdentityProvider, "spec.tokens", map[string]any{"resources": []any{"https://api.bank.example/#accounts"}}, "spec.tokens.resources", "absolute URI without a fragment (RFC 8707)"},
		{"resource not absolute", validIdentityProvider, "spec.tokens", map[string]any{"resources": []any{"/accounts"}}, "spec.tokens.resources", "absolute URI without a fragment (RFC 8707)"},
		{"release records kept too long", validIdentityProvider, "spec.consent", map[string]any{"releaseRecordRetention": "26281h"}, "spec.consent.releaseRecordRetention", "between 1h and 26280h"},
		{"release records kept too briefly", validIdentityProvider, "spec.consent", map[string]any{"releaseRecordRetention": "30m"}, "spec.consent.releaseRecordRetention", "between 1h and 26280h"},
		{"pushed requests bound too low", validIdentityProvider, "spec.security", map[string]any{"pushedRequestsPerClient": int64(9)}, "spec.security.pushedRequestsPerClient", "should be greater than or equal to 10"},
		{"FAPI2 with a 61s code lifetime", fapi2IdentityProvider, "spec.tokens", map[string]any{"authorizationCodeLifetime": "61s"}, "spec", "FAPI2 allows authorization codes to live at most 60s"},
		{"lead time longer than rotation", validIdentityProvider, "spec.signing", map[string]any{"rotationPeriod": "24h", "publishLeadTime": "48h"}, "spec.signing", "rotationPeriod must be longer than publishLeadTime"},
		{"builtin source without builtin", validIdentityProvider, "spec.users", map[string]any{"type": "Builtin"}, "spec.users", "set builtin when type is Builtin"},
		{"http source with builtin", validIdentityProvider, "spec.users", map[string]any{"type": "HTTP", "builtin": map[string]any{"secretRef": map[string]any{"name": "u"}}}, "spec.users", "set builtin when type is Builtin and http when type is HTTP"},
		{"http source with a bad URL", validIdentityProvider, "spec.users", map[string]any{"type": "HTTP", "http": map[string]any{"url": "kyc.internal"}}, "spec.users.http.url", "absolute http(s) URL"},
		{"http source over plain http", validIdentityProvider, "spec.users", map[string]any{"type": "HTTP", "http": map[string]any{"url": "http://kyc.internal/users"}}, "spec.users.http.url", "url must use https"},
		{"redis store without redis", validIdentityProvider, "spec.sessionStore", map[string]any{"type": "Redis"}, "spec.sessionStore", "set redis exactly when type is Redis"},
		{"memory store with redis", validIdentityProvider, "spec.sessionStore", map[string]any{"type": "Memory", "redis": map[string]any{"address": "redis:6379"}}, "spec.sessionStore", "set redis exactly when type is Redis"},
		{"redis address without port", validIdentityProvider, "spec.sessionStore", map[string]any{"type": "Redis", "redis": map[string]any{"address": "redis"}}, "spec.sessionStore.redis.address", "should match"},
		{"redis username without password", validIdentityProvider, "spec.sessionStore", redisStore(map[string]any{"username": "idp-a"}), "spec.sessionStore.redis", "username needs passwordSecretRef"},
		{"redis username with a space", validIdentityProvider, "spec.sessionStore", redisStore(map[string]any{"username": "idp a", "passwordSecretRef": redisPassword}), "spec.sessionStore.redis.username", "should match"},
		{"redis TLS off with a CA", validIdentityProvider, "spec.sessionStore", redisStore(map[string]any{"tls": map[string]any{"enabled": false, "caSecretRef": map[string]any{"name": "ca", "key": "ca.crt"}}}), "spec.sessionStore.redis.tls", "apply only with TLS: remove them or set enabled to true"},
		{"redis TLS off with a server name", validIdentityProvider, "spec.sessionStore", redisStore(map[string]any{"tls": map[string]any{"enabled": false, "serverName": "redis.example"}}), "spec.sessionStore.redis.tls", "apply only with TLS"},
		{"redis TLS server name uppercase", validIdentityProvider, "spec.sessionStore", redisStore(map[string]any{"tls": map[string]any{"serverName": "Redis.Example"}}), "spec.sessionStore.redis.tls.serverName", "should match"},
		{"redis address and sentinel", validIdentityProvider, "spec.sessionStore", redisStore(map[string]any{"sentinel": map[string]any{"masterName": "ida", "addresses": []any{"s:26379"}}}), "spec.sessionStore.redis", "set exactly one of address, sentinel and cluster"},
		{"redis with nothing to reach", validIdentityProvider, "spec.sessionStore", redisStore(map[string]any{"address": nil}), "spec.sessionStore.redis", "set exactly one of address, sentinel and cluster"},
		{"sentinel address without port", validIdentityProvider, "spec.sessionStore", redisStore(map[string]any{"address": nil, "sentinel": map[string]any{"masterName": "ida", "addresses": []any{"s"}}}), "spec.sessionStore.redis.sentinel.addresses[0]", "should match"},
		{"sentinel user without password", validIdentityProvider, "spec.sessionStore", redisStore(map[string]any{"address": nil, "sentinel": map[string]any{"masterName": "ida", "addresses": []any{"s:1"}, "username": "u"}}), "spec.sessionStore.redis.sentinel", "username needs passwordSecretRef"},
		{"cluster without nodes", validIdentityProvider, "spec.sessionStore", redisStore(map[string]any{"address": nil, "cluster": map[string]any{"addresses": []any{}}}), "spec.sessionStore.redis.cluster.addresses", "should have at least 1 items"},
		{"too many replica acknowledgements", validIdentityProvider, "spec.sessionStore", redisStore(map[string]any{"replicaAcknowledgements": int64(6)}), "spec.sessionStore.redis.replicaAcknowledgements", "should be less than or equal to 5"},
		{"redis budget below 1Mi", validIdentityProvider, "spec.sessionStore", redisStore(map[string]any{"maxMemory": "512Ki"}), "spec.sessionStore.redis.maxMemory", "maxMemory must be at least 1Mi"},
		{"redis budget negative", validIdentityProvider, "spec.sessionStore", redisStore(map[string]any{"maxMemory": "-1Gi"}), "spec.sessionStore.redis.maxMemory", "maxMemory must be at least 1Mi"},
		{"redis budget as a small integer", validIdentityProvider, "spec.sessionStore", redisStore(map[string]any{"maxMemory": int64(1000)}), "spec.sessionStore.redis.maxMemory", "maxMemory must be at least 1Mi"},
		{"selector without from Selector", validIdentityProvider, "spec.allowedRelyingParties", map[string]any{"namespaces": map[string]any{"from": "All", "selector": map[string]any{}}}, "spec.allowedRelyingParties.namespaces", "selector must be set exactly when from is Selector"},
		{"from Selector without selector", validIdentityProvider, "spec.allowedRelyingParties", map[string]any{"namespaces": map[string]any{"from": "Selector"}}, "spec.allowedRelyingParties.namespaces", "selector must be set exactly when from is Selector"},
		// IdentityProvider: signing keys in a PKCS#11 token.
		{"PKCS11 without its token", validIdentityProvider, "spec.signing", map[string]any{"keyStore": map[string]any{"type": "PKCS11"}}, "spec.signing.keyStore", "keyStore.type PKCS11 needs keyStore.pkcs11"},
		{"PKCS11 module not a library", validIdentityProvider, "spec.signing", pkcs11Store(map[string]any{"module": "/opt/hsm/bin/tool"}), "spec.signing.keyStore.pkcs11.module", "should match"},
		{"PKCS11 token label too long", validIdentityProvider, "spec.signing", pkcs11Store(map[string]any{"tokenLabel": strings.Repeat("x", 33)}), "spec.signing.keyStore.pkcs11.tokenLabel", "Too long"},
		{"PKCS11 timeout too long", validIdentityProvider, "spec.signing", pkcs11Store(map[string]any{"timeout": "30s"}), "spec.signing.keyStore.pkcs11.timeout", "between 100ms and 10s"},
		{"PKCS11 env reserved", validIdentityProvider, "spec.signing", pkcs11Store(map[string]any{"env": []any{map[string]any{"name": "IDA_PKCS11_PIN", "value": "1234"}}}), "spec.signing.keyStore.pkcs11.env", "reserved for the runtime"},
		{"PKCS11 volume with two sources", validIdentityProvider, "spec.signing", pkcs11Store(map[string]any{"volumes": []any{map[string]any{
			"name": "hsm", "mountPath": "/opt/hsm", "hostPath": map[string]any{"path": "/opt/hsm"}, "configMap": map[string]any{"name": "hsm"}}}}), "spec.signing.keyStore.pkcs11.volumes[0]", "exactly one of hostPath"},
		{"PKCS11 volume over /tmp", validIdentityProvider, "spec.signing", pkcs11Store(map[string]any{"volumes": []any{map[string]any{
			"name": "hsm", "mountPath": "/tmp", "hostPath": map[string]any{"path": "/opt/hsm"}}}}), "spec.signing.keyStore.pkcs11.volumes[0].mountPath", "must not hide a directory"},
		{"PKCS11 volume named as the runtime's", validIdentityProvider, "spec.signing", pkcs11Store(map[string]any{"volumes": []any{map[string]any{
			"name": "ida-keys", "mountPath": "/opt/hsm", "hostPath": map[string]any{"path": "/opt/hsm"}}}}), "spec.signing.keyStore.pkcs11.volumes[0].name", "reserved for the runtime"},
		// IdentityProvider: autoscaling.
		{"autoscaling beyond one without shared store", validIdentityProvider, "spec.runtime", map[string]any{"autoscaling": map[string]any{"maxReplicas": int64(3)}}, "spec", "autoscaling to more than one runtime replica needs a shared session store"},
		{"autoscaling min above max", validIdentityProvider, "spec.runtime", map[string]any{"autoscaling": map[string]any{"minReplicas": int64(2), "maxReplicas": int64(1)}}, "spec.runtime.autoscaling", "minReplicas must not exceed maxReplicas"},
		{"autoscaling without max", validIdentityProvider, "spec.runtime", map[string]any{"autoscaling": map[string]any{}}, "spec.runtime.autoscaling.maxReplicas", "Required value"},
		{"autoscaling target below 10%", validIdentityProvider, "spec.runtime", map[string]any{"autoscaling": map[string]any{"maxReplicas": int64(1), "targetCPUUtilizationPercentage": int64(5)}}, "spec.runtime.autoscaling.targetCPUUtilizationPercentage", "should be greater than or equal to 10"},
		// IdentityProvider: exposure.
		{"exposure with neither", validIdentityProvider, "spec.exposure", map[string]any{}, "spec.exposure", "set exactly one of exposure.gateway"},
		{"exposure with both", validIdentityProvider, "spec.exposure", map[string]any{"gateway": gatewayExposure, "ingress": ingressExposure}, "spec.exposure", "set exactly one of exposure.gateway"},
		{"exposure of a loopback http issuer", validIdentityProvider, "spec", exposedSpec("http://localhost:8080", ingressExposure), "spec", "exposure needs an https issuer whose host is a DNS name"},
		{"exposure of an IP issuer", validIdentityProvider, "spec", exposedSpec("https://192.0.2.10/id", ingressExposure), "spec", "exposure needs an https issuer whose host is a DNS name"},
		{"gateway without parents", validIdentityProvider, "spec.exposure", map[string]any{"gateway": map[string]any{"parentRefs": []any{}}}, "spec.exposure.gateway.parentRefs", "should have at least 1 items"},
		{"gateway name uppercase", validIdentityProvider, "spec.exposure", map[string]any{"gateway": map[string]any{"parentRefs": []any{map[string]any{"name": "Public"}}}}, "spec.exposure.gateway.parentRefs[0].name", "should match"},
		{"ingress without class", validIdentityProvider, "spec.exposure", map[string]any{"ingress": map[string]any{}}, "spec.exposure.ingress.className", "Required value"},
		// IdentityProvider: network policy.
		{"network policy without edge namespaces or gateway", validIdentityProvider, "spec.networkPolicy", map[string]any{"metricsNamespaces": []any{"monitoring"}}, "spec", "networkPolicy needs edgeNamespaces"},
		{"network policy namespace invalid", validIdentityProvider, "spec.networkPolicy", map[string]any{"edgeNamespaces": []any{"Ingress_NGINX"}}, "spec.networkPolicy.edgeNamespaces[0]", "should match"},
		// IdentityProvider: enums and ranges.
		{"unknown signing algorithm", validIdentityProvider, "spec.signing", map[string]any{"algorithms": []any{"HS256"}}, "spec.signing.algorithms[0]", `Unsupported value: "HS256"`},
		{"unknown security profile", validIdentityProvider, "spec.security", map[string]any{"profile": "FAPI1"}, "spec.security.profile", `Unsupported value: "FAPI1"`},
		{"unknown user source", validIdentityProvider, "spec.users", map[string]any{"type": "LDAP"}, "spec.users.type", `Unsupported value: "LDAP"`},
		{"unknown session store", validIdentityProvider, "spec.sessionStore", map[string]any{"type": "Memcached"}, "spec.sessionStore.type", `Unsupported value: "Memcached"`},
		{"unknown namespaces from", validIdentityProvider, "spec.allowedRelyingParties", map[string]any{"namespaces": map[string]any{"from": "Some"}}, "spec.allowedRelyingParties.namespaces.from", `Unsupported value: "Some"`},
		{"unknown profile", validIdentityProvider, "spec.profiles", []any{"GermanBasic"}, "spec.profiles[0]", `Unsupported value: "GermanBasic"`},
		{"unknown attachment kind", validIdentityProvider, "spec.identityAssurance", map[string]any{"attachments": []any{"inline"}}, "spec.identityAssurance.attachments[0]", `Unsupported value: "inline"`},
		{"unknown digest algorithm", validIdentityProvider, "spec.identityAssurance", map[string]any{"digestAlgorithms": []any{"md5"}}, "spec.identityAssurance.digestAlgorithms[0]", `Unsupported value: "md5"`},
		{"negative replicas", validIdentityProvider, "spec.runtime", map[string]any{"replicas": int64(-1)}, "spec.runtime.replicas", "should be greater than or equal to 0"},
		{"scope with a space", validIdentityProvider, "spec.scopes", []any{"a b"}, "spec.scopes[0]", "should match"},

		// RelyingParty.
		{"relative redirect URI", validRelyingParty, "spec.redirectURIs", []any{"/callback"}, "spec.redirectURIs", "must be an absolute URL with a host"},
		{"redirect URI with fragment", validRelyingParty, "spec.redirectURIs", []any{"https://app.example/cb#x"}, "spec.redirectURIs", "must not contain a fragment"},
		{"no redirect URI", validRelyingParty, "spec.redirectURIs", []any{}, "spec.redirectURIs", "should have at least 1 items"},
		{"grant types without code", validRelyingParty, "spec.grantTypes", []any{"refresh_token"}, "spec", "grantTypes must include authorization_code"},
		{"implicit grant", validRelyingParty, "spec.grantTypes", []any{"implicit"}, "spec.grantTypes[0]", `Unsupported value: "implicit"`},
		{"token response type", validRelyingParty, "spec.responseTypes", []any{"token"}, "spec.responseTypes[0]", `Unsupported value: "token"`},
		{"auth method none", validRelyingParty, "spec.clientAuthentication", map[string]any{"method": "none"}, "spec.clientAuthentication.method", `Unsupported value: "none"`},
		// IdentityProvider: authentication levels.
		{"acr listed twice", levelsIdentityProvider, "spec.authentication.levels", []any{
			map[string]any{"acr": "a", "methods": []any{[]any{"pwd"}}}, map[string]any{"acr": "a", "methods": []any{[]any{"pwd", "otp"}}},
		}, "spec.authentication", "each level needs its own acr value"},
		{"default not a level", levelsIdentityProvider, "spec.authentication.defaultLevel", "urn:other", "spec.authentication", "defaultLevel must be the acr of one of the levels"},
		{"verified claims level not a level", levelsIdentityProvider, "spec.authentication.verifiedClaimsLevel", "urn:other", "spec.authentication", "verifiedClaimsLevel must be the acr of one of the levels"},
		{"acr with a space", levelsIdentityProvider, "spec.authentication.levels", []any{map[string]any{"acr": "bank pwd", "methods": []any{[]any{"pwd"}}}}, "spec.authentication.levels[0].acr", "should match"},
		{"unknown method", levelsIdentityProvider, "spec.authentication.levels", []any{map[string]any{"acr": "x", "methods": []any{[]any{"sms"}}}}, "spec.authentication.levels[0].methods[0][0]", `Unsupported value: "sms"`},
		{"method twice in a combination", levelsIdentityProvider, "spec.authentication.levels", []any{map[string]any{"acr": "x", "methods": []any{[]any{"pwd", "pwd"}}}}, "spec.authentication.levels[0].methods[0][1]", "Duplicate value"},
		{"empty combination", levelsIdentityProvider, "spec.authentication.levels", []any{map[string]any{"acr": "x", "methods": []any{[]any{}}}}, "spec.authentication.levels[0].methods[0]", "should have at least 1 items"},
		{"private_key_jwt without keys", validRelyingParty, "spec.clientAuthentication", map[string]any{"method": "private_key_jwt"}, "spec.clientAuthentication", "private_key_jwt needs exactly one of jwks or jwksURI"},
		{"private_key_jwt with both", validRelyingParty, "spec.clientAuthentication", map[string]any{"method": "private_key_jwt", "jwks": jwks, "jwksURI": "https://app.example/jwks"}, "spec.clientAuthentication", "set either jwks or jwksURI, not both"},
		{"jwks with a secret method", validRelyingParty, "spec.clientAuthentication", map[string]any{"method": "client_secret_post", "jwks": jwks}, "spec", "clientAuthentication.jwks and jwksURI hold keys for private_key_jwt or for encrypted responses"},
		{"encryption without keys", validRelyingParty, "spec.security", map[string]any{"idTokenEncryptedResponseAlg": "RSA-OAEP-256"}, "spec", "encrypted responses need your public encryption key: set clientAuthentication.jwks or jwksURI"},
		{"enc without alg", validRelyingParty, "spec.security", map[string]any{"userInfoEncryptedResponseEnc": "A128GCM"}, "spec.security", "userInfoEncryptedResponseEnc needs userInfoEncryptedResponseAlg"},
		{"RSA1_5", validRelyingParty, "spec.security", map[string]any{"idTokenEncryptedResponseAlg": "RSA1_5"}, "spec.security.idTokenEncryptedResponseAlg", `Unsupported value: "RSA1_5"`},
		{"RSA-OAEP with SHA-1", validRelyingParty, "spec.security", map[string]any{"introspectionEncryptedResponseAlg": "RSA-OAEP"}, "spec.security.introspectionEncryptedResponseAlg", `Unsupported value: "RSA-OAEP"`},
		{"unknown enc", validRelyingParty, "spec.security", map[string]any{"userInfoEncryptedResponseAlg": "ECDH-ES", "userInfoEncryptedResponseEnc": "A192GCM"}, "spec.security.userInfoEncryptedResponseEnc", `Unsupported value: "A192GCM"`},
		{"jwksURI over http", validRelyingParty, "spec.clientAuthentication", map[string]any{"method": "private_key_jwt", "jwksURI": "http://app.example/jwks"}, "spec.clientAuthentication.jwksURI", "jwksURI must be an absolute https URL"},
		{"existing credentials without name", validRelyingParty, "spec.credentials", map[string]any{"source": "Existing"}, "spec.credentials", "credentials.source Existing needs secretName"},
		{"existing credentials for private_key_jwt", validRelyingParty, "spec", map[string]any{
			"providerRef": map[string]any{"name": "x"}, "redirectURIs": []any{"https://a.example/cb"},
			"clientAuthentication": map[string]any{"method": "private_key_jwt", "jwks": jwks},
			"credentials":          map[string]any{"source": "Existing", "secretName": "s"},
		}, "spec", "private_key_jwt clients have none"},
		{"unknown credentials source", validRelyingParty, "spec.credentials", map[string]any{"source": "Vault"}, "spec.credentials.source", `Unsupported value: "Vault"`},
		{"credentials secret name invalid", validRelyingParty, "spec.credentials", map[string]any{"secretName": "Bad_Name"}, "spec.credentials.secretName", "should match"},
		{"minimum level with a space", validRelyingParty, "spec.security", map[string]any{"minimumAuthenticationLevel": "bank mfa"}, "spec.security.minimumAuthenticationLevel", "should match"},
		{"unknown userinfo alg", validRelyingParty, "spec.security", map[string]any{"userInfoSignedResponseAlg": "none"}, "spec.security.userInfoSignedResponseAlg", `Unsupported value: "none"`},
		{"unknown client access token format", validRelyingParty, "spec.accessTokenFormat", "PASETO", "spec.accessTokenFormat", `Unsupported value: "PASETO"`},
		{"provider name missing", validRelyingParty, "spec.providerRef", map[string]any{}, "spec.providerRef.name", "Required value"},
		{"sectorIdentifierURI over http", validRelyingParty, "spec.sectorIdentifierURI", "http://app.example/uris.json", "spec.sectorIdentifierURI", "sectorIdentifierURI must be an absolute https URL"},
		{"sectorIdentifierURI with a fragment", validRelyingParty, "spec.sectorIdentifierURI", "https://app.example/uris.json#a", "spec.sectorIdentifierURI", "must not contain a fragment"},
		{"sectorIdentifierURI too long", validRelyingParty, "spec.sectorIdentifierURI", "https://app.example/" + strings.Repeat("a", 500), "spec.sectorIdentifierURI", "Too long"},
		{"unknown subject type", validRelyingParty, "spec.subjectType", "pairwise", "spec.subjectType", `Unsupported value: "pairwise"`},
		{"unknown provider subject type", validIdentityProvider, "spec.tokens.subjectType", "Secret", "spec.tokens.subjectType", `Unsupported value: "Secret"`},
		{"salt reference without key", validIdentityProvider, "spec.tokens.pairwiseSaltSecretRef", map[string]any{"name": "salt"}, "spec.tokens.pairwiseSaltSecretRef.key", "Required value"},
		{"external claim source over http", validIdentityProvider, "spec.identityAssurance.externalClaimSources", []any{map[string]any{"issuer": "http://kyc.example", "jwksURI": "https://kyc.example/jwks", "trustFrameworks": []any{"uk_tfida"}}}, "spec.identityAssurance.externalClaimSources[0].issuer", "issuer must be an absolute https URL"},
		{"external claim source keys over http", validIdentityProvider, "spec.identityAssurance.externalClaimSources", []any{map[string]any{"issuer": "https://kyc.example", "jwksURI": "http://kyc.example/jwks", "trustFrameworks": []any{"uk_tfida"}}}, "spec.identityAssurance.externalClaimSources[0].jwksURI", "jwksURI must be an absolute https URL"},
		{"external claim source for no framework", validIdentityProvider, "spec.identityAssurance.externalClaimSources", []any{map[string]any{"issuer": "https://kyc.example", "jwksURI": "https://kyc.example/jwks", "trustFrameworks": []any{}}}, "spec.identityAssurance.externalClaimSources[0].trustFrameworks", "should have at least 1 items"},
		{"external claim source twice", validIdentityProvider, "spec.identityAssurance.externalClaimSources", []any{
			map[string]any{"issuer": "https://kyc.example", "jwksURI": "https://kyc.example/jwks", "trustFrameworks": []any{"uk_tfida"}},
			map[string]any{"issuer": "https://kyc.example", "jwksURI": "https://kyc.example/jwks2", "trustFrameworks": []any{"uk_tfida"}},
		}, "spec.identityAssurance.externalClaimSources[1]", "Duplicate value"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := decode(t, tc.base)
			set(u, tc.path, tc.value)
			err := createDryRun(u)
			if err == nil {
				t.Fatalf("the API server accepted it; want a refusal naming %s: %s", tc.wantField, tc.wantMsg)
			}
			if !apierrors.IsInvalid(err) {
				t.Fatalf("want an Invalid error, got %v", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.wantField+":") || !strings.Contains(msg, tc.wantMsg) {
				t.Fatalf("refusal does not name %s with %q:\n%s", tc.wantField, tc.wantMsg, msg)
			}
		})
	}
}

func TestTrustFrameworkIdentifierIsImmutable(t *testing.T) {
	ctx := context.Background()
	tf := decode(t, validTrustFramework)
	tf.SetName("immutable-tf")
	if err := k8s.Create(ctx, tf); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(ctx, tf) })
	set(tf, "spec.identifier", "other_aml")
	err := k8s.Update(ctx, tf)
	if err == nil || !strings.Contains(err.Error(), "spec.identifier: Invalid value") || !strings.Contains(err.Error(), "identifier is immutable") {
		t.Fatalf("changing the identifier: got %v, want a refusal saying it is immutable", err)
	}
}

// TestSamplesAreAccepted creates everything in config/samples and the
// trust framework catalog for real.
func TestSamplesAreAccepted(t *testing.T) {
	ctx := context.Background()
	for _, dir := range []string{"config/samples", "config/trustframeworks"} {
		objs, err := controlplane.ReadManifests(filepath.Join(root, dir))
		if err != nil {
			t.Fatal(err)
		}
		if len(objs) == 0 {
			t.Fatalf("%s holds no objects", dir)
		}
		if err := controlplane.Apply(ctx, k8s, objs); err != nil {
			t.Errorf("%s: %v", dir, err)
		}
	}
	var tfs unstructured.UnstructuredList
	tfs.SetAPIVersion("ida.idaop.dev/v1alpha1")
	tfs.SetKind("TrustFrameworkList")
	if err := k8s.List(ctx, &tfs); err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, tf := range tfs.Items {
		id, _, _ := unstructured.NestedString(tf.Object, "spec", "identifier")
		ids[id] = true
	}
	for _, want := range []string{"de_aml", "eidas", "eidas_ial_substantial", "eidas_ial_high", "nist_800_63A",
		"nist_800_63A_ial_2", "nist_800_63A_ial_3", "jp_aml", "jp_mpiupa", "cz_aml", "uk_tfida", "uk_diatf",
		"jp_oidf_ida", "it_spid", "se_bankid", "jp_gbizid_v1"} {
		if !ids[want] {
			t.Errorf("the catalog has no TrustFramework with identifier %s", want)
		}
	}
}

// TestSampleFrameworksMatchTheCatalog keeps the demo's trust frameworks and
// the catalog from drifting apart.
func TestSampleFrameworksMatchTheCatalog(t *testing.T) {
	samples, err := controlplane.ReadManifests(filepath.Join(root, "config/samples"))
	if err != nil {
		t.Fatal(err)
	}
	catalog, err := controlplane.ReadManifests(filepath.Join(root, "config/trustframeworks"))
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*unstructured.Unstructured{}
	for _, c := range catalog {
		byName[c.GetName()] = c
	}
	n := 0
	for _, s := range samples {
		if s.GetKind() != "TrustFramework" {
			continue
		}
		n++
		c, ok := byName[s.GetName()]
		if !ok {
			t.Errorf("sample TrustFramework %s is not in config/trustframeworks", s.GetName())
			continue
		}
		if !reflect.DeepEqual(s.Object, c.Object) {
			t.Errorf("sample TrustFramework %s differs from the catalog's", s.GetName())
		}
	}
	if n != 4 {
		t.Errorf("want 4 sample trust frameworks, found %d", n)
	}
}
