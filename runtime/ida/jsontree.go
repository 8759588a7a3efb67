package ida

import (
	"errors"
	"strconv"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// The engine keeps requests and datasets as an ordered JSON tree of its own
// rather than encoding/json's map[string]any: members keep their order (so
// output is deterministic and follows the provider's data), null stays
// distinct from absent, unknown members are never dropped, numbers keep their
// exact text, and decoding is several times cheaper than reflection.

type kind uint8

const (
	kNull kind = iota
	kBool
	kNumber
	kString
	kArray
	kObject
)

func (k kind) String() string {
	switch k {
	case kNull:
		return "null"
	case kBool:
		return "boolean"
	case kNumber:
		return "number"
	case kString:
		return "string"
	case kArray:
		return "array"
	default:
		return "object"
	}
}

// value is one JSON value. str holds a string's decoded text, a number's
// literal text, or "true"/"false". esc is set on strings that need escaping
// when written back (their input had escape sequences).
type value struct {
	kind kind
	esc  bool
	str  string
	arr  []value
	obj  []member
}

type member struct {
	name    string
	nameEsc bool
	val     value
}

var (
	nullValue  = value{kind: kNull}
	trueValue  = value{kind: kBool, str: "true"}
	falseValue = value{kind: kBool, str: "false"}
)

func boolValue(b bool) value {
	if b {
		return trueValue
	}
	return falseValue
}

func stringValue(s string) value { return value{kind: kString, str: s, esc: needsEscape(s)} }

func numberValue(f float64) value {
	return value{kind: kNumber, str: strconv.FormatFloat(f, 'g', -1, 64)}
}

// get returns the member called name, or nil. Objects here are small, so a
// linear scan beats building maps.
func (v *value) get(name string) *value {
	if v == nil || v.kind != kObject {
		return nil
	}
	for i := range v.obj {
		if v.obj[i].name == name {
			return &v.obj[i].val
		}
	}
	return nil
}

func (v *value) has(name string) bool { return v.get(name) != nil }

func (v *value) isString() bool { return v != nil && v.kind == kString }

// boolean reports the value of a JSON boolean.
func (v *value) boolean() bool { return v.kind == kBool && v.str == "true" }

// number parses a JSON number's text.
func (v *value) number() (float64, bool) {
	if v.kind != kNumber {
		return 0, false
	}
	f, err := strconv.ParseFloat(v.str, 64)
	return f, err == nil
}

// equal compares two JSON values exactly (numbers by numeric value).
func (v *value) equal(w *value) bool {
	if v.kind != w.kind {
		return false
	}
	switch v.kind {
	case kNull:
		return true
	case kNumber:
		a, ok1 := v.number()
		b, ok2 := w.number()
		return ok1 && ok2 && a == b
	case kBool, kString:
		return v.str == w.str
	case kArray:
		if len(v.arr) != len(w.arr) {
			return false
		}
		for i := range v.arr {
			if !v.arr[i].equal(&w.arr[i]) {
				return false
			}
		}
		return true
	default:
		if len(v.obj) != len(w.obj) {
			return false
		}
		for i := range v.obj {
			o := w.get(v.obj[i].name)
			if o == nil || !v.obj[i].val.equal(o) {
				return false
			}
		}
		return true
	}
}

// Parsing limits: deep nesting only serves to exhaust the stack.
const maxDepth = 256

var (
	errSyntax    = errors.New("not valid JSON")
	errDepth     = errors.New("nested too deeply")
	errDuplicate = errors.New("duplicate member")
	errUTF8      = errors.New("not valid UTF-8")
)

// parseError carries where parsing failed, so callers can name a JSON path.
type parseError struct {
	err  error
	name string // duplicate member name, if any
	off  int
}

func (e *parseError) Error() string {
	if e.err == errDuplicate {
		return "duplicate member " + strconv.Quote(e.name)
	}
	return e.err.Error() + " (at byte " + strconv.Itoa(e.off) + ")"
}

type parser struct {
	s     string
	i     int
	depth int
	err   *parseError
	// Scratch stacks: members and elements collect here and are copied
	// into an exactly sized slice when their container closes, so each
	// object or array costs one allocation and no growth.
	members []member
	elems   []value
}

// scratch is a parser's reusable member and element stacks; the stacks
// are cleared when containers close, so nothing stays reachable.
type scratch struct {
	members []member
	elems   []value
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// parseJSON decodes one JSON text. It rejects invalid UTF-8, trailing data
// and duplicate member names (ambiguous in a request: which value wins?).
func parseJSON(data []byte) (value, error) {
	if !utf8.Valid(data) {
		return value{}, &parseError{err: errUTF8}
	}
	p := parser{s: string(data)}
	if sc, _ := scratchPool.Get().(*scratch); sc != nil {
		p.members, p.elems = sc.members[:0], sc.elems[:0]
		defer func() {
			sc.members, sc.elems = p.members[:0], p.elems[:0]
			scratchPool.Put(sc)
		}()
	}
	p.skipSpace()
	v, ok := p.parseValue()
	if !ok {
		return value{}, p.err
	}
	p.skipSpace()
	if p.i != len(p.s) {
		return value{}, &parseError{err: errSyntax, off: p.i}
	}
	return v, nil
}

func (p *parser) fail(err error) bool {
	if p.err == nil {
		p.err = &parseError{err: err, off: p.i}
	}
	return false
}

func (p *parser) skipSpace() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) parseValue() (value, bool) {
	if p.i >= len(p.s) {
		return value{}, p.fail(errSyntax)
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.parseObject()
	case c == '[':
		return p.parseArray()
	case c == '"':
		s, esc, ok := p.parseString()
		return value{kind: kString, str: s, esc: esc}, ok
	case c == 't':
		return p.literal("true", trueValue)
	case c == 'f':
		return p.literal("false", falseValue)
	case c == 'n':
		return p.literal("null", nullValue)
	case c == '-' || (c >= '0' && c <= '9'):
		return p.parseNumber()
	}
	return value{}, p.fail(errSyntax)
}

func (p *parser) literal(word string, v value) (value, bool) {
	if len(p.s)-p.i >= len(word) && p.s[p.i:p.i+len(word)] == word {
		p.i += len(word)
		return v, true
	}
	return value{}, p.fail(errSyntax)
}

func (p *parser) parseNumber() (value, bool) {
	start := p.i
	if p.s[p.i] == '-' {
		p.i++
	}
	if p.i >= len(p.s) {
		return value{}, p.fail(errSyntax)
	}
	if p.s[p.i] == '0' {
		p.i++
	} else if !p.digits() {
		return value{}, p.fail(errSyntax)
	}
	if p.i < len(p.s) && p.s[p.i] == '.' {
		p.i++
		if !p.digits() {
			return value{}, p.fail(errSyntax)
		}
	}
	if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		p.i++
		if p.i < len(p.s) && (p.s[p.i] == '+' || p.s[p.i] == '-') {
			p.i++
		}
		if !p.digits() {
			return value{}, p.fail(errSyntax)
		}
	}
	return value{kind: kNumber, str: p.s[start:p.i]}, true
}

func (p *parser) digits() bool {
	start := p.i
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		p.i++
	}
	return p.i > start
}

// parseString returns the decoded string; unescaped strings are substrings
// of the input and cost no allocation.
func (p *parser) parseString() (string, bool, bool) {
	p.i++ // opening quote
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '"' {
			s := p.s[start:p.i]
			p.i++
			return s, false, true
		}
		if c == '\\' {
			return p.parseEscaped(start)
		}
		if c < 0x20 {
			return "", false, p.fail(errSyntax)
		}
		p.i++
	}
	return "", false, p.fail(errSyntax)
}

func (p *parser) parseEscaped(start int) (string, bool, bool) {
	buf := make([]byte, 0, p.i-start+16)
	buf = append(buf, p.s[start:p.i]...)
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return string(buf), true, true
		case c < 0x20:
			return "", false, p.fail(errSyntax)
		case c != '\\':
			buf = append(buf, c)
			p.i++
			continue
		}
		p.i++
		if p.i >= len(p.s) {
			break
		}
		e := p.s[p.i]
		p.i++
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", false, p.fail(errSyntax)
			}
			if utf16.IsSurrogate(r) {
				// A valid pair decodes to one rune; a lone half becomes U+FFFD,
				// as encoding/json does.
				if p.i+6 <= len(p.s) && p.s[p.i] == '\\' && p.s[p.i+1] == 'u' {
					save := p.i
					p.i += 2
					r2, ok2 := p.hex4()
					if ok2 && utf16.DecodeRune(r, r2) != utf8.RuneError {
						r = utf16.DecodeRune(r, r2)
					} else {
						p.i = save
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return "", false, p.fail(errSyntax)
		}
	}
	return "", false, p.fail(errSyntax)
}

func (p *parser) hex4() (rune, bool) {
	if p.i+4 > len(p.s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(p.s[p.i : p.i+4]) {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	p.i += 4
	return r, true
}

func (p *parser) parseArray() (value, bool) {
	if p.depth++; p.depth > maxDepth {
		return value{}, p.fail(errDepth)
	}
	p.i++
	p.skipSpace()
	v := value{kind: kArray}
	if p.i < len(p.s) && p.s[p.i] == ']' {
		p.i++
		p.depth--
		v.arr = []value{}
		return v, true
	}
	base := len(p.elems)
	for {
		p.skipSpace()
		el, ok := p.parseValue()
		if !ok {
			return value{}, false
		}
		p.elems = append(p.elems, el)
		p.skipSpace()
		if p.i >= len(p.s) {
			return value{}, p.fail(errSyntax)
		}
		if p.s[p.i] == ',' {
			p.i++
			continue
		}
		if p.s[p.i] == ']' {
			p.i++
			p.depth--
			v.arr = popFrom(&p.elems, base)
			return v, true
		}
		return value{}, p.fail(errSyntax)
	}
}

func (p *parser) parseObject() (value, bool) {
	if p.depth++; p.depth > maxDepth {
		return value{}, p.fail(errDepth)
	}
	p.i++
	p.skipSpace()
	v := value{kind: kObject}
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		p.depth--
		v.obj = []member{}
		return v, true
	}
	base := len(p.members)
	var seen map[string]struct{} // only for large objects; small ones scan
	for {
		p.skipSpace()
		if p.i >= len(p.s) || p.s[p.i] != '"' {
			return value{}, p.fail(errSyntax)
		}
		name, esc, ok := p.parseString()
		if !ok {
			return value{}, false
		}
		if dup(p.members[base:], &seen, name) {
			p.err = &parseError{err: errDuplicate, name: name, off: p.i}
			return value{}, false
		}
		p.skipSpace()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return value{}, p.fail(errSyntax)
		}
		p.i++
		p.skipSpace()
		// Reserve the slot first: nested objects use the same stack.
		slot := len(p.members)
		p.members = append(p.members, member{name: name, nameEsc: esc})
		el, ok := p.parseValue()
		if !ok {
			return value{}, false
		}
		p.members[slot].val = el
		p.skipSpace()
		if p.i >= len(p.s) {
			return value{}, p.fail(errSyntax)
		}
		if p.s[p.i] == ',' {
			p.i++
			continue
		}
		if p.s[p.i] == '}' {
			p.i++
			p.depth--
			v.obj = popFrom(&p.members, base)
			return v, true
		}
		return value{}, p.fail(errSyntax)
	}
}

// popFrom moves the entries above base off a parser stack into a slice of
// their own, clearing the stack's slots so it holds no stale references.
func popFrom[T any](stack *[]T, base int) []T {
	out := make([]T, len(*stack)-base)
	copy(out, (*stack)[base:])
	clear((*stack)[base:])
	*stack = (*stack)[:base]
	return out
}

const dupScanLimit = 16

// dup reports whether name is already a member; it switches from a linear
// scan to a set once an object grows, so huge objects stay linear time.
func dup(obj []member, seen *map[string]struct{}, name string) bool {
	if len(obj) < dupScanLimit {
		for i := range obj {
			if obj[i].name == name {
				return true
			}
		}
		return false
	}
	if *seen == nil {
		*seen = make(map[string]struct{}, 2*len(obj))
		for i := range obj {
			(*seen)[obj[i].name] = struct{}{}
		}
	}
	if _, ok := (*seen)[name]; ok {
		return true
	}
	(*seen)[name] = struct{}{}
	return false
}

// appendJSON writes v as compact JSON.
func appendJSON(b []byte, v *value) []byte {
	switch v.kind {
	case kNull:
		return append(b, "null"...)
	case kBool, kNumber:
		return append(b, v.str...)
	case kString:
		return appendString(b, v.str, v.esc)
	case kArray:
		b = append(b, '[')
		for i := range v.arr {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSON(b, &v.arr[i])
		}
		return append(b, ']')
	default:
		b = append(b, '{')
		for i := range v.obj {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, v.obj[i].name, v.obj[i].nameEsc)
			b = append(b, ':')
			b = appendJSON(b, &v.obj[i].val)
		}
		return append(b, '}')
	}
}

// needsEscape reports whether s cannot be written between quotes as is.
func needsEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' {
			return true
		}
	}
	return false
}

const hexDigits = "0123456789abcdef"

func appendString(b []byte, s string, esc bool) []byte {
	b = append(b, '"')
	if !esc {
		b = append(b, s...)
		return append(b, '"')
	}
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
