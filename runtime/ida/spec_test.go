package ida

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/idaop/ida-operator/internal/idatest"
	"github.com/idaop/ida-operator/internal/specdir"
)

// example is one request or response example file.
type example struct {
	name string
	data []byte
}

// ownExamples are the project's own examples of idatest's testdata/<dir>
// ("requests", "responses"): they always run.
func ownExamples(dir string) []example {
	var out []example
	for _, name := range idatest.Files(dir) {
		out = append(out, example{name: filepath.Base(name), data: idatest.File(name)})
	}
	return out
}

// officialSpec is the official spec folder (specdir.Find), or "" with the
// reason logged: the official files are an extra check, so their absence
// never skips a test.
func officialSpec(t testing.TB) string {
	t.Helper()
	d, looked := specdir.Find()
	if d == "" {
		t.Logf("official-spec-extra left out: spec folder not found; looked in %v", looked)
	}
	return d
}

// withOfficialSpec runs f as the subtest official-spec-extra when the
// spec folder is there.
func withOfficialSpec(t *testing.T, f func(t *testing.T, dir string)) {
	t.Helper()
	if dir := officialSpec(t); dir != "" {
		t.Run("official-spec-extra", func(t *testing.T) { f(t, dir) })
	}
}

// officialExamples reads the *.json files of rel in the spec folder.
func officialExamples(t testing.TB, dir, rel string) []example {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, rel, "*.json"))
	if err != nil || len(m) == 0 {
		t.Fatalf("no JSON files in %s", filepath.Join(dir, rel))
	}
	out := make([]example, 0, len(m))
	for _, f := range m {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, example{name: filepath.Base(f), data: b})
	}
	return out
}

// assertSchemaValid checks every verified_claims the engine produced
// against the project's own response schema and, when the spec folder is
// there, the official one too; the Japanese profile's __response_metadata
// is set aside (idatest.Validate).
func assertSchemaValid(t testing.TB, res *Result) {
	t.Helper()
	own, err := idatest.VerifiedClaimsSchema()
	if err != nil {
		t.Fatal(err)
	}
	schemas := map[string]*jsonschema.Schema{"the project's schema": own}
	if d, _ := specdir.Find(); d != "" {
		off, err := idatest.OfficialVerifiedClaimsSchema(d)
		if err != nil {
			t.Fatal(err)
		}
		schemas["the official schema (official-spec-extra)"] = off
	}
	for target, claims := range map[string]map[string]json.RawMessage{"id_token": res.IDToken, "userinfo": res.UserInfo} {
		raw, ok := claims["verified_claims"]
		if !ok {
			continue
		}
		for name, sch := range schemas {
			if err := idatest.Validate(sch, raw); err != nil {
				t.Errorf("%s.verified_claims fails %s: %v\n%s", target, name, err, raw)
			}
		}
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// permissive is an engine with the policy `claims evaluate` uses by default.
func permissive(t testing.TB) *Engine {
	t.Helper()
	e, err := NewEngine(PermissivePolicy())
	if err != nil {
		t.Fatal(err)
	}
	return e
}

var testNow = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// run parses request and dataset and evaluates them, failing on errors.
func run(t testing.TB, e *Engine, request, dataset string, scope string) *Result {
	t.Helper()
	req, err := e.ParseRequest([]byte(request), RequestOptions{Scope: scope, IntegrityProtected: true})
	if err != nil {
		t.Fatalf("request refused: %v", err)
	}
	ds, err := ParseDataset([]byte(dataset))
	if err != nil {
		t.Fatalf("dataset: %v", err)
	}
	res := e.Evaluate(req, ds, testNow)
	assertSchemaValid(t, res)
	return res
}

// assertJSONEqual compares JSON semantically and shows both on mismatch.
func assertJSONEqual(t testing.TB, got, want []byte) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("want is not JSON: %v\n%s", err, want)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if !bytes.Equal(gb, wb) {
		t.Errorf("JSON differs\n got: %s\nwant: %s", gb, wb)
	}
}

func resultJSON(t testing.TB, r *Result) []byte { return mustJSON(t, r) }
