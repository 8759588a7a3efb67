package op

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/idaop/ida-operator/runtime/ida"
	"github.com/idaop/ida-operator/runtime/store"
	"github.com/idaop/ida-operator/runtime/ui"
	"github.com/idaop/ida-operator/runtime/users"
)

// Cookies. Both are HttpOnly and SameSite=Lax (sent on the top-level
// navigation from a relying party, never on its cross-site POSTs), and
// Secure when the issuer is https.
const (
	sessionCookie     = "ida_session"
	interactionCookie = "ida_interaction"
)

// Login form bounds.
const (
	maxUsernameBytes = 256
	maxPasswordBytes = 1024
)

func (p *Provider) setCookie(w http.ResponseWriter, st *state, name, value, path string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: path, MaxAge: int(maxAge / time.Second),
		HttpOnly: true, Secure: st.secure, SameSite: http.SameSiteLaxMode,
	})
}

func cookiePath(st *state, suffix string) string {
	if st.basePath == "" && suffix == "" {
		return "/"
	}
	return st.basePath + suffix
}

// loadSession returns the signed-in session of the browser, or nil.
func (p *Provider) loadSession(ctx context.Context, r *http.Request, now time.Time) (*sessionRecord, string) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil || ck.Value == "" || len(ck.Value) > 128 {
		return nil, ""
	}
	sess, err := getJSON[sessionRecord](ctx, p.store, store.KindSession, storeKey(ck.Value))
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			p.log.Error("store failed", "op", "get session", "error", err)
		}
		return nil, ""
	}
	if now.Unix() >= sess.ExpiresAt {
		return nil, ""
	}
	return sess, ck.Value
}

// startInteraction stores the interaction and renders its page.
func (p *Provider) startInteraction(w http.ResponseWriter, r *http.Request, st *state, c *client, ia *interactionRecord, errKey string) {
	id := randomToken()
	ia.CSRF = randomToken()
	if err := putJSON(r.Context(), p.store, store.KindInteraction, storeKey(id), ia, interactionLifetime); err != nil {
		p.log.Error("store failed", "op", "put interaction", "error", err)
		p.redirectError(w, r, st, &ia.Request, errUnavailable("the session store is unavailable"))
		return
	}
	p.setCookie(w, st, interactionCookie, id, cookiePath(st, "/interaction"), interactionLifetime)
	p.renderInteraction(w, r, st, c, id, ia, "", errKey)
}

// renderInteraction shows the page of the interaction's stage.
func (p *Provider) renderInteraction(w http.ResponseWriter, r *http.Request, st *state, c *client, id string, ia *interactionRecord, username, errKey string) {
	lang := ui.PickLanguage(ia.Request.UILocales, r.Header.Get("Accept-Language"))
	// The form's answer redirects to the client, so form-action must allow
	// its redirect URI's origin.
	ui.SecurityHeadersFor(w.Header(), ia.Request.RedirectURI)
	name := c.ClientName
	if name == "" {
		name = c.ClientID
	}
	if ia.Stage == stageLogin {
		p.rendered(w, st.ui.Login(w, ui.LoginData{
			Lang: lang, ClientName: name, Action: st.basePath + pathLogin, CSRFToken: ia.CSRF,
			Interaction: id, Username: username, ErrorKey: errKey,
		}))
		return
	}
	var profile []string
	if cc := p.compileClaims(c, ia.Request.Claims, ia.Request.Scope, ia.Request.integrityProtected()); cc.err == nil {
		profile = cc.req.ProfileScopes()
	}
	p.rendered(w, st.ui.Consent(w, ui.ConsentData{
		Lang: lang, ClientName: name, Purpose: ia.Request.Purpose, Action: st.basePath + pathConsent,
		CSRFToken: ia.CSRF, Interaction: id, Scopes: strings.Fields(ia.Request.Scope),
		Claims: consentClaims(ia.Request.Claims, profile),
	}))
}

// rendered answers a page that failed to render (the renderer leaves the
// response untouched then).
func (p *Provider) rendered(w http.ResponseWriter, err error) {
	if err != nil {
		p.log.Error("rendering a page failed", "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
	}
}

// openInteraction is loadInteraction plus the interaction's client, which
// must still be registered and enabled; when either fails it has answered
// with the error page.
func (p *Provider) openInteraction(st *state, w http.ResponseWriter, r *http.Request, stage string) (url.Values, string, *interactionRecord, *client, bool) {
	form, id, ia, oerr := p.loadInteraction(w, r, stage)
	if oerr != nil {
		p.errorPage(w, r, "", oerr)
		return nil, "", nil, nil, false
	}
	c, ok := st.clients[ia.Request.ClientID]
	if !ok || c.Disabled {
		p.errorPage(w, r, ia.Request.UILocales, errUnauthorizedClient("the client is no longer available"))
		return nil, "", nil, nil, false
	}
	return form, id, ia, c, true
}

// loadInteraction reads a posted form and its interaction: the form's id
// must be the browser's (cookie), the record must exist at this stage, and
// the CSRF token must match (constant time).
func (p *Provider) loadInteraction(w http.ResponseWriter, r *http.Request, stage string) (url.Values, string, *interactionRecord, *oauthError) {
	form, perr := readParams(r)
	if perr != nil {
		return nil, "", nil, perr
	}
	id := form.Get(ui.FieldInteraction)
	ck, err := r.Cookie(interactionCookie)
	if id == "" || err != nil || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(id)) != 1 {
		return nil, "", nil, errInvalidRequest("this sign-in is not in progress in this browser; start again from the application")
	}
	ia, err := getJSON[interactionRecord](r.Context(), p.store, store.KindInteraction, storeKey(id))
	if errors.Is(err, store.ErrNotFound) {
		return nil, "", nil, errInvalidRequest("this sign-in has expired; start again from the application")
	}
	if err != nil {
		p.log.Error("store failed", "op", "get interaction", "error", err)
		return nil, "", nil, errUnavailable("the session store is unavailable")
	}
	if subtle.ConstantTimeCompare([]byte(form.Get(ui.FieldCSRFToken)), []byte(ia.CSRF)) != 1 {
		return nil, "", nil, errInvalidRequest("the form's CSRF token does not match")
	}
	if ia.Stage != stage {
		return nil, "", nil, errInvalidRequest("this step is not expected now")
	}
	return form, id, ia, nil
}

// login handles the sign-in form.
func (p *Provider) login(st *state, w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	form, id, ia, c, ok := p.openInteraction(st, w, r, stageLogin)
	if !ok {
		return
	}
	username, password := form.Get(ui.FieldUsername), form.Get(ui.FieldPassword)
	src := p.userSource()
	if username == "" || password == "" {
		p.renderInteraction(w, r, st, c, id, ia, truncate(username, maxUsernameBytes), "required")
		return
	}
	if len(username) > maxUsernameBytes || len(password) > maxPasswordBytes {
		p.renderInteraction(w, r, st, c, id, ia, truncate(username, maxUsernameBytes), "invalid_credentials")
		return
	}
	if src == nil {
		p.errorPage(w, r, ia.Request.UILocales, errUnavailable("no user source is configured"))
		return
	}
	u, err := src.Authenticate(ctx, username, password)
	switch {
	case errors.Is(err, users.ErrInvalidCredentials), errors.Is(err, users.ErrNotFound):
		p.renderInteraction(w, r, st, c, id, ia, username, "invalid_credentials")
		return
	case err != nil:
		p.log.Warn("user source failed", "op", "authenticate", "error", err)
		p.errorPage(w, r, ia.Request.UILocales, errUnavailable("sign-in is not available right now"))
		return
	}
	now := p.now()
	sess, err := p.newSession(ctx, w, r, st, u.Subject, now)
	if err != nil {
		p.errorPage(w, r, ia.Request.UILocales, errUnavailable("the session store is unavailable"))
		return
	}
	ia.Stage, ia.Subject, ia.AuthTime, ia.SessionID = stageConsent, u.Subject, sess.AuthTime, sess.SID
	if !slices.Contains(strings.Fields(ia.Request.Prompt), "consent") && slices.Contains(sess.Consents, consentKey(&ia.Request)) {
		_ = p.store.Delete(ctx, store.KindInteraction, storeKey(id))
		p.issueCode(w, r, st, &ia.Request, u.Subject, sess.AuthTime, sess.SID)
		return
	}
	if err := putJSON(ctx, p.store, store.KindInteraction, storeKey(id), ia, interactionLifetime); err != nil {
		p.log.Error("store failed", "op", "put interaction", "error", err)
		p.errorPage(w, r, ia.Request.UILocales, errUnavailable("the session store is unavailable"))
		return
	}
	p.renderInteraction(w, r, st, c, id, ia, "", "")
}

// newSession starts a session with a fresh id (never the one the browser
// brought: no session fixation). Consents of an earlier session of the
// same user in this browser carry over.
func (p *Provider) newSession(ctx context.Context, w http.ResponseWriter, r *http.Request, st *state, subject string, now time.Time) (*sessionRecord, error) {
	sess := &sessionRecord{SID: randomToken()[:22], Subject: subject, AuthTime: now.Unix(), ExpiresAt: now.Add(sessionLifetime).Unix()}
	if old, oldID := p.loadSession(ctx, r, now); old != nil {
		if old.Subject == subject {
			sess.Consents = old.Consents
		}
		_ = p.store.Delete(ctx, store.KindSession, storeKey(oldID))
	}
	id := randomToken()
	if err := putJSON(ctx, p.store, store.KindSession, storeKey(id), sess, sessionLifetime); err != nil {
		p.log.Error("store failed", "op", "put session", "error", err)
		return nil, err
	}
	p.setCookie(w, st, sessionCookie, id, cookiePath(st, "/"), sessionLifetime)
	return sess, nil
}

// consent handles the consent form: deny sends access_denied; approve is
// remembered in the session and answered with a code.
func (p *Provider) consent(st *state, w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	form, id, ia, _, ok := p.openInteraction(st, w, r, stageConsent)
	if !ok {
		return
	}
	switch form.Get(ui.FieldDecision) {
	case ui.DecisionDeny:
		_ = p.store.Delete(ctx, store.KindInteraction, storeKey(id))
		p.redirectError(w, r, st, &ia.Request, newError("access_denied", "the user refused"))
		return
	case ui.DecisionApprove:
	default:
		p.errorPage(w, r, ia.Request.UILocales, errInvalidRequest("decision must be approve or deny"))
		return
	}
	now := p.now()
	sess, sessID := p.loadSession(ctx, r, now)
	if sess == nil || sess.SID != ia.SessionID || sess.Subject != ia.Subject {
		p.errorPage(w, r, ia.Request.UILocales, errInvalidRequest("the session changed; start again from the application"))
		return
	}
	if key := consentKey(&ia.Request); !slices.Contains(sess.Consents, key) {
		sess.Consents = append(sess.Consents, key)
		if len(sess.Consents) > 64 {
			sess.Consents = sess.Consents[len(sess.Consents)-64:]
		}
		if err := putJSON(ctx, p.store, store.KindSession, storeKey(sessID), sess, remaining(sess.ExpiresAt, now)); err != nil {
			p.log.Error("store failed", "op", "put session", "error", err)
		}
	}
	if _, err := p.store.Take(ctx, store.KindInteraction, storeKey(id)); err != nil {
		// Two approvals raced; the first one answered.
		p.errorPage(w, r, ia.Request.UILocales, errInvalidRequest("this sign-in has already completed"))
		return
	}
	p.issueCode(w, r, st, &ia.Request, ia.Subject, ia.AuthTime, ia.SessionID)
}

// errorPage shows an error the client must not receive at its redirect
// URI (unknown client, bad redirect_uri, broken forms).
func (p *Provider) errorPage(w http.ResponseWriter, r *http.Request, uiLocales string, e *oauthError) {
	setOutcome(w, e.Code)
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	rend := p.ui
	if st := p.state.Load(); st != nil {
		rend = st.ui
	}
	p.rendered(w, rend.Error(w, status, ui.ErrorData{
		Lang:    ui.PickLanguage(uiLocales, r.Header.Get("Accept-Language")),
		Title:   e.Code,
		Message: e.Description,
	}))
}

// stylesheet serves the pages' CSS.
func (p *Provider) stylesheet(st *state, w http.ResponseWriter, r *http.Request) {
	st.ui.StylesheetHandler().ServeHTTP(w, r)
}

// consentClaims lists what the consent page shows: every claim the claims
// parameter requests, verified or not, with its purpose and the trust
// frameworks asked for, then the claims of the profile scopes.
func consentClaims(raw string, profileScopes []string) []ui.ConsentClaim {
	var out []ui.ConsentClaim
	add := func(cc ui.ConsentClaim) {
		for i := range out {
			if out[i].Name == cc.Name && out[i].Verified == cc.Verified {
				if out[i].Purpose == "" {
					out[i].Purpose = cc.Purpose
				}
				for _, tf := range cc.TrustFrameworks {
					if !slices.Contains(out[i].TrustFrameworks, tf) {
						out[i].TrustFrameworks = append(out[i].TrustFrameworks, tf)
					}
				}
				return
			}
		}
		out = append(out, cc)
	}
	var doc map[string]json.RawMessage
	if raw != "" && json.Unmarshal([]byte(raw), &doc) == nil {
		for _, target := range []string{"userinfo", "id_token"} {
			var members map[string]json.RawMessage
			if json.Unmarshal(doc[target], &members) != nil {
				continue
			}
			for _, name := range sortedKeys(members) {
				if name == "verified_claims" {
					for _, vc := range objects(members[name]) {
						tfs := requestedTrustFrameworks(vc["verification"])
						var claims map[string]json.RawMessage
						_ = json.Unmarshal(vc["claims"], &claims)
						for _, cn := range sortedKeys(claims) {
							add(ui.ConsentClaim{Name: cn, Purpose: purposeOf(claims[cn]), Verified: true, TrustFrameworks: tfs})
						}
					}
					continue
				}
				add(ui.ConsentClaim{Name: name, Purpose: purposeOf(members[name])})
			}
		}
	}
	for _, s := range profileScopes {
		for _, cn := range profileScopeClaims[s] {
			add(ui.ConsentClaim{Name: cn, Verified: true, TrustFrameworks: []string{jpTrustFramework}})
		}
	}
	return out
}

// profileScopeClaims are the claims each Japanese profile scope releases.
var profileScopeClaims = map[string][]string{
	ida.ScopeJPIDA:             {"name", "birthdate", "address"},
	ida.ScopeJPIDAWithEvidence: {"name", "birthdate", "address"},
	ida.ScopeJPAgeOver16:       {"age_16_or_over"},
	ida.ScopeJPAgeOver18:       {"age_18_or_over"},
	ida.ScopeJPAgeOver20:       {"age_20_or_over"},
	ida.ScopeJPMSISDN:          {"msisdn"},
}

func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// objects reads a JSON object or array of objects.
func objects(raw json.RawMessage) []map[string]json.RawMessage {
	var one map[string]json.RawMessage
	if json.Unmarshal(raw, &one) == nil && one != nil {
		return []map[string]json.RawMessage{one}
	}
	var many []map[string]json.RawMessage
	_ = json.Unmarshal(raw, &many)
	return many
}

func purposeOf(raw json.RawMessage) string {
	var o struct {
		Purpose string `json:"purpose"`
	}
	_ = json.Unmarshal(raw, &o)
	return o.Purpose
}

// requestedTrustFrameworks reads verification.trust_framework's value or
// values.
func requestedTrustFrameworks(raw json.RawMessage) []string {
	var v struct {
		TF struct {
			Value  string   `json:"value"`
			Values []string `json:"values"`
		} `json:"trust_framework"`
	}
	_ = json.Unmarshal(raw, &v)
	if v.TF.Value != "" {
		return []string{v.TF.Value}
	}
	return v.TF.Values
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
