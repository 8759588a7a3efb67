package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// target is one provider under load, as the load client sees it.
type target struct {
	Name         string
	Base         string // http://127.0.0.1:PORT (always loopback)
	DiscoveryURL string
	Authz        string
	Token        string
	UserInfo     string
	JWKS         string
	PAR          string // "" when the provider has no PAR
	Introspect   string // "" when it has no introspection endpoint

	ClientID, Secret, RedirectURI, Scope string
	Extra                                url.Values // claims, purpose
	Verifier, Challenge                  string
	SessionCookie                        string // Cookie header of a signed-in, consented browser

	PID int

	// mint returns a fresh authorization code.
	mint func(ctx context.Context, hc *http.Client) (string, error)
	// flow is false when the provider cannot do PAR + authorize with an
	// existing session; skipped says why per endpoint.
	flow    bool
	skipped map[string]string
	// standard, when set, is the same client asking for standard claims
	// only (no claims parameter): its UserInfo answers are the same kind
	// of work as the peers' answers.
	standard *target
	// jwtTokens, when set, is a client whose access tokens are JWTs.
	jwtTokens *target
}

func newHTTPClient(conns int) *http.Client {
	return &http.Client{
		Timeout: 15 * time.Second,
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        conns * 2,
			MaxIdleConnsPerHost: conns * 2,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func randomString() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func pkcePair() (verifier, challenge string) {
	b := make([]byte, 32)
	rand.Read(b)
	verifier = base64.RawURLEncoding.EncodeToString(b)
	s := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(s[:])
}

// discover reads the discovery document and points every endpoint at the
// target's own loopback address (the zitadel example says localhost).
func (t *target) discover(ctx context.Context, hc *http.Client) error {
	body, _, err := t.do(ctx, hc, http.MethodGet, t.DiscoveryURL, nil, nil, http.StatusOK)
	if err != nil {
		return fmt.Errorf("discovery: %w", err)
	}
	var d struct {
		Authz    string `json:"authorization_endpoint"`
		Token    string `json:"token_endpoint"`
		UserInfo string `json:"userinfo_endpoint"`
		JWKS     string `json:"jwks_uri"`
		PAR      string `json:"pushed_authorization_request_endpoint"`
		Intro    string `json:"introspection_endpoint"`
	}
	if err := json.Unmarshal(body, &d); err != nil {
		return fmt.Errorf("discovery: %w", err)
	}
	base, _ := url.Parse(t.Base)
	fix := func(s string) string {
		if s == "" {
			return ""
		}
		u, err := url.Parse(s)
		if err != nil {
			return ""
		}
		u.Scheme, u.Host = base.Scheme, base.Host
		return u.String()
	}
	t.Authz, t.Token, t.UserInfo, t.JWKS, t.PAR = fix(d.Authz), fix(d.Token), fix(d.UserInfo), fix(d.JWKS), fix(d.PAR)
	t.Introspect = fix(d.Intro)
	if t.Authz == "" || t.Token == "" || t.UserInfo == "" || t.JWKS == "" {
		return fmt.Errorf("discovery lacks an endpoint: %+v", d)
	}
	return nil
}

// do sends one request and wants one of the statuses.
func (t *target) do(ctx context.Context, hc *http.Client, method, u string, form url.Values, hdr http.Header, want ...int) ([]byte, *http.Response, error) {
	if err := mustLoopback(u); err != nil {
		return nil, nil, err
	}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, nil, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, err
	}
	for _, w := range want {
		if resp.StatusCode == w {
			return b, resp, nil
		}
	}
	return b, resp, fmt.Errorf("%s %s: status %d: %.300s", method, u, resp.StatusCode, b)
}

// mustLoopback refuses any address that is not on this machine's loopback.
func mustLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	ip := net.ParseIP(u.Hostname())
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("refusing a non-loopback target %q", raw)
	}
	return nil
}

func (t *target) basicAuth() http.Header {
	h := http.Header{}
	h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(t.ClientID)+":"+url.QueryEscape(t.Secret))))
	return h
}

// authParams are the authorization request's parameters.
func (t *target) authParams() url.Values {
	v := url.Values{
		"response_type":         {"code"},
		"client_id":             {t.ClientID},
		"redirect_uri":          {t.RedirectURI},
		"scope":                 {t.Scope},
		"state":                 {randomString()},
		"nonce":                 {randomString()},
		"code_challenge":        {t.Challenge},
		"code_challenge_method": {"S256"},
	}
	for k, vs := range t.Extra {
		v[k] = vs
	}
	return v
}

func (t *target) parForm() url.Values { return t.authParams() }

// par pushes an authorization request and returns its request_uri.
func (t *target) par(ctx context.Context, hc *http.Client) (string, error) {
	b, _, err := t.do(ctx, hc, http.MethodPost, t.PAR, t.parForm(), t.basicAuth(), http.StatusCreated)
	if err != nil {
		return "", err
	}
	var r struct {
		RequestURI string `json:"request_uri"`
	}
	if err := json.Unmarshal(b, &r); err != nil || r.RequestURI == "" {
		return "", fmt.Errorf("PAR answer without request_uri: %.200s", b)
	}
	return r.RequestURI, nil
}

func (t *target) authorizeURL(requestURI string) string {
	return t.Authz + "?" + url.Values{"client_id": {t.ClientID}, "request_uri": {requestURI}}.Encode()
}

// authorize sends the browser (its session cookie) to the authorization
// endpoint with a pushed request and reads the code from the redirect.
func (t *target) authorize(ctx context.Context, hc *http.Client, requestURI string) (string, error) {
	h := http.Header{}
	h.Set("Cookie", t.SessionCookie)
	b, resp, err := t.do(ctx, hc, http.MethodGet, t.authorizeURL(requestURI), nil, h, http.StatusFound, http.StatusSeeOther)
	if err != nil {
		return "", err
	}
	return t.codeFrom(resp.Header.Get("Location"), b)
}

func (t *target) codeFrom(location string, body []byte) (string, error) {
	if !strings.HasPrefix(location, t.RedirectURI) {
		return "", fmt.Errorf("redirect to %q, not to the client: %.200s", location, body)
	}
	u, err := url.Parse(location)
	if err != nil {
		return "", err
	}
	code := u.Query().Get("code")
	if code == "" {
		return "", fmt.Errorf("no code in %s", location)
	}
	return code, nil
}

// mintWithSession: PAR, then authorize with the signed-in session.
func (t *target) mintWithSession(ctx context.Context, hc *http.Client) (string, error) {
	ru, err := t.par(ctx, hc)
	if err != nil {
		return "", err
	}
	return t.authorize(ctx, hc, ru)
}

func (t *target) codeForm(code string) url.Values {
	return url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {t.RedirectURI},
		"code_verifier": {t.Verifier},
	}
}

func refreshForm(rt string) url.Values {
	return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
}

type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token"`
}

func (t *target) redeem(ctx context.Context, hc *http.Client, code string) (*tokenResponse, error) {
	b, _, err := t.do(ctx, hc, http.MethodPost, t.Token, t.codeForm(code), t.basicAuth(), http.StatusOK)
	if err != nil {
		return nil, err
	}
	var tr tokenResponse
	if err := json.Unmarshal(b, &tr); err != nil || tr.AccessToken == "" {
		return nil, fmt.Errorf("token answer without access_token: %.200s", b)
	}
	return &tr, nil
}

// accessTokens mints and redeems n codes and returns their access tokens.
func (t *target) accessTokens(ctx context.Context, hc *http.Client, conc, n int) ([]string, error) {
	out := make([]string, n)
	st, _ := loop(ctx, conc, time.Minute, n, func(i int) error {
		tr, err := t.tokens(ctx, hc)
		if err != nil {
			return err
		}
		out[i] = tr.AccessToken
		return nil
	})
	if st.errs > 0 {
		return nil, fmt.Errorf("%d of %d failed: %s", st.errs, n, st.firstErr)
	}
	return out, nil
}

func bearer(at string) http.Header {
	h := http.Header{}
	h.Set("Authorization", "Bearer "+at)
	return h
}

func (t *target) userinfo(ctx context.Context, hc *http.Client, at string) ([]byte, error) {
	b, _, err := t.do(ctx, hc, http.MethodGet, t.UserInfo, nil, bearer(at), http.StatusOK)
	return b, err
}

// completeFlow is one relying party's code flow with a signed-in user:
// PAR, authorize (session cookie, no page), token, UserInfo.
func (t *target) completeFlow(ctx context.Context, hc *http.Client) error {
	tr, err := t.tokens(ctx, hc)
	if err != nil {
		return err
	}
	_, err = t.userinfo(ctx, hc, tr.AccessToken)
	return err
}

// tokens mints a code and redeems it.
func (t *target) tokens(ctx context.Context, hc *http.Client) (*tokenResponse, error) {
	code, err := t.mint(ctx, hc)
	if err != nil {
		return nil, err
	}
	return t.redeem(ctx, hc, code)
}

var (
	formActionRE  = regexp.MustCompile(`<form[^>]*\saction="([^"]+)"`)
	hiddenInputRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)"`)
)

// signIn walks the provider's own sign-in and consent pages once with a
// cookie jar (both ida-operator's forms and oidc-provider's development
// interactions), then keeps the session cookie for the load.
func (t *target) signIn(ctx context.Context, username, password string) error {
	jar, _ := cookiejar.New(nil)
	base, _ := url.Parse(t.Base)
	hc := &http.Client{
		Jar: jar, Timeout: 15 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Host != base.Host || len(via) > 10 {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
	ru, err := t.par(ctx, hc)
	if err != nil {
		return err
	}
	body, resp, err := t.do(ctx, hc, http.MethodGet, t.authorizeURL(ru), nil, nil, http.StatusOK, http.StatusFound, http.StatusSeeOther)
	for step := 0; ; step++ {
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			if _, err := t.codeFrom(resp.Header.Get("Location"), body); err != nil {
				return err
			}
			break
		}
		if step == 5 {
			return errors.New("sign-in did not end after 5 pages")
		}
		page := string(body)
		act := formActionRE.FindStringSubmatch(page)
		if act == nil {
			return fmt.Errorf("no form on %s: %.500s", resp.Request.URL, page)
		}
		fields := url.Values{}
		for _, m := range hiddenInputRE.FindAllStringSubmatch(page, -1) {
			fields.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
		}
		switch {
		case strings.Contains(page, `name="username"`):
			fields.Set("username", username)
			fields.Set("password", password)
		case strings.Contains(page, `name="login"`):
			fields.Set("login", username)
			fields.Set("password", password)
		case strings.Contains(page, `name="decision"`):
			fields.Set("decision", "approve")
		}
		target, err2 := resp.Request.URL.Parse(html.UnescapeString(act[1]))
		if err2 != nil {
			return err2
		}
		body, resp, err = t.do(ctx, hc, http.MethodPost, target.String(), fields, nil, http.StatusOK, http.StatusFound, http.StatusSeeOther)
	}
	var parts []string
	for _, c := range jar.Cookies(base.JoinPath("/")) {
		parts = append(parts, c.Name+"="+c.Value)
	}
	if len(parts) == 0 {
		return errors.New("no session cookie after sign-in")
	}
	t.SessionCookie = strings.Join(parts, "; ")
	return nil
}

// introspect asks about one of the client's access tokens and wants it
// active, so that a peer answering active: false (less work) is caught.
func (t *target) introspect(ctx context.Context, hc *http.Client, at string) error {
	b, _, err := t.do(ctx, hc, http.MethodPost, t.Introspect, url.Values{"token": {at}}, t.basicAuth(), http.StatusOK)
	if err != nil {
		return err
	}
	var r struct {
		Active bool `json:"active"`
	}
	if err := json.Unmarshal(b, &r); err != nil || !r.Active {
		return fmt.Errorf("introspection of a live token: %.300s", b)
	}
	return nil
}
