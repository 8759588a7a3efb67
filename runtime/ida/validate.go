package ida

import (
	"math"
	"unicode/utf8"
)

// The rules that make a claims request invalid. One function per rule, each
// named after it; ParseRequest calls them while it walks the request.

// checkVerificationPresent: a verified_claims request without a
// `verification` object is invalid_request: the final text is silent, and
// every draft since ID2 refused it.
func checkVerificationPresent(vc *value, p *path) *Error {
	v := vc.get("verification")
	vp := p.member("verification")
	switch {
	case v == nil:
		return invalidRequest(vp, "is required")
	case v.kind == kNull:
		return invalidRequest(vp, "must not be null")
	case v.kind != kObject:
		return invalidRequest(vp, "must be an object")
	}
	return nil
}

// checkClaimsPresent: `claims` null, {} or missing is invalid_request
// (the final text is silent; every draft since ID2 refused these).
func checkClaimsPresent(vc *value, p *path) *Error {
	c := vc.get("claims")
	cp := p.member("claims")
	switch {
	case c == nil:
		return invalidRequest(cp, "is required")
	case c.kind == kNull:
		return invalidRequest(cp, "must not be null")
	case c.kind != kObject:
		return invalidRequest(cp, "must be an object")
	case len(c.obj) == 0:
		return invalidRequest(cp, "must not be empty")
	}
	return nil
}

// checkClaimRequestShape: each requested claim is null or an object
// (OIDC Core §5.5.1).
func checkClaimRequestShape(v *value, p *path) *Error {
	if v.kind != kNull && v.kind != kObject {
		return invalidRequest(*p, "must be null or an object")
	}
	return nil
}

// checkEvidenceTypeValue: every evidence request entry names its type with
// `value`; `values` is not allowed there (IDA §5.4).
func checkEvidenceTypeValue(entry *value, p *path) *Error {
	tp := p.member("type")
	t := entry.get("type")
	if t == nil || t.kind != kObject {
		return invalidRequest(tp, "must be an object with a value naming the evidence type")
	}
	if t.has("values") {
		return invalidRequest(tp.member("values"), "must not be used on evidence type; use one entry per type")
	}
	v := t.get("value")
	if v == nil || v.kind != kString || v.str == "" {
		return invalidRequest(tp.member("value"), "must be a string naming the evidence type")
	}
	return nil
}

// checkEssentialIsBoolean: `essential` is a boolean (OIDC Core §5.5.1).
func checkEssentialIsBoolean(v *value, p *path) *Error {
	if v.kind != kBool {
		return invalidRequest(*p, "must be a boolean")
	}
	return nil
}

// checkPurposeLength: a purpose is a string of 3 to 300 characters (kept
// from the IDA drafts that defined purpose; the final text dropped it).
func checkPurposeLength(v *value, p *path) *Error {
	if v.kind != kString {
		return invalidRequest(*p, "must be a string")
	}
	if n := utf8.RuneCountInString(v.str); n < 3 || n > 300 {
		return invalidRequest(*p, "must be 3 to 300 characters long, not "+itoa(n))
	}
	return nil
}

// ValidatePurpose checks the `purpose` authorization request parameter:
// 3 to 300 characters, else invalid_request (as checkPurposeLength).
func ValidatePurpose(purpose string) error {
	p := rootPath("purpose")
	v := stringValue(purpose)
	if err := checkPurposeLength(&v, &p); err != nil {
		return err
	}
	return nil
}

func isScalar(v *value) bool { return v.kind == kString || v.kind == kNumber || v.kind == kBool }

// checkValueIsScalar: `value` is a string, number or boolean.
func checkValueIsScalar(v *value, p *path) *Error {
	if !isScalar(v) {
		return invalidRequest(*p, "must be a string, number or boolean")
	}
	return nil
}

// checkValuesIsArrayOfScalars: `values` is a non-empty array of strings,
// numbers or booleans.
func checkValuesIsArrayOfScalars(v *value, p *path) *Error {
	if v.kind != kArray || len(v.arr) == 0 {
		return invalidRequest(*p, "must be a non-empty array")
	}
	for i := range v.arr {
		if !isScalar(&v.arr[i]) {
			ep := p.at(i)
			return invalidRequest(ep, "must be a string, number or boolean")
		}
	}
	return nil
}

// checkMaxAgeIsSeconds: `max_age` is a whole, non-negative number of
// seconds (IDA §5.5.2).
func checkMaxAgeIsSeconds(v *value, p *path) (int64, *Error) {
	f, ok := v.number()
	if !ok || f < 0 || f != math.Trunc(f) || f > 1<<53 {
		return 0, invalidRequest(*p, "must be a non-negative integer number of seconds")
	}
	return int64(f), nil
}

// checkValueOrValues: one element takes `value` or `values`, not both;
// together they would be two constraints with no stated combination.
func checkValueOrValues(n *reqNode, p *path) *Error {
	if n.value != nil && n.values != nil {
		return invalidRequest(*p, "use value or values, not both")
	}
	return nil
}

// constraintType is the type a constraint on n is compared against: the
// transformed value for transformed claims (ASC §8.2.1).
func constraintType(n *reqNode) stype {
	if n.tcRef {
		if n.tc == nil {
			return stAny
		}
		return n.tc.out
	}
	if n.spec == nil {
		return stAny
	}
	return stype{base: n.spec.typ}
}

// checkConstraintCanMatch: a `value`/`values` of a type the element can
// never have is invalid_request rather than a silent omission, so the
// relying party learns of its mistake.
func checkConstraintCanMatch(n *reqNode, p *path) *Error {
	t := constraintType(n)
	check := func(c *value, cp path) *Error {
		if msg := scalarFits(c, t); msg != "" {
			return invalidRequest(cp, msg)
		}
		return nil
	}
	if n.value != nil {
		return check(n.value, p.member("value"))
	}
	vp := p.member("values")
	for i := range n.values {
		if err := check(&n.values[i], vp.at(i)); err != nil {
			return err
		}
	}
	return nil
}

func scalarFits(c *value, t stype) string {
	if t.array {
		return "can never match: the element is an array"
	}
	switch t.base {
	case tString, tDate:
		if c.kind != kString {
			return "must be a string: the element is a string"
		}
	case tDateTime:
		if c.kind == kBool {
			return "must be a string or number: the element is a timestamp"
		}
	case tNumber:
		if c.kind != kNumber {
			return "must be a number: the element is a number"
		}
	case tBool:
		if c.kind != kBool {
			return "must be a boolean: the element is a boolean"
		}
	case tObject:
		return "can never match: the element is an object"
	case tArray:
		return "can never match: the element is an array"
	}
	return ""
}

// checkMaxAgeOnDate: max_age only means something on dates and timestamps
// (IDA §5.5.2); elsewhere it can never match, refused as above.
func checkMaxAgeOnDate(n *reqNode, p *path) *Error {
	if !n.hasMaxAge {
		return nil
	}
	t := constraintType(n)
	if t.array || (t.base != tAny && t.base != tDate && t.base != tDateTime) {
		return invalidRequest(p.member("max_age"), "applies to dates and timestamps only")
	}
	return nil
}

// checkCustomTransformedClaimsProtected: requests that define custom
// transformed claims are accepted only when integrity-protected (PAR or a
// signed request object; ASC §9.1).
func checkCustomTransformedClaimsProtected(count int, p path, opts RequestOptions) *Error {
	if count > 0 && !opts.IntegrityProtected {
		return invalidRequest(p, "custom transformed claims are accepted only in a pushed or signed request")
	}
	return nil
}
