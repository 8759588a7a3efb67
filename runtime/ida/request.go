package ida

import (
	"bytes"
	"errors"
)

// reqKind says how a request element selects data.
type reqKind uint8

const (
	rLeaf   reqKind = iota // null or options only: the element comes back whole (OIDC Core §5.5.1)
	rObject                // named sub-members come back, nothing else
	rArray                 // entries are OR-ed filters and templates for array elements
	rWhole                 // assurance_details: whole, never a filter (IDA §5.4)
)

// reqNode is one compiled element of a claims request.
type reqNode struct {
	name     string
	kind     reqKind
	spec     *elemSpec
	lenient  bool // claims context: a failed constraint drops only this member (IDA §5.7.4)
	*reqOpts      // the element's options; nil when it has none (most are null)
	own      bool // carries value, values or max_age
	deep     bool // some descendant does
	children []reqNode
	entries  []reqNode
	tcRef    bool       // ":name" or "::name"
	tc       *transform // nil for an undefined reference: an unknown claim (ASC §8.7)
	nameEsc  bool       // the name needs escaping when written
	withTags bool       // also release language-tagged variants (name#lang)
}

func (n *reqNode) constrained() bool { return n.own || n.deep }

// reqOpts are the request keywords of one element (OIDC Core §5.5.1, IDA
// §5.5). Kept apart because most elements are plain nulls.
type reqOpts struct {
	essential bool
	purpose   string
	value     *value
	values    []value
	maxAge    int64
	hasMaxAge bool
}

func (n *reqNode) child(name string) *reqNode {
	for i := range n.children {
		if n.children[i].name == name {
			return &n.children[i]
		}
	}
	return nil
}

// vcRequest is one verified_claims request object.
type vcRequest struct {
	verification reqNode
	claims       reqNode
}

// targetRequest is what the request asks of id_token or userinfo.
type targetRequest struct {
	present  bool
	claims   reqNode // members other than verified_claims
	verified []vcRequest
	array    bool // verified_claims was requested as an array
}

// Request is a parsed and validated claims request, with the profile scopes
// that apply. It is immutable and safe for concurrent use.
type Request struct {
	idToken  targetRequest
	userInfo targetRequest
	profile  []string // accepted profile scopes, in request order
	purposes []Purpose
}

// Purpose is a per-claim purpose text to show on the consent page
// (from the IDA drafts; the final text dropped purpose), with the JSON
// path of the claim it belongs to.
type Purpose struct {
	Path string
	Text string
}

// Purposes returns the per-claim purposes in request order.
func (r *Request) Purposes() []Purpose { return r.purposes }

// ProfileScopes returns the accepted scopes of enabled profiles.
func (r *Request) ProfileScopes() []string { return r.profile }

// AsksVerifiedClaims reports whether evaluating can release verified claims.
func (r *Request) AsksVerifiedClaims() bool {
	return len(r.idToken.verified) > 0 || len(r.userInfo.verified) > 0 || len(r.profile) > 0
}

// RequestOptions carries what the engine needs to know about how the
// request arrived.
type RequestOptions struct {
	// Scope is the authorization request's scope parameter; it enables
	// profile scopes such as jp_oidf_ida.
	Scope string
	// IntegrityProtected: the request came by PAR or as a signed request
	// object. Custom transformed claims need it (ASC §9.1).
	IntegrityProtected bool
}

// maxRequestSize bounds the claims parameter; real ones are a few KiB.
const maxRequestSize = 128 << 10

// ParseRequest parses and validates the claims authorization parameter
// (which may be empty when only scopes ask). A refused request is an
// *Error with invalid_request or invalid_scope.
func (e *Engine) ParseRequest(claims []byte, opts RequestOptions) (*Request, error) {
	r := &Request{}
	if len(bytes.TrimSpace(claims)) > 0 {
		if err := e.parseClaims(r, claims, opts); err != nil {
			return nil, err
		}
	}
	if err := e.parseProfileScopes(r, opts.Scope); err != nil {
		return nil, err
	}
	return r, nil
}

type reqParser struct {
	e        *Engine
	custom   map[string]*transform
	purposes []Purpose
	// plain: compiling claims outside verified_claims, where OpenID Connect
	// Core alone speaks and members it does not define are ignored
	// (§5.5.1) rather than refused.
	plain bool
}

func (e *Engine) parseClaims(r *Request, data []byte, opts RequestOptions) *Error {
	root := rootPath("claims")
	if len(data) > maxRequestSize {
		return invalidRequest(root, "larger than 128 KiB")
	}
	v, err := parseJSON(data)
	if err != nil {
		var pe *parseError
		if errors.As(err, &pe) && pe.err == errDuplicate {
			return invalidRequest(root, "member "+quoteName(pe.name)+" appears twice in one object")
		}
		return invalidRequest(root, err.Error())
	}
	if v.kind != kObject {
		return invalidRequest(root, "must be a JSON object")
	}
	rp := &reqParser{e: e}
	if err := rp.parseDefinitions(&v, &root, opts); err != nil {
		return err
	}
	for _, t := range []struct {
		name string
		dst  *targetRequest
	}{{"id_token", &r.idToken}, {"userinfo", &r.userInfo}} {
		tv := v.get(t.name)
		if tv == nil {
			continue
		}
		tp := root.member(t.name)
		if tv.kind != kObject {
			return invalidRequest(tp, "must be an object")
		}
		if err := rp.parseTarget(t.dst, tv, &tp); err != nil {
			return err
		}
	}
	r.purposes = rp.purposes
	return nil
}

// parseDefinitions reads custom transformed claims from both forms: the
// root-level transformed_claims of ASC -00 and the current draft's _asc,
// so relying parties written against either work.
func (rp *reqParser) parseDefinitions(v *value, root *path, opts RequestOptions) *Error {
	type src struct {
		v *value
		p path
	}
	var srcs []src
	if tc := v.get("transformed_claims"); tc != nil {
		srcs = append(srcs, src{tc, root.member("transformed_claims")})
	}
	if asc := v.get("_asc"); asc != nil {
		ap := root.member("_asc")
		if asc.kind != kObject {
			return invalidRequest(ap, "must be an object")
		}
		if tc := asc.get("transformed_claims"); tc != nil {
			srcs = append(srcs, src{tc, ap.member("transformed_claims")})
		}
		// _asc.sao is not supported, and an OP without SAO ignores it (ASC §7.3).
	}
	if len(srcs) == 0 {
		return nil
	}
	lim := &rp.e.limits
	total := 0
	for _, s := range srcs {
		if s.v.kind != kObject {
			return invalidRequest(s.p, "must be an object")
		}
		total += len(s.v.obj)
	}
	if err := checkTransformedClaimsMaxCount(total, srcs[0].p, lim); err != nil {
		return err
	}
	for _, s := range srcs {
		for i := range s.v.obj {
			mp := s.p.member(s.v.obj[i].name)
			if err := checkTransformedClaimsMaxDepth(&s.v.obj[i].val, mp, lim); err != nil {
				return err
			}
		}
	}
	if err := checkCustomTransformedClaimsProtected(total, srcs[0].p, opts); err != nil {
		return err
	}
	rp.custom = map[string]*transform{}
	for _, s := range srcs {
		defs, err := parseTransformedClaims(s.v, s.p, lim, false)
		if err != nil {
			return err
		}
		for name, t := range defs {
			if _, dup := rp.custom[name]; dup {
				return invalidRequest(s.p.member(name), "is defined in both transformed_claims and _asc.transformed_claims")
			}
			rp.custom[name] = t
		}
	}
	return nil
}

func (rp *reqParser) parseTarget(tr *targetRequest, tv *value, p *path) *Error {
	tr.present = true
	tr.claims = reqNode{kind: rObject, spec: topLevelSpec, lenient: true, children: make([]reqNode, 0, len(tv.obj))}
	for i := range tv.obj {
		m := &tv.obj[i]
		mp := p.member(m.name)
		if m.name == "_claim_names" || m.name == "_claim_sources" {
			continue // aggregated/distributed claims plumbing, not claims
		}
		if m.name == "verified_claims" {
			if err := rp.parseVerifiedClaims(tr, &m.val, &mp); err != nil {
				return err
			}
			continue
		}
		tr.claims.children = append(tr.claims.children, reqNode{})
		rp.plain = true
		err := rp.claimRequest(&tr.claims.children[len(tr.claims.children)-1], m, &mp)
		rp.plain = false
		if err != nil {
			return err
		}
	}
	return nil
}

func (rp *reqParser) parseVerifiedClaims(tr *targetRequest, v *value, p *path) *Error {
	switch v.kind {
	case kObject:
		tr.verified = make([]vcRequest, 1)
		return rp.parseVerifiedClaimsObject(&tr.verified[0], v, p)
	case kArray:
		if len(v.arr) == 0 {
			return invalidRequest(*p, "must not be an empty array")
		}
		tr.array = true
		tr.verified = make([]vcRequest, len(v.arr))
		for i := range v.arr {
			ep := p.at(i)
			if v.arr[i].kind != kObject {
				return invalidRequest(ep, "must be an object")
			}
			if err := rp.parseVerifiedClaimsObject(&tr.verified[i], &v.arr[i], &ep); err != nil {
				return err
			}
		}
		return nil
	}
	return invalidRequest(*p, "must be an object or an array of objects")
}

func (rp *reqParser) parseVerifiedClaimsObject(vc *vcRequest, v *value, p *path) *Error {
	if err := checkVerificationPresent(v, p); err != nil {
		return err
	}
	if err := checkClaimsPresent(v, p); err != nil {
		return err
	}
	vp := p.member("verification")
	if err := rp.compile(&vc.verification, v.get("verification"), verificationSpec, false, &vp); err != nil {
		return err
	}
	// The trust framework is what makes verified claims mean anything and
	// the schema requires it, so it is always returned.
	if vc.verification.child("trust_framework") == nil {
		vc.verification.children = append(vc.verification.children, reqNode{name: "trust_framework", spec: specString})
	}
	// Never a leaf: `"verification": {}` asks for the trust framework only,
	// not for the whole verification element (IDA §5.4).
	vc.verification.kind = rObject
	cp := p.member("claims")
	return rp.compile(&vc.claims, v.get("claims"), vcClaimsSpec, true, &cp)
}

// claimRequest compiles one member of a claims container, resolving
// transformed-claim references (":name" custom, "::name" predefined).
func (rp *reqParser) claimRequest(c *reqNode, m *member, p *path) *Error {
	if err := checkClaimRequestShape(&m.val, p); err != nil {
		return err
	}
	*c = reqNode{name: m.name, nameEsc: needsEscape(m.name)}
	var spec *elemSpec
	if len(m.name) > 1 && m.name[0] == ':' {
		c.tcRef = true
		if len(m.name) > 2 && m.name[1] == ':' {
			c.tc = rp.e.predefined[m.name[2:]]
		} else {
			c.tc = rp.custom[m.name[1:]]
		}
	} else {
		spec = claimSpec(m.name)
	}
	return rp.compile(c, &m.val, spec, true, p)
}

func isKeyword(name string) bool {
	switch name {
	case "essential", "value", "values", "max_age", "purpose":
		return true
	}
	return false
}

// compile turns one request element into a reqNode, once
// checkElementType has accepted its form.
func (rp *reqParser) compile(n *reqNode, v *value, spec *elemSpec, lenient bool, p *path) *Error {
	n.spec = spec
	n.lenient = lenient
	if err := checkElementType(v, spec, p, rp.plain); err != nil {
		return err
	}
	switch v.kind {
	case kNull:
		if spec != nil && spec.whole {
			n.kind = rWhole
		}
		return nil
	case kArray:
		return rp.compileArray(n, v, spec, lenient, p)
	}
	return rp.compileObject(n, v, spec, lenient, p)
}

func (rp *reqParser) compileArray(n *reqNode, v *value, spec *elemSpec, lenient bool, p *path) *Error {
	n.kind = rArray
	var items *elemSpec
	if spec != nil {
		items = spec.items
	}
	n.entries = make([]reqNode, len(v.arr))
	for i := range v.arr {
		ep := p.at(i)
		if err := checkElementType(&v.arr[i], items, &ep, rp.plain); err != nil {
			return err
		}
		if err := rp.compileObject(&n.entries[i], &v.arr[i], items, lenient, &ep); err != nil {
			return err
		}
		if n.entries[i].constrained() {
			n.deep = true
		}
	}
	if spec != nil && spec.whole {
		n.kind, n.deep = rWhole, false
	}
	return nil
}

func (rp *reqParser) compileObject(n *reqNode, v *value, spec *elemSpec, lenient bool, p *path) *Error {
	n.spec = spec
	n.lenient = lenient
	container := spec != nil && spec.container
	if spec != nil && spec.evidence {
		if err := checkEvidenceTypeValue(v, p); err != nil {
			return err
		}
	}
	n.children = make([]reqNode, 0, countChildren(v, container))
	for i := range v.obj {
		m := &v.obj[i]
		mp := p.member(m.name)
		if container {
			n.children = append(n.children, reqNode{})
			c := &n.children[len(n.children)-1]
			if err := rp.claimRequest(c, m, &mp); err != nil {
				return err
			}
			n.deep = n.deep || c.constrained()
			continue
		}
		if isKeyword(m.name) {
			if err := rp.keyword(n, m, &mp); err != nil {
				return err
			}
			continue
		}
		cs := spec.member(m.name)
		if m.val.kind != kNull && m.val.kind != kObject && m.val.kind != kArray {
			continue // an option this engine does not know (e.g. ASC -00 if_unavailable): ignored
		}
		if !hasMembers(spec) {
			continue // outside verified_claims: a member OIDC Core does not define, ignored
		}
		// Compiled in place: children is sized up front, so c stays put.
		n.children = append(n.children, reqNode{name: m.name, nameEsc: needsEscape(m.name)})
		c := &n.children[len(n.children)-1]
		if err := rp.compile(c, &m.val, cs, lenient, &mp); err != nil {
			return err
		}
		n.deep = n.deep || c.constrained()
	}
	n.kind = rObject
	if len(n.children) == 0 && !container {
		n.kind = rLeaf
	}
	if spec != nil && spec.whole {
		n.kind, n.own, n.deep = rWhole, false, false
		return nil
	}
	return rp.checkConstraints(n, p)
}

// keyword reads one request option, each checked by its own rule.
func (rp *reqParser) keyword(n *reqNode, m *member, p *path) *Error {
	v := &m.val
	if n.reqOpts == nil {
		n.reqOpts = &reqOpts{}
	}
	switch m.name {
	case "essential":
		if err := checkEssentialIsBoolean(v, p); err != nil {
			return err
		}
		n.essential = v.boolean()
	case "purpose":
		if err := checkPurposeLength(v, p); err != nil {
			return err
		}
		n.purpose = v.str
		rp.purposes = append(rp.purposes, Purpose{Path: p.parent.String(), Text: v.str})
	case "value":
		if err := checkValueIsScalar(v, p); err != nil {
			return err
		}
		n.value, n.own = v, true
	case "values":
		if err := checkValuesIsArrayOfScalars(v, p); err != nil {
			return err
		}
		n.values, n.own = v.arr, true
	case "max_age":
		secs, err := checkMaxAgeIsSeconds(v, p)
		if err != nil {
			return err
		}
		n.maxAge, n.hasMaxAge, n.own = secs, true, true
	}
	return nil
}

// checkConstraints runs the rules that look at a node's options together.
func (rp *reqParser) checkConstraints(n *reqNode, p *path) *Error {
	if !n.own {
		return nil
	}
	if err := checkValueOrValues(n, p); err != nil {
		return err
	}
	if err := checkConstraintCanMatch(n, p); err != nil {
		return err
	}
	return checkMaxAgeOnDate(n, p)
}

// countChildren sizes the children slice: claims in a container, else the
// members that request sub-elements.
func countChildren(v *value, container bool) int {
	if container {
		return len(v.obj)
	}
	n := 0
	for i := range v.obj {
		if k := v.obj[i].val.kind; !isKeyword(v.obj[i].name) && (k == kNull || k == kObject || k == kArray) {
			n++
		}
	}
	return n
}
