package demo

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
	"github.com/idaop/ida-operator/runtime/ida"
	"github.com/idaop/ida-operator/runtime/users"
)

// The story's second sign-in asks for the company the demo user acts for:
// under the sample gBizID framework the demo user's data answers it with
// exactly the company's name and number and the prime role.
func TestStoryAuthorityRequest(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "config", "samples", "ida_v1alpha1_trustframework_jp-gbizid-v1.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var tf idav1alpha1.TrustFramework
	if err := yaml.UnmarshalStrict(raw, &tf); err != nil {
		t.Fatal(err)
	}
	fw := ida.TrustFramework{Identifier: tf.Spec.Identifier, AssuranceLevels: tf.Spec.AssuranceLevels}
	for _, c := range tf.Spec.Claims {
		fw.Claims = append(fw.Claims, string(c))
	}
	for _, r := range tf.Spec.RequiredElements {
		fw.RequiredElements = append(fw.RequiredElements, string(r))
	}
	eng, err := ida.NewEngine(ida.Policy{TrustFrameworks: []ida.TrustFramework{fw}})
	if err != nil {
		t.Fatal(err)
	}
	req, err := eng.ParseRequest([]byte(authorityClaims), ida.RequestOptions{Scope: "openid"})
	if err != nil {
		t.Fatal(err)
	}
	data, err := users.DemoUsers("pw")
	if err != nil {
		t.Fatal(err)
	}
	src, err := users.NewBuiltin(data)
	if err != nil {
		t.Fatal(err)
	}
	u, err := src.Lookup(context.Background(), users.DemoSubject)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := ida.ParseDataset(u.Dataset)
	if err != nil {
		t.Fatal(err)
	}
	res := eng.Evaluate(req, ds, time.Now())
	got := string(res.UserInfo["verified_claims"])
	for _, want := range []string{`"organization_name":"` + users.DemoCompany + `"`, `"registration_number":"1010001000000"`, `"permission":[{"role":"prime"}]`} {
		if !strings.Contains(got, want) {
			t.Errorf("UserInfo verified_claims lacks %s: %s", want, got)
		}
	}
	for _, not := range []string{"granted_by", "registered_address", "assurance_process"} {
		if strings.Contains(got, not) {
			t.Errorf("UserInfo verified_claims carries unrequested %s: %s", not, got)
		}
	}
	if names := ida.ActsFor(res); len(names) != 1 || names[0] != users.DemoCompany {
		t.Errorf("ActsFor = %q", names)
	}

	st := &story{Issuer: "http://127.0.0.1:8180", EnvPath: "bin/demo/env", RedirectURI: "http://" + callbackAddr + "/callback",
		AuthorityURL: "http://127.0.0.1:8180/authorize?claims=" + url.QueryEscape(authorityClaims)}
	var out bytes.Buffer
	printStory(&out, st)
	if !strings.Contains(out.String(), "You act for "+users.DemoCompany) || !strings.Contains(out.String(), st.AuthorityURL) {
		t.Errorf("the story does not tell the authority part:\n%s", out.String())
	}
}
