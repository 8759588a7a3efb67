package ida

import (
	"testing"
	"time"
)

func TestReleasesExternal(t *testing.T) {
	ukTFIDA := TrustFramework{
		Identifier:    "uk_tfida",
		EvidenceTypes: []string{"document"},
		DocumentTypes: []string{"passport"},
		CheckMethods:  []string{"vpip"},
		Claims:        []string{"given_name", "family_name", "birthdate"},
	}
	e, err := NewEngine(Policy{TrustFrameworks: []TrustFramework{ukTFIDA, deAML}})
	if err != nil {
		t.Fatal(err)
	}
	const names = `{"verification": {"trust_framework": "uk_tfida"}, "claims": {"given_name": "Max", "family_name": "Meier"}}`
	const askNames = `{"userinfo": {"verified_claims": {"verification": {"trust_framework": null}, "claims": {"given_name": null, "family_name": null}}}}`
	const described = `{"verification": {"trust_framework": "uk_tfida"}, "claims": {"given_name": null, "birthdate": null}}`
	uk := []string{"uk_tfida"}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name    string
		request string
		target  Target
		vc      string
		allowed []string
		want    bool
	}{
		{"asked for exactly what the assertion holds", askNames, TargetUserInfo, names, uk, true},
		{"asked for more claims than it holds", `{"userinfo": {"verified_claims": {"verification": {"trust_framework": null}, "claims": {"given_name": null, "family_name": null, "birthdate": null}}}}`, TargetUserInfo, names, uk, true},
		{"a claim not asked for keeps the whole assertion back", `{"userinfo": {"verified_claims": {"verification": {"trust_framework": null}, "claims": {"given_name": null}}}}`, TargetUserInfo, names, uk, false},
		{"verification data not asked for keeps it back", askNames, TargetUserInfo, `{"verification": {"trust_framework": "uk_tfida", "time": "2024-01-01T00:00Z"}, "claims": {"given_name": "Max", "family_name": "Meier"}}`, uk, false},
		{"a trust_framework value that does not match", `{"userinfo": {"verified_claims": {"verification": {"trust_framework": {"value": "de_aml"}}, "claims": {"given_name": null, "family_name": null}}}}`, TargetUserInfo, names, uk, false},
		{"a trust_framework value that matches", `{"userinfo": {"verified_claims": {"verification": {"trust_framework": {"value": "uk_tfida"}}, "claims": {"given_name": null, "family_name": null}}}}`, TargetUserInfo, names, uk, true},
		{"a claim value that does not match", `{"userinfo": {"verified_claims": {"verification": {"trust_framework": null}, "claims": {"given_name": {"value": "Erika"}, "family_name": null}}}}`, TargetUserInfo, names, uk, false},
		{"the source is not trusted for the framework", askNames, TargetUserInfo, names, []string{"de_aml"}, false},
		{"a framework the provider does not offer", askNames, TargetUserInfo, `{"verification": {"trust_framework": "eidas"}, "claims": {"given_name": "Max", "family_name": "Meier"}}`, []string{"eidas"}, false},
		{"a claim the framework cannot vouch for", `{"userinfo": {"verified_claims": {"verification": {"trust_framework": null}, "claims": {"given_name": null, "family_name": null, "email": null}}}}`, TargetUserInfo, `{"verification": {"trust_framework": "uk_tfida"}, "claims": {"given_name": "Max", "family_name": "Meier", "email": "max@example.com"}}`, uk, false},
		{"evidence the catalog would filter", `{"userinfo": {"verified_claims": {"verification": {"trust_framework": null, "evidence": [{"type": {"value": "document"}, "document_details": {"type": null}}]}, "claims": {"given_name": null, "family_name": null}}}}`, TargetUserInfo, `{"verification": {"trust_framework": "uk_tfida", "evidence": [{"type": "document", "document_details": {"type": "idcard"}}]}, "claims": {"given_name": "Max", "family_name": "Meier"}}`, uk, false},
		{"evidence the catalog keeps, asked for", `{"userinfo": {"verified_claims": {"verification": {"trust_framework": null, "evidence": [{"type": {"value": "document"}, "document_details": {"type": null}}]}, "claims": {"given_name": null, "family_name": null}}}}`, TargetUserInfo, `{"verification": {"trust_framework": "uk_tfida", "evidence": [{"type": "document", "document_details": {"type": "passport"}}]}, "claims": {"given_name": "Max", "family_name": "Meier"}}`, uk, true},
		{"asked for in the other target only", askNames, TargetIDToken, names, uk, false},
		{"one request object of an array matches", `{"id_token": {"verified_claims": [{"verification": {"trust_framework": {"value": "de_aml"}}, "claims": {"given_name": null}}, {"verification": {"trust_framework": null}, "claims": {"given_name": null, "family_name": null}}]}}`, TargetIDToken, names, uk, true},
		{"every object of an assertion array must be released", askNames, TargetUserInfo, `[` + names + `, {"verification": {"trust_framework": "uk_tfida"}, "claims": {"birthdate": "1956-01-28"}}]`, uk, false},
		{"a transformed claim is not in the assertion", `{"userinfo": {"verified_claims": {"verification": {"trust_framework": null}, "claims": {"::age_over_18": null}}}}`, TargetUserInfo, `{"verification": {"trust_framework": "uk_tfida"}, "claims": {}}`, uk, true},
		{"no verified_claims request", `{"userinfo": {"given_name": null}}`, TargetUserInfo, names, uk, false},
		{"a described source asked for with nulls", `{"userinfo": {"verified_claims": {"verification": {"trust_framework": null}, "claims": {"given_name": null, "birthdate": null}}}}`, TargetUserInfo, described, uk, true},
		{"a described source with a constraint on an unknown value", `{"userinfo": {"verified_claims": {"verification": {"trust_framework": null}, "claims": {"given_name": null, "birthdate": {"value": "1956-01-28"}}}}}`, TargetUserInfo, described, uk, false},
		{"a described source with a known trust_framework value", `{"userinfo": {"verified_claims": {"verification": {"trust_framework": {"values": ["uk_tfida", "de_aml"]}}, "claims": {"given_name": null, "birthdate": null}}}}`, TargetUserInfo, described, uk, true},
		{"derived claims beyond the claims it holds", `{"userinfo": {"verified_claims": {"verification": {"trust_framework": null, "evidence": [{"type": {"value": "document"}, "document_details": {"type": null}, "derived_claims": null}]}, "claims": {"given_name": null, "family_name": null}}}}`, TargetUserInfo, `{"verification": {"trust_framework": "uk_tfida", "evidence": [{"type": "document", "document_details": {"type": "passport"}, "derived_claims": {"given_name": "Max", "birthdate": "1956-01-28"}}]}, "claims": {"given_name": "Max", "family_name": "Meier"}}`, uk, false},
		{"derived claims within the claims it holds", `{"userinfo": {"verified_claims": {"verification": {"trust_framework": null, "evidence": [{"type": {"value": "document"}, "document_details": {"type": null}, "derived_claims": null}]}, "claims": {"given_name": null, "family_name": null}}}}`, TargetUserInfo, `{"verification": {"trust_framework": "uk_tfida", "evidence": [{"type": "document", "document_details": {"type": "passport"}, "derived_claims": {"given_name": "Max"}}]}, "claims": {"given_name": "Max", "family_name": "Meier"}}`, uk, true},
		{"a member besides verification and claims", askNames, TargetUserInfo, `{"verification": {"trust_framework": "uk_tfida"}, "claims": {"given_name": "Max", "family_name": "Meier"}, "note": "x"}`, uk, false},
		{"not verified_claims at all", askNames, TargetUserInfo, `"uk_tfida"`, uk, false},
		{"an entry without a trust_framework", askNames, TargetUserInfo, `{"verification": {}, "claims": {"given_name": "Max"}}`, uk, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := e.ParseRequest([]byte(tc.request), RequestOptions{})
			if err != nil {
				t.Fatalf("request: %v", err)
			}
			if got := e.ReleasesExternal(r, tc.target, []byte(tc.vc), tc.allowed, now); got != tc.want {
				t.Errorf("ReleasesExternal = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestLookAhead(t *testing.T) {
	cases := []struct{ name, vc, want string }{
		{"values of the verification, names of the claims",
			`{"verification": {"trust_framework": "uk_tfida", "time": "2024-01-01T00:00Z", "evidence": [{"type": "document"}]}, "claims": {"given_name": "Max", "family_name": "Meier"}}`,
			`{"verification":{"trust_framework":{"value":"uk_tfida"},"time":{"value":"2024-01-01T00:00Z"},"evidence":null},"claims":{"given_name":null,"family_name":null}}`},
		{"a described source", `{"verification": {"trust_framework": "uk_tfida"}, "claims": {"given_name": null}}`,
			`{"verification":{"trust_framework":{"value":"uk_tfida"}},"claims":{"given_name":null}}`},
		{"an array by its first object", `[{"verification": {"trust_framework": "a"}, "claims": {"x": 1}}, {"verification": {"trust_framework": "b"}, "claims": {}}]`,
			`{"verification":{"trust_framework":{"value":"a"}},"claims":{"x":null}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LookAhead([]byte(tc.vc))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("LookAhead =\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
	if _, err := LookAhead([]byte(`[]`)); err == nil {
		t.Error("an empty array has no look-ahead")
	}
}
