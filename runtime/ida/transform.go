package ida

import (
	"encoding/json"
	"time"
)

// transform is a compiled transformed claim (ASC §8.2): one base claim and
// a chain of functions, with the output type known where the base claim's
// type is.
type transform struct {
	name  string
	claim string
	fns   []fnCall
	out   stype
}

// apply computes the transformed value from the object the reference sits
// in: the base claim is resolved where the transformed claim is used (ASC
// §8.2.1), so inside verified_claims it is the verified value.
func (t *transform) apply(container *value, now time.Time) (value, bool) {
	base := container.get(t.claim)
	if base == nil || base.kind == kNull {
		return value{}, false
	}
	v := *base
	for i := range t.fns {
		var ok bool
		if v, ok = t.fns[i].run(&v, now); !ok {
			return value{}, false
		}
	}
	return v, true
}

// tcLimits are the policy's bounds and function set for definitions.
type tcLimits struct {
	maxDepth  int
	maxCount  int // custom definitions per request
	functions map[string]bool
}

// parseTransformedClaims compiles a transformed_claims object. The checks
// run in ASC §8.7's order: first the depth and count limits, then the
// functions, their arity and argument types.
func parseTransformedClaims(v *value, p path, lim *tcLimits, custom bool) (map[string]*transform, *Error) {
	if v.kind != kObject {
		return nil, invalidRequest(p, "must be an object")
	}
	if custom {
		if err := checkTransformedClaimsMaxCount(len(v.obj), p, lim); err != nil {
			return nil, err
		}
	}
	for i := range v.obj {
		if err := checkTransformedClaimsMaxDepth(&v.obj[i].val, p.member(v.obj[i].name), lim); err != nil {
			return nil, err
		}
	}
	out := make(map[string]*transform, len(v.obj))
	for i := range v.obj {
		m := &v.obj[i]
		t, err := compileTransform(m.name, &m.val, p.member(m.name), lim)
		if err != nil {
			return nil, err
		}
		out[m.name] = t
	}
	return out, nil
}

// checkTransformedClaimsMaxCount: more custom definitions than
// transformed_claims_max_count is invalid_request (ASC §8.7 rule 1).
func checkTransformedClaimsMaxCount(count int, p path, lim *tcLimits) *Error {
	if count > lim.maxCount {
		if lim.maxCount == 0 {
			return invalidRequest(p, "this provider accepts predefined transformed claims only")
		}
		return invalidRequest(p, "defines "+itoa(count)+" transformed claims, more than transformed_claims_max_count ("+itoa(lim.maxCount)+")")
	}
	return nil
}

// checkTransformedClaimsMaxDepth: a chain longer than
// transformed_claims_max_depth is invalid_request (ASC §8.7 rule 1).
func checkTransformedClaimsMaxDepth(def *value, p path, lim *tcLimits) *Error {
	fn := def.get("fn")
	if fn != nil && fn.kind == kArray && len(fn.arr) > lim.maxDepth {
		fp := p.member("fn")
		return invalidRequest(fp, "chains "+itoa(len(fn.arr))+" functions, more than transformed_claims_max_depth ("+itoa(lim.maxDepth)+")")
	}
	return nil
}

func compileTransform(name string, def *value, p path, lim *tcLimits) (*transform, *Error) {
	if err := checkTransformedClaimDefinition(name, def, p); err != nil {
		return nil, err
	}
	t := &transform{name: name, claim: def.get("claim").str}
	in := staticClaimType(t.claim)
	fns := def.get("fn").arr
	t.fns = make([]fnCall, len(fns))
	fnp := p.member("fn")
	for i := range fns {
		fp := fnp.at(i)
		c, err := compileCall(&fns[i], fp, lim)
		if err != nil {
			return nil, err
		}
		elemIn := in
		if c.fn.elementwise {
			elemIn.array = false
		}
		out, msg := c.fn.check(c, elemIn)
		if msg != "" {
			return nil, invalidRequest(fp, c.name+": "+msg)
		}
		if c.fn.elementwise && in.array {
			out.array = true
		} else if c.fn.elementwise && (in.base == tAny || in.maybeArray) {
			out.maybeArray = true
		}
		t.fns[i] = *c
		in = out
	}
	t.out = in
	return t, nil
}

// checkTransformedClaimDefinition: a definition is an object with a
// non-empty `claim` string and a non-empty `fn` array (ASC §8.2).
func checkTransformedClaimDefinition(name string, def *value, p path) *Error {
	if name == "" {
		return invalidRequest(p, "a transformed claim needs a name")
	}
	if def.kind != kObject {
		return invalidRequest(p, "must be an object with claim and fn")
	}
	c := def.get("claim")
	if c == nil || c.kind != kString || c.str == "" {
		return invalidRequest(p.member("claim"), "must be the name of a claim")
	}
	fn := def.get("fn")
	if fn == nil || fn.kind != kArray || len(fn.arr) == 0 {
		return invalidRequest(p.member("fn"), "must be a non-empty array of functions")
	}
	return nil
}

// compileCall reads one fn entry: "name" or ["name", args...], and checks
// the function is supported and its arity (ASC §8.7 rule 2).
func compileCall(e *value, p path, lim *tcLimits) (*fnCall, *Error) {
	c := &fnCall{}
	switch {
	case e.kind == kString:
		c.name = e.str
	case e.kind == kArray && len(e.arr) > 0 && e.arr[0].kind == kString:
		c.name = e.arr[0].str
		c.args = e.arr[1:]
	default:
		return nil, invalidRequest(p, "must be a function name or [name, arguments...]")
	}
	f, ok := functions[c.name]
	if !ok || (lim.functions != nil && !lim.functions[c.name]) {
		return nil, invalidRequest(p, "function "+quoteName(c.name)+" is not supported")
	}
	c.fn = f
	if len(c.args) < f.minArgs || len(c.args) > f.maxArgs {
		return nil, invalidRequest(p, c.name+" takes "+arity(f)+", got "+itoa(len(c.args)))
	}
	return c, nil
}

func arity(f *function) string {
	switch {
	case f.minArgs == f.maxArgs && f.maxArgs == 0:
		return "no arguments"
	case f.minArgs == f.maxArgs:
		return itoa(f.minArgs) + " argument"
	default:
		return itoa(f.minArgs) + " to " + itoa(f.maxArgs) + " arguments"
	}
}

// staticClaimType is the type of a base claim, as far as it is known.
func staticClaimType(claim string) stype {
	s := claimSpec(claim)
	if s == nil {
		return stAny
	}
	if s.typ == tArray {
		st := stype{base: tAny, array: true}
		if s.items != nil {
			st.base = s.items.typ
		}
		return st
	}
	return stype{base: s.typ}
}

// compilePredefined compiles the provider's definitions; errors here are
// configuration errors.
func compilePredefined(defs map[string]TransformedClaim, lim *tcLimits) (map[string]*transform, error) {
	out := make(map[string]*transform, len(defs))
	for name, d := range defs {
		raw, err := json.Marshal(d)
		if err != nil {
			return nil, err
		}
		v, err := parseJSON(raw)
		if err != nil {
			return nil, err
		}
		p := rootPath("transformed_claims_predefined")
		if e := checkTransformedClaimsMaxDepth(&v, p.member(name), lim); e != nil {
			return nil, e
		}
		t, e := compileTransform(name, &v, p.member(name), lim)
		if e != nil {
			return nil, e
		}
		out[name] = t
	}
	return out, nil
}
