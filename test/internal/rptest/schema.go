package rptest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

func jsonIndent(v any) ([]byte, error) { return json.MarshalIndent(v, "", "  ") }

var (
	schemaMu sync.Mutex
	schemas  = map[string]*jsonschema.Schema{}
)

// VerifiedClaimsSchema compiles the official response schema of specDir,
// with the three schema files loaded under their $id so their cross
// references resolve offline.
func VerifiedClaimsSchema(t testing.TB, specDir string) *jsonschema.Schema {
	t.Helper()
	schemaMu.Lock()
	defer schemaMu.Unlock()
	if s, ok := schemas[specDir]; ok {
		return s
	}
	c := jsonschema.NewCompiler()
	var vcID string
	for _, f := range []string{"claims_schema.json", "verified_claims.json", "verified_claims_request.json"} {
		b, err := os.ReadFile(filepath.Join(specDir, "schema", f))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		id, _ := doc.(map[string]any)["$id"].(string)
		if id == "" {
			id = "file:///" + f
		}
		if err := c.AddResource(id, doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if f == "verified_claims.json" {
			vcID = id
		}
	}
	s, err := c.Compile(vcID)
	if err != nil {
		t.Fatalf("compiling the verified_claims schema: %v", err)
	}
	schemas[specDir] = s
	return s
}

// ValidateVerifiedClaims validates the verified_claims member of a UserInfo
// response or ID token, with the Japanese profile's __response_metadata set
// aside; it fails t with where when the schema refuses it and returns how
// many datasets it checked (0: no verified_claims).
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
	var cp any
	if err := json.Unmarshal(raw, &cp); err != nil {
		t.Fatal(err)
	}
	stripResponseMetadata(cp)
	body, _ := json.Marshal(map[string]any{"verified_claims": cp})
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifiedClaimsSchema(t, specDir).Validate(doc); err != nil {
		t.Errorf("%s verified_claims fails the official schema: %v\n%s", where, err, raw)
	}
	if arr, ok := cp.([]any); ok {
		return len(arr)
	}
	return 1
}

func stripResponseMetadata(v any) {
	switch x := v.(type) {
	case map[string]any:
		delete(x, "__response_metadata")
	case []any:
		for _, el := range x {
			stripResponseMetadata(el)
		}
	}
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
