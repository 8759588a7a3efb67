package op

import (
	"cmp"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/idaop/ida-operator/runtime/grants"
	"github.com/idaop/ida-operator/runtime/ui"
)

// The end_session_endpoint (OIDC RP-Initiated Logout 1.0): a relying
// party sends the browser here to sign the person out. A request tied to
// the browser's session (its id_token_hint names the session) ends it at
// once; any other asks the person first, so that a link on another site
// cannot sign anyone out. Every error is a page here, never a redirect:
// an unchecked post_logout_redirect_uri would be an open redirector.

// stageLogout marks a sealed logout confirmation; the login, step-up and
// consent forms refuse it.
const stageLogout = "logout"

// logoutRequest is one end-session request and what its checks learn.
type logoutRequest struct {
	sv  *served
	now time.Time

	idTokenHint, clientID, postLogoutRedirectURI, state, uiLocales string

	// hint is the verified id_token_hint; client the relying party, from
	// client_id or the hint's audience.
	hint   *ownIDTokenClaims
	client *client
}

// endSessionChecks are the request's rules, in order.
var endSessionChecks = []check[*logoutRequest]{
	checkLogoutHint,
	checkLogoutClient,
	checkPostLogoutRedirectURI,
}

// checkLogoutHint: an id_token_hint is an ID token this provider issued;
// an expired one is accepted (RP-Initiated Logout 1.0 §2).
func checkLogoutHint(l *logoutRequest) *oauthError {
	if l.idTokenHint == "" {
		return nil
	}
	h, err := l.sv.ownIDToken(l.idTokenHint, l.now)
	if err != nil {
		return errInvalidRequest("id_token_hint " + err.Error())
	}
	l.hint = h
	return nil
}

// checkLogoutClient: client_id names a known client and, with a hint,
// one of the hint's audiences (RP-Initiated Logout 1.0 §2); without it the
// hint's audience names the client.
func checkLogoutClient(l *logoutRequest) *oauthError {
	id := l.clientID
	if l.hint != nil {
		switch {
		case id != "" && !slices.Contains(l.hint.Audience, id):
			return errInvalidRequest("client_id is not the audience of id_token_hint")
		case id == "" && len(l.hint.Audience) == 1:
			id = l.hint.Audience[0]
		}
	}
	if id == "" {
		return nil
	}
	if l.client = l.sv.clients[id]; l.client == nil {
		return errInvalidRequest("unknown client_id")
	}
	return nil
}

// checkPostLogoutRedirectURI: a post_logout_redirect_uri is one the
// client registered, compared exactly (RP-Initiated Logout 1.0 §3), so
// the client must be known from client_id or the hint.
func checkPostLogoutRedirectURI(l *logoutRequest) *oauthError {
	switch {
	case l.postLogoutRedirectURI == "":
		return nil
	case l.client == nil:
		return errInvalidRequest("post_logout_redirect_uri needs id_token_hint or client_id")
	case !slices.Contains(l.client.PostLogoutRedirectURIs, l.postLogoutRedirectURI):
		return errInvalidRequest("post_logout_redirect_uri is not registered for the client")
	}
	return nil
}

// tiedTo: the hint was issued in this very session, to the person signed
// in now (its sid, and its sub as the client sees that person).
func (l *logoutRequest) tiedTo(s *grants.Session) bool {
	return l.hint != nil && l.client != nil && l.hint.SID != "" && l.hint.SID == s.SID &&
		l.hint.Subject == subjectFor(l.sv, l.client, s.Subject)
}

func (p *Provider) endSession(sv *served, w http.ResponseWriter, r *http.Request) {
	v, oerr := readParams(r)
	if oerr != nil {
		p.errorPage(w, r, "", oerr)
		return
	}
	l := &logoutRequest{
		sv: sv, now: p.now(),
		idTokenHint: v.Get("id_token_hint"), clientID: v.Get("client_id"),
		postLogoutRedirectURI: v.Get("post_logout_redirect_uri"), state: v.Get("state"), uiLocales: v.Get("ui_locales"),
	}
	if err := runChecks(l, endSessionChecks); err != nil {
		p.errorPage(w, r, l.uiLocales, err)
		return
	}
	sess, cookie := p.loadSession(r.Context(), r, sv, l.now)
	switch {
	case sess == nil:
		// Signed out already: nothing to end, but the client still gets
		// its browser back.
		p.signedOut(w, r, sv, l.postLogoutRedirectURI, l.state, l.uiLocales)
	case l.tiedTo(sess):
		if p.logout(w, r, sv, cookie, l.uiLocales) {
			p.signedOut(w, r, sv, l.postLogoutRedirectURI, l.state, l.uiLocales)
		}
	default:
		p.confirmLogout(w, r, l, sess)
	}
}

// confirmLogout asks the person whether to sign out. The request travels
// sealed in the form, bound to the session's sid: the answer ends only
// the session the page was shown to.
func (p *Provider) confirmLogout(w http.ResponseWriter, r *http.Request, l *logoutRequest, sess *grants.Session) {
	si := &sealedInteraction{
		Interaction: grants.Interaction{Stage: stageLogout, SessionID: sess.SID, Request: grants.Request{
			RedirectURI: l.postLogoutRedirectURI, State: l.state, UILocales: l.uiLocales,
		}},
		ID: grants.NewSecret(), ExpiresAt: l.now.Add(interactionLifetime).Unix(),
	}
	var name string
	if l.client != nil {
		si.Request.ClientID = l.client.ClientID
		name = cmp.Or(l.client.ClientName, l.client.ClientID)
	}
	sealed, err := l.sv.seal(si)
	if err != nil {
		p.log.Error("sealing a logout confirmation failed", "error", err)
		p.errorPage(w, r, l.uiLocales, errServer("the page could not be prepared"))
		return
	}
	// The answer may redirect to the post-logout URI.
	ui.SecurityHeadersFor(w.Header(), l.postLogoutRedirectURI)
	p.rendered(w, l.sv.ui.Logout(w, ui.LogoutData{
		Lang:       ui.PickLanguage(l.uiLocales, r.Header.Get("Accept-Language")),
		ClientName: name, Action: l.sv.basePath + pathLogoutConfirm, Token: sealed,
	}))
}

// logoutConfirm answers the confirmation page.
func (p *Provider) logoutConfirm(sv *served, w http.ResponseWriter, r *http.Request) {
	v, oerr := readParams(r)
	if oerr != nil {
		p.errorPage(w, r, "", oerr)
		return
	}
	now := p.now()
	si, err := sv.open(v.Get(ui.FieldInteraction))
	if err != nil || si.Stage != stageLogout || now.Unix() >= si.ExpiresAt {
		p.errorPage(w, r, "", errInvalidRequest("this page has expired; go back to the application and sign out again"))
		return
	}
	req := &si.Request
	sess, cookie := p.loadSession(r.Context(), r, sv, now)
	switch {
	case v.Get(ui.FieldLogout) == ui.DecisionStay:
		p.rendered(w, sv.ui.SignedOut(w, ui.SignedOutData{
			Lang: ui.PickLanguage(req.UILocales, r.Header.Get("Accept-Language")), StillSignedIn: sess != nil,
		}))
		return
	case v.Get(ui.FieldLogout) != ui.DecisionLogout:
		p.errorPage(w, r, req.UILocales, errInvalidRequest("choose to sign out or to stay signed in"))
		return
	case sess != nil && sess.SID != si.SessionID:
		p.errorPage(w, r, req.UILocales, errInvalidRequest("the session changed; go back to the application and sign out again"))
		return
	case sess != nil:
		if !p.logout(w, r, sv, cookie, req.UILocales) {
			return
		}
	}
	p.signedOut(w, r, sv, req.RedirectURI, req.State, req.UILocales)
}

// logout ends the browser's session, deletes its cookie and tells the
// relying parties it signed in to. It reports whether the session ended;
// if not, it has answered.
func (p *Provider) logout(w http.ResponseWriter, r *http.Request, sv *served, cookie, uiLocales string) bool {
	_, ended, err := p.grants.EndSession(r.Context(), cookie)
	switch {
	case errors.Is(err, grants.ErrNotFound):
		// Ended meanwhile (another tab, another replica): signed out.
	case err != nil && ended == nil:
		p.errorPage(w, r, uiLocales, p.storeFailed(err))
		return false
	case err != nil:
		// The session is gone; only its list entry stays until it expires.
		p.logStoreFailure(err)
		fallthrough
	default:
		p.log.Info("session ended", slog.String("reason", "logout"), slog.Int("clients", len(ended.Clients)))
		p.sessionsEnded(sv, *ended)
	}
	p.setCookie(w, sv, sessionCookie, "", cookiePath(sv, "/"), -time.Second)
	return true
}

// signedOut sends the browser to the post-logout URI with state (RP-
// Initiated Logout 1.0 §3), or shows that the person is signed out.
func (p *Provider) signedOut(w http.ResponseWriter, r *http.Request, sv *served, redirectURI, state, uiLocales string) {
	w.Header().Set("Cache-Control", "no-store")
	if redirectURI == "" {
		p.rendered(w, sv.ui.SignedOut(w, ui.SignedOutData{Lang: ui.PickLanguage(uiLocales, r.Header.Get("Accept-Language"))}))
		return
	}
	u, err := url.Parse(redirectURI)
	if err != nil {
		p.errorPage(w, r, uiLocales, errServer("bad post_logout_redirect_uri"))
		return
	}
	if state != "" {
		q := u.Query()
		q.Set("state", state)
		u.RawQuery = q.Encode()
	}
	w.Header().Set("Location", u.String())
	w.WriteHeader(http.StatusSeeOther)
}
