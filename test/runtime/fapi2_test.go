package runtime_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/idaop/ida-operator/test/internal/rptest"
)

// fapiResource is the accounts API of the FAPI2 provider's resource
// indicators.
const fapiResource = "https://api.bank.example/accounts"

// TestOAuth4WebAPIFAPI2: oauth4webapi, the strict library under
// openid-client, runs the FAPI 2.0 flow against a provider under the FAPI2
// profile: discovery, PAR with private_key_jwt (aud the issuer, a string)
// and a DPoP proof, DPoP nonces, Chromium signs in and consents, the
// authorization response's iss checked, the code redeemed with PKCE, the
// ID token validated, UserInfo with verified_claims; then two refresh
// grants with the same refresh token, since FAPI 2.0 does not rotate it;
// the access token introspected (RFC 7662) with its DPoP binding; and a
// resource server built on oauth4webapi checks the JWT access tokens
// (RFC 9068): with their DPoP key they pass, with another key or as Bearer
// tokens they do not, and a token refreshed for the API alone (RFC 8707)
// passes there and is refused at UserInfo.
func TestOAuth4WebAPIFAPI2(t *testing.T) {
	t.Parallel()
	e := getFAPI2Env(t)
	e.dumpLogsOnFailure(t)
	br := getBrowser(t)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	rp := rptest.StartNodeScript(t, ctx, e.root, "fapi2.mjs",
		"ISSUER="+e.issuer, "CLIENT_ID="+clientFAPI2, "CLIENT_JWK="+string(e.cfg.clientJWK),
		"REDIRECT_URI="+e.cb.RedirectURI(), "SCOPE=openid profile offline_access",
		"CLAIMS={"+userinfoClaims+"}", "PURPOSE="+fapiPurpose, "RESOURCE="+fapiResource)
	authz := rp.Next(t, "authorize")
	disc, _ := authz["discovery"].(map[string]any)
	if disc["require_pushed_authorization_requests"] != true || !containsAny(disc["token_endpoint_auth_methods_supported"], "private_key_jwt") {
		t.Errorf("FAPI2 discovery: %v", disc)
	}
	if m, _ := disc["token_endpoint_auth_methods_supported"].([]any); len(m) != 1 {
		t.Errorf("FAPI2 offers more than private_key_jwt: %v", m)
	}
	au, err := url.Parse(authz["authorization_url"].(string))
	if err != nil {
		t.Fatal(err)
	}
	got := e.cb.Expect(authz["state"].(string))
	pages := signInWithBrowser(t, e, br.Tab(t, 30*time.Second), au.String(), "approve", false)
	if !strings.Contains(pages.ConsentText, fapiPurpose) {
		t.Errorf("consent page does not show the purpose:\n%s", pages.ConsentText)
	}
	rp.Send(t, rptest.Wait(t, got, 10*time.Second).String())
	res := rp.Next(t, "result")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("oauth4webapi result:\n%s", rptest.Pretty(res))
		}
	})
	if tt, _ := res["token_type"].(string); !strings.EqualFold(tt, "DPoP") {
		t.Errorf("token_type = %q, want DPoP", tt)
	}
	idc, _ := res["id_token_claims"].(map[string]any)
	ui, _ := res["userinfo"].(map[string]any)
	if idc["iss"] != e.issuer || ui["sub"] != idc["sub"] {
		t.Errorf("ID token iss %v, sub %v; UserInfo sub %v", idc["iss"], idc["sub"], ui["sub"])
	}
	if rptest.ValidateVerifiedClaims(t, e.specDir, "UserInfo", ui) == 0 || rptest.DatasetUnder(ui, "jp_aml") == nil {
		t.Errorf("UserInfo has no jp_aml verified_claims: %v", ui["verified_claims"])
	}
	// Introspection (RFC 7662) of the DPoP-bound access token: active, the
	// client's, and its key's thumbprint as cnf.jkt (RFC 9449 §6.2).
	in, _ := res["introspection"].(map[string]any)
	cnf, _ := in["cnf"].(map[string]any)
	if in["active"] != true || in["client_id"] != clientFAPI2 || in["sub"] != idc["sub"] || !strings.EqualFold(fmt.Sprint(in["token_type"]), "DPoP") || cnf["jkt"] == nil {
		t.Errorf("introspection: %v", in)
	}
	ref, _ := res["refresh"].(map[string]any)
	if res["has_refresh_token"] != true || ref == nil {
		t.Fatalf("no refresh token for offline_access: %v", res["scope"])
	}
	if ref["new_refresh_token"] != false || ref["second_with_same_token"] != true {
		t.Errorf("FAPI2 refresh: new refresh token %v, second grant with the same token %v; want false and true", ref["new_refresh_token"], ref["second_with_same_token"])
	}
	if ui2, _ := ref["userinfo"].(map[string]any); rptest.DatasetUnder(ui2, "jp_aml") == nil {
		t.Errorf("UserInfo after refresh: %v", ui2)
	}
	checkResourceServer(t, res, e.issuer, idc["sub"], cnf["jkt"])
}

// checkResourceServer reads what the oauth4webapi resource server said.
func checkResourceServer(t *testing.T, res map[string]any, issuer string, sub, jkt any) {
	t.Helper()
	rs, _ := res["resource_server"].(map[string]any)
	call := func(name string) (float64, map[string]any) {
		c, _ := rs[name].(map[string]any)
		status, _ := c["status"].(float64)
		body, _ := c["body"].(map[string]any)
		return status, body
	}
	status, body := call("own_key")
	if status != 200 || body["sub"] != sub || body["jkt"] != jkt || body["client_id"] != clientFAPI2 ||
		!containsAny(body["aud"], fapiResource) || !containsAny(body["aud"], issuer) {
		t.Errorf("the resource server refused the token with its own DPoP key, or its claims are wrong: %v %v", status, body)
	}
	for _, name := range []string{"other_key", "bearer"} {
		if status, body := call(name); status != 401 || body["error"] != "invalid_token" {
			t.Errorf("the resource server accepted the DPoP-bound token (%s): %v %v", name, status, body)
		}
	}
	if status, body := call("api_only"); status != 200 || body["aud"] != fapiResource {
		t.Errorf("a token refreshed for the API alone: %v %v", status, body)
	}
	ui, _ := rs["userinfo_with_api_token"].(map[string]any)
	if ui["accepted"] != false || !strings.Contains(fmt.Sprint(ui), "another resource") {
		t.Errorf("UserInfo with a token for the API alone: %v", ui)
	}
}
