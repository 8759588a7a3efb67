package ida

import (
	"encoding/json"
	"strings"
	"testing"
)

var deAML = TrustFramework{
	Identifier:            "de_aml",
	AssuranceLevels:       []string{"substantial", "high"},
	EvidenceTypes:         []string{"document", "electronic_record"},
	DocumentTypes:         []string{"idcard", "passport"},
	CheckMethods:          []string{"vpiruv", "data"},
	ElectronicRecordTypes: []string{"bank_account"},
	Claims:                []string{"given_name", "family_name", "birthdate"},
}

// everything asks for all of maxDataset's verification and claims.
const everything = `{"userinfo": {"verified_claims": {"verification": {"trust_framework": null, "assurance_level": null, "time": null,
  "evidence": [
    {"type": {"value": "document"}, "check_details": [{"check_method": null}], "document_details": {"type": null}, "derived_claims": null},
    {"type": {"value": "electronic_record"}, "check_details": [{"check_method": null}], "record": {"type": null}},
    {"type": {"value": "electronic_signature"}, "signature_type": null, "issuer": null, "serial_number": null}]},
  "claims": {"given_name": null, "family_name": null, "birthdate": null, "address": null, "nationalities": null}}}}`

func TestTrustFrameworkCatalog(t *testing.T) {
	withTF := func(tf TrustFramework, any bool) Policy {
		return Policy{TrustFrameworks: []TrustFramework{tf}, AnyTrustFramework: any}
	}
	other := deAML
	other.Identifier = "eidas"
	lowOnly := deAML
	lowOnly.AssuranceLevels = []string{"low"}
	needsVouch := deAML
	needsVouch.RequiredElements = []string{"time", "evidence"}
	needsVouch.EvidenceTypes = []string{"vouch"}
	needsTime := deAML
	needsTime.RequiredElements = []string{"time", "txn"}
	needsProcess := deAML
	needsProcess.RequiredElements = []string{"time", "verification_process", "evidence"}
	cases := []struct {
		name   string
		policy Policy
		want   string
	}{
		{"a framework the provider does not offer is never released", withTF(other, false), `{}`},
		{"frameworks outside the catalog pass only with any_trust_framework", withTF(other, true), `{"verified_claims": {"verification": {"trust_framework": "de_aml", "assurance_level": "substantial", "time": "2023-12-01T10:00Z",
			"evidence": [
			  {"type": "document", "check_details": [{"check_method": "vpiruv"}, {"check_method": "pvp"}], "document_details": {"type": "idcard"},
			   "derived_claims": {"given_name": "Max", "family_name": "Meier", "birthdate": "1956-01-28"}},
			  {"type": "electronic_record", "check_details": [{"check_method": "data"}], "record": {"type": "population_register"}},
			  {"type": "electronic_signature", "signature_type": "qes_eidas", "issuer": "Example QTSP", "serial_number": "42"}]},
			"claims": {"given_name": "Max", "family_name": "Meier", "birthdate": "1956-01-28", "address": {"locality": "Maxstadt", "postal_code": "12344", "country": "DE", "street_address": "An der Weide 22"}, "nationalities": ["DE"]}}}`},
		{"the catalog filters evidence, record types, check methods and claims", withTF(deAML, false), `{"verified_claims": {"verification": {"trust_framework": "de_aml", "assurance_level": "substantial", "time": "2023-12-01T10:00Z",
			"evidence": [{"type": "document", "check_details": [{"check_method": "vpiruv"}], "document_details": {"type": "idcard"},
			   "derived_claims": {"given_name": "Max", "family_name": "Meier", "birthdate": "1956-01-28"}}]},
			"claims": {"given_name": "Max", "family_name": "Meier", "birthdate": "1956-01-28"}}}`},
		{"an assurance level the framework lacks is never released", withTF(lowOnly, false), `{}`},
		{"a required element lost to the filters", withTF(needsVouch, false), `{}`},
		{"a required element the dataset lacks", withTF(needsTime, false), `{}`},
		{"a required element present", withTF(needsProcess, false), `{"verified_claims": {"verification": {"trust_framework": "de_aml", "assurance_level": "substantial", "time": "2023-12-01T10:00Z",
			"evidence": [{"type": "document", "check_details": [{"check_method": "vpiruv"}], "document_details": {"type": "idcard"},
			   "derived_claims": {"given_name": "Max", "family_name": "Meier", "birthdate": "1956-01-28"}}]},
			"claims": {"given_name": "Max", "family_name": "Meier", "birthdate": "1956-01-28"}}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, err := NewEngine(tc.policy)
			if err != nil {
				t.Fatal(err)
			}
			res := run(t, e, everything, maxDataset, "")
			assertJSONEqual(t, mustJSON(t, res.UserInfo), []byte(tc.want))
		})
	}
}

func TestPolicyValidate(t *testing.T) {
	neg := -1
	noDocs := deAML
	noDocs.DocumentTypes = nil
	noRecords := deAML
	noRecords.ElectronicRecordTypes = nil
	noClaims := deAML
	noClaims.Claims = nil
	badEv := deAML
	badEv.EvidenceTypes = []string{"id_document"}
	cases := []struct {
		p    Policy
		want string
	}{
		{Policy{TrustFrameworks: []TrustFramework{{}}}, "trust_frameworks[0].identifier: must not be empty"},
		{Policy{TrustFrameworks: []TrustFramework{deAML, deAML}}, `trust_frameworks[1].identifier: "de_aml" is listed twice`},
		{Policy{TrustFrameworks: []TrustFramework{noDocs}}, "document_types: required when evidence_types has document"},
		{Policy{TrustFrameworks: []TrustFramework{noRecords}}, "electronic_record_types: required when evidence_types has electronic_record"},
		{Policy{TrustFrameworks: []TrustFramework{noClaims}}, "claims: must list at least one claim"},
		{Policy{TrustFrameworks: []TrustFramework{badEv}}, `"id_document" is not an evidence type`},
		{Policy{AttachmentsSupported: []string{"inline"}}, "attachments_supported"},
		{Policy{TransformedClaimsFunctionsSupported: []string{"x-foo"}}, "transformed_claims_functions_supported"},
		{Policy{TransformedClaimsMaxDepth: &neg}, "transformed_claims_max_depth"},
		{Policy{TransformedClaimsMaxCount: &neg}, "transformed_claims_max_count"},
		{Policy{Profiles: []string{"fapi"}}, `profiles: "fapi"`},
		{Policy{Profiles: []string{ProfileJPBasic}}, "profiles: jp_basic needs the jp_oidf_ida trust framework"},
	}
	for _, tc := range cases {
		err := tc.p.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate() = %v, want %q", err, tc.want)
		}
	}
	if err := PermissivePolicy().Validate(); err != nil {
		t.Errorf("PermissivePolicy: %v", err)
	}
}

// The policy round-trips through JSON with snake_case names, as the
// runtime's provider config embeds it.
func TestPolicyJSON(t *testing.T) {
	two := 2
	p := Policy{TrustFrameworks: []TrustFramework{deAML, {Identifier: "jp_oidf_ida", Claims: []string{"name"}}}, TransformedClaimsMaxDepth: &two, Profiles: []string{ProfileJPBasic},
		AttachmentsSupported: []string{"external"}, DigestAlgorithmsSupported: []string{"sha-256"},
		TransformedClaimsPredefined: map[string]TransformedClaim{"age_18_or_over": {Claim: "birthdate", Fn: []json.RawMessage{json.RawMessage(`"years_ago"`), json.RawMessage(`["gte",18]`)}}}}
	b, err := json.Marshal(struct {
		IDA Policy `json:"ida"`
	}{p})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"trust_frameworks"`, `"identifier"`, `"assurance_levels"`, `"evidence_types"`, `"document_types"`, `"check_methods"`,
		`"electronic_record_types"`, `"claims"`, `"transformed_claims_predefined"`, `"transformed_claims_max_depth"`, `"profiles"`,
		`"attachments_supported"`, `"digest_algorithms_supported"`, `"fn":["years_ago",["gte",18]]`} {
		if !strings.Contains(string(b), k) {
			t.Errorf("marshalled policy lacks %s: %s", k, b)
		}
	}
	var back struct {
		IDA Policy `json:"ida"`
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if _, err := NewEngine(back.IDA); err != nil {
		t.Fatal(err)
	}
}

func TestMetadata(t *testing.T) {
	jp := TrustFramework{Identifier: "jp_oidf_ida", Claims: []string{"name"}}
	e, err := NewEngine(Policy{TrustFrameworks: []TrustFramework{deAML, jp}, AttachmentsSupported: []string{"embedded", "external"}, Profiles: []string{ProfileJPBasic}})
	if err != nil {
		t.Fatal(err)
	}
	got := mustJSON(t, e.Metadata())
	want := `{"attachments_supported":["embedded","external"],"claims_in_verified_claims_supported":["given_name","family_name","birthdate","name"],
	  "claims_parameter_supported":true,"digest_algorithms_supported":["sha-256"],"documents_check_methods_supported":["vpiruv","data"],
	  "documents_supported":["idcard","passport"],"electronic_records_supported":["bank_account"],"evidence_supported":["document","electronic_record"],
	  "transformed_claims_functions_supported":["years_ago","eq","contains","starts_with","ends_with","gt","lt","gte","lte","hash","any","all","none","get","match"],
	  "transformed_claims_max_count":32,"transformed_claims_max_depth":16,"trust_frameworks_supported":["de_aml","jp_oidf_ida"],"verified_claims_supported":true}`
	assertJSONEqual(t, got, []byte(want))
}

// A dataset remembers its trusted views per engine; another engine must
// never see the first one's, and each answer equals a fresh dataset's.
func TestTrustedViewsFollowTheEngine(t *testing.T) {
	engines := fuzzEngines(t)
	lowOnly := deAML
	lowOnly.AssuranceLevels = []string{"low"}
	strict, err := NewEngine(Policy{TrustFrameworks: []TrustFramework{lowOnly}})
	if err != nil {
		t.Fatal(err)
	}
	engines = append(engines, strict)
	shared, err := ParseDataset([]byte(maxDataset))
	if err != nil {
		t.Fatal(err)
	}
	distinct := map[string]bool{}
	for round := range 2 {
		for i, e := range engines {
			req, err := e.ParseRequest([]byte(everything), RequestOptions{})
			if err != nil {
				t.Fatal(err)
			}
			fresh, _ := ParseDataset([]byte(maxDataset))
			want, got := string(mustJSON(t, e.Evaluate(req, fresh, testNow))), string(mustJSON(t, e.Evaluate(req, shared, testNow)))
			if got != want {
				t.Fatalf("round %d, engine %d: shared dataset gave %s, fresh %s", round, i, got, want)
			}
			distinct[want] = true
		}
	}
	if len(distinct) < 2 {
		t.Fatal("the engines agree on everything; the test proves nothing")
	}
}
