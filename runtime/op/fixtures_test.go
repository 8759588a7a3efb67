package op

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/crypto/bcrypt"

	"github.com/idaop/ida-operator/internal/testlog"
	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/grants"
	"github.com/idaop/ida-operator/runtime/ida"
	"github.com/idaop/ida-operator/runtime/store"
	"github.com/idaop/ida-operator/runtime/ui"
	"github.com/idaop/ida-operator/runtime/users"
)

const (
	testSecret   = "s3cret-for-tests-0123456789abcdefghijklmnopqrstu"
	redirectURI  = "https://rp.example.com/cb"
	testUsername = "alice"
	testPassword = "correct horse battery staple"
	testSubject  = "248289761001"
	tenantPath   = "/tenant-a"
)

// Clients of the test provider.
const (
	clientFAPI     = "rp-fapi"     // private_key_jwt, PAR and DPoP required, refresh
	clientBasic    = "rp-basic"    // client_secret_basic
	clientPost     = "rp-post"     // client_secret_post, refresh
	clientDisabled = "rp-disabled" // disabled
	clientSigned   = "rp-signed"   // signed UserInfo, PS256 ID tokens
)

// clock is the provider's injected clock: real time plus an offset, so
// third-party clients that check exp against the real clock still agree.
type clock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

type fixture struct {
	t         testing.TB
	p         *Provider
	srv       *httptest.Server
	issuer    string
	clock     *clock
	store     store.Store
	snap      *config.Snapshot
	clientKey *ecdsa.PrivateKey
	dpopKey   *ecdsa.PrivateKey
	logs      *testlog.Buffer
}

var (
	usersOnce sync.Once
	usersDoc  []byte
	usersErr  error
)

// testUserData is the test user's claims and verified_claims (de_aml),
// written for these tests; other tests look for these values.
const testUserData = `{
  "email": "janedoe@example.com",
  "email_verified": true,
  "verified_claims": {
    "verification": {"trust_framework": "de_aml"},
    "claims": {"given_name": "Max", "family_name": "Meier", "birthdate": "1956-01-28"}
  }
}`

// testUsers builds users.json: one user holding testUserData.
func testUsers(t testing.TB) []byte {
	t.Helper()
	usersOnce.Do(func() {
		var ex map[string]json.RawMessage
		if usersErr = json.Unmarshal([]byte(testUserData), &ex); usersErr != nil {
			return
		}
		claims := map[string]json.RawMessage{}
		for k, v := range ex {
			if k != "verified_claims" {
				claims[k] = v
			}
		}
		hash, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
		if err != nil {
			usersErr = err
			return
		}
		usersDoc, usersErr = json.Marshal(map[string]any{"users": []any{map[string]any{
			"subject": testSubject, "username": testUsername, "password_hash": string(hash),
			"claims": claims, "verified_claims": ex["verified_claims"],
		}}})
	})
	if usersErr != nil {
		t.Fatal(usersErr)
	}
	return usersDoc
}

func mustKey(t testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustRSA(t testing.TB) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func signingKey(t testing.TB, alg string, key crypto.Signer, activates time.Time) config.SigningKey {
	pub := jose.JSONWebKey{Key: key.Public()}
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	kid := base64.RawURLEncoding.EncodeToString(tp)[:16]
	raw, err := jose.JSONWebKey{Key: key, KeyID: kid, Algorithm: alg, Use: "sig"}.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return config.SigningKey{ID: kid, Algorithm: alg, PrivateJWK: raw, CreatedAt: activates, ActivatesAt: activates}
}

func testProvider(issuer string) *config.Provider {
	d := func(m time.Duration) config.Duration { return config.Duration{Duration: m} }
	return &config.Provider{
		Issuer:            issuer,
		SigningAlgorithms: []string{config.ES256, config.PS256},
		Tokens: config.Lifetimes{
			IDToken: d(5 * time.Minute), AccessToken: d(10 * time.Minute),
			RefreshToken: d(24 * time.Hour), AuthorizationCode: d(time.Minute),
		},
		Users:        config.UserSource{Type: config.UsersBuiltin, Builtin: &config.BuiltinUsers{SecretName: "users"}},
		SessionStore: config.SessionStore{Type: config.SessionStoreMemory},
		IDA: ida.Policy{TrustFrameworks: []ida.TrustFramework{{
			Identifier: "de_aml",
			Claims:     []string{"given_name", "family_name", "birthdate"},
		}}},
	}
}

func baseClient(id, method string) *config.Client {
	c := &config.Client{
		ClientID: id, ClientName: "Client " + id, Namespace: "team-a", Name: id,
		RedirectURIs:            []string{redirectURI, "https://rp.example.com/other"},
		GrantTypes:              []string{"authorization_code"},
		ResponseTypes:           []string{"code"},
		Scopes:                  []string{"openid", "profile", "email"},
		TokenEndpointAuthMethod: method,
		TrustFrameworks:         []string{"de_aml"},
		VerifiedClaims:          []string{"given_name", "family_name", "birthdate"},
	}
	if method != config.AuthPrivateKeyJWT {
		c.SecretHash = config.HashClientSecret(testSecret)
	}
	return c
}

var (
	psKeyOnce sync.Once
	psKey     *rsa.PrivateKey
)

// newFixture starts a provider under tenantPath on a loopback server.
func newFixture(t testing.TB, mods ...func(*config.Snapshot)) *fixture {
	t.Helper()
	return newFixtureWith(t, nil, mods...)
}

// newFixtureWith is newFixture with an edit of the provider's Options.
func newFixtureWith(t testing.TB, opt func(*Options), mods ...func(*config.Snapshot)) *fixture {
	t.Helper()
	f := &fixture{t: t, clock: &clock{}, store: store.NewMemory(), clientKey: mustKey(t), dpopKey: mustKey(t), logs: &testlog.Buffer{}}
	rend, err := ui.New()
	if err != nil {
		t.Fatal(err)
	}
	src, err := users.NewBuiltin(testUsers(t))
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{
		Store: f.store, Users: src, UI: rend, Now: f.clock.now,
		Logger: slog.New(slog.NewJSONHandler(f.logs, nil)),
	}
	if opt != nil {
		opt(&opts)
	}
	f.p, err = New(opts)
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(f.p.Handler())
	t.Cleanup(f.srv.Close)
	f.issuer = f.srv.URL + tenantPath

	psKeyOnce.Do(func() { psKey = mustRSA(t) })
	past := time.Now().Add(-time.Hour)
	clientJWKS, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: f.clientKey.Public(), KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})

	fapi := baseClient(clientFAPI, config.AuthPrivateKeyJWT)
	fapi.JWKS, fapi.TokenEndpointAuthSigningAlg = clientJWKS, config.ES256
	fapi.RequireDPoP, fapi.RequirePAR = true, true
	fapi.GrantTypes = []string{"authorization_code", "refresh_token"}
	fapi.Scopes = append(fapi.Scopes, "offline_access")
	post := baseClient(clientPost, config.AuthClientSecretPost)
	post.GrantTypes = []string{"authorization_code", "refresh_token"}
	post.Scopes = append(post.Scopes, "offline_access")
	disabled := baseClient(clientDisabled, config.AuthClientSecretBasic)
	disabled.Disabled = true
	signed := baseClient(clientSigned, config.AuthClientSecretBasic)
	signed.UserInfoSignedResponseAlg, signed.IDTokenSignedResponseAlg = config.ES256, config.PS256
	basic := baseClient(clientBasic, config.AuthClientSecretBasic)
	basic.VerifiedClaims = []string{"given_name"} // may not receive family_name or birthdate

	f.snap = &config.Snapshot{
		Provider: testProvider(f.issuer),
		Keys:     &config.KeySet{Keys: []config.SigningKey{signingKey(t, config.ES256, mustKey(t), past), signingKey(t, config.PS256, psKey, past)}},
		Clients:  map[string]*config.Client{},
	}
	for _, c := range []*config.Client{fapi, basic, post, disabled, signed} {
		f.snap.Clients[c.ClientID] = c
	}
	for _, m := range mods {
		m(f.snap)
	}
	if err := f.p.Apply(f.snap); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) url(path string) string { return f.issuer + path }

// pkce returns a verifier and its S256 challenge.
func pkce() (string, string) {
	v := grants.NewSecret()
	sum := sha256.Sum256([]byte(v))
	return v, base64.RawURLEncoding.EncodeToString(sum[:])
}

// assertion is a private_key_jwt client assertion; mod edits its claims.
func (f *fixture) assertion(mod func(*jwt.Claims)) string {
	f.t.Helper()
	now := f.clock.now()
	cl := jwt.Claims{
		Issuer: clientFAPI, Subject: clientFAPI, Audience: jwt.Audience{f.issuer},
		Expiry: jwt.NewNumericDate(now.Add(time.Minute)), IssuedAt: jwt.NewNumericDate(now), ID: grants.NewSecret(),
	}
	if mod != nil {
		mod(&cl)
	}
	return f.signES256(f.clientKey, "k1", "JWT", cl)
}

// signES256 signs claims as a compact JWT of type typ with key under kid.
func (f *fixture) signES256(key *ecdsa.PrivateKey, kid, typ string, claims any) string {
	f.t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, (&jose.SignerOptions{}).WithType(jose.ContentType(typ)))
	if err != nil {
		f.t.Fatal(err)
	}
	tok, err := jwt.Signed(s).Claims(claims).Serialize()
	if err != nil {
		f.t.Fatal(err)
	}
	return tok
}

func assertionParams(a string) url.Values {
	return url.Values{"client_assertion_type": {clientAssertionType}, "client_assertion": {a}}
}

// proof is a DPoP proof of f.dpopKey; accessToken sets ath.
func (f *fixture) proof(method, target, accessToken string) string {
	return f.proofAt(method, target, accessToken, f.clock.now())
}

func (f *fixture) proofAt(method, target, accessToken string, iat time.Time) string {
	f.t.Helper()
	return f.dpopProof(method, target, accessToken, iat, "")
}

// proofNonce is a proof carrying a DPoP nonce.
func (f *fixture) proofNonce(method, target, accessToken, nonce string) string {
	f.t.Helper()
	return f.dpopProof(method, target, accessToken, f.clock.now(), nonce)
}

func (f *fixture) dpopProof(method, target, accessToken string, iat time.Time, nonce string) string {
	f.t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: f.dpopKey},
		(&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
	if err != nil {
		f.t.Fatal(err)
	}
	cl := map[string]any{"jti": grants.NewSecret(), "htm": method, "htu": target, "iat": iat.Unix()}
	if accessToken != "" {
		cl["ath"] = athOf(accessToken)
	}
	if nonce != "" {
		cl["nonce"] = nonce
	}
	tok, err := jwt.Signed(s).Claims(cl).Serialize()
	if err != nil {
		f.t.Fatal(err)
	}
	return tok
}

func athOf(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// post sends a form with optional headers.
func (f *fixture) post(path string, form url.Values, hdr map[string]string) *http.Response {
	f.t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.url(path), strings.NewReader(form.Encode()))
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp
}

// basicAuth is the client_secret_basic header.
func basicAuth(id, secret string) map[string]string {
	return map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))}
}

// browser is a user agent with cookies that stops at the relying party.
func (f *fixture) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}

var (
	hiddenInteraction = regexp.MustCompile(`name="interaction" value="([^"]+)"`)
	hiddenCSRF        = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
)

// page is an HTML page read from a response.
type page struct {
	status      int
	body        string
	interaction string
	csrf        string
	location    string
	resp        *http.Response
}

func readPage(t testing.TB, resp *http.Response) *page {
	t.Helper()
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	pg := &page{status: resp.StatusCode, body: string(b), location: resp.Header.Get("Location"), resp: resp}
	if m := hiddenInteraction.FindStringSubmatch(pg.body); m != nil {
		pg.interaction = m[1]
	}
	if m := hiddenCSRF.FindStringSubmatch(pg.body); m != nil {
		pg.csrf = m[1]
	}
	return pg
}

func (f *fixture) get(b *http.Client, target string) *page {
	f.t.Helper()
	resp, err := b.Get(target)
	if err != nil {
		f.t.Fatal(err)
	}
	return readPage(f.t, resp)
}

func (f *fixture) submit(b *http.Client, path string, pg *page, fields url.Values) *page {
	f.t.Helper()
	form := url.Values{"interaction": {pg.interaction}, "csrf_token": {pg.csrf}}
	for k, v := range fields {
		form[k] = v
	}
	resp, err := b.PostForm(f.url(path), form)
	if err != nil {
		f.t.Fatal(err)
	}
	return readPage(f.t, resp)
}

// signIn runs the login and consent pages from an authorization URL and
// returns the redirect's parameters.
func (f *fixture) signIn(b *http.Client, authorizeURL string) url.Values {
	f.t.Helper()
	pg := f.get(b, authorizeURL)
	if pg.status != http.StatusOK || pg.interaction == "" {
		f.t.Fatalf("authorize: status %d, location %q, body %.300s", pg.status, pg.location, pg.body)
	}
	pg = f.submit(b, pathLogin, pg, url.Values{"username": {testUsername}, "password": {testPassword}})
	if pg.location == "" {
		if pg.status != http.StatusOK || pg.interaction == "" {
			f.t.Fatalf("login: status %d, body %.300s", pg.status, pg.body)
		}
		pg = f.submit(b, pathConsent, pg, url.Values{"decision": {"approve"}})
	}
	return redirectParams(f.t, pg)
}

func redirectParams(t testing.TB, pg *page) url.Values {
	t.Helper()
	if pg.status != http.StatusSeeOther || !strings.HasPrefix(pg.location, "https://rp.example.com/") {
		t.Fatalf("want a redirect to the client, got %d %q: %.300s", pg.status, pg.location, pg.body)
	}
	u, err := url.Parse(pg.location)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

// authorizeURL builds a front-channel request for a client without PAR.
func (f *fixture) authorizeURL(clientID string, extra url.Values) (string, string) {
	verifier, challenge := pkce()
	v := url.Values{
		"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirectURI},
		"scope": {"openid email"}, "state": {"st-" + grants.NewSecret()[:8]}, "nonce": {"n-" + grants.NewSecret()[:8]},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"},
	}
	for k, vs := range extra {
		if len(vs) == 1 && vs[0] == "" {
			v.Del(k)
			continue
		}
		v[k] = vs
	}
	return f.url(config.PathAuthorize) + "?" + v.Encode(), verifier
}

// codeFor runs a whole front channel for a client without PAR.
func (f *fixture) codeFor(clientID string, extra url.Values) (code, verifier string) {
	f.t.Helper()
	u, verifier := f.authorizeURL(clientID, extra)
	q := f.signIn(f.browser(), u)
	if q.Get("code") == "" {
		f.t.Fatalf("no code: %v", q)
	}
	return q.Get("code"), verifier
}

// exchange redeems a code with client_secret_basic.
func (f *fixture) exchange(clientID, code, verifier string) (*http.Response, map[string]any) {
	f.t.Helper()
	resp := f.post(config.PathToken, url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier},
	}, basicAuth(clientID, testSecret))
	return resp, decode(f.t, resp)
}

func decode(t testing.TB, resp *http.Response) map[string]any {
	t.Helper()
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("not JSON (%d): %.300s", resp.StatusCode, b)
		}
	}
	return m
}

// wantError asserts an OAuth JSON error.
func wantError(t testing.TB, resp *http.Response, body map[string]any, status int, code string) {
	t.Helper()
	if resp.StatusCode != status || body["error"] != code {
		t.Fatalf("want %d %s, got %d %v", status, code, resp.StatusCode, body)
	}
}

// userinfo calls UserInfo with a Bearer token.
func (f *fixture) userinfo(token string) (*http.Response, map[string]any) {
	f.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, f.url(config.PathUserInfo), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp, decode(f.t, resp)
}

func copyBody(dst *strings.Builder, r *http.Request) (int64, error) {
	defer r.Body.Close()
	return io.Copy(dst, r.Body)
}

func readCloser(s string) io.ReadCloser { return io.NopCloser(strings.NewReader(s)) }
