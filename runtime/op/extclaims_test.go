package op

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// claimSourceKey is a test claim source's signing key and its public JWK.
type claimSourceKey struct {
	priv *ecdsa.PrivateKey
	kid  string
}

func newClaimSourceKey(t *testing.T, kid string) *claimSourceKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &claimSourceKey{priv: k, kid: kid}
}

func (k *claimSourceKey) public() jose.JSONWebKey {
	return jose.JSONWebKey{Key: &k.priv.PublicKey, KeyID: k.kid, Algorithm: "ES256", Use: "sig"}
}

// sign makes an assertion with the given typ header and payload.
func (k *claimSourceKey) sign(t *testing.T, typ string, payload map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithHeader(jose.HeaderKey("kid"), k.kid)
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k.priv}, opts)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(payload)
	jws, err := s.Sign(body)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

const testSourceIssuer = "https://kyc.example"

func assertionPayload(change func(m map[string]any)) map[string]any {
	m := map[string]any{
		"iss": testSourceIssuer, "sub": "kyc-7781", "iat": 1767225600,
		"verified_claims": map[string]any{
			"verification": map[string]any{"trust_framework": "uk_tfida"},
			"claims":       map[string]any{"given_name": "Max", "family_name": "Meier"},
		},
	}
	if change != nil {
		change(m)
	}
	return m
}

func TestCheckProvidedClaims(t *testing.T) {
	key := newClaimSourceKey(t, "src-1")
	other := newClaimSourceKey(t, "src-1")
	keys := []jose.JSONWebKey{key.public()}
	now := time.Unix(1767225600, 0)
	good := key.sign(t, providedClaimsType, assertionPayload(nil))
	tamper := func(s string) string {
		parts := strings.Split(s, ".")
		body, _ := base64.RawURLEncoding.DecodeString(parts[1])
		body = []byte(strings.Replace(string(body), "Max", "Eve", 1))
		parts[1] = base64.RawURLEncoding.EncodeToString(body)
		return strings.Join(parts, ".")
	}
	hs256 := func() string {
		h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"provided-claims+jwt"}`))
		p := base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"https://kyc.example","sub":"x","verified_claims":{"verification":{"trust_framework":"uk_tfida"},"claims":{}}}`))
		m := hmac.New(sha256.New, []byte("secret"))
		m.Write([]byte(h + "." + p))
		return h + "." + p + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"provided-claims+jwt"}`)) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"https://kyc.example","sub":"x","verified_claims":{}}`)) + "."
	cases := []struct {
		name string
		jwt  string
		want string // "" for valid, else a part of the reason
	}{
		{"a valid assertion", good, ""},
		{"typ with its application/ prefix", key.sign(t, "application/provided-claims+jwt", assertionPayload(nil)), ""},
		{"typ in another case", key.sign(t, "Provided-Claims+JWT", assertionPayload(nil)), ""},
		{"a tampered payload", tamper(good), "the signature does not verify"},
		{"signed by another key with the same kid", other.sign(t, providedClaimsType, assertionPayload(nil)), "the signature does not verify"},
		{"a kid the source does not publish", newClaimSourceKey(t, "src-9").sign(t, providedClaimsType, assertionPayload(nil)), "no key of the source's set fits"},
		{"a shared-secret signature", hs256(), "not a JWT signed with ES256, PS256, RS256"},
		{"no signature", none, "not a JWT signed with"},
		{"not a JWT", "not-a-jwt", "not a JWT signed with"},
		{"no typ", key.sign(t, "", assertionPayload(nil)), "typ is not provided-claims+jwt"},
		{"an ID token's typ", key.sign(t, "JWT", assertionPayload(nil)), "typ is not provided-claims+jwt"},
		{"exp present", key.sign(t, providedClaimsType, assertionPayload(func(m map[string]any) { m["exp"] = 1867225600 })), "it has exp"},
		{"aud present", key.sign(t, providedClaimsType, assertionPayload(func(m map[string]any) { m["aud"] = "client-1" })), "it has aud"},
		{"another issuer", key.sign(t, providedClaimsType, assertionPayload(func(m map[string]any) { m["iss"] = "https://evil.example" })), "iss is not the source's issuer"},
		{"no iss", key.sign(t, providedClaimsType, assertionPayload(func(m map[string]any) { delete(m, "iss") })), "iss is not the source's issuer"},
		{"no sub", key.sign(t, providedClaimsType, assertionPayload(func(m map[string]any) { delete(m, "sub") })), "sub is missing or empty"},
		{"an empty sub", key.sign(t, providedClaimsType, assertionPayload(func(m map[string]any) { m["sub"] = "" })), "sub is missing or empty"},
		{"no verified_claims", key.sign(t, providedClaimsType, assertionPayload(func(m map[string]any) { delete(m, "verified_claims") })), "verified_claims is missing or empty"},
		{"empty verified_claims", key.sign(t, providedClaimsType, assertionPayload(func(m map[string]any) { m["verified_claims"] = []any{} })), "verified_claims is missing or empty"},
		{"null verified_claims", key.sign(t, providedClaimsType, assertionPayload(func(m map[string]any) { m["verified_claims"] = nil })), "verified_claims is missing or empty"},
		{"not valid yet", key.sign(t, providedClaimsType, assertionPayload(func(m map[string]any) { m["nbf"] = now.Add(time.Hour).Unix() })), "not valid yet"},
		{"valid since a moment", key.sign(t, providedClaimsType, assertionPayload(func(m map[string]any) { m["nbf"] = now.Add(-time.Hour).Unix() })), ""},
		{"a member nobody asked for", key.sign(t, providedClaimsType, assertionPayload(func(m map[string]any) { m["email"] = "max@example.com" })), `it has a member "email"`},
		{"txn and jti", key.sign(t, providedClaimsType, assertionPayload(func(m map[string]any) { m["txn"], m["jti"] = "t-1", "j-1" })), ""},
		{"too large", key.sign(t, providedClaimsType, assertionPayload(func(m map[string]any) { m["pad"] = strings.Repeat("x", 70<<10) })), "larger than 64 KiB"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			vc, err := checkProvidedClaims(c.jwt, testSourceIssuer, keys, now)
			if c.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if !strings.Contains(string(vc), `"given_name":"Max"`) {
					t.Errorf("verified_claims = %s", vc)
				}
				return
			}
			if err == nil || !errors.Is(err, errProvidedClaims) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			if strings.Contains(err.Error(), "Max") || strings.Contains(err.Error(), "kyc-7781") {
				t.Errorf("the reason quotes personal data: %v", err)
			}
		})
	}
}
