package runtime_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"os"
	"path/filepath"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/test/internal/fixture"
)

// Clients registered in the generated config dir.
const (
	// clientFAPI is the openid-client relying party: private_key_jwt
	// (ES256), PAR and DPoP required.
	clientFAPI = "rp-openid-client"
	// clientBasic is the go-oidc relying party: client_secret_basic, ID
	// tokens signed with the provider's default algorithm (ES256).
	clientBasic = "rp-go-oidc"
	// clientPS256 and clientRS256 are client_secret_basic clients that
	// registered id_token_signed_response_alg.
	clientPS256 = "rp-go-oidc-ps256"
	clientRS256 = "rp-go-oidc-rs256"
	// clientSignedUserInfo registered userinfo_signed_response_alg PS256.
	clientSignedUserInfo = "rp-go-oidc-signed-userinfo"
	// clientFAPI2 is the oauth4webapi relying party of the FAPI2 runtime.
	clientFAPI2 = "rp-oauth4webapi"
	// clientJWE is clientFAPI with encrypted responses: ID tokens to its
	// RSA key (RSA-OAEP-256, A256GCM), UserInfo to its EC key (ECDH-ES,
	// the default A128CBC-HS256), JWT introspection answers to the same
	// EC key (ECDH-ES+A256KW, A128GCM).
	clientJWE = "rp-openid-client-jwe"
	// clientPairwiseA1 and clientPairwiseA2 receive pairwise subjects of
	// one sector (one sector identifier URI's host), clientPairwiseB of
	// another.
	clientPairwiseA1 = "rp-pairwise-a1"
	clientPairwiseA2 = "rp-pairwise-a2"
	clientPairwiseB  = "rp-pairwise-b"
)

const demoPassword = "demo-password-for-tests"

// generated is what the tests need to know about the config dir.
type generated struct {
	dir          string
	clientSecret string // of every client_secret_basic client
	clientJWK    []byte // private JWK of clientFAPI, for openid-client
	// decryptJWKs are clientJWE's private encryption keys (a JSON array),
	// for openid-client.
	decryptJWKs []byte
	clientNames map[string]string
}

// writeConfigDir renders the --config-dir layout: provider.json, keys.json,
// clients/*.json and users.json.
func writeConfigDir(dir, issuer, redirectURI string) (*generated, error) {
	g := &generated{dir: dir, clientNames: map[string]string{}}

	// The openid-client relying party's key pair: the public half is
	// registered, the private half goes to the node script.
	pubJWKS, err := g.newClientKey()
	if err != nil {
		return nil, err
	}
	if g.clientSecret, err = config.NewClientSecret(); err != nil {
		return nil, err
	}

	base := func(id, name string) *config.Client {
		g.clientNames[id] = name
		return fixture.Client(id, name, "team-a", redirectURI, g.clientSecret, "openid", "profile", "email", "offline_access", "jp_oidf_ida")
	}
	fapi := base(clientFAPI, "Demo Bank (openid-client)")
	fapi.TokenEndpointAuthMethod, fapi.SecretHash = config.AuthPrivateKeyJWT, ""
	fapi.JWKS, fapi.TokenEndpointAuthSigningAlg = pubJWKS, config.ES256
	fapi.RequireDPoP, fapi.RequirePAR = true, true
	basic := base(clientBasic, "Demo Shop (go-oidc)")
	ps := base(clientPS256, "Demo Shop PS256")
	ps.IDTokenSignedResponseAlg = config.PS256
	rs := base(clientRS256, "Demo Shop RS256")
	rs.IDTokenSignedResponseAlg = config.RS256
	su := base(clientSignedUserInfo, "Demo Shop signed UserInfo")
	su.UserInfoSignedResponseAlg = config.PS256
	enc := base(clientJWE, "Demo Bank (openid-client, encrypted)")
	enc.TokenEndpointAuthMethod, enc.SecretHash = config.AuthPrivateKeyJWT, ""
	enc.TokenEndpointAuthSigningAlg = config.ES256
	enc.RequireDPoP, enc.RequirePAR = true, true
	if enc.JWKS, err = g.newEncryptionKeys(pubJWKS); err != nil {
		return nil, err
	}
	enc.IDTokenEncryptedResponseAlg, enc.IDTokenEncryptedResponseEnc = "RSA-OAEP-256", "A256GCM"
	enc.UserInfoEncryptedResponseAlg = "ECDH-ES"
	enc.IntrospectionEncryptedResponseAlg, enc.IntrospectionEncryptedResponseEnc = "ECDH-ES+A256KW", "A128GCM"
	pairwise := func(id, sectorURI string) *config.Client {
		c := base(id, "Pairwise "+id)
		c.SubjectType, c.SectorIdentifierURI = config.SubjectPairwise, sectorURI
		return c
	}
	pa1 := pairwise(clientPairwiseA1, "https://sector-a.example/redirect_uris.json")
	pa2 := pairwise(clientPairwiseA2, "https://sector-a.example/redirect_uris.json")
	pb := pairwise(clientPairwiseB, "https://sector-b.example/redirect_uris.json")

	// ES256, the default, PS256 and RS256 keys; ten-minute access tokens
	// and one-minute codes.
	p := fixture.Provider(issuer, []string{config.ES256, config.PS256, config.RS256}, 10*time.Minute, time.Minute)
	// DPoP nonces on: openid-client, the DPoP client here, has to follow
	// use_dpop_nonce at PAR, token and UserInfo (RFC 9449 §8, §9).
	p.Security.RequireDPoPNonce = true
	// The pairwise subjects' salt, as the operator would generate it.
	salt := make([]byte, 32)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, config.PairwiseSaltKey), salt, 0o600); err != nil {
		return nil, err
	}
	if err := fixture.WriteConfigDir(dir, p, demoPassword, fapi, basic, ps, rs, su, enc, pa1, pa2, pb); err != nil {
		return nil, err
	}
	return g, nil
}

// newClientKey makes the private_key_jwt client's ES256 key pair: the
// private JWK goes to the node script, the returned set is registered.
func (g *generated) newClientKey() ([]byte, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	if g.clientJWK, err = (jose.JSONWebKey{Key: priv, KeyID: "rp-key-1", Algorithm: "ES256", Use: "sig"}).MarshalJSON(); err != nil {
		return nil, err
	}
	return json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: priv.Public(), KeyID: "rp-key-1", Algorithm: "ES256", Use: "sig"}}})
}

// newEncryptionKeys makes clientJWE's encryption keys, an RSA and an EC
// one with use "enc": the private halves go to the node script, and the
// returned set is sigSet (the signing key) with the public halves added.
func (g *generated) newEncryptionKeys(sigSet []byte) ([]byte, error) {
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	if g.decryptJWKs, err = json.Marshal([]jose.JSONWebKey{{Key: rk, KeyID: "rp-enc-rsa", Use: "enc"}, {Key: ek, KeyID: "rp-enc-ec", Use: "enc"}}); err != nil {
		return nil, err
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(sigSet, &set); err != nil {
		return nil, err
	}
	set.Keys = append(set.Keys, jose.JSONWebKey{Key: rk.Public(), KeyID: "rp-enc-rsa", Use: "enc"}, jose.JSONWebKey{Key: ek.Public(), KeyID: "rp-enc-ec", Use: "enc"})
	return json.Marshal(set)
}

// writeFAPI2ConfigDir renders a provider under the FAPI2 profile (PAR,
// DPoP with nonces, private_key_jwt, ES256 and PS256 only) with one
// client, clientFAPI2, for the oauth4webapi relying party.
func writeFAPI2ConfigDir(dir, issuer, redirectURI string) (*generated, error) {
	g := &generated{dir: dir, clientNames: map[string]string{clientFAPI2: "Demo Bank (oauth4webapi, FAPI 2.0)"}}
	pubJWKS, err := g.newClientKey()
	if err != nil {
		return nil, err
	}
	c := fixture.Client(clientFAPI2, g.clientNames[clientFAPI2], "team-a", redirectURI, "", "openid", "profile", "offline_access")
	c.TokenEndpointAuthMethod, c.SecretHash = config.AuthPrivateKeyJWT, ""
	c.JWKS, c.TokenEndpointAuthSigningAlg = pubJWKS, config.ES256
	p := fixture.Provider(issuer, []string{config.ES256, config.PS256}, 10*time.Minute, time.Minute)
	p.Security.Profile = config.ProfileFAPI2
	p.Security.RequireDPoPNonce = true
	// JWT access tokens for the accounts API (RFC 9068, RFC 8707), which
	// the oauth4webapi resource server checks.
	p.Tokens.AccessTokenFormat, p.Tokens.Resources = config.AccessTokenJWT, []string{fapiResource}
	if err := fixture.WriteConfigDir(dir, p, demoPassword, c); err != nil {
		return nil, err
	}
	return g, nil
}
