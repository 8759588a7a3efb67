package ida

import (
	"strconv"
	"strings"
)

// OAuth error codes the engine returns.
const (
	ErrInvalidRequest = "invalid_request"
	ErrInvalidScope   = "invalid_scope"
)

// Error is a refused request: an OAuth error code and a description that
// names the JSON path at fault. It marshals to the OAuth error object.
type Error struct {
	Code        string `json:"error"`
	Description string `json:"error_description"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Description }

func invalidRequest(p path, msg string) *Error {
	return &Error{Code: ErrInvalidRequest, Description: sanitizeDescription(p.String() + ": " + msg)}
}

// sanitizeDescription keeps to the characters RFC 6749 allows in
// error_description (%x20-21 / %x23-5B / %x5D-7E); member names come from
// the request, so anything else is percent-encoded.
func sanitizeDescription(s string) string {
	ok := true
	for i := 0; i < len(s); i++ {
		if !descChar(s[i]) {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; descChar(c) {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte("0123456789ABCDEF"[c>>4])
			b.WriteByte("0123456789ABCDEF"[c&0xf])
		}
	}
	return b.String()
}

func descChar(c byte) bool {
	return c >= 0x20 && c <= 0x7e && c != '"' && c != '\\' && c != '%'
}

// path is a JSON path being walked, built lazily: most requests are valid,
// so the string is only assembled when an error is reported.
type path struct {
	parent *path
	name   string
	index  int // used when name is ""
}

func rootPath(name string) path { return path{name: name, index: -1} }

func (p *path) member(name string) path { return path{parent: p, name: name, index: -1} }

func (p *path) at(i int) path { return path{parent: p, index: i} }

func (p path) String() string {
	var parts []*path
	for q := &p; q != nil; q = q.parent {
		parts = append(parts, q)
	}
	var b strings.Builder
	for i := len(parts) - 1; i >= 0; i-- {
		q := parts[i]
		switch {
		case q.name == "" && q.index >= 0:
			b.WriteString("[" + strconv.Itoa(q.index) + "]")
		case plainName(q.name):
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(q.name)
		default:
			n := q.name
			if len(n) > 64 {
				n = n[:64] + "..."
			}
			b.WriteString("['" + strings.ReplaceAll(n, "'", "%27") + "']")
		}
	}
	return b.String()
}

// plainName: names that read unambiguously after a dot, including
// transformed-claim references and language tags.
func plainName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == ':' || c == '#' || c == '-') {
			return false
		}
	}
	return true
}

func itoa(i int) string { return strconv.Itoa(i) }

// quoteName quotes a name from the request for an error description.
func quoteName(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return "'" + strings.ReplaceAll(s, "'", "%27") + "'"
}
