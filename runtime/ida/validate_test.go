package ida

import (
	"errors"
	"strings"
	"testing"
)

// vc wraps a verified_claims request object into a claims parameter.
func vc(obj string) string { return `{"userinfo": {"verified_claims": ` + obj + `}}` }

const okVer = `"verification": {"trust_framework": null}`

// Every rule that refuses a request, with the exact error it gives.
func TestInvalidRequests(t *testing.T) {
	cases := []struct {
		name, request, code, desc string
	}{
		// checkVerificationPresent
		{"verification missing", vc(`{"claims": {"given_name": null}}`), ErrInvalidRequest,
			"claims.userinfo.verified_claims.verification: is required"},
		{"verification null", vc(`{"verification": null, "claims": {"given_name": null}}`), ErrInvalidRequest,
			"claims.userinfo.verified_claims.verification: must not be null"},
		{"verification not an object", vc(`{"verification": "de_aml", "claims": {"given_name": null}}`), ErrInvalidRequest,
			"claims.userinfo.verified_claims.verification: must be an object"},
		// checkClaimsPresent
		{"claims missing", vc(`{` + okVer + `}`), ErrInvalidRequest,
			"claims.userinfo.verified_claims.claims: is required"},
		{"claims null in an array element", vc(`[{` + okVer + `, "claims": {"given_name": null}}, {` + okVer + `, "claims": null}]`), ErrInvalidRequest,
			"claims.userinfo.verified_claims[1].claims: must not be null"},
		{"claims empty", vc(`{` + okVer + `, "claims": {}}`), ErrInvalidRequest,
			"claims.userinfo.verified_claims.claims: must not be empty"},
		{"claims an array", vc(`{` + okVer + `, "claims": ["given_name"]}`), ErrInvalidRequest,
			"claims.userinfo.verified_claims.claims: must be an object"},
		// checkClaimRequestShape
		{"claim requested with a string", vc(`{` + okVer + `, "claims": {"given_name": "Max"}}`), ErrInvalidRequest,
			"claims.userinfo.verified_claims.claims.given_name: must be null or an object"},
		{"plain claim requested with a number", `{"id_token": {"email": 1}}`, ErrInvalidRequest,
			"claims.id_token.email: must be null or an object"},
		// checkEvidenceTypeValue (IDA §5.4)
		{"evidence entry without type", vc(`{"verification": {"trust_framework": null, "evidence": [{"check_details": [{"check_method": null}]}]}, "claims": {"given_name": null}}`), ErrInvalidRequest,
			"claims.userinfo.verified_claims.verification.evidence[0].type: must be an object with a value naming the evidence type"},
		{"evidence type null", vc(`{"verification": {"trust_framework": null, "evidence": [{"type": null}]}, "claims": {"given_name": null}}`), ErrInvalidRequest,
			"claims.userinfo.verified_claims.verification.evidence[0].type: must be an object with a value naming the evidence type"},
		{"evidence type with values", vc(`{"verification": {"trust_framework": null, "evidence": [{"type": {"value": "document"}}, {"type": {"values": ["document", "vouch"]}}]}, "claims": {"given_name": null}}`), ErrInvalidRequest,
			"claims.userinfo.verified_claims.verification.evidence[1].type.values: must not be used on evidence type; use one entry per type"},
		{"evidence type value not a string", vc(`{"verification": {"trust_framework": null, "evidence": [{"type": {"value": 3}}]}, "claims": {"given_name": null}}`), ErrInvalidRequest,
			"claims.userinfo.verified_claims.verification.evidence[0].type.value: must be a string naming the evidence type"},
		{"evidence null", vc(`{"verification": {"trust_framework": null, "evidence": null}, "claims": {"given_name": null}}`), ErrInvalidRequest,
			"claims.userinfo.verified_claims.verification.evidence: must be an array of evidence requests"},
		{"evidence an object", vc(`{"verification": {"trust_framework": null, "evidence": {"type": {"value": "document"}}}, "claims": {"given_name": null}}`), ErrInvalidRequest,
			"claims.userinfo.verified_claims.verification.evidence: must be an array of evidence requests"},
		{"evidence empty", vc(`{"verification": {"trust_framework": null, "evidence": []}, "claims": {"given_name": null}}`), ErrInvalidRequest,
			"claims.userinfo.verified_claims.verification.evidence: must not be an empty array"},
		// checkPurposeLength
		{"purpose too short", vc(`{` + okVer + `, "claims": {"given_name": {"purpose": "ab"}}}`), ErrInvalidRequest,
			"claims.userinfo.verified_claims.claims.given_name.purpose: must be 3 to 300 characters long, not 2"},
		{"purpose too long", vc(`{` + okVer + `, "claims": {"given_name": {"purpose": "` + strings.Repeat("x", 301) + `"}}}`), ErrInvalidRequest,
			"claims.userinfo.verified_claims.claims.given_name.purpose: must be 3 to 300 characters long, not 301"},
		{"purpose not a string", vc(`{` + okVer + `, "claims": {"given_name": {"purpose": 42}}}`), ErrInvalidRequest,
			"claims.userinfo.verified_claims.claims.given_name.purpose: must be a string"},
		// checkEssentialIsBoolean
		{"essential not a boolean", vc(`{` + okVer + `, "claims": {"given_name": {"essential": "yes"}}}`), ErrInvalidRequest,
			"claims.userinfo.verified_claims.claims.given_name.essential: must be a boolean"},
		// checkValueIsScalar / checkValuesIsArrayOfScalars
		{"value an object", vc(`{"verification": {"trust_framework": {"value": {"a": 1}}}, "claims": {"given_name": null}}`), ErrInvalidRequest,
			"claims.userinfo.verified_claims.verification.trust_framework.value: must be a string, number or boolean"},
		{"values empty", vc(`{"verification": {"trust_framework": {"values": []}}, "claims": {"given_name": null}}`), ErrInvalidRequest,
			"claims.userinfo.verified_claims.verification.trust_framework.values: must be a non-empty array"},
		{"values with null", vc(`{"verification": {"trust_framework": {"values": ["a", null]}}, "claims": {"given_name": null}}`), ErrInvalidRequest,
			"claims.userinfo.verified_claims.verification.trust_framework.values[1]: must be a string, number or boolean"},
		// checkValueOrValues
		{"value and values together", vc(`{"verification": {"trust_framework": {"value": "a", "values": ["b"]}}, "claims": {"given_name": null}}`), ErrInvalidRequest,
			"claims.userinfo.verified_claims.verification.trust_framework: use value or values, not both"},
		// checkConstraintCanMatch
		{"number value on a string element", vc(`{"verification": {"trust_framework": {"value": 5}}, "claims": {"given_name": null}}`), ErrInvalidRequest,
			"claims.userinfo.verified_claims.verification.trust_framework.value: must be a string: the element is a string"},
		{"value on an object claim", vc(`{` + okVer + `, "claims": {"address": {"value": "Maxstadt"}}}`), ErrInvalidRequest,
			"claims.userinfo.verified_claims.claims.address.value: can never match: the element is an object"},
		{"string value on a boolean claim", `{"id_token": {"email_verified": {"value": "true"}}}`, ErrInvalidRequest,
			"claims.id_token.email_verified.value: must be a boolean: the element is a boolean"},
		{"string value on a boolean transformed claim", `{"_asc": {"transformed_claims": {"adult": {"claim": "birthdate", "fn": ["years_ago", ["gte", 18]]}}}, "userinfo": {"verified_claims": {` + okVer + `, "claims": {":adult": {"value": "true"}}}}}`, ErrInvalidRequest,
			"claims.userinfo.verified_claims.claims.:adult.value: must be a boolean: the element is a boolean"},
		// checkMaxAgeIsSeconds / checkMaxAgeOnDate
		{"max_age negative", vc(`{"verification": {"trust_framework": null, "time": {"max_age": -1}}, "claims": {"given_name": null}}`), ErrInvalidRequest,
			"claims.userinfo.verified_claims.verification.time.max_age: must be a non-negative integer number of seconds"},
		{"max_age fractional", vc(`{"verification": {"trust_framework": null, "time": {"max_age": 1.5}}, "claims": {"given_name": null}}`), ErrInvalidRequest,
			"claims.userinfo.verified_claims.verification.time.max_age: must be a non-negative integer number of seconds"},
		{"max_age a string", vc(`{"verification": {"trust_framework": null, "time": {"max_age": "60"}}, "claims": {"given_name": null}}`), ErrInvalidRequest,
			"claims.userinfo.verified_claims.verification.time.max_age: must be a non-negative integer number of seconds"},
		{"max_age on a non-date element", vc(`{"verification": {"trust_framework": {"max_age": 60}}, "claims": {"given_name": null}}`), ErrInvalidRequest,
			"claims.userinfo.verified_claims.verification.trust_framework.max_age: applies to dates and timestamps only"},
		// shapes
		{"not JSON", `{"userinfo": `, ErrInvalidRequest, "claims: not valid JSON (at byte 13)"},
		{"not an object", `[1]`, ErrInvalidRequest, "claims: must be a JSON object"},
		{"duplicate member", `{"userinfo": {"verified_claims": null, "verified_claims": null}}`, ErrInvalidRequest,
			"claims: member 'verified_claims' appears twice in one object"},
		{"userinfo not an object", `{"userinfo": true}`, ErrInvalidRequest, "claims.userinfo: must be an object"},
		{"verified_claims a string", vc(`"all"`), ErrInvalidRequest,
			"claims.userinfo.verified_claims: must be an object or an array of objects"},
		{"verified_claims empty array", vc(`[]`), ErrInvalidRequest,
			"claims.userinfo.verified_claims: must not be an empty array"},
		{"verified_claims array of non-objects", vc(`[null]`), ErrInvalidRequest,
			"claims.userinfo.verified_claims[0]: must be an object"},
		{"known element requested with a string", vc(`{"verification": {"trust_framework": "de_aml"}, "claims": {"given_name": null}}`), ErrInvalidRequest,
			"claims.userinfo.verified_claims.verification.trust_framework: must be null or an object of request options: the element is a string"},
		{"odd member names are quoted safely", vc(`{` + okVer + `, "claims": {"a\"b c": {"essential": 1}}}`), ErrInvalidRequest,
			"claims.userinfo.verified_claims.claims['a%22b c'].essential: must be a boolean"},
	}
	e := permissive(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.ParseRequest([]byte(tc.request), RequestOptions{IntegrityProtected: true})
			var ie *Error
			if !errors.As(err, &ie) {
				t.Fatalf("want *Error, got %v", err)
			}
			if ie.Code != tc.code || ie.Description != tc.desc {
				t.Errorf("got  %s: %s\nwant %s: %s", ie.Code, ie.Description, tc.code, tc.desc)
			}
		})
	}
}

// Requests that look odd but are valid.
func TestValidOddRequests(t *testing.T) {
	for _, r := range []string{
		vc(`{` + okVer + `, "claims": {"given_name": {"purpose": "abc"}}}`),
		vc(`{` + okVer + `, "claims": {"given_name": {"purpose": "` + strings.Repeat("é", 300) + `"}}}`),
		vc(`{` + okVer + `, "claims": {"given_name": null}, "unknown_member": 1}`),                                  // unknown members are ignored
		vc(`{"verification": {"trust_framework": {"value": "x", "if_different": "abort"}}, "claims": {"a": null}}`), // ASC -00 options ignored
		vc(`{"verification": {"trust_framework": null, "assurance_process": {"assurance_details": null}}, "claims": {"a": null}}`),
		vc(`{"verification": {}, "claims": {"given_name": null}}`),
		`{"id_token": {"acr": {"values": ["urn:x"]}, "auth_time": {"essential": true}}}`,
		`{"_asc": {"sao": {"id_token": [{"loc": "/x", "else": "abort"}]}}}`, // SAO is ignored
		`{}`,
		``,
	} {
		if _, err := permissive(t).ParseRequest([]byte(r), RequestOptions{}); err != nil {
			t.Errorf("%s: %v", r, err)
		}
	}
}

func TestValidatePurpose(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{{"abc", true}, {"ab", false}, {"", false}, {strings.Repeat("あ", 300), true}, {strings.Repeat("a", 301), false}} {
		err := ValidatePurpose(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("ValidatePurpose(%d chars) = %v, want ok=%v", len([]rune(tc.in)), err, tc.ok)
		}
		var ie *Error
		if err != nil && (!errors.As(err, &ie) || ie.Code != ErrInvalidRequest || !strings.HasPrefix(ie.Description, "purpose: ")) {
			t.Errorf("want invalid_request on purpose, got %v", err)
		}
	}
}

func TestPurposesAreCollected(t *testing.T) {
	req, err := permissive(t).ParseRequest([]byte(vc(`{`+okVer+`, "claims": {"given_name": {"purpose": "to greet you"}}}`)), RequestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := req.Purposes()
	if len(got) != 1 || got[0].Path != "claims.userinfo.verified_claims.claims.given_name" || got[0].Text != "to greet you" {
		t.Errorf("Purposes() = %+v", got)
	}
}

func TestErrorDescriptionCharset(t *testing.T) {
	got := sanitizeDescription("a\"b\\c%d\né")
	if got != "a%22b%5Cc%25d%0A%C3%A9" {
		t.Errorf("sanitizeDescription = %q", got)
	}
}
