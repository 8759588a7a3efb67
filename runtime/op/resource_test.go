package op

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/idaop/ida-operator/runtime/config"
)

const (
	apiAccounts = "https://api.bank.example/accounts"
	apiPayments = "urn:bank:payments"
)

func resourceFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixture(t, func(s *config.Snapshot) {
		s.Provider.Tokens.Resources = []string{apiAccounts, apiPayments}
		s.Provider.Tokens.AccessTokenFormat = config.AccessTokenJWT
	})
}

func TestCheckResources(t *testing.T) {
	sv := resourceFixture(t).p.served.Load()
	for _, tc := range []struct {
		name string
		in   []string
		err  string
	}{
		{"none", nil, ""},
		{"offered ones", []string{apiAccounts, apiPayments}, ""},
		{"the issuer, for UserInfo", []string{sv.issuer}, ""},
		{"not offered", []string{"https://evil.example/"}, "invalid_target: resource https://evil.example/ is not offered by this provider"},
		{"a prefix of an offered one", []string{"https://api.bank.example/"}, "invalid_target: resource https://api.bank.example/ is not offered"},
		{"with a fragment", []string{apiAccounts + "#x"}, "invalid_target: resource https://api.bank.example/accounts#x: has a fragment"},
		{"relative", []string{"/accounts"}, "invalid_target: resource /accounts: not an absolute URI"},
		{"twice", []string{apiAccounts, apiAccounts}, "invalid_request: resource https://api.bank.example/accounts is repeated"},
		{"too many", slices.Repeat([]string{apiAccounts}, 33), "invalid_target: more than 32 resources"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := errString(checkResources(sv, tc.in)); !strings.HasPrefix(got, tc.err) || (tc.err == "") != (got == "") {
				t.Fatalf("got %q, want %q", got, tc.err)
			}
		})
	}
}

func TestNarrowResources(t *testing.T) {
	sv := resourceFixture(t).p.served.Load()
	for _, tc := range []struct {
		name           string
		granted, asked []string
		want           []string
		err            string
	}{
		{"nothing named anywhere", nil, nil, nil, ""},
		{"the authorization's when the token request names none", []string{apiAccounts, apiPayments}, nil, []string{apiAccounts, apiPayments}, ""},
		{"narrowed to one", []string{apiAccounts, apiPayments}, []string{apiPayments}, []string{apiPayments}, ""},
		{"outside the authorization", []string{apiAccounts}, []string{apiPayments}, nil, "invalid_target: resource urn:bank:payments was not part of the authorization"},
		{"named only at the token endpoint", nil, []string{apiPayments}, []string{apiPayments}, ""},
		{"not offered", nil, []string{"https://evil.example/"}, nil, "invalid_target"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := narrowResources(sv, tc.granted, tc.asked)
			if e := errString(err); !strings.HasPrefix(e, tc.err) || (tc.err == "") != (e == "") || !slices.Equal(got, tc.want) && err == nil {
				t.Fatalf("got %v, %q; want %v, %q", got, e, tc.want, tc.err)
			}
		})
	}
	if aud := tokenAudience(sv, nil); !slices.Equal(aud, []string{sv.issuer}) {
		t.Fatalf("default audience %v", aud)
	}
	if !servesUserInfo(sv, nil) || !servesUserInfo(sv, []string{apiAccounts, sv.issuer}) || servesUserInfo(sv, []string{apiAccounts}) {
		t.Fatal("servesUserInfo: a token for UserInfo is one without resources or with the issuer among them")
	}
}

func errString(e *oauthError) string {
	if e == nil {
		return ""
	}
	return e.Code + ": " + e.Description
}

// TestResourceIndicators: the resources named at authorization become the
// access token's audience, a token request or a refresh narrows them, and
// a token for an API alone is refused at UserInfo (RFC 8707).
func TestResourceIndicators(t *testing.T) {
	f := resourceFixture(t)
	code, verifier := f.codeFor(clientPost, url.Values{"scope": {"openid email offline_access"}, "resource": {apiAccounts, apiPayments, f.issuer}})
	redeem := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier},
		"client_id": {clientPost}, "client_secret": {testSecret}, "resource": {apiAccounts}}
	resp, tok := postForm(f, config.PathToken, redeem)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token: %d %v", resp.StatusCode, tok)
	}
	if aud := accessTokenAudience(t, f, tok); !slices.Equal(aud, []string{apiAccounts}) {
		t.Fatalf("narrowed token aud %v", aud)
	}
	if resp, body := f.userinfo(tok["access_token"].(string)); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "another resource") {
		t.Fatalf("UserInfo with a token for the accounts API: %d %v %q", resp.StatusCode, body, resp.Header.Get("WWW-Authenticate"))
	}
	_, in := postForm(f, config.PathIntrospect, url.Values{"token": {tok["access_token"].(string)}, "client_id": {clientPost}, "client_secret": {testSecret}})
	if in["active"] != true || in["aud"] != apiAccounts {
		t.Fatalf("introspection %v", in)
	}

	refresh := func(resources ...string) (*http.Response, map[string]any) {
		return postForm(f, config.PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)},
			"client_id": {clientPost}, "client_secret": {testSecret}, "resource": resources})
	}
	// A refresh token keeps every resource of the authorization.
	resp, next := refresh(f.issuer)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("refresh for UserInfo: %d %v", resp.StatusCode, next)
	}
	if resp, body := f.userinfo(next["access_token"].(string)); resp.StatusCode != http.StatusOK || body["sub"] == nil {
		t.Fatalf("UserInfo with a token for the issuer: %d %v", resp.StatusCode, body)
	}
	tok = next
	resp, next = refresh()
	if aud := accessTokenAudience(t, f, next); resp.StatusCode != http.StatusOK || !slices.Equal(aud, []string{apiAccounts, apiPayments, f.issuer}) {
		t.Fatalf("refresh without resource: %d aud %v", resp.StatusCode, aud)
	}
	tok = next
	resp, body := refresh("https://elsewhere.example/")
	wantError(t, resp, body, http.StatusBadRequest, "invalid_target")

	// Refusals at the authorization endpoint go back to the client.
	u, _ := f.authorizeURL(clientPost, url.Values{"resource": {"https://elsewhere.example/"}})
	if q := redirectParams(t, f.get(f.browser(), u)); q.Get("error") != "invalid_target" {
		t.Fatalf("an unoffered resource: %v", q)
	}
	// A token request may not add a resource the authorization left out.
	code, verifier = f.codeFor(clientPost, url.Values{"resource": {apiAccounts}})
	redeem.Set("code", code)
	redeem.Set("code_verifier", verifier)
	redeem.Set("resource", apiPayments)
	resp, body = postForm(f, config.PathToken, redeem)
	wantError(t, resp, body, http.StatusBadRequest, "invalid_target")
}

// TestResourceInRequestObject: a signed request object names resources as
// a string or an array.
func TestResourceInRequestObject(t *testing.T) {
	for name, want := range map[string]any{"a string": apiPayments, "an array": []any{apiAccounts, apiPayments}} {
		t.Run(name, func(t *testing.T) {
			f := jarFixture(t)
			f.snap.Provider.Tokens.Resources = []string{apiAccounts, apiPayments}
			f.snap.Provider.Tokens.AccessTokenFormat = config.AccessTokenJWT
			if err := f.p.Apply(f.snap); err != nil {
				t.Fatal(err)
			}
			verifier, challenge := pkce()
			params := authzParams(challenge)
			params["resource"] = want
			obj := f.requestObject(clientJAR, f.clientKey, params, nil)
			q := f.signIn(f.browser(), f.url(config.PathAuthorize)+"?"+url.Values{"client_id": {clientJAR}, "request": {obj}}.Encode())
			form := assertionParams(f.assertion(func(c *jwt.Claims) { c.Issuer, c.Subject = clientJAR, clientJAR }))
			for k, v := range map[string]string{"client_id": clientJAR, "grant_type": "authorization_code", "code": q.Get("code"),
				"redirect_uri": redirectURI, "code_verifier": verifier} {
				form.Set(k, v)
			}
			tok := decode(t, f.post(config.PathToken, form, nil))
			aud := accessTokenAudience(t, f, tok)
			if s, ok := want.(string); (ok && !slices.Equal(aud, []string{s})) || (!ok && len(aud) != 2) {
				t.Fatalf("aud %v for resource %v", aud, want)
			}
		})
	}
}

// accessTokenAudience verifies a JWT access token with the published keys
// and returns its aud.
func accessTokenAudience(t *testing.T, f *fixture, tok map[string]any) []string {
	t.Helper()
	at, _ := tok["access_token"].(string)
	parsed, err := jwt.ParseSigned(at, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatalf("access token %v: %v", tok, err)
	}
	var std jwt.Claims
	if err := parsed.Claims(publishedKey(t, f, parsed.Headers[0].KeyID), &std); err != nil {
		t.Fatal(err)
	}
	return std.Audience
}

func postForm(f *fixture, path string, form url.Values) (*http.Response, map[string]any) {
	f.t.Helper()
	resp := f.post(path, form, nil)
	return resp, decode(f.t, resp)
}
