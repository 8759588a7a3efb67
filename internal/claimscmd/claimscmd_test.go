package claimscmd

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const dataset = `{"sub": "u1", "email": "max@example.com",
 "verified_claims": [
  {"verification": {"trust_framework": "de_aml", "time": "2023-12-01T10:00Z",
    "evidence": [{"type": "document", "check_details": [{"check_method": "pipp"}], "document_details": {"type": "idcard", "document_number": "1"}}]},
   "claims": {"given_name": "Max", "family_name": "Meier", "birthdate": "1956-01-28", "address": {"locality": "Maxstadt", "country": "DE"}}},
  {"verification": {"trust_framework": "jp_oidf_ida"}, "claims": {"name": "Max Meier", "birthdate": "2000-01-01", "address": {"formatted": "Tokyo"}}}
 ]}`

const request = `{"id_token": {"email": null, "verified_claims": {"verification": {"trust_framework": null,
  "evidence": [{"type": {"value": "document"}, "document_details": {"type": null}}]},
  "claims": {"given_name": null, "address": {"locality": null}}}}}`

const provider = `{"issuer": "https://op.example", "ida": {"trust_frameworks": [{"identifier": "eidas", "claims": ["given_name"]}]}}`

func TestRun(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	req := write("r.json", request)
	ds := write("d.json", dataset)
	prov := write("p.json", provider)
	provJP := write("pjp.json", `{"ida": {"trust_frameworks": [{"identifier": "jp_oidf_ida", "claims": ["name", "birthdate", "address"]}], "profiles": ["jp_basic"]}}`)
	bad := write("bad.json", `{"userinfo": {"verified_claims": {"verification": {"trust_framework": null}, "claims": {}}}}`)
	maxAge := write("age.json", `{"userinfo": {"verified_claims": {"verification": {"trust_framework": null, "time": {"max_age": 86400}}, "claims": {"given_name": null}}}}`)
	notJSON := write("nj.json", `{`)
	noIDA := write("noida.json", `{"issuer": "x"}`)

	cases := []struct {
		name      string
		args      []string
		code      int
		stdout    string // exact JSON, when set
		stderrHas string
		stdoutHas string
	}{
		{"evaluate", []string{"evaluate", "--request", req, "--dataset", ds, "--now", "2024-01-01T00:00:00Z"}, 0,
			`{"id_token": {"email": "max@example.com", "verified_claims": {"verification": {"trust_framework": "de_aml", "evidence": [{"type": "document", "document_details": {"type": "idcard"}}]},
			  "claims": {"given_name": "Max", "address": {"locality": "Maxstadt"}}}}, "userinfo": {}}`, "", ""},
		{"max_age against --now: recent", []string{"evaluate", "--request", maxAge, "--dataset", ds, "--now", "2023-12-01T20:00:00Z"}, 0,
			`{"id_token": {}, "userinfo": {"verified_claims": {"verification": {"trust_framework": "de_aml", "time": "2023-12-01T10:00Z"}, "claims": {"given_name": "Max"}}}}`, "", ""},
		{"max_age against --now: too old", []string{"evaluate", "--request", maxAge, "--dataset", ds, "--now", "2024-01-01T00:00:00Z"}, 0,
			`{"id_token": {}, "userinfo": {}}`, "", ""},
		{"--provider: a framework not offered is not released", []string{"evaluate", "--request", req, "--dataset", ds, "--provider", prov}, 0,
			`{"id_token": {"email": "max@example.com"}, "userinfo": {}}`, "", ""},
		{"--scope alone (Japanese profile)", []string{"evaluate", "--dataset", ds, "--scope", "openid jp_oidf_ida"}, 0,
			`{"id_token": {}, "userinfo": {"verified_claims": {"verification": {"trust_framework": "jp_oidf_ida"}, "claims": {"name": "Max Meier", "birthdate": "2000-01-01", "address": {"formatted": "Tokyo"}}}}}`, "", ""},
		{"--scope with a provider enabling the profile", []string{"evaluate", "--dataset", ds, "--scope", "openid jp_oidf_ida_age_over_18", "--provider", provJP, "--now", "2024-01-01T00:00:00Z"}, 0,
			`{"id_token": {}, "userinfo": {"verified_claims": {"verification": {"trust_framework": "jp_oidf_ida"}, "claims": {":age_18_or_over": true}}}}`, "", ""},
		{"refused scope combination", []string{"evaluate", "--dataset", ds, "--scope", "openid jp_oidf_ida jp_oidf_ida_age_over_20"}, 2,
			`{"error": "invalid_scope", "error_description": "scope: jp_oidf_ida and jp_oidf_ida_age_over_20 must not be requested together (only jp_oidf_ida_msisdn may accompany one other)"}`, "", ""},
		{"refused request", []string{"evaluate", "--request", bad, "--dataset", ds}, 2,
			`{"error": "invalid_request", "error_description": "claims.userinfo.verified_claims.claims: must not be empty"}`, "", ""},
		{"validate-request: valid", []string{"validate-request", req}, 0, "", "", ""},
		{"validate-request: invalid", []string{"validate-request", bad}, 2,
			`{"error": "invalid_request", "error_description": "claims.userinfo.verified_claims.claims: must not be empty"}`, "", ""},
		{"validate-request: not JSON", []string{"validate-request", notJSON}, 2, "", "", `"error": "invalid_request"`},
		{"no command", nil, 1, "", "usage:", ""},
		{"unknown command", []string{"frobnicate"}, 1, "", `unknown command "frobnicate"`, ""},
		{"missing --dataset", []string{"evaluate", "--request", req}, 1, "", "--dataset is required", ""},
		{"neither --request nor --scope", []string{"evaluate", "--dataset", ds}, 1, "", "--request or --scope is required", ""},
		{"bad --now", []string{"evaluate", "--request", req, "--dataset", ds, "--now", "yesterday"}, 1, "", "--now", ""},
		{"missing file", []string{"evaluate", "--request", filepath.Join(dir, "nope.json"), "--dataset", ds}, 1, "", "nope.json", ""},
		{"bad dataset", []string{"evaluate", "--request", req, "--dataset", notJSON}, 1, "", "dataset", ""},
		{"provider without ida", []string{"evaluate", "--request", req, "--dataset", ds, "--provider", noIDA}, 1, "", `no "ida" member`, ""},
		{"unknown flag", []string{"evaluate", "--frob"}, 1, "", "flag provided but not defined", ""},
		{"validate-request without a file", []string{"validate-request"}, 1, "", "usage:", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Run(tc.args, &stdout, &stderr)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout.String(), stderr.String())
			}
			if tc.stdout != "" {
				assertJSONEqual(t, stdout.Bytes(), []byte(tc.stdout))
			}
			if tc.code == 1 && stdout.Len() != 0 {
				t.Errorf("usage errors print nothing on stdout, got %s", stdout.String())
			}
			if tc.stderrHas != "" && !strings.Contains(stderr.String(), tc.stderrHas) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tc.stderrHas)
			}
			if tc.stdoutHas != "" && !strings.Contains(stdout.String(), tc.stdoutHas) {
				t.Errorf("stdout %q lacks %q", stdout.String(), tc.stdoutHas)
			}
		})
	}
}

func assertJSONEqual(t *testing.T, got, want []byte) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if !bytes.Equal(gb, wb) {
		t.Errorf("stdout differs\n got: %s\nwant: %s", gb, wb)
	}
}
