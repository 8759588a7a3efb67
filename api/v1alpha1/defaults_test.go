package v1alpha1_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/util/yaml"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
)

// schemaDefault returns the default the generated CRD of kind declares at
// path (dot-separated, below the root), as JSON.
func schemaDefault(t *testing.T, crd, path string) string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "config", "crd", "bases", crd))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var doc apiextensionsv1.CustomResourceDefinition
	if err := yaml.NewYAMLOrJSONDecoder(f, 4096).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	s := doc.Spec.Versions[0].Schema.OpenAPIV3Schema
	for _, name := range strings.Split(path, ".") {
		p, ok := s.Properties[name]
		if !ok {
			t.Fatalf("%s: no property %s on the way to %s", crd, name, path)
		}
		s = &p
	}
	if s.Default == nil {
		t.Fatalf("%s: %s has no default", crd, path)
	}
	return string(s.Default.Raw)
}

func TestDefaultsMatchTheSchema(t *testing.T) {
	const idp, rp = "ida.idaop.dev_identityproviders.yaml", "ida.idaop.dev_relyingparties.yaml"
	durations := []struct {
		path string
		want time.Duration
	}{
		{"spec.signing.rotationPeriod", idav1alpha1.DefaultRotationPeriod},
		{"spec.signing.publishLeadTime", idav1alpha1.DefaultPublishLeadTime},
		{"spec.tokens.idTokenLifetime", idav1alpha1.DefaultIDTokenLifetime},
		{"spec.tokens.accessTokenLifetime", idav1alpha1.DefaultAccessTokenLifetime},
		{"spec.tokens.refreshTokenLifetime", idav1alpha1.DefaultRefreshTokenLifetime},
		{"spec.tokens.authorizationCodeLifetime", idav1alpha1.DefaultAuthorizationCodeLifetime},
		{"spec.users.http.timeout", idav1alpha1.DefaultHTTPUsersTimeout},
		{"spec.consent.releaseRecordRetention", idav1alpha1.DefaultReleaseRecordRetention},
		{"spec.sessions.idleTimeout", idav1alpha1.DefaultSessionIdleTimeout},
		{"spec.sessions.absoluteLifetime", idav1alpha1.DefaultSessionAbsoluteLifetime},
	}
	for _, d := range durations {
		var s string
		if err := json.Unmarshal([]byte(schemaDefault(t, idp, d.path)), &s); err != nil {
			t.Fatalf("%s: %v", d.path, err)
		}
		if got, err := time.ParseDuration(s); err != nil || got != d.want {
			t.Errorf("%s defaults to %s in the schema, %s in Go", d.path, s, d.want)
		}
	}
	values := []struct {
		crd, path string
		want      any
	}{
		{idp, "spec.runtime.replicas", idav1alpha1.DefaultReplicas},
		{idp, "spec.security.profile", idav1alpha1.DefaultSecurityProfile},
		{idp, "spec.tokens.accessTokenFormat", idav1alpha1.DefaultAccessTokenFormat},
		{idp, "spec.tokens.subjectType", idav1alpha1.DefaultSubjectType},
		{idp, "spec.security.pushedRequestsPerClient", idav1alpha1.DefaultPushedRequestsPerClient},
		{idp, "spec.sessions.maxPerUser", idav1alpha1.DefaultSessionsPerUser},
		{idp, "spec.sessionStore.type", idav1alpha1.DefaultSessionStore},
		{idp, "spec.signing.algorithms", idav1alpha1.DefaultSigningAlgorithms()},
		{rp, "spec.clientAuthentication.method", idav1alpha1.DefaultClientAuth},
	}
	for _, v := range values {
		got := reflect.New(reflect.TypeOf(v.want))
		if err := json.Unmarshal([]byte(schemaDefault(t, v.crd, v.path)), got.Interface()); err != nil {
			t.Fatalf("%s: %v", v.path, err)
		}
		if !reflect.DeepEqual(got.Elem().Interface(), v.want) {
			t.Errorf("%s defaults to %v in the schema, %v in Go", v.path, got.Elem().Interface(), v.want)
		}
	}
}
