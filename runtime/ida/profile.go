package ida

import (
	"encoding/json"
	"strings"
)

// The Japanese basic profile ("IDA Basic Profile with Scopes and UserInfo",
// OIDF Japan 2025): six scopes stand for
// fixed verified-claims requests answered at UserInfo only.
const (
	ScopeJPIDA             = "jp_oidf_ida"
	ScopeJPIDAWithEvidence = "jp_oidf_ida_with_evidence"
	ScopeJPAgeOver16       = "jp_oidf_ida_age_over_16"
	ScopeJPAgeOver18       = "jp_oidf_ida_age_over_18"
	ScopeJPAgeOver20       = "jp_oidf_ida_age_over_20"
	ScopeJPMSISDN          = "jp_oidf_ida_msisdn"
)

// Profile error codes, carried in verified_claims.__response_metadata.
const (
	JPErrUnavailable  = "verified_claims_unavailable"
	JPErrInsufficient = "verified_claims_insufficient"
	JPErrOther        = "verified_claims_other_error"
)

const jpTrustFramework = "jp_oidf_ida"

// jpScope is one profile scope: its fixed request and what its response
// must hold (all REQUIRED in the profile).
type jpScope struct {
	request  string
	claims   []string // required claims; "address.formatted" means a member
	verifies []string // required verification members
}

const jpNameClaims = `"name":null,"birthdate":null,"address":{"formatted":null}`
const jpTF = `"trust_framework":{"value":"` + jpTrustFramework + `"}`

var jpScopes = map[string]jpScope{
	ScopeJPIDA: {
		request: `{"verification":{` + jpTF + `},"claims":{` + jpNameClaims + `}}`,
		claims:  []string{"name", "birthdate", "address.formatted"},
	},
	ScopeJPIDAWithEvidence: {
		request: `{"verification":{` + jpTF + `,"time":null,"evidence":[` +
			`{"type":{"value":"document"},"check_details":[{"check_method":null,"organization":null,"time":null}],` +
			`"document_details":{"type":null,"date_of_issuance":null,"date_of_expiry":null}},` +
			`{"type":{"value":"electronic_record"},"check_details":[{"check_method":null,"organization":null,"time":null}],"record":{"type":null}},` +
			`{"type":{"value":"electronic_signature"},"signature_type":null,"issuer":null,"serial_number":null,"created_at":null}]},` +
			`"claims":{` + jpNameClaims + `}}`,
		claims:   []string{"name", "birthdate", "address.formatted"},
		verifies: []string{"time", "evidence"},
	},
	ScopeJPAgeOver16: ageScope(16),
	ScopeJPAgeOver18: ageScope(18),
	ScopeJPAgeOver20: ageScope(20),
	ScopeJPMSISDN: {
		request:  `{"verification":{` + jpTF + `,"time":null,"evidence":[{"type":{"value":"electronic_record"}}]},"claims":{"msisdn":null}}`,
		claims:   []string{"msisdn"},
		verifies: []string{"time", "evidence"},
	},
}

func ageScope(age int) jpScope {
	name := ":age_" + itoa(age) + "_or_over"
	return jpScope{
		request: `{"verification":{` + jpTF + `},"claims":{"` + name + `":null}}`,
		claims:  []string{name},
	}
}

// jpProfile holds the compiled fixed requests.
type jpProfile struct {
	requests map[string]*vcRequest
}

// newJPProfile compiles the fixed requests. The age scopes use the
// provider's predefined age_NN_or_over when it defines one, else the
// profile's own (years_ago, then gte NN); the profile names them with one
// colon in the response (":age_18_or_over").
func newJPProfile(e *Engine) (*jpProfile, error) {
	ages := map[string]*transform{}
	for _, age := range []int{16, 18, 20} {
		name := "age_" + itoa(age) + "_or_over"
		if t := e.predefined[name]; t != nil {
			ages[name] = t
			continue
		}
		def := TransformedClaim{Claim: "birthdate", Fn: []json.RawMessage{
			json.RawMessage(`"years_ago"`), json.RawMessage(`["gte",` + itoa(age) + `]`)}}
		lim := tcLimits{maxDepth: 2}
		compiled, err := compilePredefined(map[string]TransformedClaim{name: def}, &lim)
		if err != nil {
			return nil, err
		}
		ages[name] = compiled[name]
	}
	p := &jpProfile{requests: map[string]*vcRequest{}}
	rp := &reqParser{e: e, custom: ages}
	for scope, s := range jpScopes {
		v, err := parseJSON([]byte(s.request))
		if err != nil {
			return nil, err
		}
		vc := &vcRequest{}
		root := rootPath(scope)
		if perr := rp.parseVerifiedClaimsObject(vc, &v, &root); perr != nil {
			return nil, perr
		}
		markTagged(&vc.claims)
		p.requests[scope] = vc
	}
	return p, nil
}

// markTagged lets the profile's claims come with language tags too
// (e.g. address.formatted#ja-Hani-JP).
func markTagged(n *reqNode) {
	for i := range n.children {
		n.children[i].withTags = true
		markTagged(&n.children[i])
	}
}

func isJPScope(s string) bool {
	_, ok := jpScopes[s]
	return ok
}

// parseProfileScopes picks the enabled profile's scopes out of the scope
// parameter and applies the profile's request rules.
func (e *Engine) parseProfileScopes(r *Request, scope string) *Error {
	if e.jp == nil || scope == "" {
		return nil
	}
	var got []string
	for _, s := range strings.Fields(scope) {
		if isJPScope(s) && !contains(got, s) {
			got = append(got, s)
		}
	}
	if len(got) == 0 {
		return nil
	}
	if err := checkProfileScopeCombination(got); err != nil {
		return err
	}
	if err := checkProfileNotWithUserInfoClaims(r); err != nil {
		return err
	}
	// The msisdn scope answers second when combined (profile appendix 10.1).
	for i, s := range got {
		if s == ScopeJPMSISDN && i != len(got)-1 {
			got = append(append(got[:i:i], got[i+1:]...), s)
			break
		}
	}
	r.profile = got
	return nil
}

// checkProfileScopeCombination: the profile's scopes are not combined,
// except jp_oidf_ida_msisdn with one other; otherwise invalid_scope
// (profile 5.x.3.1).
func checkProfileScopeCombination(scopes []string) *Error {
	var others []string
	for _, s := range scopes {
		if s != ScopeJPMSISDN {
			others = append(others, s)
		}
	}
	if len(others) > 1 {
		return &Error{Code: ErrInvalidScope, Description: "scope: " + strings.Join(others, " and ") +
			" must not be requested together (only jp_oidf_ida_msisdn may accompany one other)"}
	}
	return nil
}

// checkProfileNotWithUserInfoClaims: under the profile, UserInfo's
// verified_claims answer the scopes; asking for them through the claims
// parameter as well would make two answers for one member.
func checkProfileNotWithUserInfoClaims(r *Request) *Error {
	if len(r.userInfo.verified) > 0 {
		p := rootPath("claims")
		up := p.member("userinfo")
		return invalidRequest(up.member("verified_claims"), "cannot be combined with the jp_oidf_ida scopes, which answer UserInfo's verified_claims")
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// evalProfile answers the profile scopes: the released verified_claims, or
// the profile's error object when any scope cannot be fully answered
// (profile 5.x.3.2: combined scopes fail together).
func (c *evalCtx) evalProfile(scopes []string, views []view) value {
	var outs []value
	for _, s := range scopes {
		out, code, desc := c.evalJPScope(s, views)
		if code != "" {
			return jpError(code, desc)
		}
		outs = append(outs, out)
	}
	if len(outs) == 1 {
		return outs[0]
	}
	return value{kind: kArray, arr: outs}
}

func (c *evalCtx) evalJPScope(scope string, views []view) (value, string, string) {
	held := false
	for i := range views {
		if views[i].tf == jpTrustFramework {
			held = true
		}
	}
	if !held {
		return value{}, JPErrUnavailable, "no verified claims are held for this user"
	}
	def := jpScopes[scope]
	out, ok := c.evalVerifiedClaims(c.e.jp.requests[scope], views)
	if !ok {
		return value{}, JPErrInsufficient, scope + ": the verification does not meet the scope"
	}
	ver, claims := out.get("verification"), out.get("claims")
	for _, v := range def.verifies {
		if !ver.has(v) {
			return value{}, JPErrInsufficient, "verification." + v + " is not available"
		}
	}
	for _, cl := range def.claims {
		if !hasClaim(claims, cl) {
			return value{}, JPErrInsufficient, cl + " is not available"
		}
	}
	return out, "", ""
}

// hasClaim finds a claim, tagged or not; "a.b" looks one level down.
func hasClaim(claims *value, name string) bool {
	outer, inner, nested := strings.Cut(name, ".")
	for i := range claims.obj {
		m := &claims.obj[i]
		if m.name != outer && !strings.HasPrefix(m.name, outer+"#") {
			continue
		}
		if !nested {
			return true
		}
		if hasClaim(&m.val, inner) {
			return true
		}
	}
	return false
}

// jpError is the profile's UserInfo error shape: verified_claims with the
// trust framework, empty claims and __response_metadata beside them.
func jpError(code, desc string) value {
	return value{kind: kObject, obj: []member{
		{name: "verification", val: value{kind: kObject, obj: []member{
			{name: "trust_framework", val: stringValue(jpTrustFramework)}}}},
		{name: "claims", val: value{kind: kObject, obj: []member{}}},
		{name: "__response_metadata", val: value{kind: kObject, obj: []member{
			{name: "error", val: stringValue(code)},
			{name: "error_description", val: stringValue(sanitizeDescription(desc))}}}},
	}}
}
