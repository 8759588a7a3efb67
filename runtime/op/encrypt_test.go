package op

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/jwe"
)

// clientEnc registered encrypted ID tokens (RSA-OAEP-256, A256GCM),
// UserInfo (ECDH-ES+A128KW, enc by default) and introspection answers
// (ECDH-ES), with client_secret_basic and an inline key set.
const clientEnc = "rp-encrypted"

// encKeys are clientEnc's private keys and the public set it registers:
// a signature key first, which no response may be encrypted to.
type encKeys struct {
	rsa  *rsa.PrivateKey
	ec   *ecdsa.PrivateKey
	jwks []byte
}

func newEncKeys(t *testing.T) *encKeys {
	t.Helper()
	k := &encKeys{rsa: mustRSA(t), ec: mustKey(t)}
	sig := mustKey(t)
	var err error
	k.jwks, err = json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: sig.Public(), KeyID: "sig-1", Use: "sig", Algorithm: "ES256"},
		{Key: k.rsa.Public(), KeyID: "enc-rsa", Use: "enc"},
		{Key: k.ec.Public(), KeyID: "enc-ec", Use: "enc"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func encClient(jwks []byte) *config.Client {
	c := baseClient(clientEnc, config.AuthClientSecretBasic)
	c.JWKS = jwks
	c.IDTokenEncryptedResponseAlg, c.IDTokenEncryptedResponseEnc = jwe.RSAOAEP256, jwe.A256GCM
	c.UserInfoEncryptedResponseAlg = jwe.ECDHESA128KW
	c.IntrospectionEncryptedResponseAlg = jwe.ECDHES
	return c
}

// openNested decrypts a nested JWT with priv, checks the JWE header (alg,
// enc, the kid of the key, cty JWT), then the inner signature against the
// provider's JWKS, and returns the inner JWS's typ and claims.
func openNested(t *testing.T, f *fixture, raw string, priv any, alg, enc, kid string) (string, map[string]any) {
	t.Helper()
	if n := strings.Count(raw, "."); n != 4 {
		t.Fatalf("not a compact JWE (%d dots): %.80s", n, raw)
	}
	obj, err := jose.ParseEncrypted(raw, []jose.KeyAlgorithm{jose.KeyAlgorithm(alg)}, []jose.ContentEncryption{jose.ContentEncryption(enc)})
	if err != nil {
		t.Fatalf("JWE with %s/%s: %v", alg, enc, err)
	}
	if obj.Header.KeyID != kid || obj.Header.ExtraHeaders["cty"] != "JWT" {
		t.Fatalf("JWE header kid %q cty %v; want %q and JWT", obj.Header.KeyID, obj.Header.ExtraHeaders["cty"], kid)
	}
	inner, err := obj.Decrypt(priv)
	if err != nil {
		t.Fatalf("decrypting: %v", err)
	}
	jws, err := jwt.ParseSigned(string(inner), []jose.SignatureAlgorithm{jose.ES256, jose.PS256})
	if err != nil {
		t.Fatalf("the plaintext is not a signed JWT: %v", err)
	}
	var claims map[string]any
	if err := jws.Claims(publishedKey(t, f, jws.Headers[0].KeyID), &claims); err != nil {
		t.Fatalf("inner signature: %v", err)
	}
	typ, _ := jws.Headers[0].ExtraHeaders[jose.HeaderType].(string)
	return typ, claims
}

// TestEncryptedResponses: a client that registered encryption gets its ID
// token, UserInfo and JWT introspection answers signed by the provider and
// then encrypted to the right one of its keys; plain introspection stays
// plain JSON.
func TestEncryptedResponses(t *testing.T) {
	keys := newEncKeys(t)
	f := newFixture(t, func(s *config.Snapshot) { s.Clients[clientEnc] = encClient(keys.jwks) })
	code, verifier := f.codeFor(clientEnc, url.Values{"claims": {`{"userinfo":{"verified_claims":{"verification":{"trust_framework":null},"claims":{"given_name":null}}}}`}})
	resp, tok := f.exchange(clientEnc, code, verifier)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token: %d %v", resp.StatusCode, tok)
	}
	idt, _ := tok["id_token"].(string)
	_, idc := openNested(t, f, idt, keys.rsa, jwe.RSAOAEP256, jwe.A256GCM, "enc-rsa")
	if idc["aud"] != clientEnc || idc["sub"] != testSubject || idc["iss"] != f.issuer {
		t.Errorf("ID token claims %v", idc)
	}

	at := tok["access_token"].(string)
	req, _ := http.NewRequest(http.MethodGet, f.url(config.PathUserInfo), nil)
	req.Header.Set("Authorization", "Bearer "+at)
	uresp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(uresp.Body)
	uresp.Body.Close()
	if uresp.StatusCode != http.StatusOK || uresp.Header.Get("Content-Type") != "application/jwt" {
		t.Fatalf("UserInfo: %d %s %.200s", uresp.StatusCode, uresp.Header.Get("Content-Type"), raw)
	}
	// Signed with the provider's default (ES256): the client registered
	// no userinfo_signed_response_alg.
	_, ui := openNested(t, f, string(raw), keys.ec, jwe.ECDHESA128KW, jwe.DefaultContentAlgorithm, "enc-ec")
	vc, _ := ui["verified_claims"].(map[string]any)
	claims, _ := vc["claims"].(map[string]any)
	if ui["sub"] != testSubject || ui["aud"] != clientEnc || claims["given_name"] == nil {
		t.Errorf("UserInfo claims %v", ui)
	}

	iresp := f.post(config.PathIntrospect, url.Values{"token": {at}}, map[string]string{
		"Authorization": basicAuth(clientEnc, testSecret)["Authorization"], "Accept": introspectionJWT,
	})
	raw, _ = io.ReadAll(iresp.Body)
	iresp.Body.Close()
	if iresp.StatusCode != http.StatusOK || iresp.Header.Get("Content-Type") != introspectionJWT {
		t.Fatalf("introspection: %d %s %.200s", iresp.StatusCode, iresp.Header.Get("Content-Type"), raw)
	}
	typ, ic := openNested(t, f, string(raw), keys.ec, jwe.ECDHES, jwe.DefaultContentAlgorithm, "enc-ec")
	ti, _ := ic["token_introspection"].(map[string]any)
	if typ != "token-introspection+jwt" || ic["aud"] != clientEnc || ti["active"] != true || ti["sub"] != testSubject {
		t.Errorf("introspection typ %q claims %v", typ, ic)
	}
	// Without the Accept header the answer is plain JSON (RFC 7662).
	presp := f.post(config.PathIntrospect, url.Values{"token": {at}}, basicAuth(clientEnc, testSecret))
	if body := decode(t, presp); body["active"] != true {
		t.Errorf("plain introspection: %v", body)
	}
}

// TestEncryptionKeyMissingAtJWKSURI: a client whose jwks_uri holds no key
// that can receive its encrypted responses gets invalid_client_metadata
// saying why, its code stays unused, and UserInfo answers the same; once
// the set has an encryption key, tokens flow.
func TestEncryptionKeyMissingAtJWKSURI(t *testing.T) {
	keys := newEncKeys(t)
	sigOnly := publicSetUse(t, mustKey(t), "sig")
	js := newJWKSServer(t, sigOnly)
	f := encJWKSURIFixture(t, js, "/jwks.json")
	code, verifier := f.codeFor(clientEnc, nil)
	resp, body := f.exchange(clientEnc, code, verifier)
	wantError(t, resp, body, http.StatusBadRequest, "invalid_client_metadata")
	if d, _ := body["error_description"].(string); !strings.Contains(d, "the ID token cannot be encrypted: the client's jwks_uri: no key can encrypt with RSA-OAEP-256") ||
		!strings.Contains(d, `keys[0] (kid "k1") has use "sig"`) {
		t.Errorf("error_description %q", d)
	}
	if _, err := f.p.grants.Code(t.Context(), code); err != nil {
		t.Errorf("the refused request used up the code: %v", err)
	}
	if !strings.Contains(f.logs.String(), "a response cannot be encrypted to the client") {
		t.Errorf("no log line: %s", f.logs.String())
	}

	// The client publishes its encryption keys; the cached set expires.
	js.mu.Lock()
	js.body = keys.jwks
	js.mu.Unlock()
	f.clock.advance(jwksTTL + jwksRefetchInterval)
	code, verifier = f.codeFor(clientEnc, nil)
	resp, tok := f.exchange(clientEnc, code, verifier)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token after the keys were published: %d %v", resp.StatusCode, tok)
	}
	openNested(t, f, tok["id_token"].(string), keys.rsa, jwe.RSAOAEP256, jwe.A256GCM, "enc-rsa")

	// Back to a set without encryption keys: UserInfo refuses too.
	js.mu.Lock()
	js.body = sigOnly
	js.mu.Unlock()
	f.clock.advance(jwksTTL + jwksRefetchInterval)
	uresp, ubody := f.userinfo(tok["access_token"].(string))
	wantError(t, uresp, ubody, http.StatusBadRequest, "invalid_client_metadata")
	if d, _ := ubody["error_description"].(string); !strings.Contains(d, "the UserInfo response cannot be encrypted") {
		t.Errorf("UserInfo error_description %q", d)
	}
}

// TestEncryptionJWKSURIDown: a jwks_uri that cannot be fetched answers
// temporarily_unavailable, not a server error.
func TestEncryptionJWKSURIDown(t *testing.T) {
	js := newJWKSServer(t, nil)
	f := encJWKSURIFixture(t, js, "/missing")
	code, verifier := f.codeFor(clientEnc, nil)
	resp, body := f.exchange(clientEnc, code, verifier)
	wantError(t, resp, body, http.StatusServiceUnavailable, "temporarily_unavailable")
	if d, _ := body["error_description"].(string); !strings.Contains(d, "jwks_uri could not be fetched") {
		t.Errorf("error_description %q", d)
	}
}

// encJWKSURIFixture registers clientEnc with its keys at js's path.
func encJWKSURIFixture(t *testing.T, js *jwksServer, path string) *fixture {
	t.Helper()
	return newFixtureWith(t, func(o *Options) { o.HTTPClient = js.srv.Client() }, func(s *config.Snapshot) {
		c := encClient(nil)
		c.JWKSURI = js.srv.URL + path
		s.Clients[clientEnc] = c
	})
}
