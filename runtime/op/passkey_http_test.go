package op

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/grants"
	"github.com/idaop/ida-operator/runtime/users"
)

// kycWithFactors is a bank's identity system behind the HTTP user source
// (docs/users.md): one user, and the factor calls keeping records as
// they come.
type kycWithFactors struct {
	mu      sync.Mutex
	records map[string]string
}

func (k *kycWithFactors) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	k.mu.Lock()
	defer k.mu.Unlock()
	path := r.URL.EscapedPath()
	switch {
	case r.Method == http.MethodPost && path == "/authenticate":
		var c struct{ Username, Password string }
		if json.NewDecoder(r.Body).Decode(&c) != nil || c.Username != testUsername || c.Password != testPassword {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"subject": testSubject})
	case r.Method == http.MethodGet && path == "/users/"+testSubject:
		_ = json.NewEncoder(w).Encode(map[string]any{"username": testUsername, "claims": map[string]any{"email": "alice@example.com"}})
	case strings.HasPrefix(path, "/users/"+testSubject+"/factors/") || strings.HasPrefix(path, "/passkeys/"):
		switch r.Method {
		case http.MethodGet:
			v, ok := k.records[path]
			if !ok {
				w.WriteHeader(http.StatusNotFound)
				return
			}
			_ = json.NewEncoder(w).Encode(map[string]string{"value": v})
		case http.MethodPut:
			var b struct{ Value string }
			_ = json.NewDecoder(r.Body).Decode(&b)
			k.records[path] = b.Value
			w.WriteHeader(http.StatusNoContent)
		case http.MethodDelete:
			delete(k.records, path)
			w.WriteHeader(http.StatusNoContent)
		}
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

// TestPasskeyWithHTTPUserSource: with the HTTP user source keeping
// factors, a passkey enrolled after the password is written to the
// bank's system (sealed), not to the session store, and signs in alone
// from there; the bank deleting it (recovery) ends that.
func TestPasskeyWithHTTPUserSource(t *testing.T) {
	kyc := &kycWithFactors{records: map[string]string{}}
	srv := httptest.NewServer(kyc)
	t.Cleanup(srv.Close)
	cfg := config.HTTPUsers{URL: srv.URL, Factors: true}
	f := newFixtureWith(t, func(o *Options) { o.Users = users.NewHTTP(cfg, "", srv.Client()) }, withPasskeys, func(s *config.Snapshot) {
		s.Provider.Users = config.UserSource{Type: config.UsersHTTP, HTTP: &cfg}
	})
	f.issuer = f.snap.Provider.Issuer
	key := newSoftKey(t, f.origin(), true)
	enrolPasskey(t, f, f.browser(), key)

	userRecord := "/users/" + testSubject + "/factors/passkeys"
	if v := kyc.records[userRecord]; v == "" || strings.Contains(v, b64(key.id)) {
		t.Fatalf("the bank's system holds %v: want the user's sealed passkeys at %s", kyc.records, userRecord)
	}
	if _, ok := kyc.records["/passkeys/"+b64(key.id)]; !ok {
		t.Fatalf("no index record for the credential: %v", kyc.records)
	}
	if _, err := f.p.grants.Passkeys(context.Background(), testSubject); !errors.Is(err, grants.ErrNotFound) {
		t.Fatalf("the session store holds passkeys too: %v", err)
	}

	b := f.browser()
	u, verifier := f.authorizeURL(clientBasic, nil)
	pg := f.get(b, u)
	pg = f.approveIfAsked(b, f.submit(b, pathPasskeyLogin, pg, url.Values{"credential": {key.get(pageOptions(pg.body))}}))
	if acr, amr := f.tokenLevel(pg, verifier); acr != acrPasskey || !slices.Equal(amr, []string{"swk", "user", "mfa"}) {
		t.Fatalf("passkey sign-in through the bank's records: acr %q amr %v", acr, amr)
	}

	// Recovery is the bank's: it deletes the user's record.
	kyc.mu.Lock()
	delete(kyc.records, userRecord)
	kyc.mu.Unlock()
	b = f.browser()
	u, _ = f.authorizeURL(clientBasic, nil)
	pg = f.get(b, u)
	if pg = f.submit(b, pathPasskeyLogin, pg, url.Values{"credential": {key.get(pageOptions(pg.body))}}); pg.location != "" {
		t.Fatalf("a passkey the bank deleted signed in: %q", pg.location)
	}
}
