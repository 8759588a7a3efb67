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
func (p *Provider) discovery(sv *served, w http.ResponseWriter, r *http.Request) {
	servePublic(w, r, sv.discovery, sv.discoveryTag, "application/json", discoveryMaxAge)
}

// jwks serves the published public keys: upcoming, active and retired but
// not yet expired.
func (p *Provider) jwks(sv *served, w http.ResponseWriter, r *http.Request) {
	body, tag, err := sv.publicJWKS(p.now())
	if err != nil {
		p.log.Error("rendering the JWKS failed", "error", err)
		writeJSONError(w, errServer("keys unavailable"))
		return
	}
	servePublic(w, r, body, tag, "application/jwk-set+json", jwksMaxAge)
}

// servePublic answers a cacheable public document with an ETag, honouring
// If-None-Match; any origin may read it.
//
// The header values are set directly in canonical form, each a new
// one-element slice: the same headers as http.Header.Set, without its
// per-request canonicalisation.
func servePublic(w http.ResponseWriter, r *http.Request, body []byte, tag, ctype string, maxAge int) {
	h := w.Header()
	h["Cache-Control"] = []string{cacheControl(maxAge)}
	h["Etag"] = []string{tag}
	h["Access-Control-Allow-Origin"] = []string{"*"}
	if inm := r.Header.Get("If-None-Match"); inm != "" && inm == tag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h["Content-Type"] = []string{ctype}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

var (
	discoveryCacheControl = "public, max-age=" + strconv.Itoa(discoveryMaxAge) + ", must-revalidate"
	jwksCacheControl      = "public, max-age=" + strconv.Itoa(jwksMaxAge) + ", must-revalidate"
)

func cacheControl(maxAge int) string {
	switch maxAge {
	case discoveryMaxAge:
		return discoveryCacheControl
	case jwksMaxAge:
		return jwksCacheControl
	}
	return "public, max-age=" + strconv.Itoa(maxAge) + ", must-revalidate"
}
