package op

import (
	"net/url"
	"slices"
	"strings"
	"testing"
)

// servedFor is the configuration a fixture serves, for tests that call a
// step's checks directly.
func servedFor(t *testing.T) (*Provider, *served) {
	t.Helper()
	f := newFixture(t)
	return f.p, f.p.served.Load()
}

// validAuthzParams is an authorization request every check passes.
func validAuthzParams() url.Values {
	_, challenge := pkce()
	return url.Values{
		"client_id": {clientBasic}, "redirect_uri": {redirectURI}, "response_type": {"code"},
		"scope": {"openid email"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"},
	}
}

// runAuthzChecks runs both lists the way authorize and PAR do.
func runAuthzChecks(a *authzCtx) *oauthError {
	if err := runChecks(a, frontChecks); err != nil {
		return err
	}
	return runChecks(a, requestChecks)
}

// TestAuthorizeChecks: each case breaks one rule of the authorization
// request and gets that rule's error; the request is otherwise valid.
func TestAuthorizeChecks(t *testing.T) {
	p, sv := servedFor(t)
	cases := []struct {
		name   string
		edit   func(v url.Values)
		viaPAR bool
		code   string
		desc   string
	}{
		{"valid request", func(url.Values) {}, false, "", ""},
		{"client_id is required", func(v url.Values) { v.Del("client_id") }, false, "invalid_request", "client_id is required"},
		{"client must be registered", func(v url.Values) { v.Set("client_id", "nobody") }, false, "invalid_client", "unknown client"},
		{"client must not be disabled", func(v url.Values) { v.Set("client_id", clientDisabled) }, false, "unauthorized_client", "disabled"},
		{"redirect_uri is required", func(v url.Values) { v.Del("redirect_uri") }, false, "invalid_request", "redirect_uri is required"},
		{"redirect_uri matches exactly, no trailing slash", func(v url.Values) { v.Set("redirect_uri", redirectURI+"/") }, false, "invalid_request", "not registered"},
		{"redirect_uri matches exactly, no extra query", func(v url.Values) { v.Set("redirect_uri", redirectURI+"?x=1") }, false, "invalid_request", "not registered"},
		{"redirect_uri matches exactly, case counts", func(v url.Values) { v.Set("redirect_uri", strings.ToUpper(redirectURI)) }, false, "invalid_request", "not registered"},
		{"response_type is required", func(v url.Values) { v.Del("response_type") }, false, "invalid_request", "response_type is required"},
		{"response_type is code", func(v url.Values) { v.Set("response_type", "code id_token") }, false, "unsupported_response_type", ""},
		{"response_mode is query", func(v url.Values) { v.Set("response_mode", "fragment") }, false, "invalid_request", "response_mode"},
		{"response_mode query is fine", func(v url.Values) { v.Set("response_mode", "query") }, false, "", ""},
		{"PAR required by the client", func(v url.Values) { v.Set("client_id", clientFAPI) }, false, "invalid_request", "pushed authorization requests are required"},
		{"PAR required by the client, pushed", func(v url.Values) { v.Set("client_id", clientFAPI) }, true, "", ""},
		{"scope includes openid", func(v url.Values) { v.Set("scope", "email") }, false, "invalid_scope", "openid"},
		{"scope registered for the client", func(v url.Values) { v.Set("scope", "openid offline_access") }, false, "invalid_scope", "offline_access"},
		{"scope offered by the provider", func(v url.Values) { v.Set("scope", "openid phone") }, false, "invalid_scope", "phone"},
		{"code_challenge is required", func(v url.Values) { v.Del("code_challenge") }, false, "invalid_request", "code_challenge is required"},
		{"code_challenge_method is S256", func(v url.Values) { v.Set("code_challenge_method", "plain") }, false, "invalid_request", "S256"},
		{"code_challenge_method is required", func(v url.Values) { v.Del("code_challenge_method") }, false, "invalid_request", "S256"},
		{"code_challenge is a SHA-256 hash", func(v url.Values) { v.Set("code_challenge", strings.Repeat("a", 44)) }, false, "invalid_request", "SHA-256"},
		{"code_challenge is base64url", func(v url.Values) { v.Set("code_challenge", strings.Repeat("+", 43)) }, false, "invalid_request", "SHA-256"},
		{"prompt values are known", func(v url.Values) { v.Set("prompt", "create") }, false, "invalid_request", "prompt"},
		{"prompt=none stands alone", func(v url.Values) { v.Set("prompt", "none login") }, false, "invalid_request", "prompt=none"},
		{"max_age is a number", func(v url.Values) { v.Set("max_age", "ten") }, false, "invalid_request", "max_age"},
		{"max_age is not negative", func(v url.Values) { v.Set("max_age", "-1") }, false, "invalid_request", "max_age"},
		{"max_age 0 is fine", func(v url.Values) { v.Set("max_age", "0") }, false, "", ""},
		{"purpose has at least 3 characters", func(v url.Values) { v.Set("purpose", "ab") }, false, "invalid_request", ""},
		{"purpose has at most 300 characters", func(v url.Values) { v.Set("purpose", strings.Repeat("p", 301)) }, false, "invalid_request", ""},
		{"dpop_jkt is a thumbprint", func(v url.Values) { v.Set("dpop_jkt", "short") }, false, "invalid_request", "dpop_jkt"},
		{"claims is JSON", func(v url.Values) { v.Set("claims", "{") }, false, "invalid_request", ""},
		{"an essential acr without levels cannot be met", func(v url.Values) {
			v.Set("claims", `{"id_token":{"acr":{"essential":true,"values":["urn:bank:acr:mfa"]}}}`)
		}, false, "unmet_authentication_requirements", "authentication level"},
		{"an essential acr spelled with an escape", func(v url.Values) { v.Set("claims", `{"id_token":{"\u0061cr":{"essential":true}}}`) }, false, "unmet_authentication_requirements", ""},
		{"an essential acr at UserInfo neither", func(v url.Values) { v.Set("claims", `{"userinfo":{"acr":{"essential":true}}}`) }, false, "unmet_authentication_requirements", ""},
		{"a voluntary acr is not refused", func(v url.Values) { v.Set("claims", `{"id_token":{"acr":{"values":["urn:bank:acr:mfa"]}}}`) }, false, "", ""},
		{"an unoffered trust framework is left out, not refused", func(v url.Values) {
			v.Set("claims", `{"userinfo":{"verified_claims":{"verification":{"trust_framework":{"value":"uk_tfida"}},"claims":{"given_name":null}}}}`)
		}, false, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := validAuthzParams()
			tc.edit(v)
			a := readAuthzRequest(v)
			a.p, a.sv = p, sv
			a.req.ViaPAR = tc.viaPAR
			err := runAuthzChecks(a)
			if got := codeOf(err); got != tc.code {
				t.Fatalf("error %q (%v), want %q", got, err, tc.code)
			}
			if err != nil && !strings.Contains(err.Description, tc.desc) {
				t.Fatalf("description %q does not say %q", err.Description, tc.desc)
			}
		})
	}
}

// TestAuthorizeChecksNormalise: what the checks settle is what the
// request carries on: scope without duplicates, max_age as a number, the
// parsed claims request.
func TestAuthorizeChecksNormalise(t *testing.T) {
	p, sv := servedFor(t)
	v := validAuthzParams()
	v.Set("scope", "openid email openid")
	v.Set("max_age", "0")
	v.Set("claims", `{"userinfo":{"email":null}}`)
	a := readAuthzRequest(v)
	a.p, a.sv = p, sv
	if err := runAuthzChecks(a); err != nil {
		t.Fatal(err)
	}
	if a.req.Scope != "openid email" {
		t.Errorf("scope %q", a.req.Scope)
	}
	if a.req.MaxAge == nil || *a.req.MaxAge != 0 {
		t.Errorf("max_age %v", a.req.MaxAge)
	}
	if a.claims == nil {
		t.Error("claims request not kept")
	}
	if a.client == nil || a.client.ClientID != clientBasic {
		t.Errorf("client %+v", a.client)
	}
}

// TestRequestedACR: what a request asks of authentication (OIDC Core
// §3.1.2.1 acr_values, §5.5.1.1 the acr claim).
func TestRequestedACR(t *testing.T) {
	for _, tc := range []struct {
		name, claims, acrValues string
		want                    []string
		essential, bad          bool
	}{
		{name: "nothing asked", want: nil},
		{name: "acr_values in order, voluntary", acrValues: "b a", want: []string{"b", "a"}},
		{name: "the claim's value", claims: `{"id_token":{"acr":{"value":"a"}}}`, want: []string{"a"}},
		{name: "the claim's values, essential", claims: `{"id_token":{"acr":{"essential":true,"values":["b","a"]}}}`, want: []string{"b", "a"}, essential: true},
		{name: "the claim at UserInfo counts too", claims: `{"userinfo":{"acr":{"essential":true,"value":"a"}}}`, want: []string{"a"}, essential: true},
		{name: "the claim wins over acr_values", claims: `{"id_token":{"acr":{"value":"a"}}}`, acrValues: "b", want: []string{"a"}},
		{name: "essential without values keeps acr_values", claims: `{"id_token":{"acr":{"essential":true}}}`, acrValues: "b", want: []string{"b"}, essential: true},
		{name: "an escaped member name", claims: `{"id_token":{"\u0061cr":{"essential":true,"value":"a"}}}`, want: []string{"a"}, essential: true},
		{name: "a value that is not a string is ignored", claims: `{"id_token":{"acr":{"value":7}}}`, want: nil},
		{name: "other claims only", claims: `{"id_token":{"given_name":null}}`, acrValues: "a", want: []string{"a"}},
		{name: "a value with a space", claims: `{"id_token":{"acr":{"values":["a b"]}}}`, bad: true},
		{name: "too many values", acrValues: strings.Repeat("x ", maxACRValues+1), bad: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := requestedACR(tc.claims, tc.acrValues)
			if tc.bad {
				if err == nil {
					t.Fatalf("accepted %+v", got)
				}
				return
			}
			if err != nil || !slices.Equal(got.Values, tc.want) || got.Essential != tc.essential {
				t.Fatalf("got %+v, %v; want %v essential=%v", got, err, tc.want, tc.essential)
			}
		})
	}
}
