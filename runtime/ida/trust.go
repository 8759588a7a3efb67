package ida

import (
	"slices"
	"strings"
)

// view is one dataset as the provider may release it under its trust
// framework catalog: what the framework cannot vouch for is already gone.
type view struct {
	tf           string
	verification value
	claims       value
}

var emptyObject = value{kind: kObject}

// trustedViews applies the catalog to every dataset. A dataset under a
// framework the provider does not offer, with an assurance level the
// framework lacks, or missing an element the framework requires, is never
// released (issue 3, item 6). Unchanged parts are shared, not copied.
func (e *Engine) trustedViews(ds *Dataset) []view {
	if m := ds.views.Load(); m != nil && m.engine == e {
		return m.views
	}
	out := e.filterViews(ds)
	ds.views.Store(&trustedMemo{engine: e, views: out})
	return out
}

// filterViews is trustedViews without the memo. Evaluation reads views and
// never changes them.
func (e *Engine) filterViews(ds *Dataset) []view {
	out := make([]view, 0, len(ds.verified))
	for _, d := range ds.verified {
		v := view{verification: *d.get("verification"), claims: emptyObject}
		v.tf = v.verification.get("trust_framework").str
		if c := d.get("claims"); c != nil {
			v.claims = *c
		}
		f := e.frameworks[v.tf]
		if f == nil {
			if e.anyTF {
				out = append(out, v)
			}
			continue
		}
		if f.apply(&v) {
			out = append(out, v)
		}
	}
	return out
}

// apply filters v down to what f may vouch for; false means v must not be
// released at all.
func (f *framework) apply(v *view) bool {
	if lvl := v.verification.get("assurance_level"); lvl != nil && len(f.levels) > 0 {
		if !lvl.isString() || !slices.Contains(f.levels, lvl.str) {
			return false
		}
	}
	if ev := v.verification.get("evidence"); ev != nil && ev.kind == kArray {
		kept := make([]value, 0, len(ev.arr))
		for i := range ev.arr {
			if item, ok := f.evidenceItem(&ev.arr[i]); ok {
				kept = append(kept, item)
			}
		}
		if len(kept) == 0 {
			v.verification = without(v.verification, "evidence")
		} else {
			v.verification = with(v.verification, "evidence", value{kind: kArray, arr: kept})
		}
	}
	v.claims = f.filterClaims(v.claims)
	for _, r := range f.required {
		el := v.verification.get(r)
		if el == nil || el.kind == kNull || (el.kind == kArray && len(el.arr) == 0) {
			return false
		}
	}
	return true
}

// evidenceItem keeps an evidence item only if the framework covers its
// type, document type or record type, and drops check_details entries
// whose check method it does not cover.
func (f *framework) evidenceItem(item *value) (value, bool) {
	t := item.get("type")
	if !t.isString() || !slices.Contains(f.evidence, t.str) {
		return value{}, false
	}
	switch t.str {
	case "document":
		if dd := item.get("document_details"); dd != nil && !typeIn(dd, f.docs) {
			return value{}, false
		}
	case "electronic_record":
		if r := item.get("record"); r != nil && !typeIn(r, f.records) {
			return value{}, false
		}
	}
	out := *item
	if cd := item.get("check_details"); cd != nil && cd.kind == kArray {
		kept := make([]value, 0, len(cd.arr))
		for i := range cd.arr {
			if m := cd.arr[i].get("check_method"); m.isString() && slices.Contains(f.checks, m.str) {
				kept = append(kept, cd.arr[i])
			}
		}
		if len(kept) == 0 {
			out = without(out, "check_details")
		} else if len(kept) < len(cd.arr) {
			out = with(out, "check_details", value{kind: kArray, arr: kept})
		}
	}
	if dc := item.get("derived_claims"); dc != nil && dc.kind == kObject {
		if f2 := f.filterClaims(*dc); len(f2.obj) == 0 {
			out = without(out, "derived_claims")
		} else if len(f2.obj) < len(dc.obj) {
			out = with(out, "derived_claims", f2)
		}
	}
	return out, true
}

func typeIn(obj *value, allowed []string) bool {
	t := obj.get("type")
	return t.isString() && slices.Contains(allowed, t.str)
}

// filterClaims keeps the claims the framework may vouch for; a language
// tagged claim (name#ja-Kana-JP) counts as its untagged name.
func (f *framework) filterClaims(c value) value {
	if c.kind != kObject {
		return c
	}
	keep := 0
	for i := range c.obj {
		if f.vouchesFor(c.obj[i].name) {
			keep++
		}
	}
	if keep == len(c.obj) {
		return c
	}
	out := value{kind: kObject, obj: make([]member, 0, keep)}
	for i := range c.obj {
		if f.vouchesFor(c.obj[i].name) {
			out.obj = append(out.obj, c.obj[i])
		}
	}
	return out
}

func (f *framework) vouchesFor(claim string) bool {
	if i := strings.IndexByte(claim, '#'); i > 0 {
		claim = claim[:i]
	}
	return slices.Contains(f.claims, claim)
}

// with returns a copy of obj with member name set to v.
func with(obj value, name string, v value) value {
	out := value{kind: kObject, obj: make([]member, len(obj.obj))}
	copy(out.obj, obj.obj)
	for i := range out.obj {
		if out.obj[i].name == name {
			out.obj[i].val = v
			return out
		}
	}
	out.obj = append(out.obj, member{name: name, nameEsc: needsEscape(name), val: v})
	return out
}

// without returns a copy of obj lacking member name.
func without(obj value, name string) value {
	out := value{kind: kObject, obj: make([]member, 0, len(obj.obj))}
	for i := range obj.obj {
		if obj.obj[i].name != name {
			out.obj = append(out.obj, obj.obj[i])
		}
	}
	return out
}
