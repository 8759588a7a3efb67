package ida

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/idaop/ida-operator/internal/idatest"
)

// refusedExamples lists official request examples this project refuses,
// with the rule that refuses them. None today: every example is a request
// the text allows (verification_with_attachments.json asks for attachments
// under verification, which is merely unusual, not invalid).
var refusedExamples = map[string]string{}

// Every request example parses: the project's own always, the official
// ones (which must also pass the official request schema) when present.
func TestRequestExamplesParse(t *testing.T) {
	e := permissive(t)
	for _, ex := range ownExamples("requests") {
		t.Run(ex.name, func(t *testing.T) {
			if _, err := e.ParseRequest(ex.data, RequestOptions{IntegrityProtected: true}); err != nil {
				t.Fatalf("refused: %v", err)
			}
		})
	}
	withOfficialSpec(t, func(t *testing.T, dir string) {
		reqSchema, err := idatest.OfficialRequestSchema(dir)
		if err != nil {
			t.Fatal(err)
		}
		asc := officialExamples(t, dir, "asc-examples")
		for _, ex := range append(officialExamples(t, dir, "examples/request"), asc...) {
			isASC := slices.ContainsFunc(asc, func(a example) bool { return a.name == ex.name })
			t.Run(ex.name, func(t *testing.T) {
				_, err := e.ParseRequest(ex.data, RequestOptions{IntegrityProtected: true})
				if reason, refused := refusedExamples[ex.name]; refused {
					var ie *Error
					if !errors.As(err, &ie) || !strings.Contains(ie.Description, reason) {
						t.Fatalf("want refusal %q, got %v", reason, err)
					}
					return
				}
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if isASC {
					return // ASC -00 syntax (if_different, ...) is outside the IDA request schema
				}
				doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(ex.data))
				if err != nil {
					t.Fatal(err)
				}
				if err := reqSchema.Validate(doc); err != nil {
					t.Errorf("example fails the request schema: %v", err)
				}
			})
		}
	})
}

// Every response example, used as a dataset, evaluates without error
// against every request example, and every output validates.
func TestResponseExamplesAsDatasets(t *testing.T) {
	e := permissive(t)
	// mustRelease: the project's examples are written so that some
	// request answers each response.
	check := func(t *testing.T, reqs, resps []example, mustRelease bool) {
		for _, resp := range resps {
			t.Run(resp.name, func(t *testing.T) {
				ds, err := ParseDataset(resp.data)
				if err != nil {
					t.Fatalf("dataset refused: %v", err)
				}
				released := 0
				for _, rq := range reqs {
					req, err := e.ParseRequest(rq.data, RequestOptions{IntegrityProtected: true})
					if err != nil {
						t.Fatalf("%s: %v", rq.name, err)
					}
					res := e.Evaluate(req, ds, testNow)
					assertSchemaValid(t, res)
					if _, ok := res.UserInfo["verified_claims"]; ok {
						released++
					} else if _, ok := res.IDToken["verified_claims"]; ok {
						released++
					}
				}
				if mustRelease && released == 0 {
					t.Errorf("no request example released verified_claims from %s", resp.name)
				}
			})
		}
	}
	check(t, ownExamples("requests"), ownExamples("responses"), true)
	withOfficialSpec(t, func(t *testing.T, dir string) {
		reqs := append(officialExamples(t, dir, "examples/request"), officialExamples(t, dir, "asc-examples")...)
		check(t, reqs, officialExamples(t, dir, "examples/response"), false)
	})
}

// A request naming every member a dataset holds gives the dataset back:
// minimisation removes only what was not asked for.
func TestResponseExamplesRoundTrip(t *testing.T) {
	e := permissive(t)
	check := func(t *testing.T, resps []example) {
		for _, ex := range resps {
			var doc map[string]any
			if err := json.Unmarshal(ex.data, &doc); err != nil {
				t.Fatal(err)
			}
			vc, ok := doc["verified_claims"]
			if !ok {
				continue
			}
			t.Run(ex.name, func(t *testing.T) {
				req := map[string]any{"userinfo": map[string]any{"verified_claims": requestFor(vc)}}
				res := run(t, e, string(mustJSON(t, req)), string(ex.data), "")
				assertJSONEqual(t, res.UserInfo["verified_claims"], mustJSON(t, vc))
			})
		}
	}
	check(t, ownExamples("responses"))
	withOfficialSpec(t, func(t *testing.T, dir string) {
		check(t, officialExamples(t, dir, "examples/response"))
	})
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
