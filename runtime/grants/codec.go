package grants

import (
	"encoding/binary"

	"github.com/idaop/ida-operator/runtime/store"
)

// The binary form of the hot records (codes, tokens, grants, PAR requests,
// sessions) in a store.Local store: encoding/json took a tenth of the
// token and UserInfo requests' CPU. It is only ever read by the process
// that wrote it, so it carries no field names and may change between
// versions; a store shared by replicas keeps JSON. Kept as bytes (rather
// than Go values) so the stored records hold no pointers for the garbage
// collector to scan.
//
// Layout: binaryVersion, then the fields in a fixed order: strings as a
// uvarint length and the bytes, integers as varints, booleans as one byte.

// binaryVersion starts every binary record; JSON starts with '{'.
const binaryVersion = 0x01

// binaryRecord is a record with a binary form.
type binaryRecord interface {
	appendBinary(b []byte) []byte
	readBinary(r *binReader)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// binReader reads a record from one string, so all of its strings share a
// single allocation. A malformed input sets bad and reads zero values.
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

func (g *Info) appendInfo(b []byte) []byte {
	for _, s := range [...]string{g.GrantID, g.ClientID, g.Subject, g.Scope, g.Claims, g.Purpose, g.SessionID} {
		b = appendString(b, s)
	}
	b = appendBool(b, g.ViaPAR)
	b = appendBool(b, g.Signed)
	return binary.AppendVarint(b, g.AuthTime)
}

func (g *Info) readInfo(r *binReader) {
	for _, s := range [...]*string{&g.GrantID, &g.ClientID, &g.Subject, &g.Scope, &g.Claims, &g.Purpose, &g.SessionID} {
		*s = r.str()
	}
	g.ViaPAR = r.bool()
	g.Signed = r.bool()
	g.AuthTime = r.int()
}

func (c *Code) appendBinary(b []byte) []byte {
	b = append(b, binaryVersion)
	b = c.Info.appendInfo(b)
	for _, s := range [...]string{c.RedirectURI, c.CodeChallenge, c.Nonce, c.DPoPJKT} {
		b = appendString(b, s)
	}
	return binary.AppendVarint(b, c.ExpiresAt)
}

func (c *Code) readBinary(r *binReader) {
	c.Info.readInfo(r)
	for _, s := range [...]*string{&c.RedirectURI, &c.CodeChallenge, &c.Nonce, &c.DPoPJKT} {
		*s = r.str()
	}
	c.ExpiresAt = r.int()
}

func (t *Token) appendBinary(b []byte) []byte {
	b = append(b, binaryVersion)
	b = t.Info.appendInfo(b)
	b = appendString(b, t.JKT)
	return binary.AppendVarint(b, t.ExpiresAt)
}

func (t *Token) readBinary(r *binReader) {
	t.Info.readInfo(r)
	t.JKT = r.str()
	t.ExpiresAt = r.int()
}

func (g *Grant) appendBinary(b []byte) []byte {
	b = append(b, binaryVersion)
	b = appendString(b, g.ClientID)
	b = appendBool(b, g.Revoked)
	b = binary.AppendVarint(b, g.ExpiresAt)
	b = binary.AppendUvarint(b, uint64(len(g.Tokens)))
	for _, t := range g.Tokens {
		b = appendString(b, string(t.Kind))
		b = appendString(b, t.Key)
	}
	return b
}

func (g *Grant) readBinary(r *binReader) {
	g.ClientID = r.str()
	g.Revoked = r.bool()
	g.ExpiresAt = r.int()
	n := r.uvarint()
	if n > uint64(len(r.s)) { // every entry takes at least two bytes
		r.bad = true
		return
	}
	if n > 0 {
		g.Tokens = make([]TokenRef, n)
		for i := range g.Tokens {
			g.Tokens[i] = TokenRef{Kind: store.Kind(r.str()), Key: r.str()}
		}
	}
}

func (a *Request) appendBinary(b []byte) []byte {
	b = append(b, binaryVersion)
	for _, s := range [...]string{a.ClientID, a.RedirectURI, a.Scope, a.State, a.Nonce, a.CodeChallenge,
		a.Claims, a.Purpose, a.Prompt, a.UILocales, a.DPoPJKT} {
		b = appendString(b, s)
	}
	b = appendBool(b, a.MaxAge != nil)
	if a.MaxAge != nil {
		b = binary.AppendVarint(b, *a.MaxAge)
	}
	b = appendBool(b, a.ViaPAR)
	b = appendBool(b, a.Signed)
	return binary.AppendVarint(b, a.ExpiresAt)
}

func (a *Request) readBinary(r *binReader) {
	for _, s := range [...]*string{&a.ClientID, &a.RedirectURI, &a.Scope, &a.State, &a.Nonce, &a.CodeChallenge,
		&a.Claims, &a.Purpose, &a.Prompt, &a.UILocales, &a.DPoPJKT} {
		*s = r.str()
	}
	if r.bool() {
		m := r.int()
		a.MaxAge = &m
	}
	a.ViaPAR = r.bool()
	a.Signed = r.bool()
	a.ExpiresAt = r.int()
}

func (s *Session) appendBinary(b []byte) []byte {
	b = append(b, binaryVersion)
	b = appendString(b, s.SID)
	b = appendString(b, s.Subject)
	b = binary.AppendVarint(b, s.AuthTime)
	b = binary.AppendVarint(b, s.ExpiresAt)
	b = binary.AppendUvarint(b, uint64(len(s.Consents)))
	for _, c := range s.Consents {
		b = appendString(b, c)
	}
	return b
}

func (s *Session) readBinary(r *binReader) {
	s.SID = r.str()
	s.Subject = r.str()
	s.AuthTime = r.int()
	s.ExpiresAt = r.int()
	n := r.uvarint()
	if n > uint64(len(r.s)) {
		r.bad = true
		return
	}
	if n > 0 {
		s.Consents = make([]string, n)
		for i := range s.Consents {
			s.Consents[i] = r.str()
		}
	}
}
