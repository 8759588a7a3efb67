package rptest

import (
	"encoding/json"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/idaop/ida-operator/internal/idatest"
)

func jsonIndent(v any) ([]byte, error) { return json.MarshalIndent(v, "", "  ") }

// NamedSchema is a verified_claims schema and what to call it in failures.
type NamedSchema struct {
	Name   string
	Schema *jsonschema.Schema
}

// VerifiedClaimsSchemas are the schemas verified_claims must pass: the
// project's own, and the official one of specDir (official-spec-extra)
// when specDir is not "".
func VerifiedClaimsSchemas(t testing.TB, specDir string) []NamedSchema {
	t.Helper()
	own, err := idatest.VerifiedClaimsSchema()
	if err != nil {
		t.Fatalf("compiling the project's verified_claims schema: %v", err)
	}
	out := []NamedSchema{{"the project's schema", own}}
	if specDir != "" {
		off, err := idatest.OfficialVerifiedClaimsSchema(specDir)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, NamedSchema{"the official schema (official-spec-extra)", off})
	}
	return out
}

// ValidateVerifiedClaims validates the verified_claims member of a UserInfo
// response or ID token against VerifiedClaimsSchemas, with the Japanese
// profile's __response_metadata set aside; it fails t with where when a
// schema refuses it and returns how many datasets it checked (0: no
// verified_claims).
func ValidateVerifiedClaims(t testing.TB, specDir, where string, claims map[string]any) int {
	t.Helper()
	vc, ok := claims["verified_claims"]
	if !ok {
		return 0
	}
	raw, err := json.Marshal(vc)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range VerifiedClaimsSchemas(t, specDir) {
		if err := idatest.Validate(s.Schema, raw); err != nil {
			t.Errorf("%s verified_claims fails %s: %v\n%s", where, s.Name, err, raw)
		}
	}
	if arr, ok := vc.([]any); ok {
		return len(arr)
	}
	return 1
}

// Datasets returns verified_claims as a list.
func Datasets(claims map[string]any) []map[string]any {
	var out []map[string]any
	switch x := claims["verified_claims"].(type) {
	case map[string]any:
		out = append(out, x)
	case []any:
		for _, el := range x {
			if m, ok := el.(map[string]any); ok {
				out = append(out, m)
			}
		}
	}
	return out
}

// DatasetUnder returns the first dataset verified under trust framework tf.
func DatasetUnder(claims map[string]any, tf string) map[string]any {
	for _, d := range Datasets(claims) {
		if v, _ := d["verification"].(map[string]any); v != nil && v["trust_framework"] == tf {
			return d
		}
	}
	return nil
}
