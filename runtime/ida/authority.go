package ida

import (
	"encoding/json"
	"slices"
	"strings"
)

// The authority claim of the eKYC & IDA Authority Claims Extension (draft
// openid-authority-00, "OpenID Connect Authority claims extension"): inside
// verified_claims.claims, which entity the End-User may act for
// (applies_to), what they may do (permission) and how that came to be
// (granted_by). The draft names no request syntax of its own; the claim is
// requested like any object claim (OIDC Core §5.5.1, IDA §5.4): null for
// all of it, or an object naming applies_to, permission and granted_by
// members, with permission entries as OR-ed filters.

// authoritySpec is one authority object; the claim is that object or an
// array of them ("Object or array containing one or more authority
// objects"), so a request object applies to each (objectOrArray).
var authoritySpec = &elemSpec{
	typ:           tObject,
	objectOrArray: true,
	// "applies_to: REQUIRED", "permission: REQUIRED": a released authority
	// without either would not be one, so it is left out.
	required: []string{"applies_to", "permission"},
	members: map[string]*elemSpec{
		"applies_to": appliesToSpec,
		"permission": {typ: tArray, items: permissionSpec},
		"granted_by": {typ: tObject, required: []string{"method"}, members: map[string]*elemSpec{
			"method":        specString,
			"granting_body": specString,
			"reason":        specString,
		}},
	},
}

// appliesToSpec: the entity, a legal entity or a natural person. Members
// whose type the draft's table and its examples disagree on
// (registration_number: an array of objects in the table, a string in
// every example; registered_address, trading_as likewise) are left
// untyped, so either form matches.
var appliesToSpec = &elemSpec{typ: tObject, members: map[string]*elemSpec{
	"organization_name":       specString,
	"lei":                     specString,
	"organization_type":       specString,
	"registered_jurisdiction": specString,
	"organization_status":     specString,
	"incorporation_date":      specDate,
	"date_of_incorporation":   specDate,
	"last_accounts_date":      specDate,
	"name":                    specString,
	"given_name":              specString,
	"middle_name":             specString,
	"family_name":             specString,
	"birthdate":               specDate,
	"msisdn":                  specString,
	"address":                 addressLike(),
}}

// permissionSpec is one permission entry: "role: REQUIRED", the limits
// optional. validity and budget are objects in the text and arrays in its
// example, so they stay untyped.
var permissionSpec = &elemSpec{typ: tObject, required: []string{"role"}, members: map[string]*elemSpec{
	"role":         specString,
	"function":     specString,
	"may_delegate": specBool,
}}

// evalEach answers an object request for an element that holds an array of
// such objects (authority): each object is shaped by the request on its
// own, and those that come out are released in order. With constraints,
// no object meeting them is a failed constraint.
func (c *evalCtx) evalEach(n *reqNode, d *value) (value, bool, bool) {
	var out []value
	for i := range d.arr {
		if d.arr[i].kind != kObject {
			continue
		}
		if o, present, ok := c.evalObject(n, &d.arr[i]); ok && present {
			out = append(out, o)
		}
	}
	if len(out) == 0 {
		return value{}, false, !n.deep
	}
	return value{kind: kArray, arr: out}, true, true
}

// ActsFor names the entities of the authority objects a result releases,
// for the consent page ("you act for ..."), in order and without repeats.
// Each is named by what its released applies_to holds: organization_name,
// else name, else given_name and family_name, else registration_number or
// lei; an entity released with none of these is left unnamed.
func ActsFor(res *Result) []string {
	var names []string
	for _, target := range []map[string]json.RawMessage{res.UserInfo, res.IDToken} {
		raw, ok := target["verified_claims"]
		if !ok {
			continue
		}
		vc, err := parseJSON(raw)
		if err != nil {
			continue
		}
		objs := []*value{&vc}
		if vc.kind == kArray {
			objs = objs[:0]
			for i := range vc.arr {
				objs = append(objs, &vc.arr[i])
			}
		}
		for _, o := range objs {
			a := o.get("claims").get("authority")
			if a == nil {
				continue
			}
			each := []value{*a}
			if a.kind == kArray {
				each = a.arr
			}
			for i := range each {
				if n := entityName(each[i].get("applies_to")); n != "" && !slices.Contains(names, n) {
					names = append(names, n)
				}
			}
		}
	}
	return names
}

// entityName picks the most readable identification of an applies_to.
func entityName(at *value) string {
	str := func(name string) string {
		if v := at.get(name); v.isString() {
			return strings.TrimSpace(v.str)
		}
		return ""
	}
	if n := str("organization_name"); n != "" {
		return n
	}
	if n := str("name"); n != "" {
		return n
	}
	if n := strings.TrimSpace(str("given_name") + " " + str("family_name")); n != "" {
		return n
	}
	if n := str("registration_number"); n != "" {
		return n
	}
	return str("lei")
}
