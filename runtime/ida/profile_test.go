package ida

import (
	"errors"
	"testing"
)

const taro = `{"sub": "248289761001", "email": "taro@example.com",
 "verified_claims": [
  {"verification": {"trust_framework": "jp_oidf_ida", "time": "2023-10-01T09:00:00+09:00", "evidence": [
     {"type": "document", "check_details": [{"check_method": "vpip", "time": "2023-10-01T08:50:00+09:00"}],
      "document_details": {"type": "jp_drivers_license", "document_number": "123456789012", "date_of_issuance": "2020-01-01", "date_of_expiry": "2028-01-01"}},
     {"type": "electronic_record", "check_details": [{"check_method": "data"}], "record": {"type": "mno", "source": {"name": "Carrier"}}}]},
   "claims": {"name": "山田 太郎", "name#ja-Kana-JP": "ヤマダ タロウ", "birthdate": "2005-06-01",
     "address": {"formatted": "東京都千代田区1-1", "formatted#ja-Hani-JP": "東京都千代田区一丁目一番", "postal_code": "1000001"},
     "msisdn": "819012345678", "gender": "male"}},
  {"verification": {"trust_framework": "de_aml"}, "claims": {"given_name": "Taro"}}
 ]}`

func TestJapaneseBasicProfile(t *testing.T) {
	noMSISDN := `{"verified_claims": {"verification": {"trust_framework": "jp_oidf_ida", "time": "2023-10-01T09:00:00Z", "evidence": [{"type": "document", "document_details": {"type": "passport"}}]},
	  "claims": {"name": "A", "birthdate": "2000-01-01", "address": {"formatted": "X"}}}}`
	basic := `{"verification": {"trust_framework": "jp_oidf_ida"}, "claims": {"name": "山田 太郎", "name#ja-Kana-JP": "ヤマダ タロウ", "birthdate": "2005-06-01",
	  "address": {"formatted": "東京都千代田区1-1", "formatted#ja-Hani-JP": "東京都千代田区一丁目一番"}}}`
	withEvidence := `{"verification": {"trust_framework": "jp_oidf_ida", "time": "2023-10-01T09:00:00+09:00", "evidence": [
	    {"type": "document", "check_details": [{"check_method": "vpip", "time": "2023-10-01T08:50:00+09:00"}],
	     "document_details": {"type": "jp_drivers_license", "date_of_issuance": "2020-01-01", "date_of_expiry": "2028-01-01"}},
	    {"type": "electronic_record", "check_details": [{"check_method": "data"}], "record": {"type": "mno"}}]},
	  "claims": {"name": "山田 太郎", "name#ja-Kana-JP": "ヤマダ タロウ", "birthdate": "2005-06-01",
	    "address": {"formatted": "東京都千代田区1-1", "formatted#ja-Hani-JP": "東京都千代田区一丁目一番"}}}`
	msisdn := `{"verification": {"trust_framework": "jp_oidf_ida", "time": "2023-10-01T09:00:00+09:00", "evidence": [{"type": "electronic_record"}]}, "claims": {"msisdn": "819012345678"}}`
	errObj := func(code, desc string) string {
		return `{"verification": {"trust_framework": "jp_oidf_ida"}, "claims": {}, "__response_metadata": {"error": "` + code + `", "error_description": "` + desc + `"}}`
	}
	cases := []struct {
		name, dataset, scope, want string
	}{
		{"jp_oidf_ida: name, birthdate, address.formatted, with language tags", taro, "openid jp_oidf_ida", basic},
		{"jp_oidf_ida_with_evidence adds time and evidence", taro, "openid jp_oidf_ida_with_evidence", withEvidence},
		{"age over 18: a predefined transformed claim, one colon in the response", taro, "openid jp_oidf_ida_age_over_18",
			`{"verification": {"trust_framework": "jp_oidf_ida"}, "claims": {":age_18_or_over": true}}`},
		{"age over 20 is false for an 18-year-old", taro, "openid jp_oidf_ida_age_over_20",
			`{"verification": {"trust_framework": "jp_oidf_ida"}, "claims": {":age_20_or_over": false}}`},
		{"msisdn", taro, "openid jp_oidf_ida_msisdn", msisdn},
		{"msisdn with another scope: an array of two, msisdn second", taro, "openid jp_oidf_ida_msisdn jp_oidf_ida_with_evidence",
			`[` + withEvidence + `,` + msisdn + `]`},
		{"no verified claims under the profile: verified_claims_unavailable",
			`{"verified_claims": {"verification": {"trust_framework": "de_aml"}, "claims": {"name": "A"}}}`, "openid jp_oidf_ida",
			errObj(JPErrUnavailable, "no verified claims are held for this user")},
		{"a required claim missing: verified_claims_insufficient", noMSISDN, "openid jp_oidf_ida_msisdn",
			errObj(JPErrInsufficient, "jp_oidf_ida_msisdn: the verification does not meet the scope")},
		{"combined scopes fail together", noMSISDN, "openid jp_oidf_ida jp_oidf_ida_msisdn",
			errObj(JPErrInsufficient, "jp_oidf_ida_msisdn: the verification does not meet the scope")},
		{"a required claim missing after a match", `{"verified_claims": {"verification": {"trust_framework": "jp_oidf_ida"}, "claims": {"name": "A", "birthdate": "2000-01-01"}}}`,
			"openid jp_oidf_ida", errObj(JPErrInsufficient, "address.formatted is not available")},
	}
	e := permissive(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, e, "", tc.dataset, tc.scope)
			if len(res.IDToken) != 0 {
				t.Errorf("the profile answers at UserInfo only; id_token got %s", mustJSON(t, res.IDToken))
			}
			assertJSONEqual(t, res.UserInfo["verified_claims"], []byte(tc.want))
		})
	}
}

func TestJapaneseProfileRequestRules(t *testing.T) {
	e := permissive(t)
	cases := []struct{ scope, claims, code, desc string }{
		{"openid jp_oidf_ida jp_oidf_ida_age_over_18", "", ErrInvalidScope,
			"scope: jp_oidf_ida and jp_oidf_ida_age_over_18 must not be requested together (only jp_oidf_ida_msisdn may accompany one other)"},
		{"openid jp_oidf_ida_msisdn jp_oidf_ida jp_oidf_ida_age_over_16", "", ErrInvalidScope,
			"scope: jp_oidf_ida and jp_oidf_ida_age_over_16 must not be requested together (only jp_oidf_ida_msisdn may accompany one other)"},
		{"openid jp_oidf_ida", vc(`{` + okVer + `, "claims": {"given_name": null}}`), ErrInvalidRequest,
			"claims.userinfo.verified_claims: cannot be combined with the jp_oidf_ida scopes, which answer UserInfo's verified_claims"},
	}
	for _, tc := range cases {
		_, err := e.ParseRequest([]byte(tc.claims), RequestOptions{Scope: tc.scope})
		var ie *Error
		if !errors.As(err, &ie) || ie.Code != tc.code || ie.Description != tc.desc {
			t.Errorf("scope %q: got %v\nwant %s: %s", tc.scope, err, tc.code, tc.desc)
		}
	}
	// Without the profile the scopes are just unknown scopes.
	plain, err := NewEngine(Policy{AnyTrustFramework: true})
	if err != nil {
		t.Fatal(err)
	}
	req, err := plain.ParseRequest(nil, RequestOptions{Scope: "openid jp_oidf_ida jp_oidf_ida_age_over_18"})
	if err != nil || req.AsksVerifiedClaims() {
		t.Errorf("profile off: got %v, asks=%v", err, req != nil && req.AsksVerifiedClaims())
	}
	// An ID Token request beside the profile scopes is fine.
	if _, err := e.ParseRequest([]byte(`{"id_token": {"verified_claims": {`+okVer+`, "claims": {"name": null}}}}`), RequestOptions{Scope: "openid jp_oidf_ida_msisdn"}); err != nil {
		t.Errorf("id_token beside the profile: %v", err)
	}
}

// The profile honours the provider's own predefined age claims.
func TestJapaneseProfileUsesPredefinedAges(t *testing.T) {
	p := PermissivePolicy()
	p.TransformedClaimsPredefined = map[string]TransformedClaim{
		"age_18_or_over": {Claim: "birthdate", Fn: jsonList(`["years_ago", "2010-01-01"]`, `["gte", 18]`)},
	}
	e, err := NewEngine(p)
	if err != nil {
		t.Fatal(err)
	}
	res := run(t, e, "", taro, "openid jp_oidf_ida_age_over_18")
	assertJSONEqual(t, res.UserInfo["verified_claims"], []byte(`{"verification": {"trust_framework": "jp_oidf_ida"}, "claims": {":age_18_or_over": false}}`))
}
