package op

import (
	"net/http"
	"strconv"
)

// Cache lifetimes of the public documents. The JWKS is short so that a new
// key (published before it signs) reaches relying parties well before it
// is used; discovery changes rarely.
const (
	discoveryMaxAge = 3600
	jwksMaxAge      = 300
)

// discovery serves the rendered OpenID Provider metadata.
func (p *Provider) discovery(st *state, w http.ResponseWriter, r *http.Request) {
	servePublic(w, r, st.discovery, st.discoveryTag, "application/json", discoveryMaxAge)
}

// jwks serves the published public keys: upcoming, active and retired but
// not yet expired.
func (p *Provider) jwks(st *state, w http.ResponseWriter, r *http.Request) {
	body, tag, err := st.publicJWKS(p.now())
	if err != nil {
		p.log.Error("rendering the JWKS failed", "error", err)
		writeJSONError(w, errServer("keys unavailable"))
		return
	}
	servePublic(w, r, body, tag, "application/jwk-set+json", jwksMaxAge)
}

// servePublic answers a cacheable public document with an ETag, honouring
// If-None-Match; any origin may read it.
func servePublic(w http.ResponseWriter, r *http.Request, body []byte, tag, ctype string, maxAge int) {
	h := w.Header()
	h.Set("Cache-Control", "public, max-age="+strconv.Itoa(maxAge)+", must-revalidate")
	h.Set("ETag", tag)
	h.Set("Access-Control-Allow-Origin", "*")
	if inm := r.Header.Get("If-None-Match"); inm != "" && inm == tag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", ctype)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}
