package config

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestClientSecret(t *testing.T) {
	s, err := NewClientSecret()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(raw) != 32 {
		t.Fatalf("secret %q: %d bytes, %v", s, len(raw), err)
	}
	if s2, _ := NewClientSecret(); s2 == s {
		t.Fatal("two secrets are equal")
	}
	h := HashClientSecret(s)
	if !strings.HasPrefix(h, "sha256:") || len(h) != len("sha256:")+43 || strings.Contains(h, s) {
		t.Fatalf("hash %q", h)
	}
	if HashClientSecret(s) != h {
		t.Fatal("hash is not deterministic")
	}
	// Known answer: SHA-256("abc").
	if got := HashClientSecret("abc"); got != "sha256:ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0" {
		t.Errorf("sha256(abc) = %s", got)
	}
	c := &Client{SecretHash: h}
	if !c.VerifySecret(s) {
		t.Error("the right secret is refused")
	}
	for _, wrong := range []string{"", s + "x", s[:len(s)-1], strings.ToUpper(s), h} {
		if c.VerifySecret(wrong) {
			t.Errorf("%q accepted", wrong)
		}
	}
	if (&Client{}).VerifySecret("") {
		t.Error("a client without a secret accepts the empty secret")
	}
}

const clientJWKS = `{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","kid":"rp-1","use":"sig"}]}`

func TestClientValidate(t *testing.T) {
	if err := testClient().Validate(); err != nil {
		t.Fatal(err)
	}
	jwtClient := func(c *Client) {
		c.TokenEndpointAuthMethod = AuthPrivateKeyJWT
		c.SecretHash = ""
		c.JWKS = json.RawMessage(clientJWKS)
	}
	c := testClient()
	jwtClient(c)
	c.TokenEndpointAuthSigningAlg = ES256
	if err := c.Validate(); err != nil {
		t.Fatalf("private_key_jwt client: %v", err)
	}
	for name, change := range map[string]func(c *Client){
		"secret client with an encryption key": func(c *Client) {
			c.JWKS, c.IDTokenEncryptedResponseAlg, c.UserInfoEncryptedResponseAlg = encJWKS(), "ECDH-ES", "ECDH-ES+A128KW"
			c.UserInfoEncryptedResponseEnc = "A256GCM"
		},
		"secret client with a jwks_uri": func(c *Client) {
			c.JWKSURI, c.IntrospectionEncryptedResponseAlg = "https://app.example.com/jwks", "RSA-OAEP-256"
		},
	} {
		c := testClient()
		change(c)
		if err := AsError(c.Validate()); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	cases := []struct {
		name   string
		change func(c *Client)
		want   string
	}{
		{"no client_id", func(c *Client) { c.ClientID = "" }, "client_id:"},
		{"client_id with colon", func(c *Client) { c.ClientID = "a:b" }, "client_id: \"a:b\""},
		{"no namespace", func(c *Client) { c.Namespace = "" }, "namespace: must not be empty"},
		{"no name", func(c *Client) { c.Name = "" }, "name: must not be empty"},
		{"no redirect", func(c *Client) { c.RedirectURIs = nil }, "redirect_uris: must list at least one URI"},
		{"http redirect", func(c *Client) { c.RedirectURIs = []string{"http://app.example.com/cb"} }, "redirect_uris[0]: \"http://app.example.com/cb\" must use https"},
		{"fragment redirect", func(c *Client) { c.RedirectURIs[1] = "https://app.example.com/cb#x" }, "redirect_uris[1]: \"https://app.example.com/cb#x\" must not have a fragment"},
		{"custom scheme redirect", func(c *Client) { c.RedirectURIs = []string{"com.example.app:/cb"} }, "redirect_uris[0]:"},
		{"relative redirect", func(c *Client) { c.RedirectURIs = []string{"/cb"} }, "redirect_uris[0]: \"/cb\" is not an absolute URL"},
		{"implicit grant", func(c *Client) { c.GrantTypes = []string{"implicit"} }, "grant_types[0]: \"implicit\" is not one of"},
		{"refresh only", func(c *Client) { c.GrantTypes = []string{"refresh_token"} }, "grant_types: must include authorization_code"},
		{"no grants", func(c *Client) { c.GrantTypes = nil }, "grant_types: must not be empty"},
		{"token response", func(c *Client) { c.ResponseTypes = []string{"token"} }, "response_types[0]: \"token\" is not one of"},
		{"bad scope", func(c *Client) { c.Scopes = []string{"a\"b"} }, "scopes[0]:"},
		{"unknown auth method", func(c *Client) { c.TokenEndpointAuthMethod = "none" }, "token_endpoint_auth_method: \"none\" is not one of"},
		{"secret method without hash", func(c *Client) { c.SecretHash = "" }, "client_secret_hash: must be a sha256: hash for client_secret_basic"},
		{"plain secret as hash", func(c *Client) { c.SecretHash = secretForTests }, "client_secret_hash:"},
		{"secret method with jwks", func(c *Client) { c.JWKS = json.RawMessage(clientJWKS) }, "token_endpoint_auth_method: jwks and jwks_uri are for private_key_jwt or encrypted responses only"},
		{"secret method with a signing alg", func(c *Client) { c.TokenEndpointAuthSigningAlg = ES256 }, "token_endpoint_auth_signing_alg is for private_key_jwt only"},
		{"encryption without keys", func(c *Client) { c.IDTokenEncryptedResponseAlg = "RSA-OAEP-256" }, "jwks: encrypted ID tokens need the client's public encryption key in jwks or jwks_uri"},
		{"enc without alg", func(c *Client) { c.UserInfoEncryptedResponseEnc = "A128GCM" }, "userinfo_encrypted_response_alg: the enc of encrypted UserInfo responses needs an alg too"},
		{"RSA1_5", func(c *Client) { c.JWKS = encJWKS(); c.IDTokenEncryptedResponseAlg = "RSA1_5" }, `id_token_encrypted_response_alg: "RSA1_5" is not one of RSA-OAEP-256, ECDH-ES`},
		{"RSA-OAEP with SHA-1", func(c *Client) { c.JWKS = encJWKS(); c.IntrospectionEncryptedResponseAlg = "RSA-OAEP" }, `introspection_encrypted_response_alg: "RSA-OAEP" is not one of`},
		{"unknown enc", func(c *Client) {
			c.JWKS, c.UserInfoEncryptedResponseAlg, c.UserInfoEncryptedResponseEnc = encJWKS(), "ECDH-ES", "A192GCM"
		}, `userinfo_encrypted_response_enc: "A192GCM" is not one of A128GCM, A256GCM, A128CBC-HS256, A256CBC-HS512`},
		{"a signature key cannot encrypt", func(c *Client) { jwtClient(c); c.IDTokenEncryptedResponseAlg = "ECDH-ES" }, `id_token_encrypted_response_alg: jwks: no key can encrypt with ECDH-ES (it needs a public EC key on P-256, P-384 or P-521 whose use is "enc" or absent): keys[0] (kid "rp-1") has use "sig"`},
		{"an EC key does not fit RSA-OAEP-256", func(c *Client) { c.JWKS = encJWKS(); c.IDTokenEncryptedResponseAlg = "RSA-OAEP-256" }, `keys[0] (kid "rp-enc") is an EC key`},
		{"a weak RSA key cannot encrypt", func(c *Client) { c.JWKS = weakRSAJWKS(); c.IDTokenEncryptedResponseAlg = "RSA-OAEP-256" }, "jwks: keys[0] is an RSA key of 1024 bits"},
		{"jwt with hash", func(c *Client) { jwtClient(c); c.SecretHash = HashClientSecret("x") }, "client_secret_hash: must be empty for private_key_jwt"},
		{"jwt without keys", func(c *Client) { jwtClient(c); c.JWKS = nil }, "jwks: private_key_jwt needs jwks or jwks_uri"},
		{"jwt with both", func(c *Client) { jwtClient(c); c.JWKSURI = "https://app.example.com/jwks" }, "jwks: set either jwks or jwks_uri, not both"},
		{"jwt bad jwks", func(c *Client) { jwtClient(c); c.JWKS = json.RawMessage(`{"keys":[{"kty":"?"}]}`) }, "jwks: not a JWK set"},
		{"jwt empty jwks", func(c *Client) { jwtClient(c); c.JWKS = json.RawMessage(`{"keys":[]}`) }, "jwks: holds no keys"},
		{"jwt private jwks", func(c *Client) {
			jwtClient(c)
			c.JWKS = json.RawMessage(`{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","d":"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"}]}`)
		}, "jwks: keys[0] holds a private key"},
		{"jwt weak RSA key", func(c *Client) { jwtClient(c); c.JWKS = weakRSAJWKS() }, "jwks: keys[0] is an RSA key of 1024 bits; at least 2048 are required"},
		{"jwt http jwks_uri", func(c *Client) { jwtClient(c); c.JWKS = nil; c.JWKSURI = "http://app.example.com/jwks" }, "jwks_uri: \"http://app.example.com/jwks\" is not an absolute https URL"},
		{"unknown signing alg", func(c *Client) { jwtClient(c); c.TokenEndpointAuthSigningAlg = "HS256" }, "token_endpoint_auth_signing_alg: \"HS256\""},
		{"unknown access token format", func(c *Client) { c.AccessTokenFormat = "PASETO" }, "access_token_format: supported values: \"Opaque\", \"JWT\""},
		{"unknown id token alg", func(c *Client) { c.IDTokenSignedResponseAlg = "none" }, "id_token_signed_response_alg: \"none\""},
		{"unknown userinfo alg", func(c *Client) { c.UserInfoSignedResponseAlg = "HS256" }, "userinfo_signed_response_alg: \"HS256\""},
		{"framework twice", func(c *Client) { c.TrustFrameworks = []string{"de_aml", "de_aml"} }, "trust_frameworks[1]:"},
		{"empty claim", func(c *Client) { c.VerifiedClaims = []string{""} }, "verified_claims[0]:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := testClient()
			tc.change(c)
			err := AsError(c.Validate())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestValidateRedirectURI(t *testing.T) {
	for _, ok := range []string{"https://a.example/cb", "https://a.example/cb?x=1", "http://localhost/cb", "http://127.0.0.1:4000/cb", "http://[::1]:4000/"} {
		if err := ValidateRedirectURI(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "http://10.0.0.1/cb", "http://localhost.evil.example/cb", "https://a.example/cb#", "ftp://a.example/", "https:///cb"} {
		if err := ValidateRedirectURI(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestCheckClient(t *testing.T) {
	p := testProvider()
	if err := p.CheckClient(testClient()); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		change func(p *Provider, c *Client)
		want   string
	}{
		{"secret under FAPI2", func(p *Provider, c *Client) { p.Security.Profile = ProfileFAPI2 }, "token_endpoint_auth_method: \"client_secret_basic\" is not allowed by the FAPI2 profile"},
		{"RS256 assertion under FAPI2", func(p *Provider, c *Client) {
			p.Security.Profile = ProfileFAPI2
			c.TokenEndpointAuthMethod, c.SecretHash, c.JWKSURI = AuthPrivateKeyJWT, "", "https://a/jwks"
			c.TokenEndpointAuthSigningAlg = RS256
		}, "token_endpoint_auth_signing_alg: \"RS256\" is not accepted"},
		{"id token alg without keys", func(p *Provider, c *Client) {
			p.SigningAlgorithms = []string{ES256}
			c.IDTokenSignedResponseAlg = PS256
		}, "id_token_signed_response_alg: \"PS256\" is not one the provider signs with"},
		{"userinfo RS256 under FAPI2", func(p *Provider, c *Client) {
			p.Security.Profile = ProfileFAPI2
			c.UserInfoSignedResponseAlg = RS256
		}, "userinfo_signed_response_alg: \"RS256\""},
		{"scope not offered", func(p *Provider, c *Client) { c.Scopes = append(c.Scopes, "payments") }, "scopes[3]: \"payments\" is not offered"},
		{"profile scope not offered", func(p *Provider, c *Client) { c.Scopes = []string{"jp_oidf_ida"} }, "scopes[0]: \"jp_oidf_ida\" is not offered"},
		{"framework not offered", func(p *Provider, c *Client) { c.TrustFrameworks = []string{"uk_tfida"} }, "trust_frameworks[0]: \"uk_tfida\" is not offered"},
		{"claim not offered", func(p *Provider, c *Client) { c.VerifiedClaims = []string{"email"} }, "verified_claims[0]: \"email\" is not offered"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, c := testProvider(), testClient()
			tc.change(p, c)
			err := AsError(p.CheckClient(c))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestClientJSON(t *testing.T) {
	c := testClient()
	data, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), secretForTests) || !strings.Contains(string(data), `"client_secret_hash":"sha256:`) {
		t.Errorf("registration: %s", data)
	}
	back, err := ParseClient(data)
	if err != nil || back.ClientID != c.ClientID || !back.VerifySecret(secretForTests) {
		t.Fatalf("%v %+v", err, back)
	}
	if _, err := ParseClient([]byte(`{"client_id":"x"}`)); err == nil {
		t.Error("incomplete client accepted")
	}
}

func TestClientErrorsCarryTheirPath(t *testing.T) {
	c := testClient()
	c.RedirectURIs = []string{"https://app.example.com/cb", "http://app.example.com/cb"}
	c.TokenEndpointAuthMethod = "none"
	paths := JSONPaths
	paths.RedirectURIs = field.NewPath("spec", "redirectURIs")
	errs := c.ValidateWith(paths)
	if len(errs) != 2 || errs[0].Field != "spec.redirectURIs[1]" || errs[0].Type != field.ErrorTypeInvalid || errs[1].Field != "token_endpoint_auth_method" {
		t.Fatalf("errors = %v", errs)
	}
}

// encJWKS is a key set with one P-256 key for encryption.
func encJWKS() json.RawMessage {
	return json.RawMessage(`{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","kid":"rp-enc","use":"enc"}]}`)
}

func TestEncryptionDefaults(t *testing.T) {
	c := testClient()
	if c.IDTokenEncryption().On() || c.UserInfoEncryption() != (Encryption{}) {
		t.Errorf("a client without alg encrypts: %v %v", c.IDTokenEncryption(), c.UserInfoEncryption())
	}
	c.IDTokenEncryptedResponseAlg = "ECDH-ES"
	c.IntrospectionEncryptedResponseAlg, c.IntrospectionEncryptedResponseEnc = "RSA-OAEP-256", "A256GCM"
	if got := c.IDTokenEncryption(); got != (Encryption{"ECDH-ES", "A128CBC-HS256"}) {
		t.Errorf("ID token encryption = %v, want enc A128CBC-HS256 by default (OIDC Registration §2)", got)
	}
	if got := c.IntrospectionEncryption(); got != (Encryption{"RSA-OAEP-256", "A256GCM"}) {
		t.Errorf("introspection encryption = %v", got)
	}
}

// weakRSAJWKS is a key set with one 1024-bit RSA key (FAPI 2.0 §5.4.1
// asks for at least 2048).
func weakRSAJWKS() json.RawMessage {
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		panic(err)
	}
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &k.PublicKey, KeyID: "weak", Use: "sig"}}})
	if err != nil {
		panic(err)
	}
	return b
}
