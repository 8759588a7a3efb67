package ida

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// refusedExamples lists official request examples this project refuses,
// with the rule that refuses them. None today: every example follows
// DECISIONS.md (verification_with_attachments.json asks for attachments
// under verification, which is merely unusual, not invalid).
var refusedExamples = map[string]string{}

// Every official request example parses (or is refused for the listed
// reason), and validates against the request schema (DECISIONS 11 uses the
// schema to check the examples, not incoming requests).
func TestSpecRequestExamplesParse(t *testing.T) {
	e := permissive(t)
	_, reqSchema := schemas(t)
	files := append(specFiles(t, "examples/request"), specFiles(t, "asc-examples")...)
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			_, err = e.ParseRequest(b, RequestOptions{IntegrityProtected: true})
			if reason, refused := refusedExamples[name]; refused {
				var ie *Error
				if !errors.As(err, &ie) || !strings.Contains(ie.Description, reason) {
					t.Fatalf("want refusal %q, got %v", reason, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if strings.Contains(f, "asc-examples") {
				return // ASC -00 syntax (if_different, ...) is outside the IDA request schema
			}
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if err := reqSchema.Validate(doc); err != nil {
				t.Errorf("example fails the request schema: %v", err)
			}
		})
	}
}

// Every response example, used as a dataset, evaluates without error
// against every request example, and every output validates.
func TestSpecResponseExamplesAsDatasets(t *testing.T) {
	e := permissive(t)
	reqs := append(specFiles(t, "examples/request"), specFiles(t, "asc-examples")...)
	for _, f := range specFiles(t, "examples/response") {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			ds, err := ParseDataset(b)
			if err != nil {
				t.Fatalf("dataset refused: %v", err)
			}
			for _, rf := range reqs {
				rb, _ := os.ReadFile(rf)
				req, err := e.ParseRequest(rb, RequestOptions{IntegrityProtected: true})
				if err != nil {
					t.Fatalf("%s: %v", filepath.Base(rf), err)
				}
				assertSchemaValid(t, e.Evaluate(req, ds, testNow))
			}
		})
	}
}

// A request naming every member a dataset holds gives the dataset back:
// minimisation removes only what was not asked for.
func TestSpecResponseExamplesRoundTrip(t *testing.T) {
	e := permissive(t)
	for _, f := range specFiles(t, "examples/response") {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		vc, ok := doc["verified_claims"]
		if !ok {
			continue
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			req := map[string]any{"userinfo": map[string]any{"verified_claims": requestFor(vc)}}
			res := run(t, e, string(mustJSON(t, req)), string(b), "")
			assertJSONEqual(t, res.UserInfo["verified_claims"], mustJSON(t, vc))
		})
	}
}

// requestFor builds the request that names everything in a verified_claims
// value: an array answers element by element, each pinned to its trust
// framework.
func requestFor(vc any) any {
	if arr, ok := vc.([]any); ok {
		out := make([]any, len(arr))
		for i, el := range arr {
			out[i] = requestFor(el)
		}
		return out
	}
	m := vc.(map[string]any)
	ver := m["verification"].(map[string]any)
	vr := nameAll(ver).(map[string]any)
	vr["trust_framework"] = map[string]any{"value": ver["trust_framework"]}
	if ev, ok := ver["evidence"].([]any); ok {
		vr["evidence"] = evidenceRequest(ev)
	}
	if ap, ok := ver["assurance_process"].(map[string]any); ok {
		apr := nameAll(ap).(map[string]any)
		if _, ok := ap["assurance_details"]; ok {
			apr["assurance_details"] = nil
		}
		vr["assurance_process"] = apr
	}
	claims := map[string]any{}
	for k := range m["claims"].(map[string]any) {
		claims[k] = nil
	}
	if len(claims) == 0 {
		claims["given_name"] = nil
	}
	return map[string]any{"verification": vr, "claims": claims}
}

// nameAll names every member of an object: scalars and arrays as null,
// objects member by member.
func nameAll(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	out := map[string]any{}
	for k, x := range m {
		out[k] = nameAll(x)
	}
	return out
}

// evidenceRequest makes one entry per evidence type naming the union of
// the members its items hold.
func evidenceRequest(ev []any) []any {
	byType := map[string]map[string]any{}
	var order []string
	for _, it := range ev {
		item := it.(map[string]any)
		typ := item["type"].(string)
		entry, ok := byType[typ]
		if !ok {
			entry = map[string]any{"type": map[string]any{"value": typ}}
			byType[typ] = entry
			order = append(order, typ)
		}
		for k, x := range item {
			switch k {
			case "type":
			case "check_details":
				cd := map[string]any{}
				if prev, ok := entry[k].([]any); ok {
					cd = prev[0].(map[string]any)
				}
				for _, c := range x.([]any) {
					for ck := range c.(map[string]any) {
						cd[ck] = nil
					}
				}
				entry[k] = []any{cd}
			default:
				merge(entry, k, nameAll(x))
			}
		}
	}
	out := make([]any, len(order))
	for i, typ := range order {
		out[i] = byType[typ]
	}
	return out
}

func merge(dst map[string]any, k string, v any) {
	old, ok := dst[k].(map[string]any)
	nv, ok2 := v.(map[string]any)
	if !ok || !ok2 {
		dst[k] = v
		return
	}
	for kk, vv := range nv {
		merge(old, kk, vv)
	}
}
