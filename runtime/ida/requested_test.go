package ida

import (
	"reflect"
	"testing"
)

func TestRequestedClaims(t *testing.T) {
	type rc = RequestedClaim
	jp := []string{"jp_oidf_ida"}
	cases := []struct {
		name, claims, scope string
		want                []rc
	}{
		{"nothing asked", "", "openid", nil},
		{"plain claims in name order, with purposes",
			`{"id_token":{"email":null,"birthdate":{"essential":true,"purpose":"To check your age"}}}`, "",
			[]rc{{Name: "birthdate", Purpose: "To check your age"}, {Name: "email"}}},
		{"verified claims take the place of verified_claims among a target's members",
			`{"userinfo":{"zoneinfo":null,"email":null,"verified_claims":{"verification":{"trust_framework":{"value":"de_aml"}},
			  "claims":{"given_name":null,"family_name":{"purpose":"To greet you"}}}}}`, "",
			[]rc{{Name: "email"}, {Name: "family_name", Verified: true, Purpose: "To greet you", TrustFrameworks: []string{"de_aml"}},
				{Name: "given_name", Verified: true, TrustFrameworks: []string{"de_aml"}}, {Name: "zoneinfo"}}},
		{"userinfo first, then id_token; same claim merged: first purpose, trust frameworks united",
			`{"id_token":{"verified_claims":{"verification":{"trust_framework":{"values":["eidas","de_aml"]}},"claims":{"given_name":{"purpose":"later"}}}},
			  "userinfo":{"email":null,"verified_claims":[
			    {"verification":{"trust_framework":{"value":"de_aml"}},"claims":{"given_name":null}},
			    {"verification":{"trust_framework":null},"claims":{"given_name":{"purpose":"greeting"},"name#ja-Kana-JP":null}}]}}`, "",
			[]rc{{Name: "email"}, {Name: "given_name", Verified: true, Purpose: "greeting", TrustFrameworks: []string{"de_aml", "eidas"}},
				{Name: "name#ja-Kana-JP", Verified: true}}},
		{"the same name verified and not makes two entries",
			`{"userinfo":{"given_name":null,"verified_claims":{"verification":{},"claims":{"given_name":null}}}}`, "",
			[]rc{{Name: "given_name"}, {Name: "given_name", Verified: true}}},
		{"a transformed claim keeps its colons",
			`{"userinfo":{"verified_claims":{"verification":{"trust_framework":null},"claims":{"::age_18_or_over":null}}}}`, "",
			[]rc{{Name: "::age_18_or_over", Verified: true}}},
		{"profile scope claims come last, under jp_oidf_ida",
			`{"id_token":{"email":null}}`, "openid jp_oidf_ida",
			[]rc{{Name: "email"}, {Name: "name", Verified: true, TrustFrameworks: jp}, {Name: "birthdate", Verified: true, TrustFrameworks: jp},
				{Name: "address.formatted", Verified: true, TrustFrameworks: jp}}},
		{"msisdn with an age scope: msisdn answers second",
			"", "openid jp_oidf_ida_msisdn jp_oidf_ida_age_over_18",
			[]rc{{Name: ":age_18_or_over", Verified: true, TrustFrameworks: jp}, {Name: "msisdn", Verified: true, TrustFrameworks: jp}}},
	}
	e := permissive(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := e.ParseRequest([]byte(tc.claims), RequestOptions{Scope: tc.scope})
			if err != nil {
				t.Fatal(err)
			}
			if got := req.RequestedClaims(); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestRequestedClaimsDoNotShareTrustFrameworks(t *testing.T) {
	req, err := permissive(t).ParseRequest([]byte(`{"userinfo":{"verified_claims":{"verification":{"trust_framework":{"value":"de_aml"}},
	  "claims":{"given_name":null,"family_name":null}}}}`), RequestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := req.RequestedClaims()
	got[0].TrustFrameworks[0] = "changed"
	if got[1].TrustFrameworks[0] != "de_aml" {
		t.Fatalf("entries share one slice: %+v", got)
	}
}

func TestProfileScopeClaimsIsTheProfilesTable(t *testing.T) {
	for scope, def := range jpScopes {
		if got := ProfileScopeClaims(scope); !reflect.DeepEqual(got, def.claims) || len(got) == 0 {
			t.Errorf("%s: %v, table has %v", scope, got, def.claims)
		}
	}
	if got := ProfileScopeClaims("openid"); got != nil {
		t.Errorf("openid: %v", got)
	}
	ProfileScopeClaims(ScopeJPMSISDN)[0] = "changed"
	if jpScopes[ScopeJPMSISDN].claims[0] != "msisdn" {
		t.Error("the caller can change the profile's table")
	}
}
