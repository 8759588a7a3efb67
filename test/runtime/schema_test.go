package runtime_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

var (
	schemaOnce sync.Once
	schemaVC   *jsonschema.Schema
	schemaErr  error
)

// verifiedClaimsSchema compiles the official response schema, with the
// three schema files loaded under their $id so their cross references
// resolve offline.
func verifiedClaimsSchema(t *testing.T, specDir string) *jsonschema.Schema {
	t.Helper()
	schemaOnce.Do(func() {
		c := jsonschema.NewCompiler()
		var vcID string
		for _, f := range []string{"claims_schema.json", "verified_claims.json", "verified_claims_request.json"} {
			b, err := os.ReadFile(filepath.Join(specDir, "schema", f))
			if err != nil {
				schemaErr = err
				return
			}
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
			if err != nil {
				schemaErr = err
				return
			}
			id, _ := doc.(map[string]any)["$id"].(string)
			if id == "" {
				id = "file:///" + f
			}
			if err := c.AddResource(id, doc); err != nil {
				schemaErr = err
				return
			}
			if f == "verified_claims.json" {
				vcID = id
			}
		}
		schemaVC, schemaErr = c.Compile(vcID)
	})
	if schemaErr != nil {
		t.Fatalf("compiling the verified_claims schema: %v", schemaErr)
	}
	return schemaVC
}

// assertVerifiedClaimsValid validates the verified_claims member of a
// UserInfo response or ID token, with the Japanese profile's
// __response_metadata set aside. It returns how many datasets it checked.
func assertVerifiedClaimsValid(t *testing.T, specDir, where string, claims map[string]any) int {
	t.Helper()
	vc, ok := claims["verified_claims"]
	if !ok {
		return 0
	}
	// Work on a copy: the caller may still read __response_metadata.
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
	if err := verifiedClaimsSchema(t, specDir).Validate(doc); err != nil {
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

// datasets returns verified_claims as a list.
func datasets(claims map[string]any) []map[string]any {
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

// datasetUnder returns the first dataset verified under trust framework tf.
func datasetUnder(claims map[string]any, tf string) map[string]any {
	for _, d := range datasets(claims) {
		if v, _ := d["verification"].(map[string]any); v != nil && v["trust_framework"] == tf {
			return d
		}
	}
	return nil
}

// TestSchemaRejectsBrokenVerifiedClaims makes sure the validator used by the
// flow tests would notice a bad response.
func TestSchemaRejectsBrokenVerifiedClaims(t *testing.T) {
	root, err := projectRoot()
	if err != nil {
		t.Fatal(err)
	}
	spec, err := findSpecDir(root)
	if err != nil {
		t.Fatal(err)
	}
	sch := verifiedClaimsSchema(t, spec)
	for name, body := range map[string]string{
		"no verification":    `{"verified_claims":{"claims":{"given_name":"Taro"}}}`,
		"trust_framework 42": `{"verified_claims":{"verification":{"trust_framework":42},"claims":{"given_name":"Taro"}}}`,
	} {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(body)))
		if err != nil {
			t.Fatal(err)
		}
		if sch.Validate(doc) == nil {
			t.Errorf("%s: the schema accepted %s", name, body)
		}
	}
}
