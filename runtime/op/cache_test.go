package op

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"testing"

	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/grants"
	"github.com/idaop/ida-operator/runtime/store"
	"github.com/idaop/ida-operator/runtime/users"
)

func TestCacheBounded(t *testing.T) {
	c := newCache[int, string](3)
	for i := range 10 {
		c.put(i, fmt.Sprint(i))
		if n := c.len(); n > 3 {
			t.Fatalf("len %d after %d puts, bound 3", n, i+1)
		}
	}
	for _, k := range []int{7, 8, 9} {
		if v, ok := c.get(k); !ok || v != fmt.Sprint(k) {
			t.Fatalf("get(%d) = %q, %v", k, v, ok)
		}
	}
	if _, ok := c.get(6); ok {
		t.Fatal("evicted entry still there")
	}
	c.get(7) // 7 is now the most recent: 8 goes first
	c.put(10, "10")
	if _, ok := c.get(8); ok {
		t.Fatal("least recently used entry kept")
	}
	if _, ok := c.get(7); !ok {
		t.Fatal("recently used entry evicted")
	}
	c.put(7, "seven")
	if v, _ := c.get(7); v != "seven" || c.len() != 3 {
		t.Fatalf("replace: %q, len %d", v, c.len())
	}
}

// ucClaims asks for given_name in UserInfo's verified_claims (clientBasic
// may receive given_name only).
const ucClaims = `{"userinfo":{"verified_claims":{"verification":{"trust_framework":null},"claims":{"given_name":null}}}}`

func userinfoGivenName(t *testing.T, f *fixture, token string) string {
	t.Helper()
	resp, body := f.userinfo(token)
	if resp.StatusCode != 200 {
		t.Fatalf("userinfo: %d %v", resp.StatusCode, body)
	}
	vc, _ := body["verified_claims"].(map[string]any)
	claims, _ := vc["claims"].(map[string]any)
	s, _ := claims["given_name"].(string)
	return s
}

// TestDatasetChangePickedUp: the parsed dataset is cached, but a user
// source whose data changed is read again at once.
func TestDatasetChangePickedUp(t *testing.T) {
	f := newFixture(t)
	code, verifier := f.codeFor(clientBasic, url.Values{"claims": {ucClaims}})
	resp, tok := f.exchange(clientBasic, code, verifier)
	if resp.StatusCode != 200 {
		t.Fatalf("token: %v", tok)
	}
	at := tok["access_token"].(string)
	for range 3 {
		if got := userinfoGivenName(t, f, at); got != "Max" {
			t.Fatalf("given_name %q, want Max", got)
		}
	}
	if n := f.p.datasets.len(); n != 1 {
		t.Fatalf("dataset cache holds %d entries, want 1", n)
	}
	doc := bytes.Replace(testUsers(t), []byte(`"Max"`), []byte(`"Moritz"`), 1)
	src, err := users.NewBuiltin(doc)
	if err != nil {
		t.Fatal(err)
	}
	f.p.SetUsers(src)
	if got := userinfoGivenName(t, f, at); got != "Moritz" {
		t.Fatalf("after the dataset changed: given_name %q, want Moritz", got)
	}
}

// TestDatasetCacheBounded: many users never grow the cache past its bound.
func TestDatasetCacheBounded(t *testing.T) {
	p := &Provider{datasets: newCache[string, cachedDataset](8)}
	for i := range 100 {
		u := &users.User{Subject: fmt.Sprint("s", i), Dataset: []byte(`{"verified_claims":{"verification":{"trust_framework":"de_aml"},"claims":{"given_name":"A"}}}`)}
		if _, err := p.dataset(u); err != nil {
			t.Fatal(err)
		}
	}
	if n := p.datasets.len(); n != 8 {
		t.Fatalf("%d entries, bound 8", n)
	}
	if _, err := p.dataset(&users.User{Subject: "bad", Dataset: []byte(`[]`)}); err == nil {
		t.Fatal("invalid dataset accepted")
	}
}

// TestClaimsCacheFollowsConfig: a compiled claims request belongs to the
// configuration it was checked against; after Apply narrows the client's
// policy, the same grant releases less.
func TestClaimsCacheFollowsConfig(t *testing.T) {
	f := newFixture(t)
	code, verifier := f.codeFor(clientBasic, url.Values{"claims": {ucClaims}})
	_, tok := f.exchange(clientBasic, code, verifier)
	at := tok["access_token"].(string)
	if got := userinfoGivenName(t, f, at); got != "Max" {
		t.Fatalf("given_name %q", got)
	}
	f.snap.Clients[clientBasic].VerifiedClaims = []string{"family_name"}
	if err := f.p.Apply(f.snap); err != nil {
		t.Fatal(err)
	}
	if got := userinfoGivenName(t, f, at); got != "" {
		t.Fatalf("given_name %q released after the client lost it", got)
	}
	if n := f.p.claims.len(); n > claimsCacheSize {
		t.Fatalf("claims cache over its bound: %d", n)
	}
}

// sharedStore hides that the memory store is Local, so records go to it as
// JSON, as they go to Redis.
type sharedStore struct{ store.Store }

// TestRevocationImmediate: revoking an access token refuses it on the
// very next request, with binary records (memory) and JSON ones (a store
// shared by replicas); the caches never hold validity.
func TestRevocationImmediate(t *testing.T) {
	for _, shared := range []bool{false, true} {
		t.Run(fmt.Sprint("shared=", shared), func(t *testing.T) {
			f := newFixture(t)
			if shared {
				f.p.grants = grants.New(sharedStore{f.store}, f.clock.now)
			}
			code, verifier := f.codeFor(clientPost, url.Values{"scope": {"openid offline_access"}, "claims": {ucClaims}})
			resp := f.post(config.PathToken, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI},
				"code_verifier": {verifier}, "client_id": {clientPost}, "client_secret": {testSecret}}, nil)
			tok := decode(t, resp)
			at, rt := tok["access_token"].(string), tok["refresh_token"].(string)
			if at == "" || rt == "" {
				t.Fatalf("tokens: %v", tok)
			}
			if got := userinfoGivenName(t, f, at); got != "Max" {
				t.Fatalf("given_name %q", got)
			}
			// Refresh rotates: the new pair works, the old refresh token not.
			resp = f.post(config.PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt},
				"client_id": {clientPost}, "client_secret": {testSecret}}, nil)
			tok2 := decode(t, resp)
			at2, _ := tok2["access_token"].(string)
			if resp.StatusCode != 200 || at2 == "" {
				t.Fatalf("refresh: %d %v", resp.StatusCode, tok2)
			}
			if got := userinfoGivenName(t, f, at2); got != "Max" {
				t.Fatalf("refreshed token: given_name %q", got)
			}
			resp = f.post(config.PathRevoke, url.Values{"token": {at2}, "client_id": {clientPost}, "client_secret": {testSecret}}, nil)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("revoke: %d", resp.StatusCode)
			}
			if resp, _ := f.userinfo(at2); resp.StatusCode != 401 {
				t.Fatalf("revoked access token: %d", resp.StatusCode)
			}
			// The first access token is still live; replaying the rotated
			// refresh token revokes the whole grant, at once.
			if got := userinfoGivenName(t, f, at); got != "Max" {
				t.Fatalf("given_name %q", got)
			}
			resp = f.post(config.PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt},
				"client_id": {clientPost}, "client_secret": {testSecret}}, nil)
			wantError(t, resp, decode(t, resp), 400, "invalid_grant")
			if resp, _ := f.userinfo(at); resp.StatusCode != 401 {
				t.Fatalf("access token survives its grant's revocation: %d", resp.StatusCode)
			}
		})
	}
}

// TestMarshalRawObject: the fast path writes what json.Marshal writes.
func TestMarshalRawObject(t *testing.T) {
	cases := []map[string]json.RawMessage{
		{},
		{"sub": json.RawMessage(`"248289761001"`), "email": json.RawMessage(`"a@example.com"`), "email_verified": json.RawMessage(`true`)},
		{"verified_claims": json.RawMessage(`{"verification":{"trust_framework":"de_aml"},"claims":{"given_name":"Max"}}`), "a": json.RawMessage(`1`)},
		{"x": json.RawMessage(`{ "spaced" : [1, 2] }`)},
		{"x": json.RawMessage(`"<b>&"`)},
		{"x": json.RawMessage("\"\u2028\"")},
		{"x": json.RawMessage(`"日本語"`)},
		{"name": json.RawMessage(`"Jane Doe"`), "q": json.RawMessage(`"a \\" b"`), "o": json.RawMessage(`{"a":"x y","b":[1,"\\\\"]}`)},
		{"x": json.RawMessage(`"a \" b"`), "y": json.RawMessage(`["x \\", " "]`)},
		{"ké": json.RawMessage(`1`), "a\"b": json.RawMessage(`2`), "<": json.RawMessage(`3`)},
		{"nil": nil},
		{"address": json.RawMessage("{\"formatted\":\"1\\n2\"}")},
	}
	for _, m := range cases {
		want, werr := json.Marshal(m)
		got, gerr := marshalRawObject(m)
		if string(got) != string(want) || (werr == nil) != (gerr == nil) {
			t.Errorf("%v: got %s (%v), want %s (%v)", m, got, gerr, want, werr)
		}
	}
}

// TestJSONString: the ID token's string claims encode as json.Marshal
// encodes them.
func TestJSONString(t *testing.T) {
	for _, s := range []string{"", "https://idp.example/tenant-a", "248289761001", "a\"b", `a\b`, "<&>", "ké", "日本語",
		"\u2028", "tab\there", "\x00", "\xff"} {
		want, _ := json.Marshal(s)
		if got := jsonString(s); string(got) != string(want) {
			t.Errorf("%q: got %s, want %s", s, got, want)
		}
	}
	if got := string(jsonInt(-1795372129)); got != "-1795372129" {
		t.Errorf("jsonInt: %s", got)
	}
}
