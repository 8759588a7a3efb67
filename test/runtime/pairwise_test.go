package runtime_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/test/internal/rptest"
)

// TestPairwiseSubjects: one person signs in at four go-oidc relying
// parties: two of one sector, one of another, one public. go-oidc verifies
// each ID token and reads UserInfo (it checks that the two subs agree);
// introspection, asked by each client, names the same sub. Two of one
// sector see one sub, different sectors different ones, and none sees the
// provider's own id but the public client.
func TestPairwiseSubjects(t *testing.T) {
	t.Parallel()
	e := getEnv(t)
	e.dumpLogsOnFailure(t)
	subs := map[string]string{}
	for _, id := range []string{clientPairwiseA1, clientPairwiseA2, clientPairwiseB, clientBasic} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		rp := newGoRP(t, ctx, e, id)
		got := e.cb.Expect(rp.state)
		formSignIn(t, rp.authCodeURL("", ""), demoPassword)
		idc, _, ui := rp.finish(t, ctx, e, rptest.Wait(t, got, 5*time.Second))
		cancel()
		sub, _ := idc["sub"].(string)
		if sub == "" || ui["sub"] != sub {
			t.Fatalf("%s: ID token sub %q, UserInfo sub %v", id, sub, ui["sub"])
		}
		if in := introspect(t, e, id, rp.accessToken); in["active"] != true || in["sub"] != sub {
			t.Fatalf("%s: introspection %v, want sub %s", id, in, sub)
		}
		subs[id] = sub
	}
	switch {
	case subs[clientPairwiseA1] != subs[clientPairwiseA2]:
		t.Errorf("one sector, two subs: %s %s", subs[clientPairwiseA1], subs[clientPairwiseA2])
	case subs[clientPairwiseA1] == subs[clientPairwiseB]:
		t.Errorf("two sectors, one sub: %s", subs[clientPairwiseB])
	case subs[clientPairwiseA1] == subs[clientBasic] || subs[clientPairwiseB] == subs[clientBasic]:
		t.Errorf("a pairwise client sees the public sub %s", subs[clientBasic])
	case len(subs[clientPairwiseA1]) != 43:
		t.Errorf("pairwise sub %q is not a base64url SHA-256", subs[clientPairwiseA1])
	}
	disc := discoveryDocument(t, e)
	if types, _ := json.Marshal(disc["subject_types_supported"]); string(types) != `["public","pairwise"]` {
		t.Errorf("subject_types_supported %s", types)
	}
}

// introspect asks the introspection endpoint about token as clientID.
func introspect(t *testing.T, e *env, clientID, token string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, strings.TrimRight(e.issuer, "/")+config.PathIntrospect, strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, e.cfg.clientSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("introspection: %d %v", resp.StatusCode, err)
	}
	return out
}

func discoveryDocument(t *testing.T, e *env) map[string]any {
	t.Helper()
	resp, err := http.Get(config.DiscoveryURL(e.issuer))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	return doc
}
