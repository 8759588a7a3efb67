package op

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/store"
)

// TestTokenCodeGrantRefusals: each bad redemption gets its exact error and
// leaves the code usable, so the legitimate request still succeeds.
func TestTokenCodeGrantRefusals(t *testing.T) {
	f := newFixture(t)
	code, verifier := f.codeFor(clientBasic, nil)
	wrongVerifier, _ := pkce()
	cases := []struct {
		name   string
		form   url.Values
		hdr    map[string]string
		status int
		err    string
	}{
		{"wrong PKCE verifier", url.Values{"code_verifier": {wrongVerifier}}, nil, 400, "invalid_grant"},
		{"missing PKCE verifier", url.Values{"code_verifier": {""}}, nil, 400, "invalid_grant"},
		{"other redirect_uri", url.Values{"redirect_uri": {"https://rp.example.com/other"}}, nil, 400, "invalid_grant"},
		{"wrong client secret", nil, basicAuth(clientBasic, "nope"), 401, "invalid_client"},
		{"unknown client", nil, basicAuth("nobody", testSecret), 401, "invalid_client"},
		{"code of another client", nil, basicAuth(clientSigned, testSecret), 400, "invalid_grant"},
		{"disabled client", nil, basicAuth(clientDisabled, testSecret), 400, "unauthorized_client"},
		{"two auth methods", url.Values{"client_id": {clientBasic}, "client_secret": {testSecret}}, nil, 400, "invalid_request"},
		{"post instead of basic", url.Values{"client_id": {clientBasic}, "client_secret": {testSecret}}, map[string]string{"Authorization": ""}, 400, "invalid_client"},
		{"unsupported grant", url.Values{"grant_type": {"password"}}, nil, 400, "unsupported_grant_type"},
		{"refresh not registered", url.Values{"grant_type": {"refresh_token"}}, nil, 400, "unauthorized_client"},
		{"oversized parameter", url.Values{"code_verifier": {strings.Repeat("a", 9<<10)}}, nil, 400, "invalid_request"},
		{"repeated parameter", url.Values{"code": {code, code}}, nil, 400, "invalid_request"},
		{"unknown code", url.Values{"code": {"not-a-code"}}, nil, 400, "invalid_grant"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}
			for k, v := range tc.form {
				if len(v) == 1 && v[0] == "" {
					form.Del(k)
				} else {
					form[k] = v
				}
			}
			hdr := basicAuth(clientBasic, testSecret)
			for k, v := range tc.hdr {
				hdr[k] = v
			}
			if v, ok := hdr["Authorization"]; ok && v == "" {
				delete(hdr, "Authorization")
			}
			resp := f.post(config.PathToken, form, hdr)
			body := decode(t, resp)
			wantError(t, resp, body, tc.status, tc.err)
			if tc.status == 401 && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic") {
				t.Errorf("401 without a Basic challenge: %q", resp.Header.Get("WWW-Authenticate"))
			}
			if resp.Header.Get("Cache-Control") != "no-store" {
				t.Error("error response is cacheable")
			}
		})
	}
	// Nothing changed: the code still redeems.
	resp, body := f.exchange(clientBasic, code, verifier)
	if resp.StatusCode != http.StatusOK || body["access_token"] == nil || body["token_type"] != "Bearer" {
		t.Fatalf("legitimate redemption after refusals: %d %v", resp.StatusCode, body)
	}
	if _, ok := body["refresh_token"]; ok {
		t.Error("a client without the refresh_token grant got a refresh token")
	}
}

// TestCodeReuseRevokesTokens: a code presented twice is invalid_grant and
// every token issued from it stops working.
func TestCodeReuseRevokesTokens(t *testing.T) {
	f := newFixture(t)
	code, verifier := f.codeFor(clientPost, url.Values{"scope": {"openid email offline_access"}})
	redeem := func() (*http.Response, map[string]any) {
		resp := f.post(config.PathToken, url.Values{
			"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI},
			"code_verifier": {verifier}, "client_id": {clientPost}, "client_secret": {testSecret},
		}, nil)
		return resp, decode(t, resp)
	}
	resp, first := redeem()
	if resp.StatusCode != 200 || first["refresh_token"] == nil {
		t.Fatalf("first redemption: %d %v", resp.StatusCode, first)
	}
	at := first["access_token"].(string)
	if resp, _ := f.userinfo(at); resp.StatusCode != 200 {
		t.Fatalf("userinfo before replay: %d", resp.StatusCode)
	}
	resp, second := redeem()
	wantError(t, resp, second, 400, "invalid_grant")
	if resp, body := f.userinfo(at); resp.StatusCode != 401 || body["error"] != "invalid_token" {
		t.Fatalf("access token of a replayed code: %d %v", resp.StatusCode, body)
	}
	resp = f.post(config.PathToken, url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {first["refresh_token"].(string)},
		"client_id": {clientPost}, "client_secret": {testSecret},
	}, nil)
	wantError(t, resp, decode(t, resp), 400, "invalid_grant")
}

// TestAuthorizeRefusals: errors about the client or the redirect URI are
// shown on a page (never redirected); the others go to the redirect URI with
// state and iss. None starts an interaction (no cookie is set).
func TestAuthorizeRefusals(t *testing.T) {
	f := newFixture(t)
	_, plainChallenge := pkce()
	cases := []struct {
		name     string
		client   string
		params   url.Values
		redirect bool
		err      string
	}{
		{"unknown client", "nobody", nil, false, "invalid_client"},
		{"disabled client", clientDisabled, nil, false, "unauthorized_client"},
		{"unregistered redirect_uri", clientBasic, url.Values{"redirect_uri": {"https://evil.example.com/cb"}}, false, "invalid_request"},
		{"redirect_uri prefix", clientBasic, url.Values{"redirect_uri": {redirectURI + "/x"}}, false, "invalid_request"},
		{"missing redirect_uri", clientBasic, url.Values{"redirect_uri": {""}}, false, "invalid_request"},
		{"oversized state", clientBasic, url.Values{"state": {strings.Repeat("s", 9<<10)}}, false, "invalid_request"},
		{"oversized request", clientBasic, url.Values{"x1": {strings.Repeat("a", 8<<10)}, "x2": {strings.Repeat("a", 8<<10)}, "x3": {strings.Repeat("a", 8<<10)}, "x4": {strings.Repeat("a", 8<<10)}, "x5": {strings.Repeat("a", 8<<10)}, "x6": {strings.Repeat("a", 8<<10)}, "x7": {strings.Repeat("a", 8<<10)}, "x8": {strings.Repeat("a", 8<<10)}}, false, "invalid_request"},
		{"token response type", clientBasic, url.Values{"response_type": {"token"}}, true, "unsupported_response_type"},
		{"no openid scope", clientBasic, url.Values{"scope": {"email"}}, true, "invalid_scope"},
		{"scope not registered", clientBasic, url.Values{"scope": {"openid offline_access"}}, true, "invalid_scope"},
		{"no PKCE", clientBasic, url.Values{"code_challenge": {""}, "code_challenge_method": {""}}, true, "invalid_request"},
		{"PKCE plain", clientBasic, url.Values{"code_challenge_method": {"plain"}, "code_challenge": {plainChallenge}}, true, "invalid_request"},
		{"malformed claims JSON", clientBasic, url.Values{"claims": {`{"userinfo": {"verified_claims": `}}, true, "invalid_request"},
		{"claims without verification", clientBasic, url.Values{"claims": {`{"userinfo":{"verified_claims":{"claims":{"given_name":null}}}}`}}, true, "invalid_request"},
		{"purpose too short", clientBasic, url.Values{"purpose": {"ab"}}, true, "invalid_request"},
		{"unknown prompt", clientBasic, url.Values{"prompt": {"sometimes"}}, true, "invalid_request"},
		{"negative max_age", clientBasic, url.Values{"max_age": {"-1"}}, true, "invalid_request"},
		{"request object of a client without keys", clientBasic, url.Values{"request": {"e30.e30."}}, false, "invalid_request_object"},
		{"PAR required", clientFAPI, nil, true, "invalid_request"},
		{"prompt=none without session", clientBasic, url.Values{"prompt": {"none"}}, true, "login_required"},
		{"bad request_uri", clientBasic, url.Values{"request_uri": {requestURIPrefix + "nope"}}, false, "invalid_request_uri"},
		{"essential acr", clientBasic, url.Values{"claims": {`{"id_token":{"acr":{"essential":true,"values":["urn:bank:mfa"]}}}`}}, true, "unmet_authentication_requirements"},
		{"id_token_hint not of this provider", clientBasic, url.Values{"id_token_hint": {f.signES256(mustKey(t), "k1", "JWT", map[string]any{"iss": f.issuer, "sub": testSubject})}}, true, "invalid_request"},
		{"id_token_hint not a JWT", clientBasic, url.Values{"id_token_hint": {"hint"}}, true, "invalid_request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u, _ := f.authorizeURL(tc.client, tc.params)
			pg := f.get(f.browser(), u)
			if len(pg.resp.Cookies()) > 0 {
				t.Errorf("a refused request set cookies")
			}
			if !tc.redirect {
				if pg.status != 400 || pg.location != "" || !strings.Contains(pg.body, tc.err) {
					t.Fatalf("want an error page with %s, got %d %q %.200s", tc.err, pg.status, pg.location, pg.body)
				}
				return
			}
			q := redirectParams(t, pg)
			if q.Get("error") != tc.err || q.Get("iss") != f.issuer || !strings.HasPrefix(q.Get("state"), "st-") {
				t.Fatalf("redirect %v, want error %s with state and iss", q, tc.err)
			}
		})
	}
}

// TestPARAndAssertionRefusals: PAR answers in JSON; private_key_jwt
// assertions with a wrong iss or aud, expired, or replayed are
// invalid_client, and a refused assertion's jti stays unused.
func TestPARAndAssertionRefusals(t *testing.T) {
	f := newFixture(t)
	_, challenge := pkce()
	params := func(a string) url.Values {
		v := assertionParams(a)
		v.Set("response_type", "code")
		v.Set("client_id", clientFAPI)
		v.Set("redirect_uri", redirectURI)
		v.Set("scope", "openid")
		v.Set("code_challenge", challenge)
		v.Set("code_challenge_method", "S256")
		return v
	}
	var jti string
	wrongIss := f.assertion(func(c *jwt.Claims) { c.Issuer = "someone"; jti = c.ID })
	cases := []struct {
		name   string
		form   url.Values
		status int
		err    string
	}{
		{"wrong iss", params(wrongIss), 400, "invalid_client"},
		{"wrong aud", params(f.assertion(func(c *jwt.Claims) { c.Audience = jwt.Audience{"https://other.example.com"} })), 400, "invalid_client"},
		{"expired", params(f.assertion(func(c *jwt.Claims) { c.Expiry = jwt.NewNumericDate(time.Now().Add(-time.Hour)) })), 400, "invalid_client"},
		{"exp too far ahead", params(f.assertion(func(c *jwt.Claims) { c.Expiry = jwt.NewNumericDate(time.Now().Add(time.Hour)) })), 400, "invalid_client"},
		{"no jti", params(f.assertion(func(c *jwt.Claims) { c.ID = "" })), 400, "invalid_client"},
		{"no assertion", url.Values{"client_id": {clientFAPI}, "response_type": {"code"}}, 400, "invalid_client"},
		{"unregistered redirect_uri", func() url.Values {
			v := params(f.assertion(nil))
			v.Set("redirect_uri", "https://evil.example.com/")
			return v
		}(), 400, "invalid_request"},
		{"pushed request_uri", func() url.Values {
			v := params(f.assertion(nil))
			v.Set("request_uri", requestURIPrefix+"x")
			return v
		}(), 400, "invalid_request"},
		{"malformed claims", func() url.Values {
			v := params(f.assertion(nil))
			v.Set("claims", "{")
			return v
		}(), 400, "invalid_request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := f.post(config.PathPAR, tc.form, nil)
			wantError(t, resp, decode(t, resp), tc.status, tc.err)
		})
	}
	// The refused assertion's jti was not recorded: a good one reusing it passes.
	good := params(f.assertion(func(c *jwt.Claims) { c.ID = jti }))
	resp := f.post(config.PathPAR, good, nil)
	if body := decode(t, resp); resp.StatusCode != http.StatusCreated {
		t.Fatalf("good PAR: %d %v", resp.StatusCode, body)
	}
	// Replayed jti.
	resp = f.post(config.PathPAR, good, nil)
	wantError(t, resp, decode(t, resp), 400, "invalid_client")
}

// TestDPoPRefusals: proofs for another method or URL, replayed, stale or
// missing where required are invalid_dpop_proof, at the token endpoint
// and at UserInfo.
func TestDPoPRefusals(t *testing.T) {
	f := newFixture(t, func(s *config.Snapshot) {
		s.Clients[clientPost].RequireDPoP = true
	})
	code, verifier := f.codeFor(clientPost, nil)
	tokenURL := f.url(config.PathToken)
	replayed := f.proof("POST", tokenURL, "")
	// Use the proof once (on a refused request that does not touch the code).
	resp := f.post(config.PathToken, url.Values{"grant_type": {"authorization_code"}, "code": {"unknown"}, "client_id": {clientPost}, "client_secret": {testSecret}}, map[string]string{"DPoP": replayed})
	wantError(t, resp, decode(t, resp), 400, "invalid_grant")
	cases := []struct {
		name  string
		proof string
	}{
		{"missing", ""},
		{"other method", f.proof("GET", tokenURL, "")},
		{"other URL", f.proof("POST", f.url(config.PathUserInfo), "")},
		{"replayed", replayed},
		{"stale iat", f.proofAt("POST", tokenURL, "", time.Now().Add(-5*time.Minute))},
		{"not a JWT", "abc.def.ghi"},
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI},
		"code_verifier": {verifier}, "client_id": {clientPost}, "client_secret": {testSecret}}
	for _, tc := range cases {
		t.Run("token "+tc.name, func(t *testing.T) {
			hdr := map[string]string{}
			if tc.proof != "" {
				hdr["DPoP"] = tc.proof
			}
			resp := f.post(config.PathToken, form, hdr)
			wantError(t, resp, decode(t, resp), 400, "invalid_dpop_proof")
		})
	}
	// Query and fragment of htu are ignored.
	resp = f.post(config.PathToken, form, map[string]string{"DPoP": f.proof("POST", tokenURL+"?x=1", "")})
	body := decode(t, resp)
	if resp.StatusCode != 200 || body["token_type"] != "DPoP" {
		t.Fatalf("good proof: %d %v", resp.StatusCode, body)
	}
	at := body["access_token"].(string)
	uiURL := f.url(config.PathUserInfo)
	used := f.proof("GET", uiURL, at)
	if r := f.dpopUserinfo(at, used); r.status != 200 {
		t.Fatalf("userinfo: %d %v", r.status, r.body)
	}
	for _, tc := range []struct{ name, proof string }{
		{"replayed", used},
		{"other method", f.proof("POST", uiURL, at)},
		{"no ath", f.proof("GET", uiURL, "")},
		{"ath of another token", f.proof("GET", uiURL, "another")},
	} {
		t.Run("userinfo "+tc.name, func(t *testing.T) {
			r := f.dpopUserinfo(at, tc.proof)
			if r.status != 401 || r.body["error"] != "invalid_dpop_proof" || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "DPoP") {
				t.Fatalf("got %d %v %q", r.status, r.body, r.header.Get("WWW-Authenticate"))
			}
		})
	}
	// A proof made with another key.
	other := newFixture(t)
	r := f.dpopUserinfo(at, other.proof("GET", uiURL, at))
	if r.status != 401 || r.body["error"] != "invalid_dpop_proof" {
		t.Fatalf("proof of another key: %d %v", r.status, r.body)
	}
}

// TestExpiry uses the injected clock: an expired code, access token and
// session.
func TestExpiry(t *testing.T) {
	f := newFixture(t)
	code, verifier := f.codeFor(clientBasic, nil)
	f.clock.advance(2 * time.Minute)
	resp, body := f.exchange(clientBasic, code, verifier)
	wantError(t, resp, body, 400, "invalid_grant")

	code, verifier = f.codeFor(clientBasic, nil)
	resp, body = f.exchange(clientBasic, code, verifier)
	if resp.StatusCode != 200 {
		t.Fatalf("exchange: %d %v", resp.StatusCode, body)
	}
	at := body["access_token"].(string)
	if resp, _ := f.userinfo(at); resp.StatusCode != 200 {
		t.Fatalf("fresh token: %d", resp.StatusCode)
	}
	f.clock.advance(11 * time.Minute)
	resp, body = f.userinfo(at)
	if resp.StatusCode != 401 || body["error"] != "invalid_token" || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Fatalf("expired token: %d %v %q", resp.StatusCode, body, resp.Header.Get("WWW-Authenticate"))
	}
}

// TestUserInfoChallenges: no token, unknown token, insufficient scope.
func TestUserInfoChallenges(t *testing.T) {
	f := newFixture(t)
	req, _ := http.NewRequest(http.MethodGet, f.url(config.PathUserInfo), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || len(resp.Header.Values("WWW-Authenticate")) != 2 || strings.Contains(resp.Header.Get("WWW-Authenticate"), "error=") {
		t.Fatalf("no token: %d %v", resp.StatusCode, resp.Header.Values("WWW-Authenticate"))
	}
	resp, body := f.userinfo("unknown")
	if resp.StatusCode != 401 || body["error"] != "invalid_token" {
		t.Fatalf("unknown token: %d %v", resp.StatusCode, body)
	}
	// A token in the query is refused, alone or beside a header token, and
	// the token stays usable the proper way (RFC 6750 §2.3).
	code, verifier := f.codeFor(clientBasic, nil)
	_, tok := f.exchange(clientBasic, code, verifier)
	at := tok["access_token"].(string)
	for _, withHeader := range []bool{false, true} {
		req, _ := http.NewRequest(http.MethodGet, f.url(config.PathUserInfo)+"?access_token="+url.QueryEscape(at), nil)
		if withHeader {
			req.Header.Set("Authorization", "Bearer "+at)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body := decode(t, resp)
		if resp.StatusCode != 400 || body["error"] != "invalid_request" {
			t.Fatalf("token in the query (header too: %v): %d %v", withHeader, resp.StatusCode, body)
		}
	}
	if resp, body := f.userinfo(at); resp.StatusCode != 200 || body["sub"] == nil {
		t.Fatalf("the token after the refusals: %d %v", resp.StatusCode, body)
	}
}

// A full memory store refuses new state with temporarily_unavailable; what
// it already holds keeps working.
func TestFullStoreIsTemporarilyUnavailable(t *testing.T) {
	full := store.NewMemoryWithBudget(4 << 10)
	t.Cleanup(func() { full.Close() })
	f := newFixtureWith(t, func(o *Options) { o.Store = full })
	push := func() (*http.Response, map[string]any) {
		_, challenge := pkce()
		resp := f.post(config.PathPAR, url.Values{
			"response_type": {"code"}, "client_id": {clientBasic}, "redirect_uri": {redirectURI}, "scope": {"openid"},
			"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "state": {strings.Repeat("s", 600)},
		}, basicAuth(clientBasic, testSecret))
		return resp, decode(t, resp)
	}
	var accepted []string
	for range 10 {
		resp, body := push()
		if resp.StatusCode == http.StatusCreated {
			accepted = append(accepted, body["request_uri"].(string))
			continue
		}
		if resp.StatusCode != http.StatusServiceUnavailable || body["error"] != "temporarily_unavailable" {
			t.Fatalf("a full store answered %d %v", resp.StatusCode, body)
		}
		if len(accepted) == 0 {
			t.Fatal("not even one pushed request fitted the budget")
		}
		// What was accepted is still there: its authorization request
		// reaches the sign-in page.
		pg := f.get(f.browser(), f.url(config.PathAuthorize)+"?"+url.Values{"client_id": {clientBasic}, "request_uri": {accepted[0]}}.Encode())
		if pg.status != http.StatusOK || !strings.Contains(pg.body, `name="username"`) {
			t.Fatalf("an accepted pushed request after the store filled: %d %.300s", pg.status, pg.body)
		}
		return
	}
	t.Fatalf("ten pushed requests of about 1 KiB fitted a 4 KiB budget (%d accepted)", len(accepted))
}
