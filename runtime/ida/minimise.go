package ida

import (
	"strings"
	"time"
)

// evalCtx walks a request against data, matching and minimising in one
// pass. Every result is built only from members the request names, so
// nothing unrequested can come out.
type evalCtx struct {
	e   *Engine
	now time.Time
}

// eval returns the released copy of d for request element n.
//   - present=false: nothing to release (absent data, or dropped to keep
//     the response valid, IDA §5.7.5);
//   - ok=false: a constraint failed. In verification this drops the whole
//     verified_claims element; in claims, only this member (IDA §5.7.4).
//
// Data that is absent fails only constrained elements: a constraint that
// cannot be checked is not met.
func (c *evalCtx) eval(n *reqNode, d *value) (out value, present, ok bool) {
	if d == nil || d.kind == kNull {
		return value{}, false, !n.constrained()
	}
	if n.own && !satisfies(n, d, c.now) {
		return value{}, false, false
	}
	switch n.kind {
	case rLeaf, rWhole:
		if n.spec != nil && n.spec.attachments {
			out, present = c.e.releaseAttachments(d)
			return out, present, true
		}
		return *d, true, true
	case rObject:
		if d.kind == kArray && n.spec != nil && n.spec.objectOrArray {
			return c.evalEach(n, d)
		}
		if d.kind != kObject {
			return value{}, false, !n.deep
		}
		return c.evalObject(n, d)
	default:
		if d.kind != kArray {
			return value{}, false, !n.deep
		}
		return c.evalArray(n, d)
	}
}

func (c *evalCtx) evalObject(n *reqNode, d *value) (value, bool, bool) {
	out := make([]member, 0, len(n.children))
	for i := range n.children {
		ch := &n.children[i]
		var o value
		var present, ok bool
		if ch.tcRef {
			if ch.tc == nil {
				continue // an undefined transformed claim is an unknown claim
			}
			tv, avail := ch.tc.apply(d, c.now)
			if !avail {
				continue
			}
			o, present, ok = c.eval(ch, &tv)
		} else {
			o, present, ok = c.eval(ch, d.get(ch.name))
		}
		if !ok {
			if ch.lenient {
				continue
			}
			return value{}, false, false
		}
		if present {
			out = append(out, member{name: ch.name, nameEsc: ch.nameEsc, val: o})
		}
		if ch.withTags {
			out = c.taggedVariants(ch, d, out)
		}
	}
	res := value{kind: kObject, obj: out}
	for _, r := range requiredMembers(n.spec, &res) {
		if !res.has(r) {
			return value{}, false, true
		}
	}
	if len(out) == 0 && !(n.spec != nil && n.spec.keepEmpty) {
		return value{}, false, true
	}
	return res, true, true
}

// taggedVariants adds name#lang members for a request that accepts them
// (the Japanese profile's claims may carry language tags).
func (c *evalCtx) taggedVariants(ch *reqNode, d *value, out []member) []member {
	prefix := ch.name + "#"
	for j := range d.obj {
		m := &d.obj[j]
		if !strings.HasPrefix(m.name, prefix) {
			continue
		}
		if o, present, ok := c.eval(ch, &m.val); ok && present {
			out = append(out, member{name: m.name, nameEsc: m.nameEsc, val: o})
		}
	}
	return out
}

// evalArray treats request entries as OR-ed filters (IDA §5.4): each data
// element is released as shaped by the first entry it matches. With
// constrained entries, no match at all is a failed constraint.
func (c *evalCtx) evalArray(n *reqNode, d *value) (value, bool, bool) {
	var out []value
	matched := false
	for i := range d.arr {
		for j := range n.entries {
			o, present, ok := c.eval(&n.entries[j], &d.arr[i])
			if !ok {
				continue
			}
			matched = true
			if present {
				out = append(out, o)
			}
			break
		}
	}
	if n.deep && !matched {
		return value{}, false, false
	}
	if len(out) == 0 {
		return value{}, false, true
	}
	return value{kind: kArray, arr: out}, true, true
}

// pruneDerivedClaims keeps in each evidence item's derived_claims only the
// claims the response also carries: every derived claim must appear in
// verified_claims.claims (SCH §5.4.4), and an empty derived_claims goes.
func pruneDerivedClaims(ver *value, claims *value) {
	ev := ver.get("evidence")
	if ev == nil || ev.kind != kArray {
		return
	}
	for i := range ev.arr {
		item := &ev.arr[i]
		dc := item.get("derived_claims")
		if dc == nil || dc.kind != kObject {
			continue
		}
		kept := make([]member, 0, len(dc.obj))
		for j := range dc.obj {
			if claims.has(dc.obj[j].name) {
				kept = append(kept, dc.obj[j])
			}
		}
		switch {
		case len(kept) == 0:
			*item = without(*item, "derived_claims")
		case len(kept) < len(dc.obj):
			*item = with(*item, "derived_claims", value{kind: kObject, obj: kept})
		}
	}
}
