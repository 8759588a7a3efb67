package source

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/ida"
)

const issuer = "https://id.example.com"

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func providerJSON(t testing.TB) []byte {
	minutes := func(n int) config.Duration { return config.Duration{Duration: time.Duration(n) * time.Minute} }
	return mustJSON(t, config.Provider{
		Issuer:            issuer,
		SigningAlgorithms: []string{config.ES256},
		Tokens: config.Lifetimes{
			IDToken: minutes(5), AccessToken: minutes(10), RefreshToken: minutes(600), AuthorizationCode: minutes(1),
		},
		Users: config.UserSource{Type: config.UsersBuiltin, Builtin: &config.BuiltinUsers{SecretName: "demo-users"}},
		IDA: ida.Policy{TrustFrameworks: []ida.TrustFramework{{
			Identifier:    "de_aml",
			EvidenceTypes: []string{"document"},
			DocumentTypes: []string{"idcard"},
			CheckMethods:  []string{"vpip"},
			Claims:        []string{"given_name", "family_name", "birthdate"},
		}}},
	})
}

var (
	keyOnce sync.Once
	keyJSON []byte
)

// keysJSON is a key set with one ES256 key, made once per test binary.
func keysJSON(t testing.TB) []byte {
	keyOnce.Do(func() {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		pub := jose.JSONWebKey{Key: key.Public()}
		tp, _ := pub.Thumbprint(crypto.SHA256)
		kid := base64.RawURLEncoding.EncodeToString(tp)
		jwk, err := jose.JSONWebKey{Key: key, KeyID: kid, Algorithm: config.ES256, Use: "sig"}.MarshalJSON()
		if err != nil {
			panic(err)
		}
		t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		keyJSON = mustJSON(t, config.KeySet{Keys: []config.SigningKey{{
			ID: kid, Algorithm: config.ES256, PrivateJWK: jwk, CreatedAt: t0, ActivatesAt: t0,
		}}})
	})
	return keyJSON
}

func clientJSON(t testing.TB, id string) []byte {
	return mustJSON(t, config.Client{
		ClientID:                id,
		Namespace:               "team-a",
		Name:                    id,
		RedirectURIs:            []string{"https://app.example.com/cb"},
		GrantTypes:              []string{"authorization_code"},
		ResponseTypes:           []string{"code"},
		Scopes:                  []string{"openid"},
		TokenEndpointAuthMethod: config.AuthClientSecretBasic,
		SecretHash:              config.HashClientSecret("s3cret-" + id),
	})
}

// next waits for one update, failing after within.
func next(t *testing.T, updates <-chan Update, within time.Duration) Update {
	t.Helper()
	select {
	case u := <-updates:
		return u
	case <-time.After(within):
		t.Fatalf("no update within %v", within)
		return Update{}
	}
}

// none asserts that no update arrives for d.
func none(t *testing.T, updates <-chan Update, d time.Duration) {
	t.Helper()
	select {
	case u := <-updates:
		t.Fatalf("unexpected update: snapshot=%v err=%v", u.Snapshot != nil, u.Err)
	case <-time.After(d):
	}
}

// good asserts a valid update with exactly these client IDs.
func good(t *testing.T, u Update, clients ...string) *config.Snapshot {
	t.Helper()
	if u.Err != nil {
		t.Fatalf("update error: %v", u.Err)
	}
	if u.Snapshot == nil {
		t.Fatal("update has neither a snapshot nor an error")
	}
	if len(u.Snapshot.Clients) != len(clients) {
		t.Fatalf("snapshot has %d clients, want %d", len(u.Snapshot.Clients), len(clients))
	}
	for _, id := range clients {
		if u.Snapshot.Clients[id] == nil {
			t.Fatalf("snapshot lacks client %q", id)
		}
	}
	return u.Snapshot
}

// bad asserts a refused update whose error mentions want.
func bad(t *testing.T, u Update, want string) {
	t.Helper()
	if u.Err == nil {
		t.Fatalf("update has no error, want one mentioning %q", want)
	}
	if u.Snapshot != nil || u.Users != nil {
		t.Fatal("a refused update carries a snapshot or users")
	}
	if !strings.Contains(u.Err.Error(), want) {
		t.Fatalf("error %q does not mention %q", u.Err, want)
	}
}

// run starts src and stops it when the test ends, checking it returns nil.
func run(t *testing.T, src Source) <-chan Update {
	t.Helper()
	updates := make(chan Update)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, updates) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v after cancel, want nil", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Run did not return within 5s of cancel")
		}
	})
	return updates
}
