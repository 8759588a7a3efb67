package ida

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// requestElements lists every element of a verified_claims request with the
// type IDA 1.0 §5 (and its schema, SCH) gives the data it asks for, written
// from the texts rather than from the engine's tables. "[]" marks an array
// entry; evidence entries get their "type": {"value": "document"}.
var requestElements = []struct {
	path string
	kind string // string, date, datetime, number, boolean, object, array, evidence, attachments, container
}{
	{"verification", "object"},
	{"verification.trust_framework", "string"},
	{"verification.assurance_level", "string"},
	{"verification.assurance_process", "object"},
	{"verification.assurance_process.policy", "string"},
	{"verification.assurance_process.procedure", "string"},
	{"verification.assurance_process.assurance_details", "array"},
	{"verification.time", "datetime"},
	{"verification.verification_process", "string"},
	{"verification.evidence", "evidence"},
	{"verification.evidence[]", "object"},
	{"verification.evidence[].type", "string"},
	{"verification.evidence[].check_details", "array"},
	{"verification.evidence[].check_details[]", "object"},
	{"verification.evidence[].check_details[].check_method", "string"},
	{"verification.evidence[].check_details[].organization", "string"},
	{"verification.evidence[].check_details[].check_id", "string"},
	{"verification.evidence[].check_details[].time", "datetime"},
	{"verification.evidence[].document_details", "object"},
	{"verification.evidence[].document_details.type", "string"},
	{"verification.evidence[].document_details.document_number", "string"},
	{"verification.evidence[].document_details.serial_number", "string"},
	{"verification.evidence[].document_details.date_of_issuance", "date"},
	{"verification.evidence[].document_details.date_of_expiry", "date"},
	{"verification.evidence[].document_details.issuer", "object"},
	{"verification.evidence[].document_details.issuer.name", "string"},
	{"verification.evidence[].document_details.issuer.country_code", "string"},
	{"verification.evidence[].document_details.issuer.jurisdiction", "string"},
	{"verification.evidence[].record", "object"},
	{"verification.evidence[].record.type", "string"},
	{"verification.evidence[].record.created_at", "datetime"},
	{"verification.evidence[].record.date_of_expiry", "date"},
	{"verification.evidence[].record.source", "object"},
	{"verification.evidence[].record.source.name", "string"},
	{"verification.evidence[].attestation", "object"},
	{"verification.evidence[].attestation.type", "string"},
	{"verification.evidence[].attestation.reference_number", "string"},
	{"verification.evidence[].attestation.date_of_issuance", "date"},
	{"verification.evidence[].attestation.date_of_expiry", "date"},
	{"verification.evidence[].attestation.voucher", "object"},
	{"verification.evidence[].attestation.voucher.name", "string"},
	{"verification.evidence[].attestation.voucher.birthdate", "date"},
	{"verification.evidence[].attestation.voucher.occupation", "string"},
	{"verification.evidence[].attestation.voucher.organization", "string"},
	{"verification.evidence[].signature_type", "string"},
	{"verification.evidence[].issuer", "string"},
	{"verification.evidence[].serial_number", "string"},
	{"verification.evidence[].created_at", "datetime"},
	{"verification.evidence[].attachments", "attachments"},
	{"verification.evidence[].derived_claims", "container"},
	{"verification.evidence[].derived_claims.given_name", "string"},
	{"claims", "container"},
	{"claims.given_name", "string"},
	{"claims.family_name", "string"},
	{"claims.birthdate", "date"},
	{"claims.email_verified", "boolean"},
	{"claims.updated_at", "datetime"},
	{"claims.address", "object"},
	{"claims.address.locality", "string"},
	{"claims.address.country", "string"},
	{"claims.place_of_birth", "object"},
	{"claims.place_of_birth.country", "string"},
	{"claims.nationalities", "array"},
	{"claims.birth_family_name", "string"},
	{"claims.family_name#ja-Kana-JP", "string"},
	// The authority claim (Authority Claims Extension, openid-authority-00).
	{"claims.authority", "object"},
	{"claims.authority.applies_to", "object"},
	{"claims.authority.applies_to.organization_name", "string"},
	{"claims.authority.applies_to.incorporation_date", "date"},
	{"claims.authority.permission", "array"},
	{"claims.authority.permission[]", "object"},
	{"claims.authority.permission[].role", "string"},
	{"claims.authority.permission[].may_delegate", "boolean"},
	{"claims.authority.granted_by", "object"},
	{"claims.authority.granted_by.method", "string"},
}

// wrongForms are request forms each kind of element can never take.
var wrongForms = map[string][]string{
	"string":      {`"x"`, `5`, `true`, `[{}]`, `{"sub": null}`, `{"essential": true, "sub": {}}`},
	"object":      {`"x"`, `5`, `false`, `[{}]`},
	"array":       {`"x"`, `5`, `{"sub": null}`, `[]`, `[1]`, `["x"]`},
	"evidence":    {`null`, `{}`, `"document"`, `[]`, `[null]`},
	"attachments": {`"x"`, `[{}]`, `{"desc": null}`},
	"container":   {`"x"`, `[{}]`, `3`},
	"entry":       {`"x"`, `5`, `null`, `[{}]`},
}

func init() {
	for _, k := range []string{"date", "datetime", "number", "boolean"} {
		wrongForms[k] = wrongForms["string"]
	}
}

// elementKind is the kind of a requestElements entry, "entry" for an
// array entry.
func elementKind(path, kind string) string {
	if strings.HasSuffix(path, "[]") {
		return "entry"
	}
	return kind
}

// requestWith builds a valid verified_claims request with the element at
// path replaced by raw, and the path the engine reports for it.
func requestWith(t testing.TB, path string, repl any) (request []byte, want string) {
	vcReq := map[string]any{
		"verification": map[string]any{"trust_framework": nil},
		"claims":       map[string]any{"given_name": nil},
	}
	cur := vcReq
	segs := strings.Split(path, ".")
	want = "claims.userinfo.verified_claims"
	for i, seg := range segs {
		last := i == len(segs)-1
		name, entry := strings.CutSuffix(seg, "[]")
		want += "." + name
		if last && !entry {
			cur[name] = repl
			break
		}
		if entry {
			want += "[0]"
			if last {
				cur[name] = []any{repl}
				break
			}
			e := map[string]any{}
			if name == "evidence" {
				e["type"] = map[string]any{"value": "document"}
			}
			cur[name] = []any{e}
			cur = e
			continue
		}
		next, ok := cur[name].(map[string]any)
		if !ok {
			next = map[string]any{}
			cur[name] = next
		}
		cur = next
	}
	b, err := json.Marshal(map[string]any{"userinfo": map[string]any{"verified_claims": vcReq}})
	if err != nil {
		t.Fatal(err)
	}
	return b, want
}

func decodeForm(t testing.TB, raw string) any {
	var v any
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return v
}

// namesElement: the description is about the element at want, an entry of
// it, or (for the evidence type) its value.
func namesElement(desc, want string) bool {
	return strings.HasPrefix(desc, want+": ") || strings.HasPrefix(desc, want+"[") || strings.HasPrefix(desc, want+".value: ")
}

// Every request element, in every form its type rules out, is refused with
// invalid_request naming that element (or, for an array, the entry at
// fault; for the evidence type, its value).
func TestWrongTypesRefusedWithPath(t *testing.T) {
	e := permissive(t)
	for _, el := range requestElements {
		for _, form := range wrongForms[elementKind(el.path, el.kind)] {
			t.Run(el.path+"="+form, func(t *testing.T) {
				req, want := requestWith(t, el.path, decodeForm(t, form))
				_, err := e.ParseRequest(req, RequestOptions{IntegrityProtected: true})
				var ie *Error
				if !errors.As(err, &ie) || ie.Code != ErrInvalidRequest {
					t.Fatalf("want invalid_request, got %v\nrequest: %s", err, req)
				}
				if !namesElement(ie.Description, want) {
					t.Errorf("description does not name %s: %s", want, ie.Description)
				}
			})
		}
	}
}

// The forms each element does take are accepted, so the refusals above
// are about the type and nothing else.
func TestRightTypesAccepted(t *testing.T) {
	rightForms := map[string][]string{
		"string":      {`null`, `{}`, `{"essential": true}`, `{"purpose": "to check"}`, `{"unknown_option": 1}`},
		"object":      {`null`, `{}`, `{"essential": false}`},
		"array":       {`null`, `{}`, `{"essential": true}`, `[{}]`},
		"evidence":    {`[{"type": {"value": "document"}}]`},
		"attachments": {`null`, `{}`, `{"essential": true}`},
		"container":   {`{"given_name": null}`},
		"entry":       {`{}`},
	}
	for _, k := range []string{"date", "datetime", "number", "boolean"} {
		rightForms[k] = rightForms["string"]
	}
	e := permissive(t)
	for _, el := range requestElements {
		switch {
		case el.path == "verification" || el.path == "claims":
			continue // their own rules (checkVerificationPresent, checkClaimsPresent)
		case strings.HasSuffix(el.path, "evidence[]"):
			continue // needs its type; the evidence forms cover it
		}
		forms := rightForms[elementKind(el.path, el.kind)]
		if el.path == "verification.evidence[].type" {
			forms = []string{`{"value": "document", "essential": true}`} // DECISIONS 5
		}
		for _, form := range forms {
			if strings.Count(el.path, ".") == 1 && strings.HasPrefix(el.path, "claims.") && strings.HasPrefix(form, "[") {
				continue // a claim is requested with null or an object (OIDC Core §5.5.1)
			}
			req, _ := requestWith(t, el.path, decodeForm(t, form))
			if _, err := e.ParseRequest(req, RequestOptions{IntegrityProtected: true}); err != nil {
				t.Errorf("%s=%s refused: %v", el.path, form, err)
			}
		}
	}
}

// The request options of every element have their own types (OIDC Core
// §5.5.1, IDA §5.5): a wrongly typed option is refused naming it.
func TestWrongOptionTypesRefusedWithPath(t *testing.T) {
	e := permissive(t)
	options := map[string]string{
		"essential": `"yes"`,
		"purpose":   `5`,
		"value":     `[1]`,
		"values":    `"x"`,
		"max_age":   `"60"`,
	}
	for _, el := range requestElements {
		switch elementKind(el.path, el.kind) {
		case "entry", "container", "evidence":
			continue // not requested with options
		}
		if el.path == "verification" {
			continue // an object of members, its own rule
		}
		for opt, bad := range options {
			form := `{"` + opt + `": ` + bad + `}`
			if el.path == "verification.evidence[].type" {
				form = `{"value": "document", "` + opt + `": ` + bad + `}`
				if opt == "value" {
					continue // checkEvidenceTypeValue names it first, tested above
				}
			}
			t.Run(el.path+"."+opt, func(t *testing.T) {
				req, want := requestWith(t, el.path, decodeForm(t, form))
				_, err := e.ParseRequest(req, RequestOptions{IntegrityProtected: true})
				var ie *Error
				if !errors.As(err, &ie) || ie.Code != ErrInvalidRequest {
					t.Fatalf("want invalid_request, got %v\nrequest: %s", err, req)
				}
				if !strings.HasPrefix(ie.Description, want+"."+opt) {
					t.Errorf("description does not name %s.%s: %s", want, opt, ie.Description)
				}
			})
		}
	}
}

// Outside verified_claims OpenID Connect Core alone speaks: a member it
// does not define is ignored (§5.5.1), so a string claim asked for members
// comes back whole; inside verified_claims the same request is refused.
func TestPlainClaimsIgnoreUndefinedMembers(t *testing.T) {
	e := permissive(t)
	res := run(t, e, `{"id_token": {"email": {"essential": true, "x": null}, "address": {"locality": {"y": {}}}}}`,
		`{"email": "max@example.com", "address": {"locality": "Maxstadt", "country": "DE"}}`, "")
	assertJSONEqual(t, mustJSON(t, res.IDToken), []byte(`{"email": "max@example.com", "address": {"locality": "Maxstadt"}}`))

	_, err := e.ParseRequest([]byte(vc(`{`+okVer+`, "claims": {"email": {"essential": true, "x": null}}}`)), RequestOptions{})
	var ie *Error
	if !errors.As(err, &ie) || !strings.HasPrefix(ie.Description, "claims.userinfo.verified_claims.claims.email: ") {
		t.Errorf("inside verified_claims: got %v", err)
	}
}
