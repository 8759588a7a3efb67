package op

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/grants"
	"github.com/idaop/ida-operator/runtime/store"
)

// TestSeal: what a provider seals it opens, with any of its keys (so a
// page survives a key rotation); a changed byte, another provider's seal
// and a seal made for another issuer are refused.
func TestSeal(t *testing.T) {
	f := newFixture(t)
	sv := f.p.served.Load()
	si := &sealedInteraction{Interaction: grants.Interaction{CSRF: "c", Stage: grants.StageLogin,
		Request: grants.Request{ClientID: clientBasic, Claims: `{"userinfo":{"email":null}}`}}, ID: "id-1", Browser: "b", ExpiresAt: 42}
	sealed, err := sv.seal(si)
	if err != nil {
		t.Fatal(err)
	}
	got, err := sv.open(sealed)
	if err != nil || got.ID != si.ID || got.Request.Claims != si.Request.Claims || got.Browser != "b" || got.ExpiresAt != 42 {
		t.Fatalf("open: %v %+v", err, got)
	}
	if strings.Contains(sealed, "email") || strings.Contains(sealed, clientBasic) {
		t.Fatal("the seal shows what it holds")
	}

	raw, _ := base64.RawURLEncoding.DecodeString(sealed)
	for _, i := range []int{0, len(raw) / 2, len(raw) - 1} {
		changed := append([]byte(nil), raw...)
		changed[i] ^= 1
		if _, err := sv.open(base64.RawURLEncoding.EncodeToString(changed)); err == nil {
			t.Fatalf("a seal changed at byte %d opened", i)
		}
	}
	for _, bad := range []string{"", "not base64!", "AAAA"} {
		if _, err := sv.open(bad); err == nil {
			t.Fatalf("%q opened", bad)
		}
	}
	if _, err := newFixture(t).p.served.Load().open(sealed); err == nil {
		t.Fatal("another provider's keys opened the seal")
	}
	other := newFixture(t, func(s *config.Snapshot) { s.Keys = f.snap.Keys; s.Provider.Issuer = "https://other.example" })
	if _, err := other.p.served.Load().open(sealed); err == nil {
		t.Fatal("the same keys under another issuer opened the seal")
	}

	// A key added later (a rotation) seals nothing new until the old one
	// leaves, and the old seal still opens.
	rotated := *f.snap
	keys := *f.snap.Keys
	keys.Keys = append(append([]config.SigningKey(nil), keys.Keys...), signingKey(t, config.ES256, mustKey(t), time.Now()))
	rotated.Keys = &keys
	if err := f.p.Apply(&rotated); err != nil {
		t.Fatal(err)
	}
	if _, err := f.p.served.Load().open(sealed); err != nil {
		t.Fatalf("after a new key: %v", err)
	}
}

// TestAuthorizeFloodStoresNothing: anonymous authorization requests (a
// registered client_id and redirect URI are public) from many addresses
// leave nothing in the store, and a client flooding PAR at the same time
// gets no more than its bound in, so a store with a small budget still has
// room for a person who signs in during the flood.
func TestAuthorizeFloodStoresNothing(t *testing.T) {
	budget := store.NewMemoryWithBudget(64 << 10)
	t.Cleanup(func() { budget.Close() })
	const pushBound = 20
	f := newFixtureWith(t, func(o *Options) { o.Store = budget }, func(s *config.Snapshot) {
		s.Provider.Security.PushedRequestsPerClient = pushBound
	})
	h := f.p.Handler()
	big := `{"userinfo":{"verified_claims":{"verification":{"trust_framework":null},"claims":{"given_name":{"purpose":"` + strings.Repeat("p", 290) + `"}}}},"x":"` + strings.Repeat("x", 20<<10) + `"}`
	u, _ := f.authorizeURL(clientBasic, url.Values{"claims": {big}})
	target := u[strings.Index(u, tenantPath):]

	const requests, workers = 4000, 8
	var wg sync.WaitGroup
	var signedIn url.Values
	var pushed, refused atomic.Int64
	_, challenge := pkce()
	parForm := url.Values{"response_type": {"code"}, "redirect_uri": {redirectURI}, "scope": {"openid"},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "state": {strings.Repeat("s", 500)}}.Encode()
	auth := basicAuth(clientSigned, testSecret)["Authorization"]
	wg.Go(func() {
		for range 1000 {
			r := httptest.NewRequest(http.MethodPost, tenantPath+config.PathPAR, strings.NewReader(parForm))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("Authorization", auth)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			switch rec.Code {
			case http.StatusCreated:
				pushed.Add(1)
			case http.StatusTooManyRequests:
				refused.Add(1)
			default:
				t.Errorf("PAR flood: %d %s", rec.Code, rec.Body)
				return
			}
		}
	})
	start := time.Now()
	for w := range workers {
		wg.Go(func() {
			for i := range requests / workers {
				r := httptest.NewRequest(http.MethodGet, target, nil)
				r.RemoteAddr = "198.51.100." + strconv.Itoa((w*requests+i)%250+1) + ":4242"
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, r)
				if rec.Code != http.StatusOK {
					t.Errorf("flood request: %d", rec.Code)
					return
				}
			}
		})
	}
	// A person signs in while the flood runs.
	signIn, _ := f.authorizeURL(clientBasic, nil)
	signedIn = f.signIn(f.browser(), signIn)
	wg.Wait()
	elapsed := time.Since(start)
	if signedIn.Get("code") == "" {
		t.Fatalf("sign-in during the flood: %v", signedIn)
	}
	if pushed.Load() != pushBound || refused.Load() != 1000-pushBound {
		t.Fatalf("PAR flood: %d pushed, %d refused; want %d and %d", pushed.Load(), refused.Load(), pushBound, 1000-pushBound)
	}
	// What the store holds is the person's session and code, the bound's
	// worth of pushed requests and the counters; nothing of the 4,000
	// authorization requests of 20 KiB each.
	if used := budget.Used(); used > 32<<10 {
		t.Fatalf("the store holds %d bytes after the flood", used)
	}
	t.Logf("%d anonymous authorization requests with a 20 KiB claims parameter in %v (%.0f/s) beside 1,000 pushes (%d in, %d refused); store %d bytes",
		requests, elapsed.Round(time.Millisecond), float64(requests)/elapsed.Seconds(), pushed.Load(), refused.Load(), budget.Used())
}
