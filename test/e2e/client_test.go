package e2e

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// oidcClient is a plain Go relying party: authorization requests that ride
// on a signed-in user's session cookie (no browser, prompt=none), the token
// endpoint with client_secret_basic, UserInfo and PAR.
type oidcClient struct {
	issuer, clientID, secret, redirectURI string
	scope, claims, purpose                string
	session                               *http.Cookie
	endpoints                             struct {
		Authorization string `json:"authorization_endpoint"`
		Token         string `json:"token_endpoint"`
		UserInfo      string `json:"userinfo_endpoint"`
		PAR           string `json:"pushed_authorization_request_endpoint"`
		JWKS          string `json:"jwks_uri"`
	}
	hc *http.Client
}

func newOIDCClient(issuer, clientID, secret, redirectURI string) (*oidcClient, error) {
	c := &oidcClient{
		issuer: issuer, clientID: clientID, secret: secret, redirectURI: redirectURI,
		hc: &http.Client{
			Timeout: 10 * time.Second,
			// The redirect to the relying party is the answer.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	doc, err := c.discovery()
	if err != nil {
		return nil, err
	}
	raw, _ := json.Marshal(doc)
	if err := json.Unmarshal(raw, &c.endpoints); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *oidcClient) discovery() (map[string]any, error) {
	var doc map[string]any
	_, err := c.getJSON(strings.TrimSuffix(c.issuer, "/")+"/.well-known/openid-configuration", "", &doc)
	return doc, err
}

func (c *oidcClient) getJSON(u, bearer string, into any) (int, error) {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, fmt.Errorf("GET %s: %s: %.300s", u, resp.Status, body)
	}
	return resp.StatusCode, json.Unmarshal(body, into)
}

func randomString() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// pending is an authorization request in flight.
type pending struct {
	state, nonce, verifier string
	params                 url.Values
}

func (c *oidcClient) newRequest(prompt string) *pending {
	p := &pending{state: randomString(), nonce: randomString(), verifier: randomString() + randomString()}
	sum := sha256.Sum256([]byte(p.verifier))
	p.params = url.Values{
		"response_type": {"code"}, "client_id": {c.clientID}, "redirect_uri": {c.redirectURI},
		"scope": {c.scope}, "state": {p.state}, "nonce": {p.nonce},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}
	if c.claims != "" {
		p.params.Set("claims", c.claims)
	}
	if c.purpose != "" {
		p.params.Set("purpose", c.purpose)
	}
	if prompt != "" {
		p.params.Set("prompt", prompt)
	}
	return p
}

// codeWithSession asks for a code with the session cookie and prompt=none:
// it succeeds only if the user is signed in and has consented to exactly
// this client, scope, claims and purpose.
func (c *oidcClient) codeWithSession() (string, *pending, error) {
	p := c.newRequest("none")
	req, err := http.NewRequest(http.MethodGet, c.endpoints.Authorization+"?"+p.params.Encode(), nil)
	if err != nil {
		return "", nil, err
	}
	if c.session != nil {
		req.AddCookie(c.session)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return "", nil, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode < 300 || resp.StatusCode > 399 || !strings.HasPrefix(loc, c.redirectURI) {
		return "", nil, fmt.Errorf("authorize: %s, Location %q, body %.300s", resp.Status, loc, body)
	}
	u, err := url.Parse(loc)
	if err != nil {
		return "", nil, err
	}
	q := u.Query()
	if e := q.Get("error"); e != "" {
		return "", nil, fmt.Errorf("authorize: %s: %s", e, q.Get("error_description"))
	}
	if q.Get("state") != p.state || q.Get("iss") != c.issuer || q.Get("code") == "" {
		return "", nil, fmt.Errorf("authorize: bad response %s", loc)
	}
	return q.Get("code"), p, nil
}

type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	IDToken      string `json:"id_token"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
}

// oauthError is an error response of the token or PAR endpoint.
type oauthError struct {
	Status      int
	Code        string `json:"error"`
	Description string `json:"error_description"`
}

func (e *oauthError) Error() string {
	return fmt.Sprintf("HTTP %d %s: %s", e.Status, e.Code, e.Description)
}

func (c *oidcClient) post(endpoint string, form url.Values, into any) error {
	req, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(c.clientID), url.QueryEscape(c.secret))
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		oe := &oauthError{Status: resp.StatusCode}
		if json.Unmarshal(body, oe) != nil || oe.Code == "" {
			oe.Description = fmt.Sprintf("%.300s", body)
		}
		return oe
	}
	return json.Unmarshal(body, into)
}

func (c *oidcClient) exchange(code string, p *pending) (*tokenResponse, error) {
	var tr tokenResponse
	err := c.post(c.endpoints.Token, url.Values{
		"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {c.redirectURI}, "code_verifier": {p.verifier},
	}, &tr)
	if err != nil {
		return nil, err
	}
	if tr.IDToken == "" {
		return nil, fmt.Errorf("the token response has no id_token")
	}
	return &tr, nil
}

func (c *oidcClient) refresh(rt string) (*tokenResponse, error) {
	var tr tokenResponse
	if err := c.post(c.endpoints.Token, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, &tr); err != nil {
		return nil, err
	}
	if tr.IDToken == "" || tr.RefreshToken == "" {
		return nil, fmt.Errorf("the refresh response lacks an id_token or a new refresh_token")
	}
	return &tr, nil
}

// par pushes an authorization request (RFC 9126) and returns the URL that
// sends the browser to the provider with it.
func (c *oidcClient) par(p *pending) (string, error) {
	var out struct {
		RequestURI string `json:"request_uri"`
	}
	if err := c.post(c.endpoints.PAR, p.params, &out); err != nil {
		return "", err
	}
	return c.endpoints.Authorization + "?" + url.Values{"client_id": {c.clientID}, "request_uri": {out.RequestURI}}.Encode(), nil
}

func (c *oidcClient) userinfo(at string) (map[string]any, error) {
	var ui map[string]any
	_, err := c.getJSON(c.endpoints.UserInfo, at, &ui)
	return ui, err
}
