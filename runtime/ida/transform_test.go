package ida

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// applyTC compiles one definition and applies it to claims (a JSON object),
// returning the JSON of the result or "unavailable".
func applyTC(t *testing.T, def, claims string) string {
	t.Helper()
	dv, err := parseJSON([]byte(`{"x": ` + def + `}`))
	if err != nil {
		t.Fatal(err)
	}
	lim := &tcLimits{maxDepth: DefaultMaxDepth, maxCount: DefaultMaxCount}
	defs, e := parseTransformedClaims(&dv, rootPath("transformed_claims"), lim, true)
	if e != nil {
		t.Fatalf("definition refused: %v", e)
	}
	cv, err := parseJSON([]byte(claims))
	if err != nil {
		t.Fatal(err)
	}
	out, ok := defs["x"].apply(&cv, testNow)
	if !ok {
		return "unavailable"
	}
	return string(appendJSON(nil, &out))
}

func TestTransformationFunctions(t *testing.T) {
	cases := []struct {
		name, def, claims, want string
	}{
		{"years_ago then gte (age verification)", `{"claim": "birthdate", "fn": ["years_ago", ["gte", 18]]}`, `{"birthdate": "2005-12-31"}`, `true`},
		{"years_ago the day before the birthday", `{"claim": "birthdate", "fn": ["years_ago"]}`, `{"birthdate": "2006-01-02"}`, `17`},
		{"years_ago on the birthday", `{"claim": "birthdate", "fn": ["years_ago"]}`, `{"birthdate": "2006-01-01"}`, `18`},
		{"years_ago with a reference date", `{"claim": "birthdate", "fn": [["years_ago", "2000-01-01"]]}`, `{"birthdate": "1956-01-28"}`, `43`},
		{"years_ago on a datetime", `{"claim": "t", "fn": ["years_ago"]}`, `{"t": "2000-06-01T10:00:00Z"}`, `23`},
		{"years_ago on year 0000 is unavailable", `{"claim": "birthdate", "fn": ["years_ago"]}`, `{"birthdate": "0000-03-11"}`, `unavailable`},
		{"years_ago maps over arrays", `{"claim": "ds", "fn": ["years_ago"]}`, `{"ds": ["2000-01-01", "2010-06-01"]}`, `[24,13]`},
		{"years_ago on garbage is unavailable", `{"claim": "birthdate", "fn": ["years_ago"]}`, `{"birthdate": "yesterday"}`, `unavailable`},
		{"eq on strings", `{"claim": "given_name", "fn": [["eq", "Max"]]}`, `{"given_name": "Max"}`, `true`},
		{"eq then any over nationalities (ASC example)", `{"claim": "nationalities", "fn": [["eq", "USA"], "any"]}`, `{"nationalities": ["DEU", "USA"]}`, `true`},
		{"eq on numbers", `{"claim": "n", "fn": [["eq", 2]]}`, `{"n": 2.0}`, `true`},
		{"eq on booleans", `{"claim": "email_verified", "fn": [["eq", true]]}`, `{"email_verified": false}`, `false`},
		{"eq date vs datetime ignores the time", `{"claim": "t", "fn": [["eq", "2020-01-01"]]}`, `{"t": "2020-01-01T23:00Z"}`, `true`},
		{"eq on mismatched types is unavailable", `{"claim": "n", "fn": [["eq", "2"]]}`, `{"n": 2}`, `unavailable`},
		{"contains", `{"claim": "email", "fn": [["contains", "@example"]]}`, `{"email": "max@example.com"}`, `true`},
		{"starts_with", `{"claim": "email", "fn": [["starts_with", "moritz"]]}`, `{"email": "max@example.com"}`, `false`},
		{"ends_with", `{"claim": "email", "fn": [["ends_with", ".com"]]}`, `{"email": "max@example.com"}`, `true`},
		{"gt on numbers", `{"claim": "n", "fn": [["gt", 2]]}`, `{"n": 3}`, `true`},
		{"lt on numbers", `{"claim": "n", "fn": [["lt", 2]]}`, `{"n": 3}`, `false`},
		{"lte on equal numbers", `{"claim": "n", "fn": [["lte", 3]]}`, `{"n": 3}`, `true`},
		{"gte on dates", `{"claim": "birthdate", "fn": [["gte", "1990-01-01"]]}`, `{"birthdate": "1989-12-31"}`, `false`},
		{"lt datetime vs datetime uses the time", `{"claim": "t", "fn": [["lt", "2020-01-01T12:00:00Z"]]}`, `{"t": "2020-01-01T11:00:00Z"}`, `true`},
		{"lt date vs datetime ignores the time", `{"claim": "t", "fn": [["lt", "2020-01-01"]]}`, `{"t": "2020-01-01T11:00:00Z"}`, `false`},
		{"comparison maps over arrays", `{"claim": "ns", "fn": [["gt", 1], "all"]}`, `{"ns": [2, 3]}`, `true`},
		{"hash sha-256 (ASC example)", `{"claim": "given_name", "fn": [["hash", "sha-256"]]}`, `{"given_name": "Jörg"}`, `"8e63741c42f7c08025339f1a380d98030a698aa04f1fa3c595dcb581632af452"`},
		{"hash normalises to NFC first", `{"claim": "given_name", "fn": [["hash", "sha-256"]]}`, `{"given_name": "Jo\u0308rg"}`, `"8e63741c42f7c08025339f1a380d98030a698aa04f1fa3c595dcb581632af452"`},
		{"hash sha-512", `{"claim": "given_name", "fn": [["hash", "sha-512"]]}`, `{"given_name": "abc"}`, `"ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"`},
		{"any over an empty array", `{"claim": "bs", "fn": ["any"]}`, `{"bs": []}`, `false`},
		{"all over an empty array", `{"claim": "bs", "fn": ["all"]}`, `{"bs": []}`, `true`},
		{"none", `{"claim": "bs", "fn": ["none"]}`, `{"bs": [false, false]}`, `true`},
		{"any over non-booleans is unavailable", `{"claim": "bs", "fn": ["any"]}`, `{"bs": [1]}`, `unavailable`},
		{"get a member", `{"claim": "address", "fn": [["get", "country"]]}`, `{"address": {"country": "DE", "locality": "X"}}`, `"DE"`},
		{"get a missing member is unavailable", `{"claim": "address", "fn": [["get", "region"]]}`, `{"address": {"country": "DE"}}`, `unavailable`},
		{"match is an unanchored search (ASC example)", `{"claim": "email", "fn": [["match", "@company\\.com$"]]}`, `{"email": "jane@company.com"}`, `true`},
		{"match false", `{"claim": "email", "fn": [["match", "^admin@"]]}`, `{"email": "jane@company.com"}`, `false`},
		{"match on over-long input is unavailable", `{"claim": "s", "fn": [["match", "a"]]}`, `{"s": "` + strings.Repeat("a", maxMatchInputLen+1) + `"}`, `unavailable`},
		{"a missing base claim is unavailable", `{"claim": "birthdate", "fn": ["years_ago"]}`, `{"given_name": "Max"}`, `unavailable`},
		{"a null base claim is unavailable", `{"claim": "birthdate", "fn": ["years_ago"]}`, `{"birthdate": null}`, `unavailable`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := applyTC(t, tc.def, tc.claims); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

// Definitions the ASC error rules refuse (ASC §8.7), in their order.
func TestInvalidTransformedClaims(t *testing.T) {
	depth2, count1 := 2, 1
	zero := 0
	strict := Policy{AnyTrustFramework: true, TransformedClaimsMaxDepth: &depth2, TransformedClaimsMaxCount: &count1,
		TransformedClaimsFunctionsSupported: []string{"years_ago", "gte", "eq", "match", "hash"}}
	cases := []struct {
		name   string
		policy Policy
		req    string
		opts   RequestOptions
		desc   string
	}{
		{"chain longer than max_depth", strict, `{"_asc": {"transformed_claims": {"a": {"claim": "birthdate", "fn": ["years_ago", ["gte", 18], ["eq", true]]}}}}`, protected,
			"claims._asc.transformed_claims.a.fn: chains 3 functions, more than transformed_claims_max_depth (2)"},
		{"more definitions than max_count", strict, `{"_asc": {"transformed_claims": {"a": {"claim": "x", "fn": ["years_ago"]}, "b": {"claim": "x", "fn": ["years_ago"]}}}}`, protected,
			"claims._asc.transformed_claims: defines 2 transformed claims, more than transformed_claims_max_count (1)"},
		{"max_count counts both forms together", strict, `{"transformed_claims": {"a": {"claim": "x", "fn": ["years_ago"]}}, "_asc": {"transformed_claims": {"b": {"claim": "x", "fn": ["years_ago"]}}}}`, protected,
			"claims.transformed_claims: defines 2 transformed claims, more than transformed_claims_max_count (1)"},
		{"max_count 0: predefined only", Policy{AnyTrustFramework: true, TransformedClaimsMaxCount: &zero}, `{"transformed_claims": {"a": {"claim": "x", "fn": ["years_ago"]}}}`, protected,
			"claims.transformed_claims: this provider accepts predefined transformed claims only"},
		{"function the provider does not offer", strict, `{"transformed_claims": {"a": {"claim": "x", "fn": ["any"]}}}`, protected,
			"claims.transformed_claims.a.fn[0]: function 'any' is not supported"},
		{"unknown function", PermissivePolicy(), `{"transformed_claims": {"a": {"claim": "x", "fn": [["x-custom", 1]]}}}`, protected,
			"claims.transformed_claims.a.fn[0]: function 'x-custom' is not supported"},
		{"wrong arity", PermissivePolicy(), `{"transformed_claims": {"a": {"claim": "x", "fn": ["gte"]}}}`, protected,
			"claims.transformed_claims.a.fn[0]: gte takes 1 argument, got 0"},
		{"too many arguments", PermissivePolicy(), `{"transformed_claims": {"a": {"claim": "x", "fn": [["years_ago", "2000-01-01", "x"]]}}}`, protected,
			"claims.transformed_claims.a.fn[0]: years_ago takes 0 to 1 arguments, got 2"},
		{"wrong argument type", PermissivePolicy(), `{"transformed_claims": {"a": {"claim": "x", "fn": [["hash", "md5"]]}}}`, protected,
			"claims.transformed_claims.a.fn[0]: hash: the hash algorithm must be sha-256 or sha-512"},
		{"argument type the input can never have", PermissivePolicy(), `{"transformed_claims": {"a": {"claim": "birthdate", "fn": [["gte", 18]]}}}`, protected,
			"claims.transformed_claims.a.fn[0]: gte: a number argument needs a number input"},
		{"input type the function cannot take", PermissivePolicy(), `{"transformed_claims": {"a": {"claim": "birthdate", "fn": ["years_ago", ["contains", "1"]]}}}`, protected,
			"claims.transformed_claims.a.fn[1]: contains: needs a string input"},
		{"regular expression that does not compile", PermissivePolicy(), `{"transformed_claims": {"a": {"claim": "email", "fn": [["match", "(a"]]}}}`, protected,
			"claims.transformed_claims.a.fn[0]: match: the regular expression does not compile (RE2 syntax)"},
		{"fn empty", PermissivePolicy(), `{"transformed_claims": {"a": {"claim": "x", "fn": []}}}`, protected,
			"claims.transformed_claims.a.fn: must be a non-empty array of functions"},
		{"claim missing", PermissivePolicy(), `{"transformed_claims": {"a": {"fn": ["years_ago"]}}}`, protected,
			"claims.transformed_claims.a.claim: must be the name of a claim"},
		{"fn entry of the wrong shape", PermissivePolicy(), `{"transformed_claims": {"a": {"claim": "x", "fn": [3]}}}`, protected,
			"claims.transformed_claims.a.fn[0]: must be a function name or [name, arguments...]"},
		{"same name in both forms", PermissivePolicy(), `{"transformed_claims": {"a": {"claim": "x", "fn": ["years_ago"]}}, "_asc": {"transformed_claims": {"a": {"claim": "x", "fn": ["years_ago"]}}}}`, protected,
			"claims._asc.transformed_claims.a: is defined in both transformed_claims and _asc.transformed_claims"},
		{"custom definitions need an integrity-protected request", PermissivePolicy(), `{"transformed_claims": {"a": {"claim": "x", "fn": ["years_ago"]}}}`, RequestOptions{},
			"claims.transformed_claims: custom transformed claims are accepted only in a pushed or signed request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, err := NewEngine(tc.policy)
			if err != nil {
				t.Fatal(err)
			}
			_, err = e.ParseRequest([]byte(tc.req), tc.opts)
			var ie *Error
			if !errors.As(err, &ie) || ie.Code != ErrInvalidRequest || ie.Description != tc.desc {
				t.Errorf("got %v\nwant invalid_request: %s", err, tc.desc)
			}
		})
	}
}

var protected = RequestOptions{IntegrityProtected: true}

const tcDataset = `{"birthdate": "2010-05-05", "email": "jane@company.com",
  "verified_claims": {"verification": {"trust_framework": "de_aml"},
    "claims": {"given_name": "Jane", "birthdate": "1990-05-05", "nationalities": ["DEU", "USA"]}}}`

func TestTransformedClaimsInRequests(t *testing.T) {
	e, err := NewEngine(Policy{AnyTrustFramework: true, TransformedClaimsPredefined: map[string]TransformedClaim{
		"age_18_or_over": {Claim: "birthdate", Fn: []json.RawMessage{json.RawMessage(`"years_ago"`), json.RawMessage(`["gte", 18]`)}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, req, want string }{
		{"resolved where used: top level uses the plain birthdate, verified_claims the verified one",
			`{"_asc": {"transformed_claims": {"adult": {"claim": "birthdate", "fn": ["years_ago", ["gte", 18]]}}},
			  "id_token": {":adult": null, "verified_claims": {"verification": {"trust_framework": null}, "claims": {":adult": null}}}}`,
			`{"id_token": {":adult": false, "verified_claims": {"verification": {"trust_framework": "de_aml"}, "claims": {":adult": true}}}, "userinfo": {}}`},
		{"predefined claims are referenced with two colons",
			`{"userinfo": {"verified_claims": {"verification": {"trust_framework": null}, "claims": {"::age_18_or_over": {"value": true, "essential": true}}}}}`,
			`{"id_token": {}, "userinfo": {"verified_claims": {"verification": {"trust_framework": "de_aml"}, "claims": {"::age_18_or_over": true}}}}`},
		{"a value constraint applies to the transformed value",
			`{"userinfo": {"::age_18_or_over": {"value": true}}}`,
			`{"id_token": {}, "userinfo": {}}`},
		{"the seeds' root-level transformed_claims (ASC -00) with eq/any and match",
			`{"transformed_claims": {"nationality_usa": {"claim": "nationalities", "fn": [["eq", "USA"], "any"]},
			   "company_email": {"claim": "email", "fn": [["match", "@company\\.com$"]]}},
			  "id_token": {":company_email": {"value": true, "if_different": "abort"},
			    "verified_claims": {"verification": {"trust_framework": null}, "claims": {":nationality_usa": {"value": true}}}}}`,
			`{"id_token": {":company_email": true, "verified_claims": {"verification": {"trust_framework": "de_aml"}, "claims": {":nationality_usa": true}}}, "userinfo": {}}`},
		{"an undefined transformed claim is an unknown claim",
			`{"userinfo": {"verified_claims": {"verification": {"trust_framework": null}, "claims": {":nope": null, "::nope": null, "given_name": null}}}}`,
			`{"id_token": {}, "userinfo": {"verified_claims": {"verification": {"trust_framework": "de_aml"}, "claims": {"given_name": "Jane"}}}}`},
		{"a transformed claim cannot reach verified_claims from the top level",
			`{"_asc": {"transformed_claims": {"leak": {"claim": "verified_claims", "fn": [["get", "claims"]]}}}, "userinfo": {":leak": null}}`,
			`{"id_token": {}, "userinfo": {}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, e, tc.req, tcDataset, "")
			assertJSONEqual(t, resultJSON(t, res), []byte(tc.want))
		})
	}
}

func TestPredefinedMustCompile(t *testing.T) {
	_, err := NewEngine(Policy{TransformedClaimsPredefined: map[string]TransformedClaim{
		"bad": {Claim: "birthdate", Fn: []json.RawMessage{json.RawMessage(`["nope"]`)}},
	}})
	if err == nil || !strings.Contains(err.Error(), "transformed_claims_predefined.bad.fn[0]: function 'nope' is not supported") {
		t.Errorf("got %v", err)
	}
}

func jsonList(items ...string) []json.RawMessage {
	out := make([]json.RawMessage, len(items))
	for i, it := range items {
		out[i] = json.RawMessage(it)
	}
	return out
}
