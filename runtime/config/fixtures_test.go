package config

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/idaop/ida-operator/runtime/ida"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func minutes(n int) Duration { return Duration{time.Duration(n) * time.Minute} }

// testProvider is a provider with two trust frameworks, attachments and a
// predefined transformed claim.
func testProvider() *Provider {
	return &Provider{
		Issuer:            "https://id.example.com/",
		Scopes:            []string{"accounts"},
		SigningAlgorithms: []string{ES256, PS256, RS256},
		Tokens: Lifetimes{
			IDToken: minutes(5), AccessToken: minutes(10),
			RefreshToken: minutes(720 * 60), AuthorizationCode: minutes(1),
		},
		Security:     Security{Profile: ProfileDefault},
		Users:        UserSource{Type: UsersBuiltin, Builtin: &BuiltinUsers{SecretName: "demo-users"}},
		SessionStore: SessionStore{Type: SessionStoreMemory},
		IDA: ida.Policy{
			TrustFrameworks: []ida.TrustFramework{
				{
					Identifier:            "de_aml",
					AssuranceLevels:       []string{"substantial", "high"},
					EvidenceTypes:         []string{"document", "electronic_record"},
					DocumentTypes:         []string{"idcard", "passport"},
					CheckMethods:          []string{"vpip", "vri"},
					ElectronicRecordTypes: []string{"population_register"},
					Claims:                []string{"given_name", "family_name", "birthdate", "place_of_birth", "nationalities", "address"},
					RequiredElements:      []string{"time", "evidence"},
				},
				{
					Identifier:    "eidas",
					EvidenceTypes: []string{"document", "vouch"},
					DocumentTypes: []string{"passport", "residence_permit"},
					CheckMethods:  []string{"vcrypt", "vpip"},
					Claims:        []string{"given_name", "family_name", "birth_family_name"},
				},
			},
			TransformedClaimsPredefined: map[string]ida.TransformedClaim{
				"age_18_or_over": {Claim: "birthdate", Fn: []json.RawMessage{
					json.RawMessage(`"years_ago"`), json.RawMessage(`["gte",18]`)}},
			},
			AttachmentsSupported:      []string{"embedded", "external"},
			DigestAlgorithmsSupported: []string{"sha-256", "sha-512"},
		},
	}
}

// jpProvider is the Japanese basic profile provider, FAPI2.
func jpProvider() *Provider {
	p := testProvider()
	p.Issuer = "https://ida.example.jp/tenant-a"
	p.Scopes = nil
	p.Security = Security{Profile: ProfileFAPI2}
	p.IDA = ida.Policy{
		TrustFrameworks: []ida.TrustFramework{{
			Identifier:            "jp_oidf_ida",
			EvidenceTypes:         []string{"document", "electronic_record", "electronic_signature"},
			DocumentTypes:         []string{"jp_drivers_license", "jp_individual_number_card", "passport"},
			CheckMethods:          []string{"vpip", "pvr"},
			ElectronicRecordTypes: []string{"mobile_phone_contract"},
			Claims:                []string{"name", "birthdate", "address", "msisdn"},
		}},
		Profiles: []string{ida.ProfileJPBasic},
	}
	return p
}

var (
	keyOnce sync.Once
	keyPool map[string][]SigningKey
)

// testKey returns the n-th prepared key of alg (RSA generation is slow, so
// keys are made once per test binary).
func testKey(t *testing.T, alg string, n int) SigningKey {
	t.Helper()
	keyOnce.Do(func() {
		keyPool = map[string][]SigningKey{}
		for _, a := range SupportedAlgorithms {
			for range 3 {
				var key crypto.Signer
				var err error
				if a == ES256 {
					key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
				} else {
					key, err = rsa.GenerateKey(rand.Reader, 2048)
				}
				if err != nil {
					panic(err)
				}
				pub := jose.JSONWebKey{Key: key.Public()}
				tp, _ := pub.Thumbprint(crypto.SHA256)
				kid := base64.RawURLEncoding.EncodeToString(tp)
				raw, err := jose.JSONWebKey{Key: key, KeyID: kid, Algorithm: a, Use: "sig"}.MarshalJSON()
				if err != nil {
					panic(err)
				}
				keyPool[a] = append(keyPool[a], SigningKey{ID: kid, Algorithm: a, PrivateJWK: raw, CreatedAt: t0, ActivatesAt: t0})
			}
		}
	})
	return keyPool[alg][n]
}

func testKeySet(t *testing.T) *KeySet {
	return &KeySet{Keys: []SigningKey{testKey(t, ES256, 0), testKey(t, PS256, 0), testKey(t, RS256, 0)}}
}

const secretForTests = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"

func testClient() *Client {
	return &Client{
		ClientID:                "app-7f3a",
		ClientName:              "Banking app",
		Namespace:               "team-a",
		Name:                    "banking-app",
		RedirectURIs:            []string{"https://app.example.com/callback", "http://127.0.0.1:8080/cb"},
		GrantTypes:              []string{"authorization_code", "refresh_token"},
		ResponseTypes:           []string{"code"},
		Scopes:                  []string{"openid", "profile", "accounts"},
		TokenEndpointAuthMethod: AuthClientSecretBasic,
		SecretHash:              HashClientSecret(secretForTests),
		TrustFrameworks:         []string{"de_aml"},
		VerifiedClaims:          []string{"given_name", "family_name#ja-Kana-JP"},
	}
}
