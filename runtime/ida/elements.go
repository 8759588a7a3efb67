package ida

import "strings"

// elemType is what the standard says an element holds. It decides which
// constraints can ever match and where max_age applies.
type elemType uint8

const (
	tAny      elemType = iota // unknown element: anything goes
	tString                   // plain string
	tDate                     // string YYYY-MM-DD
	tDateTime                 // timestamp string (or a number, for updated_at)
	tNumber
	tBool
	tObject
	tArray
)

// elemSpec describes one element of the verified_claims structure as far as
// the engine needs it: its type, known members, and what a released copy
// must keep to stay valid (IDA §5.7.5).
type elemSpec struct {
	typ      elemType
	members  map[string]*elemSpec
	items    *elemSpec // element spec of an array
	required []string  // members a released object must have, else it is dropped
	// container: every member is a claim request (verified_claims.claims,
	// derived_claims, the top level of id_token/userinfo).
	container   bool
	whole       bool // returned whole when requested (assurance_details, IDA §5.4)
	evidence    bool // an evidence item: required members depend on its type
	typeFilter  bool // evidence/type: needs `value`, forbids `values` (IDA §5.4)
	attachments bool // attachments: released per the provider's support (ATT §4)
	mustBeArray bool // a request must be an array here (evidence)
	keepEmpty   bool // released even when empty: verified_claims.claims (SCH §5.3)
	// objectOrArray: the data is one such object or an array of them
	// (authority); a request object applies to each.
	objectOrArray bool
}

func (s *elemSpec) member(name string) *elemSpec {
	if s == nil {
		return nil
	}
	if s.container {
		return claimSpec(name)
	}
	return s.members[name]
}

var (
	specString   = &elemSpec{typ: tString}
	specDate     = &elemSpec{typ: tDate}
	specDateTime = &elemSpec{typ: tDateTime}
	specNumberDT = &elemSpec{typ: tDateTime} // updated_at: a number that is a datetime
	specBool     = &elemSpec{typ: tBool}
)

func addressLike(extra ...string) *elemSpec {
	m := map[string]*elemSpec{}
	for _, n := range []string{"formatted", "street_address", "locality", "region", "postal_code", "country", "country_code"} {
		m[n] = specString
	}
	for _, n := range extra {
		m[n] = specString
	}
	return &elemSpec{typ: tObject, members: m}
}

// claimsSpec is a claims container: derived_claims; vcClaimsSpec is
// verified_claims.claims, which comes back as {} when nothing matched.
var (
	claimsSpec   = &elemSpec{typ: tObject, container: true}
	vcClaimsSpec = &elemSpec{typ: tObject, container: true, keepEmpty: true}
)

var attachmentsSpec = &elemSpec{typ: tArray, attachments: true}

var claimTypes = func() map[string]*elemSpec {
	m := map[string]*elemSpec{
		"birthdate":             specDate,
		"email_verified":        specBool,
		"phone_number_verified": specBool,
		"updated_at":            specNumberDT,
		"address":               addressLike(),
		"place_of_birth":        {typ: tObject, members: map[string]*elemSpec{"country": specString, "region": specString, "locality": specString}},
		"nationalities":         {typ: tArray, items: specString},
		"authority":             authoritySpec,
	}
	for _, n := range []string{"name", "given_name", "family_name", "middle_name", "nickname",
		"preferred_username", "profile", "picture", "website", "email", "gender", "zoneinfo",
		"locale", "phone_number", "birth_family_name", "birth_given_name", "birth_middle_name",
		"salutation", "title", "msisdn", "also_known_as", "sub"} {
		m[n] = specString
	}
	return m
}()

// claimSpec returns the known shape of a claim; language tags
// (family_name#ja-Kana-JP) share the untagged claim's type.
func claimSpec(name string) *elemSpec {
	if i := strings.IndexByte(name, '#'); i > 0 {
		name = name[:i]
	}
	return claimTypes[name]
}

var checkDetailsSpec = &elemSpec{typ: tArray, items: &elemSpec{
	typ:      tObject,
	required: []string{"check_method"},
	members: map[string]*elemSpec{
		"check_method": specString,
		"organization": specString,
		"check_id":     specString,
		"time":         specDateTime,
	},
}}

var evidenceSpec = &elemSpec{typ: tObject, evidence: true, required: []string{"type"}, members: map[string]*elemSpec{
	"type":          {typ: tString, typeFilter: true},
	"check_details": checkDetailsSpec,
	"document_details": {typ: tObject, required: []string{"type"}, members: map[string]*elemSpec{
		"type":             specString,
		"document_number":  specString,
		"serial_number":    specString,
		"date_of_issuance": specDate,
		"date_of_expiry":   specDate,
		"issuer":           addressLike("name", "jurisdiction"),
	}},
	"record": {typ: tObject, required: []string{"type"}, members: map[string]*elemSpec{
		"type":           specString,
		"created_at":     specDateTime,
		"date_of_expiry": specDate,
		"source":         addressLike("name", "jurisdiction"),
	}},
	"attestation": {typ: tObject, required: []string{"type"}, members: map[string]*elemSpec{
		"type":             specString,
		"reference_number": specString,
		"date_of_issuance": specDate,
		"date_of_expiry":   specDate,
		"voucher": func() *elemSpec {
			v := addressLike("name", "occupation", "organization")
			v.members["birthdate"] = specDate
			return v
		}(),
	}},
	"signature_type": specString,
	"issuer":         specString,
	"serial_number":  specString,
	"created_at":     specDateTime,
	"attachments":    attachmentsSpec,
	"derived_claims": claimsSpec,
}}

// signatureRequired: an electronic_signature evidence is only valid with
// these (schema: required signature_type, issuer, serial_number).
var signatureRequired = []string{"type", "signature_type", "issuer", "serial_number"}

var verificationSpec = &elemSpec{typ: tObject, required: []string{"trust_framework"}, members: map[string]*elemSpec{
	"trust_framework": specString,
	"assurance_level": specString,
	"assurance_process": {typ: tObject, members: map[string]*elemSpec{
		"policy":            specString,
		"procedure":         specString,
		"assurance_details": {typ: tArray, whole: true},
	}},
	"time":                 specDateTime,
	"verification_process": specString,
	"evidence":             {typ: tArray, items: evidenceSpec, mustBeArray: true},
	// Not where the standard puts attachments (they belong to evidence),
	// but an example does; the provider's attachment policy applies here too.
	"attachments": attachmentsSpec,
}}

// topLevelSpec is id_token / userinfo outside verified_claims.
var topLevelSpec = &elemSpec{typ: tObject, container: true}

// requiredMembers returns what a released object at spec must keep.
func requiredMembers(spec *elemSpec, out *value) []string {
	if spec == nil {
		return nil
	}
	if spec.evidence {
		if t := out.get("type"); t.isString() && t.str == "electronic_signature" {
			return signatureRequired
		}
	}
	return spec.required
}
