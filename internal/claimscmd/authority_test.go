package claimscmd

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// A gBizID-style person holding authority for two companies: the command
// releases the one the request's permission filter names, under a provider
// whose framework vouches for authority, and nothing of it under one whose
// framework does not.
func TestEvaluateAuthority(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ds := write("d.json", `{"sub": "u2", "verified_claims": {
	  "verification": {"trust_framework": "jp_gbizid_v1", "assurance_level": "ial2"},
	  "claims": {"family_name": "田中", "given_name": "太郎",
	    "authority": [
	      {"applies_to": {"registration_number": "1234567890123", "organization_name": "株式会社サンプル"},
	       "permission": [{"role": "prime"}], "granted_by": {"method": "appointed"}},
	      {"applies_to": {"registration_number": "9876543210987", "organization_name": "合同会社例"},
	       "permission": [{"role": "member"}]}]}}}`)
	req := write("r.json", `{"userinfo": {"verified_claims": {
	  "verification": {"trust_framework": {"value": "jp_gbizid_v1"}},
	  "claims": {"family_name": null, "authority": {
	    "applies_to": {"organization_name": null}, "permission": [{"role": {"value": "prime"}}]}}}}}`)
	with := write("p.json", `{"ida": {"trust_frameworks": [{"identifier": "jp_gbizid_v1", "claims": ["family_name", "authority"]}]}}`)
	without := write("q.json", `{"ida": {"trust_frameworks": [{"identifier": "jp_gbizid_v1", "claims": ["family_name"]}]}}`)

	for _, tc := range []struct{ name, provider, want string }{
		{"framework lists authority", with, `{"id_token": {}, "userinfo": {"verified_claims": {
		  "verification": {"trust_framework": "jp_gbizid_v1"},
		  "claims": {"family_name": "田中", "authority": [{"applies_to": {"organization_name": "株式会社サンプル"}, "permission": [{"role": "prime"}]}]}}}}`},
		{"framework does not", without, `{"id_token": {}, "userinfo": {"verified_claims": {
		  "verification": {"trust_framework": "jp_gbizid_v1"}, "claims": {"family_name": "田中"}}}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := Run([]string{"evaluate", "--request", req, "--dataset", ds, "--provider", tc.provider}, &stdout, &stderr); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			assertJSONEqual(t, stdout.Bytes(), []byte(tc.want))
		})
	}

	// A permission filter given as an object is a wrongly typed request.
	bad := write("b.json", `{"userinfo": {"verified_claims": {"verification": {"trust_framework": null},
	  "claims": {"authority": {"applies_to": null, "permission": {"role": {"value": "prime"}}}}}}}`)
	var stdout, stderr bytes.Buffer
	if code := Run([]string{"validate-request", bad}, &stdout, &stderr); code != 2 {
		t.Fatalf("exit %d, want 2: %s", code, stdout.String())
	}
	assertJSONEqual(t, stdout.Bytes(), []byte(`{"error": "invalid_request", "error_description":
	  "claims.userinfo.verified_claims.claims.authority.permission: must be null, an array of objects or an object of request options: the element is an array"}`))
}
