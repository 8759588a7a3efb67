package runtime_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/idaop/ida-operator/controllers/signingkeys"
	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/ida"
	"github.com/idaop/ida-operator/runtime/source"
	"github.com/idaop/ida-operator/runtime/users"
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
)

const demoPassword = "demo-password-for-tests"

// generated is what the tests need to know about the config dir.
type generated struct {
	dir          string
	clientSecret string // of every client_secret_basic client
	clientJWK    []byte // private JWK of clientFAPI, for openid-client
	clientNames  map[string]string
}

// trustFrameworks mirror config/trustframeworks/{jp-oidf-ida,jp-aml,uk-tfida}.yaml
// as the operator renders them into the provider config.
func trustFrameworks() []ida.TrustFramework {
	return []ida.TrustFramework{
		{
			Identifier:            "jp_oidf_ida",
			EvidenceTypes:         []string{"document", "electronic_record", "electronic_signature"},
			DocumentTypes:         []string{"jp_drivers_license", "jp_residency_card_for_foreigner", "jp_individual_number_card", "jp_permanent_residency_card_for_foreigner", "jp_health_insurance_card", "jp_residency_card", "passport"},
			CheckMethods:          []string{"vpip", "vcrypt", "pvr", "data"},
			ElectronicRecordTypes: []string{"mno"},
			Claims:                []string{"name", "birthdate", "address", "msisdn"},
		},
		{
			Identifier:       "jp_aml",
			EvidenceTypes:    []string{"document", "electronic_signature"},
			DocumentTypes:    []string{"jp_drivers_license", "jp_individual_number_card", "jp_residency_card", "jp_residency_card_for_foreigner", "jp_permanent_residency_card_for_foreigner", "jp_health_insurance_card", "passport"},
			CheckMethods:     []string{"vpip", "vcrypt", "pvr", "vri"},
			Claims:           []string{"name", "family_name", "given_name", "family_name#ja-Kana-JP", "given_name#ja-Kana-JP", "birthdate", "address", "gender"},
			RequiredElements: []string{"time", "evidence"},
		},
		{
			Identifier:            "uk_tfida",
			AssuranceLevels:       []string{"low", "medium", "high", "very_high"},
			EvidenceTypes:         []string{"document", "electronic_record", "vouch"},
			DocumentTypes:         []string{"passport", "driving_permit", "idcard", "residence_permit"},
			CheckMethods:          []string{"vpip", "vpiruv", "vri", "vdig", "vcrypt", "pvp", "pvr", "bvr", "kbv", "data", "auth", "token"},
			ElectronicRecordTypes: []string{"bank_account", "mortgage_account", "mno", "population_register"},
			Claims:                []string{"given_name", "family_name", "middle_name", "birthdate", "address", "place_of_birth", "nationalities", "title"},
			RequiredElements:      []string{"evidence"},
		},
	}
}

func provider(issuer string) *config.Provider {
	d := func(x time.Duration) config.Duration { return config.Duration{Duration: x} }
	return &config.Provider{
		Issuer:            issuer,
		SigningAlgorithms: []string{config.ES256, config.PS256, config.RS256},
		Tokens: config.Lifetimes{
			IDToken: d(5 * time.Minute), AccessToken: d(10 * time.Minute),
			RefreshToken: d(24 * time.Hour), AuthorizationCode: d(time.Minute),
		},
		Security:     config.Security{Profile: config.ProfileDefault},
		Users:        config.UserSource{Type: config.UsersBuiltin, Builtin: &config.BuiltinUsers{SecretName: "demo-users"}},
		SessionStore: config.SessionStore{Type: config.SessionStoreMemory},
		IDA: ida.Policy{
			TrustFrameworks: trustFrameworks(),
			Profiles:        []string{ida.ProfileJPBasic},
		},
	}
}

// writeConfigDir renders the --config-dir layout: provider.json, keys.json,
// clients/*.json and users.json.
func writeConfigDir(dir, issuer, redirectURI string) (*generated, error) {
	g := &generated{dir: dir, clientNames: map[string]string{}}
	write := func(name string, v any) error {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, name), b, 0o600)
	}

	if err := write(config.ProviderConfigKey, provider(issuer)); err != nil {
		return nil, err
	}

	now := time.Now().Add(-time.Minute)
	var ks config.KeySet
	for _, alg := range []string{config.ES256, config.PS256, config.RS256} {
		k, err := signingkeys.Generate(alg, now)
		if err != nil {
			return nil, fmt.Errorf("generating %s key: %w", alg, err)
		}
		ks.Keys = append(ks.Keys, k)
	}
	if err := write(config.KeySetKey, ks); err != nil {
		return nil, err
	}

	doc, err := users.DemoUsers(demoPassword)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, source.UsersKey), doc, 0o600); err != nil {
		return nil, err
	}

	// The openid-client relying party's key pair: the public half is
	// registered, the private half goes to the node script.
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	pubJWKS, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: priv.Public(), KeyID: "rp-key-1", Algorithm: "ES256", Use: "sig"}}})
	if err != nil {
		return nil, err
	}
	if g.clientJWK, err = (jose.JSONWebKey{Key: priv, KeyID: "rp-key-1", Algorithm: "ES256", Use: "sig"}).MarshalJSON(); err != nil {
		return nil, err
	}
	if g.clientSecret, err = config.NewClientSecret(); err != nil {
		return nil, err
	}

	allFrameworks := []string{"jp_oidf_ida", "jp_aml", "uk_tfida"}
	verified := []string{"name", "given_name", "family_name", "given_name#ja-Kana-JP", "family_name#ja-Kana-JP", "birthdate", "address", "msisdn"}
	base := func(id, name string) *config.Client {
		g.clientNames[id] = name
		return &config.Client{
			ClientID: id, ClientName: name, Namespace: "team-a", Name: id,
			RedirectURIs:            []string{redirectURI},
			GrantTypes:              []string{"authorization_code", "refresh_token"},
			ResponseTypes:           []string{"code"},
			Scopes:                  []string{"openid", "profile", "email", "offline_access", "jp_oidf_ida"},
			TokenEndpointAuthMethod: config.AuthClientSecretBasic,
			SecretHash:              config.HashClientSecret(g.clientSecret),
			TrustFrameworks:         allFrameworks,
			VerifiedClaims:          verified,
		}
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

	if err := os.MkdirAll(filepath.Join(dir, config.ClientsDir), 0o700); err != nil {
		return nil, err
	}
	for _, c := range []*config.Client{fapi, basic, ps, rs, su} {
		if err := write(filepath.Join(config.ClientsDir, c.ClientID+".json"), c); err != nil {
			return nil, err
		}
	}
	// The runtime would refuse a bad dir with a log line only; refuse here
	// with the reason instead.
	if _, err := config.LoadDir(dir); err != nil {
		return nil, err
	}
	return g, nil
}
