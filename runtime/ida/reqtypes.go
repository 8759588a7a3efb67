package ida

// checkElementType is the one place that types a request element: it
// checks the JSON form of v against what the texts say the element holds
// (the elemSpec tables in elements.go, written from IDA §5 and SCH), so
// that a wrongly typed element is invalid_request naming its path, never a
// silent "no match" or "send everything" (DECISIONS 7 and 11 of the
// project: judged by the text, the request schema is non-normative).
//
// The forms a request element can take (OIDC Core §5.5.1, IDA §5.4):
//   - a string, date, timestamp, number or boolean element: null or an
//     object of request options (essential, value, values, max_age,
//     purpose); it has no members to ask for;
//   - an object element: null or an object naming members;
//   - an array element: null, a non-empty array of objects (OR-ed
//     filters, IDA §5.4), or an object of request options; evidence must
//     be such an array (DECISIONS 5);
//   - attachments: null or an object of request options (ATT §4);
//   - an element the engine does not know: null, an object or a
//     non-empty array of objects.
//
// Members whose value is a string, number or boolean and that are not
// request options are unknown options, ignored (OIDC Core §5.5.1), unless
// they name a known element. The options' own types are checked where
// they are read (keyword in request.go), and claims containers leave their
// members to claimRequest.
//
// plain: the element is a claim outside verified_claims, where OpenID
// Connect Core alone speaks: members it does not define are ignored there
// (§5.5.1), so asking a string claim for members is not refused; the
// compiled request then asks for the claim whole.
func checkElementType(v *value, spec *elemSpec, p *path, plain bool) *Error {
	switch v.kind {
	case kNull:
		if spec != nil && spec.mustBeArray {
			return invalidRequest(*p, "must be an array of evidence requests")
		}
		return nil
	case kArray:
		if spec != nil && (spec.typ != tArray && spec.typ != tAny || spec.attachments) {
			return invalidRequest(*p, formsOf(spec))
		}
		if len(v.arr) == 0 {
			return invalidRequest(*p, "must not be an empty array")
		}
		for i := range v.arr {
			if v.arr[i].kind != kObject {
				return invalidRequest(p.at(i), "must be an object")
			}
		}
		return nil
	case kObject:
		if spec == nil {
			return nil
		}
		if spec.mustBeArray {
			return invalidRequest(*p, "must be an array of evidence requests")
		}
		if spec.container {
			return nil
		}
		for i := range v.obj {
			m := &v.obj[i]
			if isKeyword(m.name) {
				continue
			}
			switch m.val.kind {
			case kNull, kObject, kArray:
				if !hasMembers(spec) && !plain {
					return invalidRequest(*p, formsOf(spec))
				}
			default:
				if cs := spec.member(m.name); cs != nil {
					mp := p.member(m.name)
					return invalidRequest(mp, formsOf(cs))
				}
			}
		}
		return nil
	}
	if spec != nil {
		return invalidRequest(*p, formsOf(spec))
	}
	return invalidRequest(*p, "must be null, an object or an array of objects")
}

// hasMembers: the element is an object (or unknown), so a request may
// name its members.
func hasMembers(spec *elemSpec) bool {
	return spec == nil || spec.typ == tObject || spec.typ == tAny
}

// formsOf says which request forms an element takes, for the error
// description.
func formsOf(spec *elemSpec) string {
	switch {
	case spec.mustBeArray:
		return "must be an array of evidence requests"
	case spec.attachments:
		return "must be null or an object of request options: attachments are requested whole"
	case spec.container || spec.typ == tObject || spec.typ == tAny:
		return "must be null or an object"
	case spec.typ == tArray:
		return "must be null, an array of objects or an object of request options: the element is an array"
	}
	return "must be null or an object of request options: the element is " + typeName(spec.typ)
}

func typeName(t elemType) string {
	switch t {
	case tString:
		return "a string"
	case tDate:
		return "a date"
	case tDateTime:
		return "a timestamp"
	case tNumber:
		return "a number"
	case tBool:
		return "a boolean"
	case tObject:
		return "an object"
	case tArray:
		return "an array"
	}
	return "of any type"
}
