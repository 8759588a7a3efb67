package idatest

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/idaop/ida-operator/internal/specdir"
)

func verifiedClaimsOf(t *testing.T, name string) []byte {
	t.Helper()
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(File(name), &doc); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	vc, ok := doc["verified_claims"]
	if !ok {
		t.Fatalf("%s has no verified_claims", name)
	}
	return vc
}

func TestOwnSchemaAcceptsTheResponses(t *testing.T) {
	s, err := VerifiedClaimsSchema()
	if err != nil {
		t.Fatal(err)
	}
	names := Files("responses")
	if len(names) < 5 {
		t.Fatalf("responses: %v", names)
	}
	for _, name := range names {
		if err := Validate(s, verifiedClaimsOf(t, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// Each case breaks one rule of the text; the schema must refuse it.
func TestOwnSchemaRejectsWrongVerifiedClaims(t *testing.T) {
	s, err := VerifiedClaimsSchema()
	if err != nil {
		t.Fatal(err)
	}
	ok := `{"verification":{"trust_framework":"de_aml"},"claims":{"given_name":"A"}}`
	if err := Validate(s, []byte(ok)); err != nil {
		t.Fatalf("the baseline fails: %v", err)
	}
	ev := func(e string) string {
		return `{"verification":{"trust_framework":"de_aml","evidence":[` + e + `]},"claims":{}}`
	}
	cases := map[string]string{
		"not an object":                   `"de_aml"`,
		"empty array":                     `[]`,
		"no verification":                 `{"claims":{"given_name":"A"}}`,
		"no claims":                       `{"verification":{"trust_framework":"de_aml"}}`,
		"no trust_framework":              `{"verification":{"time":"2020-01-01T00:00:00Z"},"claims":{}}`,
		"trust_framework not a string":    `{"verification":{"trust_framework":1},"claims":{}}`,
		"a member beside the two":         `{"verification":{"trust_framework":"de_aml"},"claims":{},"extra":1}`,
		"time without a zone":             `{"verification":{"trust_framework":"de_aml","time":"2020-01-01T00:00"},"claims":{}}`,
		"birthdate not a date":            `{"verification":{"trust_framework":"de_aml"},"claims":{"birthdate":"28.01.1956"}}`,
		"empty address":                   `{"verification":{"trust_framework":"de_aml"},"claims":{"address":{}}}`,
		"nationalities repeated":          `{"verification":{"trust_framework":"de_aml"},"claims":{"nationalities":["DE","DE"]}}`,
		"msisdn with letters":             `{"verification":{"trust_framework":"de_aml"},"claims":{"msisdn":"81-90-ABCD"}}`,
		"empty evidence":                  ev(``),
		"evidence without type":           ev(`{"check_details":[{"check_method":"vpip"}]}`),
		"unknown evidence type":           ev(`{"type":"id_document"}`),
		"check_details without method":    ev(`{"type":"document","check_details":[{"organization":"X"}]}`),
		"empty check_details":             ev(`{"type":"document","check_details":[]}`),
		"document_details without type":   ev(`{"type":"document","document_details":{"document_number":"1"}}`),
		"record without type":             ev(`{"type":"electronic_record","record":{"source":{"name":"B"}}}`),
		"attestation without type":        ev(`{"type":"vouch","attestation":{"reference_number":"1"}}`),
		"signature without serial_number": ev(`{"type":"electronic_signature","signature_type":"qes","issuer":"CA"}`),
		"empty derived_claims":            ev(`{"type":"document","derived_claims":{}}`),
		"attachment neither kind":         ev(`{"type":"document","attachments":[{"desc":"front"}]}`),
		"evidence_ref without check_id":   `{"verification":{"trust_framework":"x","assurance_process":{"assurance_details":[{"evidence_ref":[{}]}]}},"claims":{}}`,
		"date_of_expiry not a date":       ev(`{"type":"document","document_details":{"type":"idcard","date_of_expiry":"2029"}}`),
		"array with one wrong element":    `[` + ok + `,{"claims":{}}]`,
	}
	for name, vc := range cases {
		t.Run(name, func(t *testing.T) {
			if err := Validate(s, []byte(vc)); err == nil {
				t.Errorf("accepted %s", vc)
			}
		})
	}
}

// The profile's error object passes once __response_metadata is set aside.
func TestValidateSetsResponseMetadataAside(t *testing.T) {
	s, err := VerifiedClaimsSchema()
	if err != nil {
		t.Fatal(err)
	}
	vc := `[{"verification":{"trust_framework":"jp_oidf_ida"},"claims":{},"__response_metadata":{"error":"verified_claims_unavailable"}}]`
	if err := Validate(s, []byte(vc)); err != nil {
		t.Fatal(err)
	}
}

// The project's examples agree with the official schemas too, when the
// spec folder is there (CI has it).
func TestOfficialSpecExtra(t *testing.T) {
	dir, looked := specdir.Find()
	if dir == "" {
		t.Logf("official-spec-extra left out: spec folder not found; looked in %v", looked)
		return
	}
	t.Run("official-spec-extra", func(t *testing.T) {
		vcs, err := OfficialVerifiedClaimsSchema(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range Files("responses") {
			if err := Validate(vcs, verifiedClaimsOf(t, name)); err != nil {
				t.Errorf("%s fails the official schema: %v", name, err)
			}
		}
		reqs, err := OfficialRequestSchema(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range Files("requests") {
			var doc map[string]map[string]json.RawMessage
			if err := json.Unmarshal(File(name), &doc); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for target, members := range doc {
				vc, ok := members["verified_claims"]
				if !ok {
					continue
				}
				body := `{"verified_claims":` + string(vc) + `}`
				inst, err := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(body)))
				if err != nil {
					t.Fatal(err)
				}
				if err := reqs.Validate(inst); err != nil {
					t.Errorf("%s %s fails the official request schema: %v", name, target, err)
				}
			}
		}
	})
}
