package op

import (
	"cmp"
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/grants"
	"github.com/idaop/ida-operator/runtime/ui"
)

// The person's own page, {issuer}/account/shared: per relying party what
// they agreed to share and what was released, and a form that withdraws
// the consent (APPI art. 35, GDPR art. 7(3) and 15: a person may see who
// received their data and take their consent back).
//
// A visitor without a session signs in first on the login page of the
// authorization flow, unchanged: the page starts an interaction marked
// Account, for no client, which openInteraction lets through without a
// client registration and afterAuthentication ends back here instead of
// going on to consent and a code. The withdrawal forms carry a sealed
// interaction of StageAccount, bound to this browser's interaction cookie
// and holding the CSRF token, as the login and consent forms do; it names
// the session, so a form from another sign-in is refused.
const (
	epAccount    = "account"
	epWithdraw   = "withdraw"
	pathAccount  = "/account/shared"
	pathWithdraw = "/interaction/withdraw"
)

// accountClient stands for the provider itself in the account page's
// sign-in: no name (the page says "Sign in to continue."), no redirect URI.
var accountClient = &client{Client: &config.Client{}}

// maxClientIDBytes bounds the client_id a withdrawal form posts.
const maxClientIDBytes = 256

// account shows the page, or the sign-in before it.
func (p *Provider) account(sv *served, w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	locales := q.Get("ui_locales")
	sess, _ := p.loadSession(ctx, r, sv, p.now())
	if sess == nil {
		p.startInteraction(w, r, sv, accountClient, &grants.Interaction{
			Stage: grants.StageLogin, Account: true, Request: grants.Request{UILocales: locales},
		})
		return
	}
	cs, err := p.grants.Consents(ctx, sess.Subject)
	if err != nil {
		p.errorPage(w, r, locales, p.storeFailed(err))
		return
	}
	rs, err := p.grants.Releases(ctx, sess.Subject)
	if err != nil {
		p.errorPage(w, r, locales, p.storeFailed(err))
		return
	}
	in := p.newInteraction(w, sv, accountClient, &grants.Interaction{
		Stage: grants.StageAccount, Account: true, Subject: sess.Subject, SessionID: sess.SID,
		Request: grants.Request{UILocales: locales},
	})
	sealed, err := sv.seal(in.sealed)
	if err != nil {
		p.log.Error("sealing an interaction failed", "error", err)
		p.errorPage(w, r, locales, errServer("the page could not be prepared"))
		return
	}
	d := ui.AccountData{
		Lang:   ui.PickLanguage(locales, r.Header.Get("Accept-Language")),
		Action: sv.basePath + pathWithdraw, CSRFToken: in.rec().CSRF, Interaction: sealed,
		Parties: p.sharedWith(sv, cs, rs),
	}
	if id := q.Get("withdrawn"); id != "" {
		if c, ok := sv.clients[id]; ok {
			d.Withdrawn = cmp.Or(c.ClientName, c.ClientID)
		}
	}
	p.rendered(w, sv.ui.Account(w, d))
}

// sharedWith lists the relying parties of a person's consents and
// release records: consents first, most recently approved first, then
// those with releases only; each with its releases, the newest first.
func (p *Provider) sharedWith(sv *served, cs *grants.Consents, rs *grants.Releases) []ui.SharedWith {
	var out []ui.SharedWith
	index := map[string]int{}
	consents := slices.Clone(cs.Items)
	slices.SortStableFunc(consents, func(a, b grants.Consent) int { return cmp.Compare(b.UpdatedAt, a.UpdatedAt) })
	for _, c := range consents {
		s := ui.SharedWith{
			ClientID: c.ClientID, ClientName: p.clientName(sv, c.ClientID), Consented: true,
			ConsentedAt: time.Unix(c.GrantedAt, 0), Scopes: c.Scopes, Purposes: c.Purposes,
		}
		if c.UpdatedAt != c.GrantedAt {
			s.UpdatedAt = time.Unix(c.UpdatedAt, 0)
		}
		for _, cl := range c.Claims {
			s.Claims = append(s.Claims, ui.ConsentClaim{Name: cl.Name, Purpose: cl.Purpose, Verified: cl.Verified, TrustFrameworks: cl.TrustFrameworks})
		}
		index[c.ClientID] = len(out)
		out = append(out, s)
	}
	for i := len(rs.Items) - 1; i >= 0; i-- {
		r := rs.Items[i]
		k, ok := index[r.ClientID]
		if !ok {
			k, index[r.ClientID] = len(out), len(out)
			out = append(out, ui.SharedWith{ClientID: r.ClientID, ClientName: p.clientName(sv, r.ClientID)})
		}
		out[k].Releases = append(out[k].Releases, ui.SharedRelease{
			At: time.Unix(r.At, 0), Target: r.Target, Count: r.Count,
			Claims: r.Claims, Verified: r.Verified, TrustFrameworks: r.TrustFrameworks,
		})
	}
	return out
}

// clientName is a registered client's name; "" for one without a name or
// no longer registered (the page shows its client_id then).
func (p *Provider) clientName(sv *served, clientID string) string {
	if c, ok := sv.clients[clientID]; ok {
		return c.ClientName
	}
	return ""
}

// withdraw handles a withdrawal form: the page's interaction, for the
// session that is still signed in; then back to the page.
func (p *Provider) withdraw(sv *served, w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	in, oerr := p.loadInteraction(r, sv, grants.StageAccount)
	if oerr != nil {
		p.errorPage(w, r, "", oerr)
		return
	}
	rec := in.rec()
	locales := rec.Request.UILocales
	sess, _ := p.loadSession(ctx, r, sv, p.now())
	if !rec.Account || sess == nil || sess.SID != rec.SessionID || sess.Subject != rec.Subject {
		p.errorPage(w, r, locales, errInvalidRequest("the session changed; open the page again"))
		return
	}
	clientID := in.form.Get(ui.FieldClientID)
	if clientID == "" || len(clientID) > maxClientIDBytes {
		p.errorPage(w, r, locales, errInvalidRequest("client_id is missing or too long"))
		return
	}
	if err := p.withdrawGrant(ctx, sv, sess.Subject, clientID); err != nil {
		p.errorPage(w, r, locales, p.storeFailed(err))
		return
	}
	p.toAccountPage(w, sv, locales, clientID)
}

// withdrawGrant is the one way a person's consent to a relying party
// ends: the consent is forgotten and every token issued under it revoked
// (refresh refused, introspection inactive, UserInfo refused). The
// relying party learns of it when its tokens stop working; back-channel
// logout of its sessions belongs here too.
func (p *Provider) withdrawGrant(ctx context.Context, sv *served, subject, clientID string) error {
	if err := p.grants.WithdrawConsent(ctx, subject, clientID, sv.provider.Consent.Retention()); err != nil {
		return err
	}
	// The relying party's sessions of this person end with the consent
	// (Back-Channel Logout 1.0); the person stays signed in here and at
	// the others.
	if sessions, err := p.grants.SessionsOf(ctx, subject); err != nil {
		p.logStoreFailure(err)
	} else {
		p.sessionsEnded(sv, sessionsAt(sessions, clientID)...)
	}
	p.audit.Info("consent withdrawn",
		slog.String("event", "consent_withdrawn"),
		slog.String("client_id", clientID),
		slog.String("subject", subject),
	)
	if p.auditSync != nil {
		_ = p.auditSync() // as auditRelease: nowhere else to report it
	}
	return nil
}

// sessionsAt are the sessions that signed in to clientID, each naming
// that client alone.
func sessionsAt(sessions []grants.UserSession, clientID string) []grants.UserSession {
	var out []grants.UserSession
	for _, us := range sessions {
		for _, c := range us.Clients {
			if c.ClientID == clientID {
				us.Clients = []grants.SignedInClient{c}
				out = append(out, us)
				break
			}
		}
	}
	return out
}

// toAccountPage sends the browser to the account page: after its sign-in,
// or after a withdrawal (withdrawn names the client, for the
// confirmation).
func (p *Provider) toAccountPage(w http.ResponseWriter, sv *served, locales, withdrawn string) {
	q := url.Values{}
	if locales != "" {
		q.Set("ui_locales", locales)
	}
	if withdrawn != "" {
		q.Set("withdrawn", withdrawn)
	}
	u := sv.basePath + pathAccount
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", u)
	w.WriteHeader(http.StatusSeeOther)
}
