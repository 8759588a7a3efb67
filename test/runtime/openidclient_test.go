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

// Requests of the openid-client flows. Verified claims come by the claims
// parameter (UserInfo under jp_aml, ID token under uk_tfida), or by the
// Japanese profile's jp_oidf_ida scope (UserInfo) with the claims parameter
// for the ID token only: the runtime refuses the scope together with a
// UserInfo verified_claims request.
const (
	fapiPurpose       = "To open a Demo Bank account in your name"
	givenNamePurpose  = "To address you by name in our letters"
	familyNamePurpose = "To check your name against the account holder"
	birthdatePurpose  = "To confirm that you are of legal age"
	idTokenClaims     = `"id_token": {"verified_claims": {
    "verification": {"trust_framework": {"value": "uk_tfida"}, "assurance_level": null},
    "claims": {"given_name": {"purpose": "` + givenNamePurpose + `"}, "family_name": null}
  }}`
	userinfoClaims = `"userinfo": {"verified_claims": {
    "verification": {"trust_framework": {"value": "jp_aml"}, "time": null, "evidence": [{"type": {"value": "document"}}]},
    "claims": {
      "given_name": {"purpose": "` + givenNamePurpose + `"},
      "family_name": {"purpose": "` + familyNamePurpose + `"},
      "birthdate": {"purpose": "` + birthdatePurpose + `"}
    }}}`
)

// startNodeRP starts test/oidc-client/rp.mjs as clientFAPI (private_key_jwt,
// DPoP, PAR, the non-repudiation checks), with extraEnv.
func startNodeRP(t *testing.T, ctx context.Context, e *env, extraEnv ...string) *rptest.NodeRP {
	t.Helper()
	return rptest.StartNodeRP(t, ctx, e.root, append([]string{
		"ISSUER=" + e.issuer,
		"CLIENT_ID=" + clientFAPI,
		"CLIENT_JWK=" + string(e.cfg.clientJWK),
		"REDIRECT_URI=" + e.cb.RedirectURI(),
		"DPOP=1", "PAR=1", "NON_REPUDIATION=1",
	}, extraEnv...)...)
}

// TestOpenIDClientCodeFlow: openid-client v6 discovers the provider, pushes
// the authorization request (PAR) with private_key_jwt and a DPoP proof,
// Chromium signs in and consents, and openid-client redeems the code with
// PKCE, private_key_jwt and DPoP, checks the ID token's signature against
// the JWKS (non-repudiation checks) and reads UserInfo with verified_claims.
func TestOpenIDClientCodeFlow(t *testing.T) {
	t.Parallel()
	e := getEnv(t)
	e.dumpLogsOnFailure(t)
	br := getBrowser(t)

	t.Run("claims parameter", func(t *testing.T) {
		t.Parallel()
		// With offline_access: then a DPoP-bound refresh grant, UserInfo with
		// the new access token, and its revocation (RFC 7009).
		res := openIDClientFlow(t, e, br, "openid profile offline_access", "{"+idTokenClaims+",\n"+userinfoClaims+"}",
			[]string{fapiPurpose, givenNamePurpose, familyNamePurpose, birthdatePurpose}, "REFRESH=1", "REVOKE=1")
		checkJPAML := func(where string, ui map[string]any) {
			t.Helper()
			if d := rptest.DatasetUnder(ui, "jp_aml"); d == nil {
				t.Errorf("%s has no jp_aml verified_claims: %v", where, ui["verified_claims"])
			} else if c, _ := d["claims"].(map[string]any); c["given_name"] != "太郎" || c["family_name"] != "山田" || c["birthdate"] != "1985-04-12" {
				t.Errorf("%s jp_aml claims = %v", where, c)
			}
		}
		ui, _ := res["userinfo"].(map[string]any)
		checkJPAML("UserInfo", ui)
		if res["has_refresh_token"] != true {
			t.Fatalf("no refresh token for scope offline_access: %v", res["scope"])
		}
		ref, _ := res["refresh"].(map[string]any)
		if tt, _ := ref["token_type"].(string); !strings.EqualFold(tt, "DPoP") || ref["rotated"] != true {
			t.Errorf("refresh grant: token_type %v, rotated %v; want DPoP and a new refresh token", ref["token_type"], ref["rotated"])
		}
		ui2, _ := ref["userinfo"].(map[string]any)
		rptest.ValidateVerifiedClaims(t, e.specDir, "UserInfo after refresh", ui2)
		checkJPAML("UserInfo after refresh", ui2)
		if idc2, _ := ref["id_token_claims"].(map[string]any); idc2 != nil {
			rptest.ValidateVerifiedClaims(t, e.specDir, "ID token after refresh", idc2)
		}
		rv, _ := res["after_revocation"].(map[string]any)
		if rv["refused"] != true {
			t.Errorf("UserInfo accepted a revoked access token: %v", rv)
		}
		t.Logf("refresh: token_type %v, rotated %v; UserInfo after revocation: %v %v", ref["token_type"], ref["rotated"], rv["status"], rv["error"])
	})
	t.Run("signed request object", func(t *testing.T) {
		t.Parallel()
		// JAR inside PAR (RFC 9101 with RFC 9126): the claims request
		// travels in a request object signed with the client's key.
		res := openIDClientFlow(t, e, br, "openid profile", "{"+idTokenClaims+",\n"+userinfoClaims+"}",
			[]string{fapiPurpose, givenNamePurpose, familyNamePurpose, birthdatePurpose}, "JAR=1")
		ui, _ := res["userinfo"].(map[string]any)
		if d := rptest.DatasetUnder(ui, "jp_aml"); d == nil {
			t.Errorf("UserInfo has no jp_aml verified_claims: %v", ui["verified_claims"])
		}
	})
	t.Run("jp_oidf_ida scope", func(t *testing.T) {
		t.Parallel()
		res := openIDClientFlow(t, e, br, "openid profile jp_oidf_ida", "{"+idTokenClaims+"}",
			[]string{fapiPurpose, givenNamePurpose})
		ui, _ := res["userinfo"].(map[string]any)
		// name, birthdate and address.formatted (jp-basic-profile 5.2.2.1).
		if d := rptest.DatasetUnder(ui, "jp_oidf_ida"); d == nil {
			t.Errorf("UserInfo has no jp_oidf_ida verified_claims (scope jp_oidf_ida): %v", ui["verified_claims"])
		} else {
			c, _ := d["claims"].(map[string]any)
			addr, _ := c["address"].(map[string]any)
			if c["name"] != "山田 太郎" || c["birthdate"] != "1985-04-12" || addr["formatted"] != "東京都千代田区丸の内1-1-1" {
				t.Errorf("UserInfo jp_oidf_ida claims = %v", c)
			}
		}
	})
}

// TestOpenIDClientEncryptedResponses: openid-client decrypts, with the
// keys the relying party registered, an ID token encrypted to its RSA key
// and UserInfo and a JWT introspection answer encrypted to its EC key,
// each signed by the provider inside (the non-repudiation checks verify
// the inner signatures against the JWKS); the verified_claims inside
// validate against the schema.
func TestOpenIDClientEncryptedResponses(t *testing.T) {
	t.Parallel()
	e := getEnv(t)
	e.dumpLogsOnFailure(t)
	res := openIDClientFlowAs(t, e, getBrowser(t), clientJWE, "openid profile", "{"+idTokenClaims+",\n"+userinfoClaims+"}",
		[]string{fapiPurpose, givenNamePurpose, familyNamePurpose, birthdatePurpose},
		"DECRYPT_JWKS="+string(e.cfg.decryptJWKs), "INTROSPECT=jwt")
	wire, _ := res["wire"].(map[string]any)
	for _, w := range []struct {
		response, contentType, alg, enc, kid string
	}{
		{"id_token", "application/json", "RSA-OAEP-256", "A256GCM", "rp-enc-rsa"},
		{"userinfo", "application/jwt", "ECDH-ES", "A128CBC-HS256", "rp-enc-ec"},
		{"introspect", "application/token-introspection+jwt", "ECDH-ES+A256KW", "A128GCM", "rp-enc-ec"},
	} {
		got, _ := wire[w.response].(map[string]any)
		hdr, _ := got["header"].(map[string]any)
		if got["parts"] != float64(5) || !strings.HasPrefix(fmt.Sprint(got["content_type"]), w.contentType) ||
			hdr["alg"] != w.alg || hdr["enc"] != w.enc || hdr["kid"] != w.kid || hdr["cty"] != "JWT" {
			t.Errorf("%s on the wire = %v; want a JWE %s/%s to %s, cty JWT, as %s", w.response, got, w.alg, w.enc, w.kid, w.contentType)
		}
	}
	ui, _ := res["userinfo"].(map[string]any)
	if rptest.DatasetUnder(ui, "jp_aml") == nil || ui["aud"] != clientJWE {
		t.Errorf("decrypted UserInfo: %v", ui)
	}
	in, _ := res["introspection"].(map[string]any)
	idc, _ := res["id_token_claims"].(map[string]any)
	if in["active"] != true || in["client_id"] != clientJWE || in["sub"] != idc["sub"] {
		t.Errorf("decrypted introspection: %v", in)
	}
}

// openIDClientFlow runs one openid-client flow and returns its result,
// after the checks every flow shares.
func openIDClientFlow(t *testing.T, e *env, br *rptest.Browser, scope, claims string, purposes []string, extraEnv ...string) map[string]any {
	t.Helper()
	return openIDClientFlowAs(t, e, br, clientFAPI, scope, claims, purposes, extraEnv...)
}

// openIDClientFlowAs is openIDClientFlow for another client registered
// like clientFAPI.
func openIDClientFlowAs(t *testing.T, e *env, br *rptest.Browser, clientID, scope, claims string, purposes []string, extraEnv ...string) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	// prompt=consent: the page is checked below, whatever an earlier
	// flow of the same request left remembered.
	rp := startNodeRP(t, ctx, e, append([]string{"CLIENT_ID=" + clientID, "SCOPE=" + scope, "CLAIMS=" + claims, "PURPOSE=" + fapiPurpose, "PROMPT=consent"}, extraEnv...)...)
	authz := rp.Next(t, "authorize")
	au, err := url.Parse(authz["authorization_url"].(string))
	if err != nil {
		t.Fatal(err)
	}
	// PAR: the front channel carries client_id and request_uri only.
	if q := au.Query(); len(q) != 2 || q.Get("client_id") != clientID || !strings.HasPrefix(q.Get("request_uri"), "urn:ietf:params:oauth:request_uri:") {
		t.Errorf("authorization URL is not a PAR reference: %s", au)
	}
	if disc, _ := authz["discovery"].(map[string]any); disc["authorization_response_iss_parameter_supported"] != true {
		t.Errorf("discovery lacks authorization_response_iss_parameter_supported=true: %v", disc)
	}
	state := authz["state"].(string)

	got := e.cb.Expect(state)
	tab := br.Tab(t, 30*time.Second)
	pages := signInWithBrowser(t, e, tab, au.String(), "approve", false)
	for _, s := range append(purposes, e.cfg.clientNames[clientID]) {
		if !strings.Contains(pages.ConsentText, s) {
			t.Errorf("consent page does not show %q:\n%s", s, pages.ConsentText)
		}
	}
	cb := rptest.Wait(t, got, 10*time.Second)
	if cb.Query().Get("iss") != e.issuer {
		t.Errorf("authorization response iss = %q, want %q", cb.Query().Get("iss"), e.issuer)
	}

	rp.Send(t, cb.String())
	res := rp.Next(t, "result")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("openid-client result:\n%s", rptest.Pretty(res))
		}
	})

	if tt, _ := res["token_type"].(string); !strings.EqualFold(tt, "DPoP") {
		t.Errorf("token_type = %q, want DPoP", tt)
	}
	// An encrypted ID token's header is the JWE's, checked by its test.
	if hdr, _ := res["id_token_header"].(map[string]any); hdr["alg"] != "ES256" && hdr["enc"] == nil {
		t.Errorf("ID token alg = %v, want ES256 (the provider's first algorithm)", hdr["alg"])
	}
	idc, _ := res["id_token_claims"].(map[string]any)
	ui, _ := res["userinfo"].(map[string]any)
	if idc["iss"] != e.issuer || (idc["aud"] != clientID && !containsAny(idc["aud"], clientID)) {
		t.Errorf("ID token iss/aud: %v / %v", idc["iss"], idc["aud"])
	}
	if ui["sub"] != idc["sub"] || idc["sub"] == nil {
		t.Errorf("UserInfo sub %v differs from ID token sub %v", ui["sub"], idc["sub"])
	}
	if rptest.ValidateVerifiedClaims(t, e.specDir, "ID token", idc) == 0 || rptest.ValidateVerifiedClaims(t, e.specDir, "UserInfo", ui) == 0 {
		t.Fatalf("verified_claims missing\nID token: %v\nUserInfo: %v", idc, ui)
	}
	// uk_tfida in the ID token, by the claims parameter.
	if d := rptest.DatasetUnder(idc, "uk_tfida"); d == nil {
		t.Errorf("ID token has no uk_tfida verified_claims: %v", idc["verified_claims"])
	} else if c, _ := d["claims"].(map[string]any); c["given_name"] != "Taro" || c["family_name"] != "Yamada" {
		t.Errorf("ID token uk_tfida claims = %v", c)
	}
	return res
}

func containsAny(v any, s string) bool {
	arr, _ := v.([]any)
	for _, x := range arr {
		if x == s {
			return true
		}
	}
	return false
}
