// Package ui renders the provider's login, consent and error pages: plain
// server-rendered HTML in English and Japanese, one stylesheet from the
// provider's own origin, and headers that keep the pages out of frames and
// caches. The one script, for passkeys (static/passkey.js), comes from the
// provider's origin too, and only pages that offer a passkey allow it.
//
// Everything a relying party or a person supplies (client names, purposes,
// usernames) goes through html/template, so it is escaped, never stripped
// (the purpose rules of OIDC4IDA drafts ID2 to ID4: escape it, never
// strip characters).
package ui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strings"
	"time"
)

// Form field names the pages post; the runtime reads these.
const (
	FieldUsername    = "username"
	FieldPassword    = "password"
	FieldCSRFToken   = "csrf_token"
	FieldInteraction = "interaction"
	FieldDecision    = "decision"
	FieldCode        = "code"
	// FieldCredential carries a WebAuthn response, as JSON.
	FieldCredential = "credential"
	// FieldSkip declines an offer to add a passkey.
	FieldSkip       = "skip"
	DecisionApprove = "approve"
	DecisionDeny    = "deny"
)

//go:embed templates/*.html static/style.css static/passkey.js
var files embed.FS

// Renderer holds the parsed templates, the stylesheet and the passkey
// script. It is immutable and safe for concurrent use.
type Renderer struct {
	pages    map[string]*template.Template
	css      []byte
	cssName  string // style.<hash>.css: a new stylesheet gets a new URL
	cssETag  string
	js       []byte
	jsName   string // passkey.<hash>.js
	jsETag   string
	basePath string
}

// LoginData fills the login page. ErrorKey selects a message from the
// catalog: invalid_credentials, required, unavailable, expired,
// too_many_attempts; any other
// non-empty key shows a generic failure.
type LoginData struct {
	Lang, ClientName, Action, CSRFToken, Interaction, Username, ErrorKey string
	// PasskeyAction and PasskeyOptions, when set, add the passkey button:
	// the form target and the options of navigator.credentials.get (JSON).
	PasskeyAction, PasskeyOptions string
}

// PasskeyData fills the passkey page: a step-up asking for one of the
// user's passkeys, or (Enrol) adding one. Options are those of
// navigator.credentials.get or .create (JSON). ErrorKey: passkey_refused,
// too_many_attempts; any other non-empty key shows a generic failure.
type PasskeyData struct {
	Lang, ClientName, Action, CSRFToken, Interaction, ErrorKey string
	// Enrol adds a passkey; Skippable (an offer after the password, not
	// a level's need) adds a "Not now" button posting skip.
	Enrol, Skippable bool
	Options          string
}

// ConsentClaim is one requested claim. Name is a claim name
// ("given_name", "address.formatted", "family_name#ja-Kana-JP") or the
// path of an ida.Purpose; the page shows its display name.
type ConsentClaim struct {
	Name, Purpose   string
	Verified        bool
	TrustFrameworks []string
	// ActsFor names the entities an authority claim would say the person
	// acts for (Authority Claims Extension draft); shown as "You act for".
	ActsFor []string
}

// ConsentData fills the consent page. Purpose is the transaction purpose
// (the purpose authorization parameter), shown as given.
type ConsentData struct {
	Lang, ClientName, Purpose, Action, CSRFToken, Interaction string
	Scopes                                                    []string
	Claims                                                    []ConsentClaim
	// SignedInWith is how the person signed in (RFC 8176 amr values),
	// shown when verified claims are to be shared; empty shows nothing.
	SignedInWith []string
}

// OTPData fills the one-time code page: a step-up asking for the code,
// or (Enrol) setting up an authenticator app with Secret (base32) and its
// otpauth URI, confirmed by a first code. ErrorKey: invalid_code,
// required, too_many_attempts; any other non-empty key shows a generic
// failure.
type OTPData struct {
	Lang, ClientName, Action, CSRFToken, Interaction, ErrorKey string
	Enrol                                                      bool
	Secret, URI                                                string
	// QRCode is URI as a PNG QR code, shown inline (a data: URL, the one
	// image the page's policy then allows).
	QRCode []byte
}

// FactorsData fills the factor page: the signed-in user's passkeys and
// whether a code generator is set up, each with a remove button posting
// remove (passkey with its id, or totp) to Action. SignedOut shows only
// the advice to sign in first. Notice: removed, or empty.
type FactorsData struct {
	Lang, Action, CSRFToken, Notice string
	SignedOut, TOTP                 bool
	Passkeys                        []FactorPasskey
}

// FactorPasskey is one passkey on the factor page: its credential id
// (base64url), whether it is synced, when it was added and last used.
type FactorPasskey struct {
	ID              string
	Synced          bool
	Added, LastUsed time.Time
}

// QRCodeSrc is the QR code's data: URL. Built here from the PNG's bytes,
// so nothing a person supplied becomes a trusted URL.
func (d OTPData) QRCodeSrc() template.URL {
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(d.QRCode))
}

// ErrorData fills the error page. Empty Title and Message show the generic
// texts; Text gives localised ones (e.g. "error.expired.title").
type ErrorData struct {
	Lang, Title, Message string
}

// New parses the embedded templates once.
func New() (*Renderer, error) {
	css, err := files.ReadFile("static/style.css")
	if err != nil {
		return nil, err
	}
	js, err := files.ReadFile("static/passkey.js")
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(css)
	jsSum := sha256.Sum256(js)
	r := &Renderer{
		pages:   map[string]*template.Template{},
		css:     css,
		cssName: "style." + hex.EncodeToString(sum[:6]) + ".css",
		cssETag: `"` + hex.EncodeToString(sum[:16]) + `"`,
		js:      js,
		jsName:  "passkey." + hex.EncodeToString(jsSum[:6]) + ".js",
		jsETag:  `"` + hex.EncodeToString(jsSum[:16]) + `"`,
	}
	base, err := template.ParseFS(files, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("ui: %w", err)
	}
	for _, p := range []string{"login", "otp", "passkey", "factors", "consent", "error", "account", "logout", "signedout"} {
		t, err := base.Clone()
		if err == nil {
			t, err = t.ParseFS(files, "templates/"+p+".html")
		}
		if err != nil {
			return nil, fmt.Errorf("ui: %w", err)
		}
		r.pages[p] = t
	}
	return r, nil
}

// WithBasePath returns a renderer whose pages link the stylesheet under
// prefix (the issuer's path, e.g. "/tenant-a"), for when the runtime
// serves under a path.
func (r *Renderer) WithBasePath(prefix string) *Renderer {
	c := *r
	c.basePath = strings.TrimRight(prefix, "/")
	return &c
}

// StylesheetPath is where pages link the stylesheet:
// <base path>/ui/style.<hash>.css. Mount StylesheetHandler there.
func (r *Renderer) StylesheetPath() string {
	return r.basePath + "/ui/" + r.cssName
}

// ScriptPath is where pages that offer a passkey load the passkey script:
// <base path>/ui/passkey.<hash>.js, served by StylesheetHandler too.
func (r *Renderer) ScriptPath() string {
	return r.basePath + "/ui/" + r.jsName
}

// StylesheetHandler serves the stylesheet and the passkey script at any
// path ending in their hashed file names. A name changes with the
// content, so it may be cached for a year; other names get 404 rather
// than the wrong content under an old URL.
func (r *Renderer) StylesheetHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		name, body, etag, ctype := r.cssName, r.css, r.cssETag, "text/css; charset=utf-8"
		switch path.Base(req.URL.Path) {
		case r.cssName:
		case r.jsName:
			name, body, etag, ctype = r.jsName, r.js, r.jsETag, "text/javascript; charset=utf-8"
		default:
			http.NotFound(w, req)
			return
		}
		h := w.Header()
		h.Set("Content-Type", ctype)
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("ETag", etag)
		http.ServeContent(w, req, name, time.Time{}, bytes.NewReader(body))
	})
}

// contentSecurityPolicy allows the stylesheet from the provider's origin
// and nothing else: no scripts (pages with a passkey add the provider's
// own, allowScript), no frames around the pages, forms posting only back
// to the provider.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// SecurityHeaders sets the headers every page carries.
func SecurityHeaders(h http.Header) {
	setSecurityHeaders(h, contentSecurityPolicy)
}

// SecurityHeadersFor is SecurityHeaders for a page whose form submission
// may end in a redirect to the relying party: Chromium applies form-action
// to every redirect after a form post, so the redirect URI's origin must be
// allowed too. Call it before Login or Consent, which keep a policy already
// set. Redirect URIs that are not absolute URLs are left out.
func SecurityHeadersFor(h http.Header, redirectURIs ...string) {
	sources := []string{"'self'"}
	for _, u := range redirectURIs {
		if s := cspSource(u); s != "" {
			sources = append(sources, s)
		}
	}
	csp := strings.Replace(contentSecurityPolicy, "form-action 'self'", "form-action "+strings.Join(sources, " "), 1)
	setSecurityHeaders(h, csp)
}

func setSecurityHeaders(h http.Header, csp string) {
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}

var cspHost = regexp.MustCompile(`^[A-Za-z0-9.\-\[\]:]+$`)

// cspSource is the CSP source expression for a redirect URI: its origin
// for http(s), its scheme for a native app's private-use scheme (RFC 8252
// §7.1). Anything that could smuggle a directive gives "".
func cspSource(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return ""
	}
	scheme := strings.ToLower(u.Scheme)
	switch scheme {
	case "http", "https":
		if u.Host == "" || !cspHost.MatchString(u.Host) {
			return ""
		}
		return scheme + "://" + strings.ToLower(u.Host)
	case "javascript", "data", "blob", "filesystem":
		return ""
	default:
		return scheme + ":" // url.Parse already checked the scheme's characters
	}
}

// Login renders the login page with status 200; with the passkey
// button, its policy also allows the provider's own script.
func (r *Renderer) Login(w http.ResponseWriter, d LoginData) error {
	if d.PasskeyOptions != "" {
		allowScript(w.Header())
	}
	return r.render(w, "login", http.StatusOK, d.Lang, d)
}

// Passkey renders the passkey page with status 200; its policy also
// allows the provider's own script.
func (r *Renderer) Passkey(w http.ResponseWriter, d PasskeyData) error {
	allowScript(w.Header())
	return r.render(w, "passkey", http.StatusOK, d.Lang, d)
}

// Factors renders the factor page with status.
func (r *Renderer) Factors(w http.ResponseWriter, status int, d FactorsData) error {
	return r.render(w, "factors", status, d.Lang, d)
}

// allowScript adds the passkey script's origin, the provider's own, to
// the page's policy (SecurityHeadersFor's, or SecurityHeaders').
func allowScript(h http.Header) {
	if h.Get("Content-Security-Policy") == "" {
		SecurityHeaders(h)
	}
	h.Set("Content-Security-Policy", h.Get("Content-Security-Policy")+"; script-src 'self'")
}

// OTP renders the one-time code page with status 200. With a QR code,
// the page's policy (SecurityHeadersFor's, or SecurityHeaders') also
// allows data: images, and nothing else more.
func (r *Renderer) OTP(w http.ResponseWriter, d OTPData) error {
	if d.Enrol && len(d.QRCode) > 0 {
		h := w.Header()
		if h.Get("Content-Security-Policy") == "" {
			SecurityHeaders(h)
		}
		h.Set("Content-Security-Policy", h.Get("Content-Security-Policy")+"; img-src data:")
	}
	return r.render(w, "otp", http.StatusOK, d.Lang, d)
}

// Consent renders the consent page with status 200: the relying party's
// name, the transaction purpose, the scopes, each requested claim with its
// purpose and whether it is verified, and two buttons posting
// decision=approve or decision=deny.
func (r *Renderer) Consent(w http.ResponseWriter, d ConsentData) error {
	return r.render(w, "consent", http.StatusOK, d.Lang, d)
}

// Error renders the error page with the given status.
func (r *Renderer) Error(w http.ResponseWriter, status int, d ErrorData) error {
	return r.render(w, "error", status, d.Lang, d)
}

// render executes into a buffer first, so a template failure leaves the
// response untouched for the caller to answer otherwise.
func (r *Renderer) render(w http.ResponseWriter, page string, status int, lang string, data any) error {
	v := &view{Lang: normalizeLang(lang), Stylesheet: r.StylesheetPath(), Script: r.ScriptPath(), Page: data}
	var buf bytes.Buffer
	if err := r.pages[page].ExecuteTemplate(&buf, "layout.html", v); err != nil {
		return fmt.Errorf("ui: rendering %s: %w", page, err)
	}
	h := w.Header()
	if h.Get("Content-Security-Policy") == "" {
		SecurityHeaders(h)
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", v.Lang)
	h.Set("Content-Length", fmt.Sprint(buf.Len()))
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// view is what templates see: the page's data plus the language's texts.
type view struct {
	Lang       string
	Stylesheet string
	Script     string
	Page       any
}

// T returns a message in the page's language.
func (v *view) T(key string) string { return Text(v.Lang, key) }

// WithClient returns key's message with the client's name, or the
// key.noclient variant when the name is empty.
func (v *view) WithClient(key, client string) string {
	if client == "" {
		return v.T(key + ".noclient")
	}
	return textf(v.Lang, key, client)
}

// LoginError is the message for an ErrorKey.
func (v *view) LoginError(key string) string {
	switch key {
	case "invalid_credentials", "required", "unavailable", "expired", "too_many_attempts", "passkey_refused":
		return v.T("login.error." + key)
	}
	return v.T("login.error.generic")
}

// OTPError is the message for an OTPData ErrorKey.
func (v *view) OTPError(key string) string {
	switch key {
	case "invalid_code", "required", "too_many_attempts":
		return v.T("otp.error." + key)
	}
	return v.T("login.error.generic")
}

// PasskeyError is the message for a PasskeyData ErrorKey.
func (v *view) PasskeyError(key string) string {
	switch key {
	case "passkey_refused", "too_many_attempts":
		return v.T("passkey.error." + key)
	}
	return v.T("login.error.generic")
}

// Date is a day as people of the page's language write it.
func (v *view) Date(t time.Time) string {
	if v.Lang == Japanese {
		return t.Format("2006年1月2日")
	}
	return t.Format("2 January 2006")
}

// Or returns s, or the message for key when s is empty.
func (v *view) Or(s, key string) string {
	if s != "" {
		return s
	}
	return v.T(key)
}

// ScopeText describes a scope; unknown scopes show as they are.
func (v *view) ScopeText(scope string) string {
	if s, ok := catalogs[v.Lang]["scope."+scope]; ok {
		return s
	}
	return scope
}

var indexRE = regexp.MustCompile(`\[\d+\]`)

// ClaimName is a claim's display name. It tries the whole name, then
// shorter suffixes of a path ("…claims.address.formatted" finds
// "address.formatted"); a language tag is shown after the name.
func (v *view) ClaimName(name string) string {
	base, tag, _ := strings.Cut(name, "#")
	parts := strings.Split(indexRE.ReplaceAllString(base, ""), ".")
	display := name
	for i := range parts {
		if s, ok := catalogs[v.Lang]["claim."+strings.Join(parts[i:], ".")]; ok {
			display = s
			if tag != "" {
				display += " (" + tag + ")"
			}
			break
		}
	}
	return display
}

// MethodList names sign-in methods (RFC 8176 amr values) for people;
// values without a name of their own (mfa, which the list already shows)
// are left out.
func (v *view) MethodList(amr []string) string {
	var names []string
	for _, m := range amr {
		if s, ok := catalogs[v.Lang]["amr."+m]; ok {
			names = append(names, s)
		}
	}
	sep := ", "
	if v.Lang == Japanese {
		sep = "、"
	}
	return strings.Join(names, sep)
}

// ActsForText says whom the person acts for, the names as given.
func (v *view) ActsForText(names []string) string {
	sep := ", "
	if v.Lang == Japanese {
		sep = "、"
	}
	return fmt.Sprintf(Text(v.Lang, "consent.acts_for"), strings.Join(names, sep))
}

// TrustFrameworkList names trust frameworks for people, keeping unknown
// identifiers as they are.
func (v *view) TrustFrameworkList(ids []string) string {
	names := make([]string, len(ids))
	for i, id := range ids {
		if s, ok := catalogs[v.Lang]["tf."+id]; ok {
			names[i] = s
		} else {
			names[i] = id
		}
	}
	sep := ", "
	if v.Lang == Japanese {
		sep = "、"
	}
	return strings.Join(names, sep)
}
