package grants

import (
	"encoding/binary"

	"github.com/idaop/ida-operator/runtime/store"
)

// The binary form of the hot records (codes, tokens, grants, pushed
// requests, sessions) in a store.Local store: encoding/json took a tenth
// of the token and UserInfo requests' CPU. It is only ever read by the
// process that wrote it, so it carries no field names and may change
// between versions; a store shared by replicas keeps JSON. Kept as bytes
// (rather than Go values) so the stored records hold no pointers for the
// garbage collector to scan.
//
// Layout: binaryVersion, then the fields in the order the record's fields
// method lists them: strings as a uvarint length and the bytes, integers
// as varints, booleans as one byte. One list serves writing and reading,
// so the two cannot disagree on the order.

// binaryVersion starts every binary record; JSON starts with '{'.
const binaryVersion = 0x01

// binaryRecord is a record with a binary form: it lists its fields.
type binaryRecord interface {
	fields(c *codec)
}

// codec writes the fields it is shown into b or, when reading, reads them
// from r. A malformed input sets r.bad and reads zero values.
type codec struct {
	b       []byte
	reading bool
	r       binReader
}

func encodeBinary(rec binaryRecord, b []byte) []byte {
	c := codec{b: append(b, binaryVersion)}
	rec.fields(&c)
	return c.b
}

// decodeBinary reads rec from b, the bytes after binaryVersion, and
// reports whether they were exactly one well-formed record.
func decodeBinary(rec binaryRecord, b []byte) bool {
	c := codec{reading: true, r: binReader{s: string(b)}}
	rec.fields(&c)
	return !c.r.bad && c.r.s == ""
}

func (c *codec) str(s *string) {
	if c.reading {
		*s = c.r.str()
		return
	}
	c.b = binary.AppendUvarint(c.b, uint64(len(*s)))
	c.b = append(c.b, *s...)
}

func (c *codec) int(v *int64) {
	if c.reading {
		*v = c.r.int()
		return
	}
	c.b = binary.AppendVarint(c.b, *v)
}

func (c *codec) bool(v *bool) {
	if c.reading {
		*v = c.r.bool()
		return
	}
	if *v {
		c.b = append(c.b, 1)
	} else {
		c.b = append(c.b, 0)
	}
}

// optInt is an *int64: a presence flag, then the value.
func (c *codec) optInt(v **int64) {
	present := *v != nil
	c.bool(&present)
	switch {
	case !present:
	case c.reading:
		*v = new(int64)
		c.int(*v)
	default:
		c.int(*v)
	}
}

// count is a slice's length; reading, it is bounded by what is left, as
// every element takes at least one byte.
func (c *codec) count(n int) int {
	if !c.reading {
		c.b = binary.AppendUvarint(c.b, uint64(n))
		return n
	}
	m := c.r.uvarint()
	if m > uint64(len(c.r.s)) {
		c.r.bad, c.r.s = true, ""
		return 0
	}
	return int(m)
}

func (c *codec) strs(v *[]string) {
	n := c.count(len(*v))
	if c.reading && n > 0 {
		*v = make([]string, n)
	}
	for i := range n {
		c.str(&(*v)[i])
	}
}

func (c *codec) tokenRefs(v *[]TokenRef) {
	n := c.count(len(*v))
	if c.reading && n > 0 {
		*v = make([]TokenRef, n)
	}
	for i := range n {
		kind := string((*v)[i].Kind)
		c.str(&kind)
		(*v)[i].Kind = store.Kind(kind)
		c.str(&(*v)[i].Key)
	}
}

func (c *codec) methods(v *[]MethodUse) {
	n := c.count(len(*v))
	if c.reading && n > 0 {
		*v = make([]MethodUse, n)
	}
	for i := range n {
		c.str(&(*v)[i].Method)
		c.int(&(*v)[i].At)
	}
}

// binReader reads a record from one string, so all of its strings share a
// single allocation.
type binReader struct {
	s   string
	bad bool
}

func (r *binReader) uvarint() uint64 {
	var x uint64
	var shift uint
	for i := 0; i < len(r.s) && i < binary.MaxVarintLen64; i++ {
		c := r.s[i]
		if c < 0x80 {
			r.s = r.s[i+1:]
			return x | uint64(c)<<shift
		}
		x |= uint64(c&0x7f) << shift
		shift += 7
	}
	r.bad, r.s = true, ""
	return 0
}

func (r *binReader) int() int64 {
	ux := r.uvarint()
	x := int64(ux >> 1)
	if ux&1 != 0 {
		x = ^x
	}
	return x
}

func (r *binReader) str() string {
	n := r.uvarint()
	if n > uint64(len(r.s)) {
		r.bad, r.s = true, ""
		return ""
	}
	v := r.s[:n]
	r.s = r.s[n:]
	return v
}

func (r *binReader) bool() bool {
	if len(r.s) == 0 {
		r.bad = true
		return false
	}
	v := r.s[0] == 1
	r.s = r.s[1:]
	return v
}

func (g *Info) infoFields(c *codec) {
	c.str(&g.GrantID)
	c.str(&g.ClientID)
	c.str(&g.Subject)
	c.str(&g.Scope)
	c.str(&g.Claims)
	c.str(&g.Purpose)
	c.str(&g.SessionID)
	c.bool(&g.ViaPAR)
	c.bool(&g.Signed)
	c.int(&g.AuthTime)
	c.strs(&g.Resources)
	c.str(&g.ACR)
	c.strs(&g.AMR)
}

func (k *Code) fields(c *codec) {
	k.Info.infoFields(c)
	c.str(&k.RedirectURI)
	c.str(&k.CodeChallenge)
	c.str(&k.Nonce)
	c.str(&k.DPoPJKT)
	c.int(&k.ExpiresAt)
}

func (t *Token) fields(c *codec) {
	t.Info.infoFields(c)
	c.str(&t.JKT)
	c.int(&t.IssuedAt)
	c.int(&t.ExpiresAt)
}

func (g *Grant) fields(c *codec) {
	c.str(&g.ClientID)
	c.bool(&g.Revoked)
	c.int(&g.ExpiresAt)
	c.tokenRefs(&g.Tokens)
}

func (a *Request) fields(c *codec) {
	for _, s := range [...]*string{&a.ClientID, &a.RedirectURI, &a.Scope, &a.State, &a.Nonce, &a.CodeChallenge,
		&a.Claims, &a.Purpose, &a.Prompt, &a.UILocales, &a.DPoPJKT, &a.HintSubject, &a.ACR, &a.ACRValues} {
		c.str(s)
	}
	c.strs(&a.Resources)
	c.optInt(&a.MaxAge)
	c.bool(&a.ViaPAR)
	c.bool(&a.Signed)
	c.int(&a.ExpiresAt)
}

func (s *Session) fields(c *codec) {
	c.str(&s.SID)
	c.str(&s.Subject)
	c.int(&s.AuthTime)
	c.int(&s.AuthTimeMillis)
	c.int(&s.ExpiresAt)
	c.int(&s.LastSeen)
	c.methods(&s.Methods)
	c.strs(&s.Consents)
}
