package ida

import (
	"testing"
	"time"
)

// sarah is the dataset of the seeds' data-minimisation example (seed 003;
// the same example documents Authlete's DatasetExtractor).
const sarah = `{"verified_claims": {
  "verification": {
    "trust_framework": "uk_tfida",
    "evidence": [
      {"type": "electronic_record",
       "check_details": [{"check_method": "kbv", "organization": "TheCreditBureau", "txn": "kbv1-hf934hn09234ng03jj3"}],
       "time": "2021-04-09T14:12Z",
       "record": {"type": "mortgage_account", "source": {"name": "TheCreditBureau"}}},
      {"type": "electronic_record",
       "check_details": [{"check_method": "kbv", "organization": "OpenBankingTPP", "txn": "kbv2-nm0f23u9459fj38u5j6"}],
       "time": "2021-04-09T14:12Z",
       "record": {"type": "bank_account", "source": {"name": "TheBank"}}}
    ]
  },
  "claims": {
    "given_name": "Sarah", "family_name": "Meredyth", "birthdate": "1976-03-11",
    "place_of_birth": {"country": "UK"},
    "address": {"locality": "Edinburgh", "postal_code": "EH1 9GP", "country": "UK", "street_address": "122 Burns Crescent"}
  }
}}`

// max is a dataset with every evidence type, assurance details, derived
// claims and plain claims beside verified_claims.
const maxDataset = `{
 "email": "max@example.com", "email_verified": true, "birthdate": "1990-05-05",
 "verified_claims": {
  "verification": {
    "trust_framework": "de_aml",
    "assurance_level": "substantial",
    "assurance_process": {"policy": "p1", "assurance_details": [
      {"assurance_type": "evidence_validation", "evidence_ref": [{"check_id": "c1"}]},
      {"assurance_type": "verification", "evidence_ref": [{"check_id": "c2"}]}]},
    "time": "2023-12-01T10:00Z",
    "verification_process": "vp-1",
    "evidence": [
      {"type": "document",
       "check_details": [
         {"check_method": "vpiruv", "organization": "doc_checker", "check_id": "c1", "time": "2023-11-30T09:00Z"},
         {"check_method": "pvp", "organization": "face_checker", "check_id": "c2"}],
       "document_details": {"type": "idcard", "document_number": "123", "date_of_issuance": "2020-01-01", "date_of_expiry": "2030-01-01",
         "issuer": {"name": "Stadt Augsburg", "country": "DE"}},
       "derived_claims": {"given_name": "Max", "family_name": "Meier", "birthdate": "1956-01-28"}},
      {"type": "electronic_record",
       "check_details": [{"check_method": "data", "time": "2023-11-30T09:00Z"}],
       "record": {"type": "population_register", "source": {"name": "Skatteverket"}}},
      {"type": "electronic_signature", "signature_type": "qes_eidas", "issuer": "Example QTSP", "serial_number": "42", "created_at": "2023-11-30T09:00Z"}
    ]
  },
  "claims": {
    "given_name": "Max", "family_name": "Meier", "birthdate": "1956-01-28",
    "nationalities": ["DE"],
    "address": {"locality": "Maxstadt", "postal_code": "12344", "country": "DE", "street_address": "An der Weide 22"}
  }
 }
}`

func TestMinimisationAndFiltering(t *testing.T) {
	cases := []struct {
		name    string
		dataset string
		request string // the claims parameter
		want    string // {"id_token": ..., "userinfo": ...}
	}{
		{
			name:    "seed 003: evidence filtered by check_details organization, claim value, address.locality only",
			dataset: sarah,
			request: `{"userinfo": {"verified_claims": {
			  "verification": {"trust_framework": null, "evidence": [{"type": {"value": "electronic_record"},
			    "check_details": [{"check_method": null, "organization": {"value": "OpenBankingTPP"}, "txn": null}]}]},
			  "claims": {"given_name": null, "family_name": {"value": "Unknown"}, "address": {"locality": null}}}}}`,
			want: `{"id_token": {}, "userinfo": {"verified_claims": {
			  "verification": {"trust_framework": "uk_tfida", "evidence": [{"type": "electronic_record",
			    "check_details": [{"check_method": "kbv", "organization": "OpenBankingTPP", "txn": "kbv2-nm0f23u9459fj38u5j6"}]}]},
			  "claims": {"given_name": "Sarah", "address": {"locality": "Edinburgh"}}}}}`,
		},
		{
			name:    "seed 003: a simple request returns only trust_framework and given_name",
			dataset: sarah,
			request: `{"id_token": {"verified_claims": {"verification": {"trust_framework": null}, "claims": {"given_name": null}}}}`,
			want:    `{"id_token": {"verified_claims": {"verification": {"trust_framework": "uk_tfida"}, "claims": {"given_name": "Sarah"}}}, "userinfo": {}}`,
		},
		{
			name:    "trust_framework value that does not match: no verified_claims",
			dataset: sarah,
			request: `{"userinfo": {"verified_claims": {"verification": {"trust_framework": {"value": "de_aml"}}, "claims": {"given_name": null}}}}`,
			want:    `{"id_token": {}, "userinfo": {}}`,
		},
		{
			name:    "trust_framework values: one of them matches",
			dataset: sarah,
			request: `{"userinfo": {"verified_claims": {"verification": {"trust_framework": {"values": ["nist_800_63A", "uk_tfida"]}}, "claims": {"given_name": null}}}}`,
			want:    `{"id_token": {}, "userinfo": {"verified_claims": {"verification": {"trust_framework": "uk_tfida"}, "claims": {"given_name": "Sarah"}}}}`,
		},
		{
			name:    "max_age on verification.time: recent enough",
			dataset: maxDataset,
			request: `{"userinfo": {"verified_claims": {"verification": {"trust_framework": null, "time": {"max_age": 2678400}}, "claims": {"given_name": null}}}}`,
			want:    `{"id_token": {}, "userinfo": {"verified_claims": {"verification": {"trust_framework": "de_aml", "time": "2023-12-01T10:00Z"}, "claims": {"given_name": "Max"}}}}`,
		},
		{
			name:    "max_age on verification.time: too old drops the whole verified_claims",
			dataset: maxDataset,
			request: `{"userinfo": {"verified_claims": {"verification": {"trust_framework": null, "time": {"max_age": 86400}}, "claims": {"given_name": null}}}}`,
			want:    `{"id_token": {}, "userinfo": {}}`,
		},
		{
			name:    "max_age on a date counts from 23:59:59Z that day (IDA §5.5.2)",
			dataset: `{"verified_claims": {"verification": {"trust_framework": "x", "evidence": [{"type": "document", "document_details": {"type": "idcard", "date_of_issuance": "2023-12-31"}}]}, "claims": {"given_name": "A"}}}`,
			request: `{"userinfo": {"verified_claims": {"verification": {"trust_framework": null, "evidence": [{"type": {"value": "document"}, "document_details": {"type": null, "date_of_issuance": {"max_age": 1}}}]}, "claims": {"given_name": null}}}}`,
			want:    `{"id_token": {}, "userinfo": {"verified_claims": {"verification": {"trust_framework": "x", "evidence": [{"type": "document", "document_details": {"type": "idcard", "date_of_issuance": "2023-12-31"}}]}, "claims": {"given_name": "A"}}}}`,
		},
		{
			name:    "max_age 0 on yesterday's date fails",
			dataset: `{"verified_claims": {"verification": {"trust_framework": "x", "evidence": [{"type": "document", "document_details": {"type": "idcard", "date_of_issuance": "2023-12-31"}}]}, "claims": {"given_name": "A"}}}`,
			request: `{"userinfo": {"verified_claims": {"verification": {"trust_framework": null, "evidence": [{"type": {"value": "document"}, "document_details": {"type": null, "date_of_issuance": {"max_age": 0}}}]}, "claims": {"given_name": null}}}}`,
			want:    `{"id_token": {}, "userinfo": {}}`,
		},
		{
			name:    "evidence entries are OR-ed filters by type",
			dataset: maxDataset,
			request: `{"userinfo": {"verified_claims": {"verification": {"trust_framework": null, "evidence": [
			  {"type": {"value": "document"}, "document_details": {"type": null}},
			  {"type": {"value": "electronic_signature"}, "signature_type": null, "issuer": null, "serial_number": null}]},
			  "claims": {"given_name": null}}}}`,
			want: `{"id_token": {}, "userinfo": {"verified_claims": {"verification": {"trust_framework": "de_aml", "evidence": [
			  {"type": "document", "document_details": {"type": "idcard"}},
			  {"type": "electronic_signature", "signature_type": "qes_eidas", "issuer": "Example QTSP", "serial_number": "42"}]},
			  "claims": {"given_name": "Max"}}}}`,
		},
		{
			name:    "no evidence of the requested type: no verified_claims",
			dataset: maxDataset,
			request: `{"userinfo": {"verified_claims": {"verification": {"trust_framework": null, "evidence": [{"type": {"value": "vouch"}}]}, "claims": {"given_name": null}}}}`,
			want:    `{"id_token": {}, "userinfo": {}}`,
		},
		{
			name:    "check_details filtered element by element",
			dataset: maxDataset,
			request: `{"userinfo": {"verified_claims": {"verification": {"trust_framework": null, "evidence": [
			  {"type": {"value": "document"}, "check_details": [{"check_method": {"value": "pvp"}, "organization": null}]}]},
			  "claims": {"given_name": null}}}}`,
			want: `{"id_token": {}, "userinfo": {"verified_claims": {"verification": {"trust_framework": "de_aml", "evidence": [
			  {"type": "document", "check_details": [{"check_method": "pvp", "organization": "face_checker"}]}]},
			  "claims": {"given_name": "Max"}}}}`,
		},
		{
			name:    "check_details entries are OR-ed",
			dataset: maxDataset,
			request: `{"userinfo": {"verified_claims": {"verification": {"trust_framework": null, "evidence": [
			  {"type": {"value": "document"}, "check_details": [{"check_method": {"value": "pvp"}}, {"check_method": {"value": "vpiruv"}, "time": null}]}]},
			  "claims": {"given_name": null}}}}`,
			want: `{"id_token": {}, "userinfo": {"verified_claims": {"verification": {"trust_framework": "de_aml", "evidence": [
			  {"type": "document", "check_details": [{"check_method": "vpiruv", "time": "2023-11-30T09:00Z"}, {"check_method": "pvp"}]}]},
			  "claims": {"given_name": "Max"}}}}`,
		},
		{
			name:    "assurance_details comes back whole; a constraint in it does not filter (IDA §5.4)",
			dataset: maxDataset,
			request: `{"userinfo": {"verified_claims": {"verification": {"trust_framework": null,
			  "assurance_process": {"assurance_details": [{"assurance_type": {"value": "nothing_like_this"}}]}},
			  "claims": {"given_name": null}}}}`,
			want: `{"id_token": {}, "userinfo": {"verified_claims": {"verification": {"trust_framework": "de_aml",
			  "assurance_process": {"assurance_details": [
			    {"assurance_type": "evidence_validation", "evidence_ref": [{"check_id": "c1"}]},
			    {"assurance_type": "verification", "evidence_ref": [{"check_id": "c2"}]}]}},
			  "claims": {"given_name": "Max"}}}}`,
		},
		{
			name:    "assurance_details requested as null (the text allows it; the request schema does not)",
			dataset: maxDataset,
			request: `{"userinfo": {"verified_claims": {"verification": {"trust_framework": null, "assurance_process": {"policy": null, "assurance_details": null}}, "claims": {"given_name": null}}}}`,
			want: `{"id_token": {}, "userinfo": {"verified_claims": {"verification": {"trust_framework": "de_aml",
			  "assurance_process": {"policy": "p1", "assurance_details": [
			    {"assurance_type": "evidence_validation", "evidence_ref": [{"check_id": "c1"}]},
			    {"assurance_type": "verification", "evidence_ref": [{"check_id": "c2"}]}]}},
			  "claims": {"given_name": "Max"}}}}`,
		},
		{
			name:    "a claim constraint drops only that claim",
			dataset: maxDataset,
			request: `{"userinfo": {"verified_claims": {"verification": {"trust_framework": null}, "claims": {"given_name": {"value": "Moritz"}, "family_name": {"values": ["Meier", "Maier"]}}}}}`,
			want:    `{"id_token": {}, "userinfo": {"verified_claims": {"verification": {"trust_framework": "de_aml"}, "claims": {"family_name": "Meier"}}}}`,
		},
		{
			name:    "verification matches but no claim is available: claims {} (SCH §5.3)",
			dataset: maxDataset,
			request: `{"userinfo": {"verified_claims": {"verification": {"trust_framework": null}, "claims": {"given_name": {"value": "Moritz"}, "msisdn": null}}}}`,
			want:    `{"id_token": {}, "userinfo": {"verified_claims": {"verification": {"trust_framework": "de_aml"}, "claims": {}}}}`,
		},
		{
			name:    "a claim requested as null comes back whole (OIDC Core §5.5.1)",
			dataset: maxDataset,
			request: `{"userinfo": {"verified_claims": {"verification": {"trust_framework": null}, "claims": {"address": null, "nationalities": null}}}}`,
			want: `{"id_token": {}, "userinfo": {"verified_claims": {"verification": {"trust_framework": "de_aml"}, "claims": {
			  "address": {"locality": "Maxstadt", "postal_code": "12344", "country": "DE", "street_address": "An der Weide 22"}, "nationalities": ["DE"]}}}}`,
		},
		{
			name:    "{} and essential behave like null; unknown and essential unknown claims are left out",
			dataset: maxDataset,
			request: `{"userinfo": {"verified_claims": {"verification": {"trust_framework": null}, "claims": {"given_name": {}, "family_name": {"essential": true}, "claim%1/a&,.b": null, "f5b0": {"essential": true}}}}}`,
			want:    `{"id_token": {}, "userinfo": {"verified_claims": {"verification": {"trust_framework": "de_aml"}, "claims": {"given_name": "Max", "family_name": "Meier"}}}}`,
		},
		{
			name:    "a sub-member request with nothing available drops the claim",
			dataset: maxDataset,
			request: `{"userinfo": {"verified_claims": {"verification": {"trust_framework": null}, "claims": {"address": {"region": null}, "given_name": null}}}}`,
			want:    `{"id_token": {}, "userinfo": {"verified_claims": {"verification": {"trust_framework": "de_aml"}, "claims": {"given_name": "Max"}}}}`,
		},
		{
			name:    "an array request is answered element by element",
			dataset: `{"verified_claims": [{"verification": {"trust_framework": "eidas", "assurance_level": "substantial"}, "claims": {"given_name": "Max", "family_name": "Meier", "birthdate": "1956-01-28"}}]}`,
			request: `{"userinfo": {"verified_claims": [
			  {"verification": {"trust_framework": {"value": "eidas"}, "assurance_level": {"value": "high"}}, "claims": {"given_name": null, "family_name": null}},
			  {"verification": {"trust_framework": {"value": "eidas"}, "assurance_level": {"values": ["high", "substantial"]}}, "claims": {"birthdate": null}}]}}`,
			want: `{"id_token": {}, "userinfo": {"verified_claims": [
			  {"verification": {"trust_framework": "eidas", "assurance_level": "substantial"}, "claims": {"birthdate": "1956-01-28"}}]}}`,
		},
		{
			name: "of several matching datasets the one with most requested claims answers",
			dataset: `{"verified_claims": [
			  {"verification": {"trust_framework": "eidas"}, "claims": {"given_name": "Max"}},
			  {"verification": {"trust_framework": "de_aml"}, "claims": {"given_name": "Max", "address": {"locality": "Maxstadt"}}}]}`,
			request: `{"userinfo": {"verified_claims": {"verification": {"trust_framework": null}, "claims": {"given_name": null, "address": null}}}}`,
			want:    `{"id_token": {}, "userinfo": {"verified_claims": {"verification": {"trust_framework": "de_aml"}, "claims": {"given_name": "Max", "address": {"locality": "Maxstadt"}}}}}`,
		},
		{
			name:    "a constraint on an element the dataset lacks is not met",
			dataset: sarah,
			request: `{"userinfo": {"verified_claims": {"verification": {"trust_framework": null, "assurance_level": {"value": "high"}}, "claims": {"given_name": null}}}}`,
			want:    `{"id_token": {}, "userinfo": {}}`,
		},
		{
			name:    "cascading omission: electronic_signature without signature_type, document_details without type, check_details without check_method (IDA §5.7.5)",
			dataset: maxDataset,
			request: `{"userinfo": {"verified_claims": {"verification": {"trust_framework": null, "evidence": [
			  {"type": {"value": "electronic_signature"}, "issuer": null, "serial_number": null},
			  {"type": {"value": "document"}, "document_details": {"document_number": null}, "check_details": [{"time": null}]}]},
			  "claims": {"given_name": null}}}}`,
			want: `{"id_token": {}, "userinfo": {"verified_claims": {"verification": {"trust_framework": "de_aml", "evidence": [{"type": "document"}]},
			  "claims": {"given_name": "Max"}}}}`,
		},
		{
			name:    "derived_claims keep only claims the response carries",
			dataset: maxDataset,
			request: `{"userinfo": {"verified_claims": {"verification": {"trust_framework": null, "evidence": [
			  {"type": {"value": "document"}, "derived_claims": null}]}, "claims": {"given_name": null, "birthdate": null}}}}`,
			want: `{"id_token": {}, "userinfo": {"verified_claims": {"verification": {"trust_framework": "de_aml", "evidence": [
			  {"type": "document", "derived_claims": {"given_name": "Max", "birthdate": "1956-01-28"}}]},
			  "claims": {"given_name": "Max", "birthdate": "1956-01-28"}}}}`,
		},
		{
			name:    "trust_framework comes back even when not requested",
			dataset: maxDataset,
			request: `{"userinfo": {"verified_claims": {"verification": {"time": null}, "claims": {"given_name": null}}}}`,
			want:    `{"id_token": {}, "userinfo": {"verified_claims": {"verification": {"time": "2023-12-01T10:00Z", "trust_framework": "de_aml"}, "claims": {"given_name": "Max"}}}}`,
		},
		{
			name:    "verification {} asks for the trust framework only, not the whole element (found by fuzzing)",
			dataset: maxDataset,
			request: `{"userinfo": {"verified_claims": {"verification": {}, "claims": {"given_name": null}}}}`,
			want:    `{"id_token": {}, "userinfo": {"verified_claims": {"verification": {"trust_framework": "de_aml"}, "claims": {"given_name": "Max"}}}}`,
		},
		{
			name:    "plain claims beside verified_claims, with their own constraints",
			dataset: maxDataset,
			request: `{"id_token": {"email": null, "email_verified": {"value": false}, "picture": null,
			  "verified_claims": {"verification": {"trust_framework": null}, "claims": {"family_name": null}}}}`,
			want: `{"id_token": {"email": "max@example.com", "verified_claims": {"verification": {"trust_framework": "de_aml"}, "claims": {"family_name": "Meier"}}}, "userinfo": {}}`,
		},
		{
			name:    "deeper document request (verification_document example)",
			dataset: maxDataset,
			request: `{"userinfo": {"verified_claims": {"verification": {"trust_framework": null, "time": null, "evidence": [
			  {"type": {"value": "document"}, "check_details": [{"check_method": null}],
			   "document_details": {"type": null, "issuer": {"country": null, "name": null}, "document_number": null, "date_of_issuance": null}}]},
			  "claims": {"given_name": null, "family_name": null, "birthdate": null}}}}`,
			want: `{"id_token": {}, "userinfo": {"verified_claims": {"verification": {"trust_framework": "de_aml", "time": "2023-12-01T10:00Z", "evidence": [
			  {"type": "document", "check_details": [{"check_method": "vpiruv"}, {"check_method": "pvp"}],
			   "document_details": {"type": "idcard", "issuer": {"country": "DE", "name": "Stadt Augsburg"}, "document_number": "123", "date_of_issuance": "2020-01-01"}}]},
			  "claims": {"given_name": "Max", "family_name": "Meier", "birthdate": "1956-01-28"}}}}`,
		},
	}
	e := permissive(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, e, tc.request, tc.dataset, "")
			assertJSONEqual(t, resultJSON(t, res), []byte(tc.want))
		})
	}
}

// The evaluation clock is injected: the same request and data give a
// different answer at a different time.
func TestMaxAgeUsesInjectedClock(t *testing.T) {
	e := permissive(t)
	req, err := e.ParseRequest([]byte(`{"userinfo": {"verified_claims": {"verification": {"trust_framework": null, "time": {"max_age": 3600}}, "claims": {"given_name": null}}}}`), RequestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := ParseDataset([]byte(maxDataset))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		now  string
		want bool
	}{
		{"2023-12-01T10:59:59Z", true},
		{"2023-12-01T11:00:00Z", true},
		{"2023-12-01T11:00:01Z", false},
		{"2023-12-01T12:00:00+02:00", true}, // 10:00Z
	} {
		now, err := time.Parse(time.RFC3339, tc.now)
		if err != nil {
			t.Fatal(err)
		}
		_, got := e.Evaluate(req, ds, now).UserInfo["verified_claims"]
		if got != tc.want {
			t.Errorf("at %s: released=%v, want %v", tc.now, got, tc.want)
		}
	}
}
