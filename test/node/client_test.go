//go:build nodee2e

package node

import (
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

// goRP is a small Go relying party for what needs no browser: an
// authorization request riding on a signed-in session (prompt=none), the
// token endpoint with client_secret_basic, UserInfo. Each call can go to a
// different base URL (the Service's relay or one pod's), with the issuer's
// paths; connections are never reused, so each request is a new connection.
type goRP struct {
	issuer, clientID, secret, redirectURI, scope, claims string
	session                                              *http.Cookie
	hc                                                   *http.Client
}

func newGoRP(issuer, clientID, secret, redirectURI, scope, claims string) *goRP {
	return &goRP{issuer: issuer, clientID: clientID, secret: secret, redirectURI: redirectURI, scope: scope, claims: claims,
		hc: &http.Client{
			Timeout:       10 * time.Second,
			Transport:     &http.Transport{DisableKeepAlives: true},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}}
}

// at rewrites an issuer URL to go to base instead.
func (c *goRP) at(base, path string) string {
	if base == "" {
		base = c.issuer
	}
	return strings.TrimSuffix(base, "/") + path
}

type authzRequest struct {
	state, nonce, verifier string
	params                 url.Values
}

func (c *goRP) newRequest(prompt string) *authzRequest {
	r := &authzRequest{state: randomString(), nonce: randomString(), verifier: randomString() + randomString()}
	sum := sha256.Sum256([]byte(r.verifier))
	r.params = url.Values{
		"response_type": {"code"}, "client_id": {c.clientID}, "redirect_uri": {c.redirectURI},
		"scope": {c.scope}, "state": {r.state}, "nonce": {r.nonce},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}
	if c.claims != "" {
		r.params.Set("claims", c.claims)
	}
	if prompt != "" {
		r.params.Set("prompt", prompt)
	}
	r.params.Set("purpose", purpose)
	return r
}

// authorizationURL is the URL a browser follows.
func (c *goRP) authorizationURL(r *authzRequest) string {
	return c.at("", "/authorize") + "?" + r.params.Encode()
}

// codeWithSession asks base for a code with the session cookie and
// prompt=none: it works only while the session is known there.
func (c *goRP) codeWithSession(base string) (string, *authzRequest, error) {
	r := c.newRequest("none")
	req, err := http.NewRequest(http.MethodGet, c.at(base, "/authorize")+"?"+r.params.Encode(), nil)
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
		return "", nil, fmt.Errorf("authorize at %s: %s, Location %q, body %.300s", base, resp.Status, loc, body)
	}
	u, err := url.Parse(loc)
	if err != nil {
		return "", nil, err
	}
	return c.codeFrom(u, r)
}

// codeFrom checks an authorization response and returns its code.
func (c *goRP) codeFrom(u *url.URL, r *authzRequest) (string, *authzRequest, error) {
	q := u.Query()
	if e := q.Get("error"); e != "" {
		return "", nil, fmt.Errorf("authorize: %s: %s", e, q.Get("error_description"))
	}
	if q.Get("state") != r.state || q.Get("iss") != c.issuer || q.Get("code") == "" {
		return "", nil, fmt.Errorf("authorize: bad response %s", u)
	}
	return q.Get("code"), r, nil
}

type tokens struct {
	AccessToken  string `json:"access_token"`
	IDToken      string `json:"id_token"`
	RefreshToken string `json:"refresh_token"`
}

// oauthError is an error response of the token endpoint.
type oauthError struct {
	Status      int
	Code        string `json:"error"`
	Description string `json:"error_description"`
}

func (e *oauthError) Error() string {
	return fmt.Sprintf("HTTP %d %s: %s", e.Status, e.Code, e.Description)
}

func (c *goRP) token(base string, form url.Values) (*tokens, error) {
	req, err := http.NewRequest(http.MethodPost, c.at(base, "/token"), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(c.clientID), url.QueryEscape(c.secret))
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		oe := &oauthError{Status: resp.StatusCode}
		if json.Unmarshal(body, oe) != nil || oe.Code == "" {
			oe.Description = fmt.Sprintf("%.300s", body)
		}
		return nil, oe
	}
	var tr tokens
	if err := json.Unmarshal(body, &tr); err != nil {
		return nil, err
	}
	if tr.IDToken == "" || tr.AccessToken == "" {
		return nil, fmt.Errorf("the token response lacks an id_token or access_token: %.300s", body)
	}
	return &tr, nil
}

func (c *goRP) exchange(base, code string, r *authzRequest) (*tokens, error) {
	return c.token(base, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {c.redirectURI}, "code_verifier": {r.verifier}})
}

func (c *goRP) userinfo(base, accessToken string) (map[string]any, error) {
	req, err := http.NewRequest(http.MethodGet, c.at(base, "/userinfo"), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("userinfo at %s: %s: %.300s", base, resp.Status, body)
	}
	var ui map[string]any
	return ui, json.Unmarshal(body, &ui)
}
