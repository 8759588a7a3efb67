package op

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/ida"
	"github.com/idaop/ida-operator/runtime/op/dpop"
	"github.com/idaop/ida-operator/runtime/store"
	"github.com/idaop/ida-operator/runtime/users"
)

// tokenResponse is RFC 6749 §5.1 with OIDC Core §3.1.3.3's id_token.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
	Scope        string `json:"scope"`
}

// token is the token endpoint: authenticate the client, check the grant
// type and the DPoP proof, then run the grant.
func (p *Provider) token(st *state, w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	form, perr := readParams(r)
	if perr != nil {
		writeJSONError(w, perr)
		return
	}
	endpoint := st.url(config.PathToken)
	c, err := p.authenticateClient(ctx, st, r, form, endpoint)
	if err != nil {
		writeJSONError(w, err)
		return
	}
	grantType := form.Get("grant_type")
	if err := checkGrantTypeAllowed(c, grantType); err != nil {
		writeJSONError(w, err)
		return
	}
	proof, err := p.tokenDPoP(ctx, st, r, c, endpoint)
	if err != nil {
		writeJSONError(w, err)
		return
	}
	p.offerDPoPNonce(w, st, proof != nil)
	var resp *tokenResponse
	switch grantType {
	case "authorization_code":
		resp, err = p.codeGrant(ctx, st, c, form, proof)
	case "refresh_token":
		resp, err = p.refreshGrant(ctx, st, c, form, proof)
	}
	if err != nil {
		writeJSONError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// checkGrantTypeAllowed: a grant type the provider knows and the client
// registered.
func checkGrantTypeAllowed(c *client, gt string) *oauthError {
	switch gt {
	case "authorization_code", "refresh_token":
	case "":
		return errInvalidRequest("grant_type is required")
	default:
		return newError("unsupported_grant_type", "grant_type "+sanitize(gt)+" is not supported")
	}
	if !slices.Contains(c.GrantTypes, gt) {
		return errUnauthorizedClient("the client is not registered for " + gt)
	}
	return nil
}

// codeGrant redeems an authorization code (RFC 6749 §4.1.3). Every check
// runs before the code is taken, so a refused request leaves it usable; a
// code that is already gone is a replay, and the tokens issued from it are
// revoked (RFC 6749 §4.1.2, RFC 9700 §4.2.4).
func (p *Provider) codeGrant(ctx context.Context, st *state, c *client, form url.Values, proof *dpop.Proof) (*tokenResponse, *oauthError) {
	code := form.Get("code")
	if code == "" {
		return nil, errInvalidRequest("code is required")
	}
	key := storeKey(code)
	rec, err := getJSON[codeRecord](ctx, p.store, store.KindCode, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, p.codeReplayed(ctx, key)
	}
	if err != nil {
		p.log.Error("store failed", "op", "get code", "error", err)
		return nil, errUnavailable("the session store is unavailable")
	}
	now := p.now()
	for _, check := range []func() *oauthError{
		func() *oauthError { return checkIssuedToClient(&rec.grantInfo, c) },
		func() *oauthError { return checkCodeNotExpired(rec, now) },
		func() *oauthError { return checkRedirectURIMatches(rec, form.Get("redirect_uri")) },
		func() *oauthError { return checkPKCEVerifier(rec, form.Get("code_verifier")) },
		func() *oauthError { return checkCodeDPoPBinding(rec, proof) },
	} {
		if err := check(); err != nil {
			return nil, err
		}
	}
	released, oerr := p.idTokenClaims(ctx, st, c, &rec.grantInfo, now)
	if oerr != nil {
		return nil, oerr
	}
	if _, err := p.store.Take(ctx, store.KindCode, key); err != nil {
		return nil, p.codeReplayed(ctx, key)
	}
	life := p.grantLifetime(st, c, &rec.grantInfo)
	if err := p.store.Put(ctx, store.KindGrant, "code:"+key, []byte(rec.GrantID), life); err != nil {
		p.log.Error("store failed", "op", "put code marker", "error", err)
	}
	grant := &grantRecord{ClientID: c.ClientID, ExpiresAt: now.Add(life).Unix()}
	return p.issueTokens(ctx, st, c, &rec.grantInfo, grant, rec.Nonce, proof, released, now.Add(st.provider.Tokens.RefreshToken.Duration).Unix(), now)
}

// codeReplayed answers a code that is not (or no longer) there: when it
// was redeemed before, every token of its grant is revoked.
func (p *Provider) codeReplayed(ctx context.Context, key string) *oauthError {
	if gid, err := p.store.Get(ctx, store.KindGrant, "code:"+key); err == nil {
		p.revokeGrant(ctx, string(gid))
		p.log.Warn("authorization code replayed; its grant is revoked")
		return errInvalidGrant("the authorization code was already used")
	}
	return errInvalidGrant("the authorization code is invalid or expired")
}

// checkIssuedToClient: codes and refresh tokens only work for their client.
func checkIssuedToClient(g *grantInfo, c *client) *oauthError {
	if g.ClientID != c.ClientID {
		return errInvalidGrant("the grant was issued to another client")
	}
	return nil
}

// checkCodeNotExpired applies the code's lifetime on the provider's clock.
func checkCodeNotExpired(rec *codeRecord, now time.Time) *oauthError {
	if now.Unix() >= rec.ExpiresAt {
		return errInvalidGrant("the authorization code has expired")
	}
	return nil
}

// checkRedirectURIMatches: redirect_uri equals the authorization
// request's (RFC 6749 §4.1.3).
func checkRedirectURIMatches(rec *codeRecord, got string) *oauthError {
	if got != rec.RedirectURI {
		return errInvalidGrant("redirect_uri does not match the authorization request")
	}
	return nil
}

// checkPKCEVerifier: BASE64URL(SHA256(code_verifier)) equals the
// code_challenge (RFC 7636 §4.6).
func checkPKCEVerifier(rec *codeRecord, verifier string) *oauthError {
	if verifier == "" {
		return errInvalidGrant("code_verifier is required")
	}
	if !pkceValue.MatchString(verifier) {
		return errInvalidGrant("code_verifier is malformed")
	}
	sum := sha256.Sum256([]byte(verifier))
	if base64.RawURLEncoding.EncodeToString(sum[:]) != rec.CodeChallenge {
		return errInvalidGrant("code_verifier does not match the code_challenge")
	}
	return nil
}

// checkCodeDPoPBinding: a code bound at PAR or by dpop_jkt is redeemed
// with a proof of the same key (RFC 9449 §10).
func checkCodeDPoPBinding(rec *codeRecord, proof *dpop.Proof) *oauthError {
	if rec.DPoPJKT == "" {
		return nil
	}
	if proof == nil || proof.JKT != rec.DPoPJKT {
		return errInvalidGrant("the code is bound to another DPoP key")
	}
	return nil
}

// refreshGrant rotates a refresh token (RFC 6749 §6, RFC 9700 §4.14.2):
// the old one stops working, and presenting it again revokes the grant.
func (p *Provider) refreshGrant(ctx context.Context, st *state, c *client, form url.Values, proof *dpop.Proof) (*tokenResponse, *oauthError) {
	rt := form.Get("refresh_token")
	if rt == "" {
		return nil, errInvalidRequest("refresh_token is required")
	}
	key := storeKey(rt)
	rec, err := getJSON[tokenRecord](ctx, p.store, store.KindRefreshToken, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, p.refreshReplayed(ctx, key)
	}
	if err != nil {
		p.log.Error("store failed", "op", "get refresh token", "error", err)
		return nil, errUnavailable("the session store is unavailable")
	}
	now := p.now()
	if err := checkIssuedToClient(&rec.grantInfo, c); err != nil {
		return nil, err
	}
	if now.Unix() >= rec.ExpiresAt {
		return nil, errInvalidGrant("the refresh token has expired")
	}
	grant, err := getJSON[grantRecord](ctx, p.store, store.KindGrant, rec.GrantID)
	if err != nil || grant.Revoked {
		return nil, errInvalidGrant("the grant was revoked")
	}
	info := rec.grantInfo
	scope, serr := narrowScope(info.Scope, form.Get("scope"))
	if serr != nil {
		return nil, serr
	}
	info.Scope = scope
	released, oerr := p.idTokenClaims(ctx, st, c, &info, now)
	if oerr != nil {
		return nil, oerr
	}
	if _, err := p.store.Take(ctx, store.KindRefreshToken, key); err != nil {
		return nil, p.refreshReplayed(ctx, key)
	}
	if err := p.store.Put(ctx, store.KindGrant, "rt:"+key, []byte(rec.GrantID), remaining(rec.ExpiresAt, now)); err != nil {
		p.log.Error("store failed", "op", "put refresh marker", "error", err)
	}
	return p.issueTokens(ctx, st, c, &info, grant, "", proof, released, rec.ExpiresAt, now)
}

// refreshReplayed answers a refresh token that is not there: a rotated one
// presented again means it leaked, so its grant is revoked.
func (p *Provider) refreshReplayed(ctx context.Context, key string) *oauthError {
	if gid, err := p.store.Get(ctx, store.KindGrant, "rt:"+key); err == nil {
		p.revokeGrant(ctx, string(gid))
		p.log.Warn("rotated refresh token replayed; its grant is revoked")
		return errInvalidGrant("the refresh token was already used")
	}
	return errInvalidGrant("the refresh token is invalid or expired")
}

// narrowScope: a refresh may ask for less than was granted, never more.
func narrowScope(granted, asked string) (string, *oauthError) {
	if asked == "" {
		return granted, nil
	}
	g := strings.Fields(granted)
	var out []string
	for _, s := range strings.Fields(asked) {
		if !slices.Contains(g, s) {
			return "", errInvalidScope("scope " + sanitize(s) + " was not granted")
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return strings.Join(out, " "), nil
}

// issuesRefreshToken: refresh tokens go to clients registered for the
// refresh_token grant whose granted scope has offline_access.
func issuesRefreshToken(c *client, scope string) bool {
	return slices.Contains(c.GrantTypes, "refresh_token") && slices.Contains(strings.Fields(scope), "offline_access")
}

// grantLifetime is how long a grant's tokens can live.
func (p *Provider) grantLifetime(st *state, c *client, g *grantInfo) time.Duration {
	t := st.provider.Tokens
	if issuesRefreshToken(c, g.Scope) {
		return max(t.RefreshToken.Duration, t.AccessToken.Duration)
	}
	return t.AccessToken.Duration
}

// issueTokens signs the ID token and stores the access token, the refresh
// token and the grant's list of both.
func (p *Provider) issueTokens(ctx context.Context, st *state, c *client, info *grantInfo, grant *grantRecord, nonce string, proof *dpop.Proof, released *ida.Result, refreshExp int64, now time.Time) (*tokenResponse, *oauthError) {
	t := st.provider.Tokens
	resp := &tokenResponse{
		AccessToken: randomToken(), TokenType: "Bearer",
		ExpiresIn: int64(t.AccessToken.Duration / time.Second), Scope: info.Scope,
	}
	at := tokenRecord{grantInfo: *info, ExpiresAt: now.Add(t.AccessToken.Duration).Unix()}
	if proof != nil {
		at.JKT, resp.TokenType = proof.JKT, "DPoP"
	}
	if slices.Contains(strings.Fields(info.Scope), "openid") {
		var claims map[string]json.RawMessage
		if released != nil {
			claims = released.IDToken
		}
		idt, err := p.signIDToken(st, c, info, nonce, resp.AccessToken, claims, now)
		if err != nil {
			p.log.Error("signing the ID token failed", "client_id", c.ClientID, "error", err)
			return nil, errServer("signing the ID token failed")
		}
		resp.IDToken = idt
	}
	atKey := storeKey(resp.AccessToken)
	grant.Tokens = append(grant.Tokens, tokenRef{Kind: store.KindAccessToken, Key: atKey})
	if err := putJSON(ctx, p.store, store.KindAccessToken, atKey, &at, t.AccessToken.Duration); err != nil {
		p.log.Error("store failed", "op", "put access token", "error", err)
		return nil, errUnavailable("the session store is unavailable")
	}
	if issuesRefreshToken(c, info.Scope) && refreshExp > now.Unix() {
		resp.RefreshToken = randomToken()
		rtKey := storeKey(resp.RefreshToken)
		rt := tokenRecord{grantInfo: *info, ExpiresAt: refreshExp}
		grant.Tokens = append(grant.Tokens, tokenRef{Kind: store.KindRefreshToken, Key: rtKey})
		if err := putJSON(ctx, p.store, store.KindRefreshToken, rtKey, &rt, remaining(refreshExp, now)); err != nil {
			p.log.Error("store failed", "op", "put refresh token", "error", err)
			return nil, errUnavailable("the session store is unavailable")
		}
	}
	grant.Tokens = pruneTokenRefs(grant.Tokens)
	if err := putJSON(ctx, p.store, store.KindGrant, info.GrantID, grant, remaining(grant.ExpiresAt, now)); err != nil {
		p.log.Error("store failed", "op", "put grant", "error", err)
	}
	p.metrics.tokenIssued("access_token")
	if resp.RefreshToken != "" {
		p.metrics.tokenIssued("refresh_token")
	}
	if resp.IDToken != "" {
		p.metrics.tokenIssued("id_token")
		if released != nil {
			p.auditRelease(c, info, "id_token", released.IDTokenReleases)
		}
	}
	return resp, nil
}

// pruneTokenRefs keeps a grant's list bounded: a long-lived grant refreshed
// often would otherwise grow without end; the oldest entries have expired.
func pruneTokenRefs(refs []tokenRef) []tokenRef {
	const maxRefs = 64
	if len(refs) > maxRefs {
		return refs[len(refs)-maxRefs:]
	}
	return refs
}

// revokeGrant deletes every token of a grant and marks it revoked.
func (p *Provider) revokeGrant(ctx context.Context, grantID string) {
	g, err := getJSON[grantRecord](ctx, p.store, store.KindGrant, grantID)
	if err != nil {
		return
	}
	for _, t := range g.Tokens {
		_ = p.store.Delete(ctx, t.Kind, t.Key)
	}
	g.Revoked, g.Tokens = true, nil
	_ = putJSON(ctx, p.store, store.KindGrant, grantID, g, remaining(g.ExpiresAt, p.now()))
}

// idTokenClaims evaluates what the claims request releases into the ID
// token. Only a request with an id_token member needs the user's data.
func (p *Provider) idTokenClaims(ctx context.Context, st *state, c *client, g *grantInfo, now time.Time) (*ida.Result, *oauthError) {
	cc := p.compileClaims(c, g.Claims, g.Scope, g.integrityProtected())
	if !cc.asksIDToken {
		return nil, nil
	}
	if cc.err != nil {
		return nil, errInvalidGrant("the claims request is no longer valid for the client")
	}
	req := cc.req
	u, oerr := p.lookupUser(ctx, g.Subject)
	if oerr != nil {
		return nil, oerr
	}
	ds, err := p.dataset(u)
	if err != nil {
		p.log.Error("user dataset is invalid", "error", err)
		return nil, errServer("the user's data is invalid")
	}
	return c.engine.EvaluateFor(req, ds, now, ida.TargetIDToken), nil
}

// lookupUser finds the grant's user; an unavailable source is
// temporarily_unavailable, a vanished user invalid_grant.
func (p *Provider) lookupUser(ctx context.Context, subject string) (*users.User, *oauthError) {
	src := p.userSource()
	if src == nil {
		return nil, errUnavailable("no user source is configured")
	}
	u, err := src.Lookup(ctx, subject)
	switch {
	case errors.Is(err, users.ErrNotFound):
		return nil, errInvalidGrant("the user no longer exists")
	case err != nil:
		p.log.Warn("user source failed", "op", "lookup", "error", err)
		return nil, errUnavailable("the user source is unavailable")
	}
	return u, nil
}

func datasetOf(u *users.User) []byte {
	if len(u.Dataset) == 0 {
		return []byte("{}")
	}
	return u.Dataset
}

// asksIDTokenClaims: the claims request has an id_token member.
func asksIDTokenClaims(claims string) bool {
	if claims == "" {
		return false
	}
	var v struct {
		IDToken json.RawMessage `json:"id_token"`
	}
	return json.Unmarshal([]byte(claims), &v) == nil && len(v.IDToken) > 0 && string(v.IDToken) != "null"
}
