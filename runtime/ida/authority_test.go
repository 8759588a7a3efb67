package ida

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// authorityExample reads one of the draft's response examples kept in
// testdata/authority (origin in its README).
func authorityExample(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "authority", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkAuthorityShape checks a released authority claim against the
// draft's rules (openid-authority-00 §"authority Element" and the sections
// on its sub-elements; the draft's authority.json schema was never
// published): an authority object or a non-empty array of them; each with
// an applies_to object and a permission array whose entries carry a role;
// granted_by, when present, an object with a method; may_delegate a
// boolean.
func checkAuthorityShape(v any) error {
	var objs []any
	switch a := v.(type) {
	case map[string]any:
		objs = []any{a}
	case []any:
		if len(a) == 0 {
			return errors.New("authority: empty array")
		}
		objs = a
	default:
		return fmt.Errorf("authority: %T, want an object or an array", v)
	}
	for i, o := range objs {
		obj, ok := o.(map[string]any)
		if !ok {
			return fmt.Errorf("authority[%d]: not an object", i)
		}
		if at, ok := obj["applies_to"].(map[string]any); !ok || len(at) == 0 {
			return fmt.Errorf("authority[%d].applies_to: missing or empty", i)
		}
		perms, ok := obj["permission"].([]any)
		if !ok || len(perms) == 0 {
			return fmt.Errorf("authority[%d].permission: missing or not an array", i)
		}
		for j, p := range perms {
			pm, ok := p.(map[string]any)
			if !ok {
				return fmt.Errorf("authority[%d].permission[%d]: not an object", i, j)
			}
			if _, ok := pm["role"].(string); !ok {
				return fmt.Errorf("authority[%d].permission[%d].role: missing", i, j)
			}
			if md, has := pm["may_delegate"]; has {
				if _, ok := md.(bool); !ok {
					return fmt.Errorf("authority[%d].permission[%d].may_delegate: not a boolean", i, j)
				}
			}
		}
		if gb, has := obj["granted_by"]; has {
			gm, ok := gb.(map[string]any)
			if !ok {
				return fmt.Errorf("authority[%d].granted_by: not an object", i)
			}
			if _, ok := gm["method"].(string); !ok {
				return fmt.Errorf("authority[%d].granted_by.method: missing", i)
			}
		}
	}
	return nil
}

// releasedAuthority returns userinfo's verified_claims.claims.authority,
// checked against the draft's rules and against the request (nothing
// unrequested), or nil when none was released.
func releasedAuthority(t *testing.T, request string, res *Result) any {
	t.Helper()
	if err := onlyRequested([]byte(request), res); err != nil {
		t.Fatalf("released more than asked: %v\n%s", err, mustJSON(t, res))
	}
	raw, ok := res.UserInfo["verified_claims"]
	if !ok {
		return nil
	}
	var vc struct {
		Claims map[string]any `json:"claims"`
	}
	if err := json.Unmarshal(raw, &vc); err != nil {
		t.Fatal(err)
	}
	a, ok := vc.Claims["authority"]
	if !ok {
		return nil
	}
	if err := checkAuthorityShape(a); err != nil {
		t.Fatalf("released authority breaks the draft's rules: %v\n%s", err, raw)
	}
	return a
}

func authorityRequest(authority string) string {
	return `{"userinfo": {"verified_claims": {"verification": {"trust_framework": null}, "claims": {"given_name": null, "authority": ` + authority + `}}}}`
}

// Every example of the draft, used as a dataset, gives its authority back
// whole when asked with null, valid against the IDA schema (run) and the
// draft's rules.
func TestAuthorityExamplesAsDatasets(t *testing.T) {
	e := permissive(t)
	for _, name := range []string{
		"authority_claims_simple.json",
		"authority_parent_child.json",
		"authority_claims_mobile_carrier_example.json",
		"authority_claims_jp_gbiz_id_prime_legal_entity.json",
		"authority_claims_jp_gbiz_id_member_legal_entity.json",
	} {
		t.Run(name, func(t *testing.T) {
			ds := authorityExample(t, name)
			var doc struct {
				VC struct {
					Claims map[string]json.RawMessage `json:"claims"`
				} `json:"verified_claims"`
			}
			if err := json.Unmarshal([]byte(ds), &doc); err != nil {
				t.Fatal(err)
			}
			if err := checkAuthorityShape(decodeJSON(t, doc.VC.Claims["authority"])); err != nil {
				t.Fatalf("the example itself: %v", err)
			}
			req := authorityRequest(`null`)
			got := releasedAuthority(t, req, run(t, e, req, ds, ""))
			if got == nil {
				t.Fatal("authority not released")
			}
			assertJSONEqual(t, mustJSON(t, got), doc.VC.Claims["authority"])
		})
	}
}

func decodeJSON(t testing.TB, raw []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// Requests for applies_to members, permission filters and granted_by
// release exactly what they name.
func TestAuthorityRequests(t *testing.T) {
	e := permissive(t)
	simple := authorityExample(t, "authority_claims_simple.json")
	carrier := authorityExample(t, "authority_claims_mobile_carrier_example.json")
	gbiz := authorityExample(t, "authority_claims_jp_gbiz_id_prime_legal_entity.json")
	cases := []struct {
		name, dataset, authority string
		want                     string // the released authority, "" for none
	}{
		{"applies_to members only", simple,
			`{"applies_to": {"organization_name": null, "registration_number": null}, "permission": [{"role": null}]}`,
			`[{"applies_to": {"organization_name": "Example Company Limited", "registration_number": "12351235"}, "permission": [{"role": "Director"}]}]`},
		{"permission whole, granted_by method", simple,
			`{"applies_to": {"lei": null, "organization_name": null}, "permission": null, "granted_by": {"method": null}}`,
			`[{"applies_to": {"organization_name": "Example Company Limited"}, "permission": [{"role": "Director", "validity": [{"start": "2018-03-02T10:00Z"}]}], "granted_by": {"method": "appointment"}}]`},
		{"permission role value matches", simple,
			`{"applies_to": {"organization_name": null}, "permission": [{"role": {"value": "Director"}}]}`,
			`[{"applies_to": {"organization_name": "Example Company Limited"}, "permission": [{"role": "Director"}]}]`},
		{"permission role value does not match", simple,
			`{"applies_to": {"organization_name": null}, "permission": [{"role": {"value": "Secretary"}}]}`,
			``},
		{"permission role values pick one entry", carrier,
			`{"applies_to": {"msisdn": null}, "permission": [{"role": {"values": ["guardian", "trustee"]}, "function": null}]}`,
			`[{"applies_to": {"msisdn": "+12012345678"}, "permission": [{"role": "guardian", "function": "release_personal_info"}]}]`},
		{"gBizID prime by registration number", gbiz,
			`{"applies_to": {"registration_number": {"value": "XXXXXXXXXX"}}, "permission": [{"role": {"value": "prime"}}]}`,
			`{"applies_to": {"registration_number": "XXXXXXXXXX"}, "permission": [{"role": "prime"}]}`},
		{"gBizID another company", gbiz,
			`{"applies_to": {"registration_number": {"value": "1234567890123"}}, "permission": null}`,
			``},
		{"applies_to without permission is not an authority", simple,
			`{"applies_to": null}`,
			``},
		{"permission without role is not a permission", simple,
			`{"applies_to": null, "permission": [{"validity": null}]}`,
			``},
		{"granted_by without method is left out, the authority stays", simple,
			`{"applies_to": {"organization_name": null}, "permission": [{"role": null}], "granted_by": {"reason": null}}`,
			`[{"applies_to": {"organization_name": "Example Company Limited"}, "permission": [{"role": "Director"}]}]`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := authorityRequest(tc.authority)
			res := run(t, e, req, tc.dataset, "")
			got := releasedAuthority(t, req, res)
			if tc.want == "" {
				if got != nil {
					t.Fatalf("released %s", mustJSON(t, got))
				}
				// The rest of the verified claims still comes back (IDA §5.7.4).
				if !strings.Contains(string(res.UserInfo["verified_claims"]), `"given_name"`) {
					t.Errorf("given_name went with the authority: %s", res.UserInfo["verified_claims"])
				}
				return
			}
			if got == nil {
				t.Fatalf("nothing released: %s", mustJSON(t, res))
			}
			assertJSONEqual(t, mustJSON(t, got), []byte(tc.want))
		})
	}
}

// The catalog decides: authority leaves only under a framework that lists
// it, and the member example's misspelt framework is never released.
func TestAuthorityUnderTrustFrameworkCatalog(t *testing.T) {
	gbizid := TrustFramework{Identifier: "jp_gbizid_v1", AssuranceLevels: []string{"ial2"},
		Claims: []string{"family_name", "given_name", "birthdate", "authority"}}
	withAuthority, err := NewEngine(Policy{TrustFrameworks: []TrustFramework{gbizid}})
	if err != nil {
		t.Fatal(err)
	}
	gbizid.Claims = gbizid.Claims[:3]
	without, err := NewEngine(Policy{TrustFrameworks: []TrustFramework{gbizid}})
	if err != nil {
		t.Fatal(err)
	}
	req := authorityRequest(`null`)
	prime := authorityExample(t, "authority_claims_jp_gbiz_id_prime_legal_entity.json")
	if releasedAuthority(t, req, run(t, withAuthority, req, prime, "")) == nil {
		t.Error("not released under a framework that lists authority")
	}
	if got := releasedAuthority(t, req, run(t, without, req, prime, "")); got != nil {
		t.Errorf("released under a framework that does not list authority: %s", mustJSON(t, got))
	}
	member := authorityExample(t, "authority_claims_jp_gbiz_id_member_legal_entity.json")
	if res := run(t, withAuthority, req, member, ""); len(res.UserInfo) != 0 {
		t.Errorf("released under the unknown framework %q: %s", " jp_gbizid_v1", mustJSON(t, res))
	}
	md := withAuthority.Metadata()
	if md["authority_claims_supported"] != true {
		t.Errorf("authority_claims_supported = %v", md["authority_claims_supported"])
	}
	if _, ok := without.Metadata()["authority_claims_supported"]; ok {
		t.Error("authority_claims_supported advertised without a framework listing authority")
	}
}

// Wrongly typed authority requests are refused with their path.
func TestAuthorityWrongTypes(t *testing.T) {
	e := permissive(t)
	for authority, want := range map[string]string{
		`{"applies_to": "XXXXXXXXXX"}`:                                    "claims.authority.applies_to: must be null or an object",
		`{"permission": {"role": null}}`:                                  "claims.authority.permission: must be null, an array of objects or an object of request options",
		`{"permission": [{"role": {"value": 1}}]}`:                        "claims.authority.permission[0].role.value: must be a string",
		`{"value": "prime"}`:                                              "claims.authority.value: can never match: the element is an object",
		`{"granted_by": [{"method": null}]}`:                              "claims.authority.granted_by: must be null or an object",
		`{"permission": [{"may_delegate": "yes!"}]}`:                      "claims.authority.permission[0].may_delegate: must be null or an object of request options: the element is a boolean",
		`{"applies_to": {"incorporation_date": {"max_age": 5, "x": {}}}}`: "claims.authority.applies_to.incorporation_date: must be null or an object of request options",
	} {
		_, err := e.ParseRequest([]byte(authorityRequest(authority)), RequestOptions{})
		var ie *Error
		if !errors.As(err, &ie) || !strings.Contains(ie.Description, want) {
			t.Errorf("%s: got %v, want %q", authority, err, want)
		}
	}
}

// ActsFor names what the release holds, for the consent page: the
// company's name when released, a person's name, else the registration
// number; entities the request filtered out are not named.
func TestActsFor(t *testing.T) {
	e := permissive(t)
	ds := `{"verified_claims": {"verification": {"trust_framework": "jp_gbizid_v1"}, "claims": {"authority": [
	  {"applies_to": {"registration_number": "1234567890123", "organization_name": " 株式会社サンプル "}, "permission": [{"role": "prime"}]},
	  {"applies_to": {"registration_number": "9876543210987", "organization_name": "合同会社例"}, "permission": [{"role": "member"}]},
	  {"applies_to": {"given_name": "Kevin", "family_name": "McCallister"}, "permission": [{"role": "guardian"}]}]}}}`
	for authority, want := range map[string][]string{
		`null`: {"株式会社サンプル", "合同会社例", "Kevin McCallister"},
		`{"applies_to": {"registration_number": null}, "permission": [{"role": {"value": "prime"}}]}`:               {"1234567890123"},
		`{"applies_to": {"organization_name": null}, "permission": [{"role": {"values": ["member", "guardian"]}}]}`: {"合同会社例"},
		`{"applies_to": {"lei": null}, "permission": null}`:                                                         nil,
	} {
		got := ActsFor(run(t, e, authorityRequest(authority), ds, ""))
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("%s: ActsFor = %q, want %q", authority, got, want)
		}
	}
	if got := ActsFor(&Result{}); got != nil {
		t.Errorf("empty result: %q", got)
	}
}
