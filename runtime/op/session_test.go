package op

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/idaop/ida-operator/internal/controlplane"
	"github.com/idaop/ida-operator/internal/monitoring"
	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/ida"
	"github.com/idaop/ida-operator/runtime/users"
)

// TestExistingSession: a signed-in browser skips the login page, a
// remembered consent skips the consent page, prompt=consent and
// prompt=login bring them back, and prompt=none works silently.
func TestExistingSession(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	u, _ := f.authorizeURL(clientBasic, nil)
	if q := f.signIn(b, u); q.Get("code") == "" {
		t.Fatal("no code")
	}
	// Same request again: straight back with a code.
	u, _ = f.authorizeURL(clientBasic, nil)
	q := redirectParams(t, f.get(b, u))
	if q.Get("code") == "" {
		t.Fatalf("existing session: %v", q)
	}
	u, _ = f.authorizeURL(clientBasic, url.Values{"prompt": {"none"}})
	if q := redirectParams(t, f.get(b, u)); q.Get("code") == "" {
		t.Fatalf("prompt=none with session: %v", q)
	}
	// Another scope is another consent.
	u, _ = f.authorizeURL(clientBasic, url.Values{"scope": {"openid profile"}, "prompt": {"none"}})
	if q := redirectParams(t, f.get(b, u)); q.Get("error") != "consent_required" {
		t.Fatalf("prompt=none without consent: %v", q)
	}
	u, _ = f.authorizeURL(clientBasic, url.Values{"prompt": {"consent"}})
	if pg := f.get(b, u); pg.status != 200 || !strings.Contains(pg.body, `name="decision"`) {
		t.Fatalf("prompt=consent: %d", pg.status)
	}
	u, _ = f.authorizeURL(clientBasic, url.Values{"prompt": {"login"}})
	if pg := f.get(b, u); pg.status != 200 || !strings.Contains(pg.body, `name="password"`) {
		t.Fatalf("prompt=login: %d", pg.status)
	}
	f.clock.advance(2 * time.Minute)
	u, _ = f.authorizeURL(clientBasic, url.Values{"max_age": {"60"}})
	if pg := f.get(b, u); pg.status != 200 || !strings.Contains(pg.body, `name="password"`) {
		t.Fatalf("max_age exceeded: %d", pg.status)
	}
}

// TestConsentDenied: refusing is access_denied at the redirect URI.
func TestConsentDenied(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	u, _ := f.authorizeURL(clientBasic, url.Values{"purpose": {"To check your age"}})
	pg := f.get(b, u)
	pg = f.submit(b, pathLogin, pg, url.Values{"username": {testUsername}, "password": {testPassword}})
	if !strings.Contains(pg.body, "To check your age") {
		t.Error("consent page lacks the purpose")
	}
	q := redirectParams(t, f.submit(b, pathConsent, pg, url.Values{"decision": {"deny"}}))
	if q.Get("error") != "access_denied" || q.Get("iss") != f.issuer || q.Get("state") == "" {
		t.Fatalf("deny: %v", q)
	}
}

// TestInteractionForms: wrong password, CSRF and cookie mismatches.
func TestInteractionForms(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	u, _ := f.authorizeURL(clientBasic, nil)
	pg := f.get(b, u)
	bad := f.submit(b, pathLogin, pg, url.Values{"username": {testUsername}, "password": {"wrong"}})
	if bad.status != 200 || !strings.Contains(bad.body, "login-error") || strings.Contains(bad.body, "wrong") {
		t.Fatalf("wrong password: %d %.300s", bad.status, bad.body)
	}
	forged := *pg
	forged.csrf = "forged"
	if r := f.submit(b, pathLogin, &forged, url.Values{"username": {testUsername}, "password": {testPassword}}); r.status != 400 {
		t.Fatalf("bad CSRF: %d", r.status)
	}
	// Another browser cannot post this interaction.
	if r := f.submit(f.browser(), pathLogin, pg, url.Values{"username": {testUsername}, "password": {testPassword}}); r.status != 400 {
		t.Fatalf("foreign browser: %d", r.status)
	}
	// A consent post at the login stage is refused.
	if r := f.submit(b, pathConsent, pg, url.Values{"decision": {"approve"}}); r.status != 400 {
		t.Fatalf("consent at login stage: %d", r.status)
	}
	// The page itself still works.
	if q := redirectParams(t, f.submit(b, pathConsent, f.submit(b, pathLogin, pg, url.Values{"username": {testUsername}, "password": {testPassword}}), url.Values{"decision": {"approve"}})); q.Get("code") == "" {
		t.Fatalf("after refusals: %v", q)
	}
	for _, h := range []string{"Content-Security-Policy", "X-Frame-Options"} {
		if pg.resp.Header.Get(h) == "" {
			t.Errorf("login page lacks %s", h)
		}
	}
}

// TestClientPolicyAndSignedResponses: a client registered for given_name
// only never receives family_name; signed UserInfo and PS256 ID tokens.
func TestClientPolicyAndSignedResponses(t *testing.T) {
	f := newFixture(t)
	claims := `{"userinfo":{"verified_claims":{"verification":{"trust_framework":null},"claims":{"given_name":null,"family_name":null}}}}`
	code, verifier := f.codeFor(clientBasic, url.Values{"claims": {claims}})
	_, body := f.exchange(clientBasic, code, verifier)
	resp, ui := f.userinfo(body["access_token"].(string))
	vc, _ := json.Marshal(ui["verified_claims"])
	if resp.StatusCode != 200 || !strings.Contains(string(vc), "given_name") || strings.Contains(string(vc), "family_name") {
		t.Fatalf("narrowed client got %d %s", resp.StatusCode, vc)
	}

	code, verifier = f.codeFor(clientSigned, url.Values{"claims": {claims}})
	_, body = f.exchange(clientSigned, code, verifier)
	idt, err := jose.ParseSigned(body["id_token"].(string), []jose.SignatureAlgorithm{jose.PS256})
	if err != nil {
		t.Fatalf("ID token is not PS256: %v", err)
	}
	_ = idt
	req, _ := http.NewRequest(http.MethodGet, f.url(config.PathUserInfo), nil)
	req.Header.Set("Authorization", "Bearer "+body["access_token"].(string))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.Header.Get("Content-Type") != "application/jwt" {
		t.Fatalf("signed userinfo content type %q", resp.Header.Get("Content-Type"))
	}
	jws, err := jose.ParseSigned(string(raw), []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	var signedClaims map[string]any
	_ = json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &signedClaims)
	if signedClaims["iss"] != f.issuer || signedClaims["aud"] != clientSigned || signedClaims["verified_claims"] == nil {
		t.Fatalf("signed userinfo claims: %v", signedClaims)
	}
}

// TestRevocation: a revoked access token stops working; a revoked refresh
// token takes its grant; unknown tokens are 200.
func TestRevocation(t *testing.T) {
	f := newFixture(t)
	code, verifier := f.codeFor(clientPost, url.Values{"scope": {"openid offline_access"}})
	resp := f.post(config.PathToken, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI},
		"code_verifier": {verifier}, "client_id": {clientPost}, "client_secret": {testSecret}}, nil)
	tok := decode(t, resp)
	revoke := func(token string, auth url.Values) int {
		form := url.Values{"token": {token}}
		for k, v := range auth {
			form[k] = v
		}
		resp := f.post(config.PathRevoke, form, nil)
		resp.Body.Close()
		return resp.StatusCode
	}
	auth := url.Values{"client_id": {clientPost}, "client_secret": {testSecret}}
	if s := revoke("unknown", auth); s != 200 {
		t.Fatalf("unknown token: %d", s)
	}
	if s := revoke(tok["access_token"].(string), url.Values{"client_id": {clientPost}, "client_secret": {"bad"}}); s != 400 {
		t.Fatalf("bad client auth: %d", s)
	}
	if resp, _ := f.userinfo(tok["access_token"].(string)); resp.StatusCode != 200 {
		t.Fatal("token revoked by a failed request")
	}
	if s := revoke(tok["refresh_token"].(string), auth); s != 200 {
		t.Fatalf("refresh: %d", s)
	}
	if resp, _ := f.userinfo(tok["access_token"].(string)); resp.StatusCode != 401 {
		t.Fatal("access token survives its grant's revocation")
	}
}

// TestDiscoveryAndJWKS: the rendered document, cache headers and ETags.
func TestDiscoveryAndJWKS(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct{ path, ctype, maxAge string }{
		{config.PathDiscovery, "application/json", "max-age=3600"},
		{config.PathJWKS, "application/jwk-set+json", "max-age=300"},
	} {
		resp, err := http.Get(f.url(tc.path))
		if err != nil {
			t.Fatal(err)
		}
		body := decode(t, resp)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != tc.ctype || !strings.Contains(resp.Header.Get("Cache-Control"), tc.maxAge) {
			t.Fatalf("%s: %d %v", tc.path, resp.StatusCode, resp.Header)
		}
		if tc.path == config.PathDiscovery && body["issuer"] != f.issuer {
			t.Fatalf("issuer %v", body["issuer"])
		}
		if tc.path == config.PathJWKS {
			keys := body["keys"].([]any)
			for _, k := range keys {
				if _, private := k.(map[string]any)["d"]; private {
					t.Fatal("JWKS publishes a private key")
				}
			}
		}
		req, _ := http.NewRequest(http.MethodGet, f.url(tc.path), nil)
		req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
		resp2, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp2.Body.Close()
		if resp2.StatusCode != http.StatusNotModified {
			t.Fatalf("%s with ETag: %d", tc.path, resp2.StatusCode)
		}
	}
	if resp, _ := http.Get(f.srv.URL + config.PathDiscovery); resp.StatusCode != 404 {
		t.Fatalf("outside the issuer path: %d", resp.StatusCode)
	}
}

// TestApplyKeepsLastGoodConfig: a bad snapshot is refused and the previous
// one keeps serving; a good one takes effect at once.
func TestApplyKeepsLastGoodConfig(t *testing.T) {
	f := newFixture(t)
	if !f.p.Ready() {
		t.Fatal("not ready")
	}
	bad := *f.snap
	prov := *bad.Provider
	prov.SigningAlgorithms = []string{"HS256"}
	bad.Provider = &prov
	if err := f.p.Apply(&bad); err == nil {
		t.Fatal("bad snapshot accepted")
	}
	if resp, _ := f.userinfo("x"); resp.StatusCode != 401 {
		t.Fatalf("provider stopped serving: %d", resp.StatusCode)
	}
	next := *f.snap
	next.Clients = map[string]*config.Client{}
	for k, v := range f.snap.Clients {
		next.Clients[k] = v
	}
	delete(next.Clients, clientBasic)
	if err := f.p.Apply(&next); err != nil {
		t.Fatal(err)
	}
	u, _ := f.authorizeURL(clientBasic, nil)
	if pg := f.get(f.browser(), u); pg.status != 400 || !strings.Contains(pg.body, "invalid_client") {
		t.Fatalf("removed client still served: %d", pg.status)
	}
	empty, err := New(Options{Store: f.store, UI: f.p.ui})
	if err != nil {
		t.Fatal(err)
	}
	if empty.Ready() {
		t.Fatal("ready without a snapshot")
	}
}

// unavailableUsers is a user source that is down.
type unavailableUsers struct{ users.Source }

func (unavailableUsers) Lookup(context.Context, string) (*users.User, error) {
	return nil, errors.Join(users.ErrUnavailable, errors.New("down"))
}

// TestJapaneseProfile: a jp_oidf_ida scope answers at UserInfo only; when
// the user source is down the answer is the profile's error object, and
// without the profile it is 503 temporarily_unavailable, never a 500.
func TestJapaneseProfile(t *testing.T) {
	f := newFixture(t, func(s *config.Snapshot) {
		s.Provider.IDA = ida.Policy{
			TrustFrameworks: []ida.TrustFramework{
				{Identifier: "de_aml", Claims: []string{"given_name", "family_name", "birthdate"}},
				{Identifier: "jp_oidf_ida", Claims: []string{"name", "birthdate", "address", "msisdn"}},
			},
			Profiles: []string{ida.ProfileJPBasic},
		}
		c := s.Clients[clientBasic]
		c.Scopes = append(c.Scopes, ida.ScopeJPIDA)
		c.TrustFrameworks = []string{"de_aml", "jp_oidf_ida"}
		c.VerifiedClaims = []string{"name", "birthdate", "address", "given_name"}
	})
	code, verifier := f.codeFor(clientBasic, url.Values{"scope": {"openid " + ida.ScopeJPIDA}})
	_, tok := f.exchange(clientBasic, code, verifier)
	at := tok["access_token"].(string)
	resp, body := f.userinfo(at)
	vc, _ := json.Marshal(body["verified_claims"])
	if resp.StatusCode != 200 || !strings.Contains(string(vc), ida.JPErrUnavailable) {
		t.Fatalf("user without jp data: %d %s", resp.StatusCode, vc)
	}
	validateVerifiedClaims(t, vc)

	f.p.SetUsers(unavailableUsers{})
	resp, body = f.userinfo(at)
	vc, _ = json.Marshal(body["verified_claims"])
	if resp.StatusCode != 200 || !strings.Contains(string(vc), ida.JPErrOther) {
		t.Fatalf("source down, jp scope: %d %s", resp.StatusCode, vc)
	}

	f.p.SetUsers(mustBuiltin(t))
	code, verifier = f.codeFor(clientBasic, nil)
	_, tok = f.exchange(clientBasic, code, verifier)
	f.p.SetUsers(unavailableUsers{})
	resp, body = f.userinfo(tok["access_token"].(string))
	if resp.StatusCode != 503 || body["error"] != "temporarily_unavailable" {
		t.Fatalf("source down, no jp scope: %d %v", resp.StatusCode, body)
	}
}

func mustBuiltin(t *testing.T) users.Source {
	src, err := users.NewBuiltin(testUsers(t))
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// TestMetrics: requests, tokens and releases are counted.
func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	f := newFixture(t)
	p, err := New(Options{Store: f.store, Users: mustBuiltin(t), UI: f.p.ui, Now: f.clock.now, Metrics: reg})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Apply(f.snap); err != nil {
		t.Fatal(err)
	}
	f.p = p
	f.srv.Config.Handler = p.Handler()
	claims := `{"userinfo":{"verified_claims":{"verification":{"trust_framework":null},"claims":{"given_name":null}}}}`
	code, verifier := f.codeFor(clientBasic, url.Values{"claims": {claims}})
	_, tok := f.exchange(clientBasic, code, verifier)
	f.userinfo(tok["access_token"].(string))
	if n := testutil.ToFloat64(p.metrics.released.WithLabelValues("de_aml")); n != 1 {
		t.Fatalf("released de_aml = %v", n)
	}
	if n := testutil.ToFloat64(p.metrics.tokens.WithLabelValues("access_token")); n != 1 {
		t.Fatalf("access tokens = %v", n)
	}
	if n := testutil.ToFloat64(p.metrics.requests.WithLabelValues(epUserInfo, "ok")); n != 1 {
		t.Fatalf("userinfo ok = %v", n)
	}
	// The alerts and the dashboard name only metrics the provider exports.
	root, err := controlplane.ProjectRoot()
	if err != nil {
		t.Fatal(err)
	}
	used, err := monitoring.UsedMetrics(root)
	if err != nil {
		t.Fatal(err)
	}
	exported, err := monitoring.Exported(reg)
	if err != nil {
		t.Fatal(err)
	}
	if missing := monitoring.Missing(used, "ida_op_", exported); len(missing) > 0 {
		t.Errorf("config/prometheus or config/grafana name metrics the provider does not export: %v", missing)
	}
}
