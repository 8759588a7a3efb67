package ida

import (
	"encoding/json"
	"errors"
	"slices"
	"time"
)

// External claims are verified_claims that another party vouches for and
// signs (IDA §6, OIDC Core §5.6.2): the provider passes them on as
// aggregated or distributed claims and never changes them, so it cannot
// minimise inside them. ReleasesExternal decides whether one such value
// may go out whole.

// ReleasesExternal reports whether the verified_claims held by an external
// claim source (one object or an array, as in the assertion's payload) is
// released to target under request r. allowed lists the trust frameworks
// the provider trusts that source for.
//
// It is released only when every verified_claims object in it
//   - is under a framework in allowed,
//   - passes the provider's trust framework catalog unchanged (the
//     provider never passes on what its own catalog would not release), and
//   - is released whole by one verified_claims request object of the
//     target: the verification matches, and minimising it under that
//     request object would remove nothing (IDA §5: the OP shall not provide
//     data the RP did not request).
//
// A null value stands for data the provider does not know (a distributed
// source described ahead, IDA §6.1): it is released when asked for with no
// constraint, and a constraint on it is never met.
func (e *Engine) ReleasesExternal(r *Request, target Target, vc []byte, allowed []string, now time.Time) bool {
	t := &r.userInfo
	if target == TargetIDToken {
		t = &r.idToken
	} else if target != TargetUserInfo {
		return false
	}
	if len(t.verified) == 0 {
		return false
	}
	entries, err := externalEntries(vc)
	if err != nil || len(entries) == 0 {
		return false
	}
	c := &evalCtx{e: e, now: now}
	for _, d := range entries {
		// Nothing besides verification and claims can be asked for.
		for i := range d.obj {
			if n := d.obj[i].name; n != "verification" && n != "claims" {
				return false
			}
		}
		v := view{verification: *d.get("verification"), claims: emptyObject}
		v.tf = v.verification.get("trust_framework").str
		if cl := d.get("claims"); cl != nil {
			v.claims = *cl
		}
		if !slices.Contains(allowed, v.tf) || !e.keepsWhole(v) {
			return false
		}
		if !c.releasesWhole(t.verified, known(v)) {
			return false
		}
	}
	return true
}

// externalEntries parses an external verified_claims value with the
// dataset's rules.
func externalEntries(vc []byte) ([]*value, error) {
	v, err := parseJSON(vc)
	if err != nil {
		return nil, err
	}
	var out []*value
	switch v.kind {
	case kObject:
		out = []*value{&v}
	case kArray:
		for i := range v.arr {
			out = append(out, &v.arr[i])
		}
	default:
		return nil, errors.New("verified_claims must be an object or an array")
	}
	for _, d := range out {
		if err := checkDatasetEntry(d, "verified_claims"); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// keepsWhole: the catalog releases v without removing anything.
func (e *Engine) keepsWhole(v view) bool {
	f := e.frameworks[v.tf]
	if f == nil {
		return e.anyTF
	}
	filtered := v
	if !f.apply(&filtered) {
		return false
	}
	return filtered.verification.equal(&v.verification) && filtered.claims.equal(&v.claims)
}

// releasesWhole: some request object matches v and releases all of it,
// as evalVerifiedClaims would build its answer.
func (c *evalCtx) releasesWhole(reqs []vcRequest, v view) bool {
	for i := range reqs {
		ver, present, ok := c.eval(&reqs[i].verification, &v.verification)
		if !ok || !present {
			continue
		}
		claims, _, _ := c.eval(&reqs[i].claims, &v.claims)
		if claims.kind != kObject {
			claims = emptyObject
		}
		// Pruning rewrites evidence items in place: work on a copy, so
		// that v keeps what the source signed.
		ver = deepCopy(ver)
		pruneDerivedClaims(&ver, &claims)
		if ver.equal(&v.verification) && claims.equal(&v.claims) {
			return true
		}
	}
	return false
}

func deepCopy(v value) value {
	switch v.kind {
	case kObject:
		out := v
		out.obj = make([]member, len(v.obj))
		for i := range v.obj {
			out.obj[i] = v.obj[i]
			out.obj[i].val = deepCopy(v.obj[i].val)
		}
		return out
	case kArray:
		out := v
		out.arr = make([]value, len(v.arr))
		for i := range v.arr {
			out.arr[i] = deepCopy(v.arr[i])
		}
		return out
	}
	return v
}

// unknownValue stands in for a null (unknown) value of a described source:
// released whole by a null request, never equal to a constraint's value.
var unknownValue = value{kind: kObject, obj: []member{{name: "\x00unknown", val: value{kind: kNull}}}}

// known replaces the null leaves of v by unknownValue, so that evaluation
// (which drops nulls as absent data) keeps them.
func known(v view) view {
	v.verification = replaceNulls(v.verification)
	v.claims = replaceNulls(v.claims)
	return v
}

func replaceNulls(v value) value {
	switch v.kind {
	case kNull:
		return unknownValue
	case kObject:
		out := value{kind: kObject, obj: make([]member, len(v.obj))}
		for i := range v.obj {
			out.obj[i] = v.obj[i]
			out.obj[i].val = replaceNulls(v.obj[i].val)
		}
		return out
	case kArray:
		out := value{kind: kArray, arr: make([]value, len(v.arr))}
		for i := range v.arr {
			out.arr[i] = replaceNulls(v.arr[i])
		}
		return out
	}
	return v
}

// ExternalReleases describes an external verified_claims value as the
// releases of Result do (trust framework and claim names, no values), for
// audit and the person's release records; nil when it is not one.
func ExternalReleases(vc []byte) []Release {
	v, err := parseJSON(vc)
	if err != nil {
		return nil
	}
	return releases(&v)
}

// LookAhead describes an external verified_claims value in the request
// syntax IDA §6.1 gives for `_claim_names` (look-ahead): the verification's
// values as `{"value": ...}` where known, null elsewhere, and every claim
// name with null, so a relying party learns what the source holds before
// fetching it. An array is described by its first object.
func LookAhead(vc []byte) (json.RawMessage, error) {
	entries, err := externalEntries(vc)
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return nil, errors.New("verified_claims must not be empty")
	}
	d := entries[0]
	ver := describe(*d.get("verification"))
	claims := value{kind: kObject, obj: []member{}}
	if cl := d.get("claims"); cl != nil {
		for i := range cl.obj {
			claims.obj = append(claims.obj, member{name: cl.obj[i].name, nameEsc: cl.obj[i].nameEsc, val: value{kind: kNull}})
		}
	}
	out := value{kind: kObject, obj: []member{{name: "verification", val: ver}, {name: "claims", val: claims}}}
	return appendJSON(nil, &out), nil
}

// describe turns verification data into request syntax: scalars become
// {"value": v}, objects recurse, arrays and nulls become null.
func describe(v value) value {
	switch v.kind {
	case kObject:
		out := value{kind: kObject, obj: make([]member, len(v.obj))}
		for i := range v.obj {
			out.obj[i] = v.obj[i]
			out.obj[i].val = describe(v.obj[i].val)
		}
		return out
	case kString, kNumber, kBool:
		return value{kind: kObject, obj: []member{{name: "value", val: v}}}
	}
	return value{kind: kNull}
}
