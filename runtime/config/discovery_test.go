package config

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the rendering (run with -update and review the diff):\n%s", path, got)
	}
}

func render(t *testing.T, p *Provider) map[string]any {
	t.Helper()
	out, err := RenderDiscovery(p)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	checkIDAMetadata(t, doc)
	return doc
}

// checkIDAMetadata applies to a rendered document the REQUIRED and
// REQUIRED-when members of IDA §8 (with the claims parameter, which an IDA
// provider MUST support) and ATT §8, and RenderDiscovery's own promise that
// claims_supported names verified_claims.
func checkIDAMetadata(t *testing.T, doc map[string]any) {
	t.Helper()
	list := func(name string) []string {
		v, ok := doc[name]
		if !ok {
			return nil
		}
		arr, ok := v.([]any)
		if !ok || len(arr) == 0 {
			t.Errorf("%s: want a non-empty array, got %v", name, v)
			return nil
		}
		var out []string
		for _, a := range arr {
			out = append(out, a.(string))
		}
		return out
	}
	if len(list("trust_frameworks_supported")) == 0 {
		t.Error("trust_frameworks_supported is REQUIRED")
	}
	if len(list("claims_in_verified_claims_supported")) == 0 {
		t.Error("claims_in_verified_claims_supported is REQUIRED")
	}
	ev := list("evidence_supported")
	if slices.Contains(ev, "document") && len(list("documents_supported")) == 0 {
		t.Error("documents_supported is REQUIRED with document evidence")
	}
	if slices.Contains(ev, "electronic_record") && len(list("electronic_records_supported")) == 0 {
		t.Error("electronic_records_supported is REQUIRED with electronic_record evidence")
	}
	if slices.Contains(list("attachments_supported"), "external") && len(list("digest_algorithms_supported")) == 0 {
		t.Error("digest_algorithms_supported is REQUIRED with external attachments")
	}
	for _, name := range []string{"verified_claims_supported", "claims_parameter_supported"} {
		if doc[name] != true {
			t.Errorf("%s must be true", name)
		}
	}
	if !slices.Contains(list("claims_supported"), "verified_claims") {
		t.Error("claims_supported lacks verified_claims")
	}
	for name, v := range doc {
		if s, ok := v.(string); ok && strings.Contains(strings.TrimPrefix(s, "https://"), "//") {
			t.Errorf("%s: %q has a double slash", name, s)
		}
	}
}

func TestRenderDiscoveryTwoTrustFrameworks(t *testing.T) {
	p := testProvider()
	out, err := RenderDiscovery(p)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "discovery-default.json", out)
	doc := render(t, p)
	if doc["issuer"] != "https://id.example.com/" || doc["token_endpoint"] != "https://id.example.com/token" {
		t.Errorf("issuer %v, token endpoint %v", doc["issuer"], doc["token_endpoint"])
	}
	// Rendering is deterministic.
	again, _ := RenderDiscovery(testProvider())
	if !bytes.Equal(out, again) {
		t.Error("two renderings differ")
	}
}

func TestRenderDiscoveryFAPI2JapaneseProfile(t *testing.T) {
	p := jpProvider()
	out, err := RenderDiscovery(p)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "discovery-fapi2-jp.json", out)
	doc := render(t, p)
	if doc["require_pushed_authorization_requests"] != true {
		t.Error("FAPI2 requires PAR")
	}
	if got := doc["token_endpoint_auth_methods_supported"].([]any); len(got) != 1 || got[0] != AuthPrivateKeyJWT {
		t.Errorf("auth methods %v", got)
	}
	scopes := doc["scopes_supported"].([]any)
	for _, s := range JPBasicScopes {
		if !slices.Contains(scopes, any(s)) {
			t.Errorf("scopes_supported lacks %s", s)
		}
	}
	if _, ok := doc["attachments_supported"]; ok {
		t.Error("attachments advertised without support")
	}
	if _, ok := doc["digest_algorithms_supported"]; ok {
		t.Error("digest algorithms advertised without external attachments")
	}
}

func TestRenderDiscoveryVariants(t *testing.T) {
	// Embedded attachments only: no digest algorithms.
	p := testProvider()
	p.IDA.AttachmentsSupported = []string{"embedded"}
	doc := render(t, p)
	if _, ok := doc["digest_algorithms_supported"]; ok {
		t.Error("digest_algorithms_supported without external attachments")
	}
	// External with no digest list: sha-256 (ATT §8 default).
	p.IDA.AttachmentsSupported = []string{"external"}
	p.IDA.DigestAlgorithmsSupported = nil
	doc = render(t, p)
	if got := doc["digest_algorithms_supported"].([]any); len(got) != 1 || got[0] != "sha-256" {
		t.Errorf("digest algorithms %v", got)
	}
	// Scopes are not repeated when a standard one is listed as extra.
	p.Scopes = []string{"openid", "accounts"}
	doc = render(t, p)
	if got := doc["scopes_supported"].([]any); len(got) != len(StandardScopes)+1 {
		t.Errorf("scopes %v", got)
	}
	// An invalid provider renders nothing.
	p.Issuer = ""
	if _, err := RenderDiscovery(p); err == nil || !strings.Contains(err.Error(), "issuer") {
		t.Errorf("invalid provider rendered: %v", err)
	}
}
