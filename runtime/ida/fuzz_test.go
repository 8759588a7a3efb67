package ida

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/idaop/ida-operator/internal/specdir"
)

// FuzzEvaluate parses and evaluates arbitrary requests and datasets. It
// must never panic, refusals must be *Error with an RFC 6749-safe
// description, and no output may hold a member the request did not ask
// for.
func FuzzEvaluate(f *testing.F) {
	f.Add([]byte(`{"userinfo": {"verified_claims": {"verification": {"trust_framework": null}, "claims": {"given_name": null}}}}`), []byte(maxDataset))
	f.Add([]byte(everything), []byte(maxDataset))
	f.Add([]byte(`{"_asc": {"transformed_claims": {"a": {"claim": "birthdate", "fn": ["years_ago", ["gte", 18]]}}}, "id_token": {":a": null, "verified_claims": {"verification": {"trust_framework": null}, "claims": {":a": {"value": true}, "address": {"locality": null}}}}}`), []byte(tcDataset))
	f.Add([]byte(`{"userinfo": {"verified_claims": [{"verification": {"trust_framework": null, "evidence": [{"type": {"value": "document"}, "attachments": null}]}, "claims": {"given_name": null}}]}}`), []byte(attachmentsDataset))
	f.Add([]byte(`{"userinfo": {"verified_claims": {"verification": {"trust_framework": null, "evidence": [{"type": {"value": "electronic_record"}, "check_details": [{"check_method": null, "organization": {"value": "OpenBankingTPP"}}]}]}, "claims": {"family_name": {"value": "Unknown"}, "address": {"locality": null}}}}}`), []byte(sarah))
	addExampleSeeds(f)
	f.Add([]byte(authorityRequest(`{"applies_to": {"organization_name": null}, "permission": [{"role": {"value": "Director"}}], "granted_by": null}`)), []byte(authorityExample(f, "authority_claims_simple.json")))
	f.Add([]byte(authorityRequest(`{"applies_to": {"registration_number": {"value": "XXXXXXXXXX"}}, "permission": null}`)), []byte(authorityExample(f, "authority_claims_jp_gbiz_id_prime_legal_entity.json")))
	engines := fuzzEngines(f)
	f.Fuzz(func(t *testing.T, request, dataset []byte) {
		for _, e := range engines {
			req, err := e.ParseRequest(request, RequestOptions{IntegrityProtected: true})
			if err != nil {
				var ie *Error
				if !errors.As(err, &ie) || (ie.Code != ErrInvalidRequest && ie.Code != ErrInvalidScope) {
					t.Fatalf("refusal is not an OAuth error: %v", err)
				}
				for i := 0; i < len(ie.Description); i++ {
					if c := ie.Description[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
						t.Fatalf("error_description has %q: %s", c, ie.Description)
					}
				}
				continue
			}
			ds, err := ParseDataset(dataset)
			if err != nil {
				continue
			}
			res := e.Evaluate(req, ds, testNow)
			if err := onlyRequested(request, res); err != nil {
				t.Fatalf("released more than asked: %v\nrequest: %s\nresult: %s", err, request, mustJSON(t, res))
			}
			// Each target alone decides exactly what the whole does.
			id := e.EvaluateFor(req, ds, testNow, TargetIDToken)
			ui := e.EvaluateFor(req, ds, testNow, TargetUserInfo)
			if id.UserInfo != nil || ui.IDToken != nil ||
				!reflect.DeepEqual(id.IDToken, res.IDToken) || !reflect.DeepEqual(id.IDTokenReleases, res.IDTokenReleases) ||
				!reflect.DeepEqual(ui.UserInfo, res.UserInfo) || !reflect.DeepEqual(ui.UserInfoReleases, res.UserInfoReleases) {
				t.Fatalf("EvaluateFor differs from Evaluate\nrequest: %s\nwhole: %s\nid_token: %s\nuserinfo: %s", request, mustJSON(t, res), mustJSON(t, id), mustJSON(t, ui))
			}
		}
	})
}

func fuzzEngines(t testing.TB) []*Engine {
	catalog, err := NewEngine(Policy{TrustFrameworks: []TrustFramework{deAML, {Identifier: "uk_tfida", EvidenceTypes: []string{"electronic_record"},
		ElectronicRecordTypes: []string{"bank_account"}, CheckMethods: []string{"kbv"}, Claims: []string{"given_name", "address"}}},
		AttachmentsSupported: []string{"embedded"}})
	if err != nil {
		t.Fatal(err)
	}
	return []*Engine{permissive(t), catalog}
}

// addExampleSeeds pairs request examples with response examples as seeds:
// the project's own always, the official ones too when the spec folder is
// there.
func addExampleSeeds(f *testing.F) {
	addSeedPairs(f, ownExamples("requests"), ownExamples("responses"))
	if dir, _ := specdir.Find(); dir != "" {
		addSeedPairs(f, officialExamples(f, dir, "examples/request"), officialExamples(f, dir, "examples/response"))
	}
}

func addSeedPairs(f *testing.F, reqs, resps []example) {
	for i, r := range reqs {
		f.Add(r.data, resps[i%len(resps)].data)
	}
}

// onlyRequested checks every released member against the raw request,
// decoded independently of the engine with encoding/json.
func onlyRequested(request []byte, res *Result) error {
	var req map[string]any
	if err := json.Unmarshal(request, &req); err != nil {
		if len(res.IDToken)+len(res.UserInfo) == 0 {
			return nil
		}
		return fmt.Errorf("released %d members for an empty request", len(res.IDToken)+len(res.UserInfo))
	}
	for target, out := range map[string]map[string]json.RawMessage{"id_token": res.IDToken, "userinfo": res.UserInfo} {
		treq, _ := req[target].(map[string]any)
		for name, raw := range out {
			var o any
			if err := json.Unmarshal(raw, &o); err != nil {
				return fmt.Errorf("%s.%s is not JSON: %s", target, name, raw)
			}
			r, asked := treq[name]
			if !asked {
				return fmt.Errorf("%s.%s was not requested", target, name)
			}
			var err error
			if name == "verified_claims" {
				err = coveredVC(r, o)
			} else {
				err = covered(r, o, false)
			}
			if err != nil {
				return fmt.Errorf("%s.%s: %w", target, name, err)
			}
		}
	}
	return nil
}

func coveredVC(r, o any) error {
	if arr, ok := o.([]any); ok {
		for i, el := range arr {
			if err := coveredVC(r, el); err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
		}
		return nil
	}
	if rarr, ok := r.([]any); ok {
		var last error
		for _, re := range rarr {
			if last = coveredVC(re, o); last == nil {
				return nil
			}
		}
		return last
	}
	rm, _ := r.(map[string]any)
	om, ok := o.(map[string]any)
	if !ok {
		return fmt.Errorf("not an object")
	}
	for k, v := range om {
		switch k {
		case "verification":
			ver, _ := rm["verification"].(map[string]any)
			withTF := map[string]any{"trust_framework": nil}
			for kk, vv := range ver {
				withTF[kk] = vv
			}
			if err := covered(withTF, v, false); err != nil {
				return fmt.Errorf("verification: %w", err)
			}
		case "claims":
			if err := covered(rm["claims"], v, true); err != nil {
				return fmt.Errorf("claims: %w", err)
			}
		default:
			return fmt.Errorf("%s was not requested", k)
		}
	}
	return nil
}

// covered: o is allowed by request element r. A request with no
// sub-member requests releases the element whole; otherwise only the named
// members, recursively; an array request releases elements each allowed by
// some entry. In a claims container every member is a claim request.
func covered(r, o any, container bool) error {
	switch rv := r.(type) {
	case []any:
		oa, ok := o.([]any)
		if !ok {
			return fmt.Errorf("array request, got %T", o)
		}
		for i, el := range oa {
			var last error
			for _, entry := range rv {
				if last = covered(entry, el, false); last == nil {
					break
				}
			}
			if last != nil {
				return fmt.Errorf("[%d]: %w", i, last)
			}
		}
		return nil
	case map[string]any:
		children := map[string]any{}
		for k, v := range rv {
			if !container && isKeyword(k) {
				continue
			}
			switch v.(type) {
			case nil, map[string]any, []any:
				children[k] = v
			}
		}
		if len(children) == 0 && !container {
			return nil // whole
		}
		om, ok := o.(map[string]any)
		if !ok {
			if scalarOnly(o) {
				return nil // nothing inside to leak: a plain claim asked with members OIDC Core ignores
			}
			return fmt.Errorf("object request, got %T", o)
		}
		for k, v := range om {
			cr, ok := children[k]
			if !ok {
				return fmt.Errorf("%s was not requested", k)
			}
			if k == "assurance_details" {
				continue // returned whole (IDA §5.4)
			}
			if arr, ok := v.([]any); ok && k == "authority" {
				// one authority object or an array of them (Authority Claims draft)
				for i, el := range arr {
					if err := covered(cr, el, false); err != nil {
						return fmt.Errorf("authority[%d]: %w", i, err)
					}
				}
				continue
			}
			if err := covered(cr, v, k == "derived_claims"); err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
		}
		return nil
	}
	return nil // null: whole
}

// The checker itself must catch a leak.
func TestOnlyRequestedCatchesLeaks(t *testing.T) {
	req := []byte(`{"userinfo": {"verified_claims": {"verification": {"trust_framework": null}, "claims": {"address": {"locality": null}}}}}`)
	leak := &Result{UserInfo: map[string]json.RawMessage{"verified_claims": json.RawMessage(
		`{"verification": {"trust_framework": "x", "time": "2020-01-01"}, "claims": {"address": {"locality": "A"}}}`)}}
	if onlyRequested(req, leak) == nil {
		t.Error("an unrequested verification.time went unnoticed")
	}
	leak2 := &Result{UserInfo: map[string]json.RawMessage{"verified_claims": json.RawMessage(
		`{"verification": {"trust_framework": "x"}, "claims": {"address": {"locality": "A", "country": "DE"}}}`)}}
	if onlyRequested(req, leak2) == nil {
		t.Error("an unrequested address.country went unnoticed")
	}
	ok := &Result{UserInfo: map[string]json.RawMessage{"verified_claims": json.RawMessage(
		`{"verification": {"trust_framework": "x"}, "claims": {"address": {"locality": "A"}}}`)}}
	if err := onlyRequested(req, ok); err != nil {
		t.Error(err)
	}
}

// FuzzWrongTypeRefused puts an arbitrary JSON value at one element of an
// otherwise valid verified_claims request. When the value is of a form the
// element's type rules out (judged here from requestElements, apart from
// the engine), the request is refused with invalid_request naming the
// element, so a wrongly typed element never yields a release.
func FuzzWrongTypeRefused(f *testing.F) {
	for i, el := range requestElements {
		for _, form := range wrongForms[elementKind(el.path, el.kind)] {
			f.Add(uint16(i), []byte(form))
		}
		f.Add(uint16(i), []byte(`null`))
		f.Add(uint16(i), []byte(`{"essential": true, "x": [{"y": null}]}`))
	}
	e := permissive(f)
	ds, err := ParseDataset([]byte(maxDataset))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, idx uint16, form []byte) {
		var repl any
		if json.Unmarshal(form, &repl) != nil {
			return
		}
		el := requestElements[int(idx)%len(requestElements)]
		kind := elementKind(el.path, el.kind)
		req, want := requestWith(t, el.path, repl)
		r, err := e.ParseRequest(req, RequestOptions{IntegrityProtected: true})
		if !wronglyTyped(kind, repl) {
			return
		}
		if err == nil {
			res := e.Evaluate(r, ds, testNow)
			t.Fatalf("a wrongly typed %s (%s) was accepted\nrequest: %s\nreleased: %s", el.path, kind, req, mustJSON(t, res))
		}
		var ie *Error
		if !errors.As(err, &ie) || ie.Code != ErrInvalidRequest || !namesElement(ie.Description, want) {
			t.Fatalf("want invalid_request naming %s, got %v", want, err)
		}
	})
}

// wronglyTyped is the oracle: a request form the element's kind rules out
// (OIDC Core §5.5.1 forms, IDA §5.4 arrays of filters).
func wronglyTyped(kind string, v any) bool {
	subRequests := func(o map[string]any) bool {
		for k, x := range o {
			if isKeyword(k) {
				continue
			}
			switch x.(type) {
			case nil, map[string]any, []any:
				return true
			}
		}
		return false
	}
	entriesWrong := func(a []any) bool {
		if len(a) == 0 {
			return true
		}
		for _, x := range a {
			if _, ok := x.(map[string]any); !ok {
				return true
			}
		}
		return false
	}
	switch kind {
	case "object", "container":
		switch v.(type) {
		case nil, map[string]any:
			return false
		}
		return true
	case "entry":
		_, ok := v.(map[string]any)
		return !ok
	case "evidence":
		a, ok := v.([]any)
		return !ok || entriesWrong(a)
	case "array":
		switch x := v.(type) {
		case nil:
			return false
		case map[string]any:
			return subRequests(x)
		case []any:
			return entriesWrong(x)
		}
		return true
	}
	// attachments and the string, date, timestamp, number and boolean kinds
	switch x := v.(type) {
	case nil:
		return false
	case map[string]any:
		return subRequests(x)
	}
	return true
}

// scalarOnly: a string, number, boolean or null, or an array of them.
func scalarOnly(o any) bool {
	switch v := o.(type) {
	case map[string]any:
		return false
	case []any:
		for _, el := range v {
			switch el.(type) {
			case map[string]any, []any:
				return false
			}
		}
	}
	return true
}
