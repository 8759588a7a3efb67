package rptest

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

// Client is a plain Go relying party for what needs no browser:
// authorization requests that ride on a signed-in user's session cookie
// (prompt=none), the token endpoint with client_secret_basic, UserInfo and
// PAR. Its endpoints are the issuer's paths until Discover reads them from
// the discovery document; At sends its requests to another base URL.
type Client struct {
	Issuer, ClientID, Secret, RedirectURI string
	// Scope, Claims (a claims request, JSON) and Purpose go into every
	// authorization request; empty Claims and Purpose are left out.
	Scope, Claims, Purpose string
	// Session is the provider's session cookie, sent with CodeWithSession.
	Session   *http.Cookie
	Endpoints Endpoints
	// HTTP follows no redirects: the redirect to the relying party is the
	// answer.
	HTTP *http.Client
}

// Endpoints are the provider's, as discovery names them.
type Endpoints struct {
	Authorization string `json:"authorization_endpoint"`
	Token         string `json:"token_endpoint"`
	UserInfo      string `json:"userinfo_endpoint"`
	PAR           string `json:"pushed_authorization_request_endpoint"`
	JWKS          string `json:"jwks_uri"`
}

// NewClient is a client of issuer with the endpoints at the runtime's paths
// below the issuer.
func NewClient(issuer, clientID, secret, redirectURI string) *Client {
	base := strings.TrimSuffix(issuer, "/")
	return &Client{
		Issuer: issuer, ClientID: clientID, Secret: secret, RedirectURI: redirectURI,
		Endpoints: Endpoints{
			Authorization: base + "/authorize",
			Token:         base + "/token",
			UserInfo:      base + "/userinfo",
			PAR:           base + "/par",
			JWKS:          base + "/jwks",
		},
		HTTP: &http.Client{
			Timeout:       10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// Discover sets the endpoints from the issuer's discovery document.
func (c *Client) Discover() error {
	var doc map[string]any
	if _, err := c.getJSON(strings.TrimSuffix(c.Issuer, "/")+"/.well-known/openid-configuration", "", &doc); err != nil {
		return err
	}
	raw, _ := json.Marshal(doc)
	return json.Unmarshal(raw, &c.Endpoints)
}

// At is a copy of c that sends its requests to base (a relay to one pod,
// say) instead of the issuer, at the same paths; the issuer it expects in
// responses stays the same. An empty base is c itself.
func (c *Client) At(base string) *Client {
	if base == "" {
		return c
	}
	from, to := strings.TrimSuffix(c.Issuer, "/"), strings.TrimSuffix(base, "/")
	move := func(u string) string {
		if rest, ok := strings.CutPrefix(u, from); ok {
			return to + rest
		}
		return u
	}
	cp := *c
	cp.Endpoints = Endpoints{
		Authorization: move(c.Endpoints.Authorization),
		Token:         move(c.Endpoints.Token),
		UserInfo:      move(c.Endpoints.UserInfo),
		PAR:           move(c.Endpoints.PAR),
		JWKS:          move(c.Endpoints.JWKS),
	}
	return &cp
}

func (c *Client) getJSON(u, bearer string, into any) (int, error) {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := c.HTTP.Do(req)
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

// RandomString is 24 random bytes, base64url.
func RandomString() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// AuthRequest is an authorization request in flight.
type AuthRequest struct {
	State, Nonce, Verifier string
	Params                 url.Values
}

// NewRequest is an authorization request with PKCE (S256), a fresh state
// and nonce, and prompt unless it is empty.
func (c *Client) NewRequest(prompt string) *AuthRequest {
	r := &AuthRequest{State: RandomString(), Nonce: RandomString(), Verifier: RandomString() + RandomString()}
	sum := sha256.Sum256([]byte(r.Verifier))
	r.Params = url.Values{
		"response_type": {"code"}, "client_id": {c.ClientID}, "redirect_uri": {c.RedirectURI},
		"scope": {c.Scope}, "state": {r.State}, "nonce": {r.Nonce},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}
	if c.Claims != "" {
		r.Params.Set("claims", c.Claims)
	}
	if c.Purpose != "" {
		r.Params.Set("purpose", c.Purpose)
	}
	if prompt != "" {
		r.Params.Set("prompt", prompt)
	}
	return r
}

// AuthorizationURL is the URL a browser follows for r.
func (c *Client) AuthorizationURL(r *AuthRequest) string {
	return c.Endpoints.Authorization + "?" + r.Params.Encode()
}

// CodeWithSession asks for a code with the session cookie and prompt=none:
// it succeeds only if the user is signed in (and the session is known
// where the request goes) and has consented to exactly this client, scope,
// claims and purpose.
func (c *Client) CodeWithSession() (string, *AuthRequest, error) {
	r := c.NewRequest("none")
	req, err := http.NewRequest(http.MethodGet, c.AuthorizationURL(r), nil)
	if err != nil {
		return "", nil, err
	}
	if c.Session != nil {
		req.AddCookie(c.Session)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return "", nil, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode < 300 || resp.StatusCode > 399 || !strings.HasPrefix(loc, c.RedirectURI) {
		return "", nil, fmt.Errorf("authorize at %s: %s, Location %q, body %.300s", c.Endpoints.Authorization, resp.Status, loc, body)
	}
	u, err := url.Parse(loc)
	if err != nil {
		return "", nil, err
	}
	code, err := c.CodeFrom(u, r)
	if err != nil {
		return "", nil, err
	}
	return code, r, nil
}

// CodeFrom checks the authorization response u to r (no error, r's state,
// the issuer, a code) and returns its code.
func (c *Client) CodeFrom(u *url.URL, r *AuthRequest) (string, error) {
	q := u.Query()
	if e := q.Get("error"); e != "" {
		return "", fmt.Errorf("authorize: %s: %s", e, q.Get("error_description"))
	}
	if q.Get("state") != r.State || q.Get("iss") != c.Issuer || q.Get("code") == "" {
		return "", fmt.Errorf("authorize: bad response %s", u)
	}
	return q.Get("code"), nil
}

// Tokens is a token response.
type Tokens struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	IDToken      string `json:"id_token"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
}

// OAuthError is an error response of the token or PAR endpoint.
type OAuthError struct {
	Status      int
	Code        string `json:"error"`
	Description string `json:"error_description"`
}

func (e *OAuthError) Error() string {
	return fmt.Sprintf("HTTP %d %s: %s", e.Status, e.Code, e.Description)
}

// post sends form with client_secret_basic; an error response is an
// *OAuthError. It returns the body of a success.
func (c *Client) post(endpoint string, form url.Values, into any) ([]byte, error) {
	req, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(c.ClientID), url.QueryEscape(c.Secret))
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		oe := &OAuthError{Status: resp.StatusCode}
		if json.Unmarshal(body, oe) != nil || oe.Code == "" {
			oe.Description = fmt.Sprintf("%.300s", body)
		}
		return nil, oe
	}
	return body, json.Unmarshal(body, into)
}

// Token posts form to the token endpoint and checks no more than that the
// answer is a success.
func (c *Client) Token(form url.Values) (*Tokens, error) {
	var tr Tokens
	if _, err := c.post(c.Endpoints.Token, form, &tr); err != nil {
		return nil, err
	}
	return &tr, nil
}

// Exchange redeems a code of r; the response must hold an ID token and an
// access token.
func (c *Client) Exchange(code string, r *AuthRequest) (*Tokens, error) {
	var tr Tokens
	body, err := c.post(c.Endpoints.Token, url.Values{
		"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {c.RedirectURI}, "code_verifier": {r.Verifier},
	}, &tr)
	if err != nil {
		return nil, err
	}
	if tr.IDToken == "" || tr.AccessToken == "" {
		return nil, fmt.Errorf("the token response lacks an id_token or access_token: %.300s", body)
	}
	return &tr, nil
}

// Refresh is a refresh grant; the response must hold an ID token and a new
// refresh token.
func (c *Client) Refresh(rt string) (*Tokens, error) {
	var tr Tokens
	if _, err := c.post(c.Endpoints.Token, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, &tr); err != nil {
		return nil, err
	}
	if tr.IDToken == "" || tr.RefreshToken == "" {
		return nil, fmt.Errorf("the refresh response lacks an id_token or a new refresh_token")
	}
	return &tr, nil
}

// PAR pushes r (RFC 9126) and returns the URL that sends the browser to
// the provider with it.
func (c *Client) PAR(r *AuthRequest) (string, error) {
	var out struct {
		RequestURI string `json:"request_uri"`
	}
	if _, err := c.post(c.Endpoints.PAR, r.Params, &out); err != nil {
		return "", err
	}
	return c.Endpoints.Authorization + "?" + url.Values{"client_id": {c.ClientID}, "request_uri": {out.RequestURI}}.Encode(), nil
}

// UserInfo calls the UserInfo endpoint with an access token.
func (c *Client) UserInfo(accessToken string) (map[string]any, error) {
	var ui map[string]any
	_, err := c.getJSON(c.Endpoints.UserInfo, accessToken, &ui)
	return ui, err
}
