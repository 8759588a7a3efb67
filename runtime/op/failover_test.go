package op

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/store"
	"github.com/idaop/ida-operator/runtime/store/storetest"
)

// TestFailoverUnderLoad: two runtimes share a Redis reached through
// Sentinel (a master, two replicas, three sentinels; each write waits for
// one replica). Complete code flows (authorize with the session, token,
// UserInfo), each step at one runtime or the other, run while the test
// kills the master. Flows fail only while there is no master and resume by
// themselves after the promotion; tokens issued before the failover still
// work after it, and a token revoked before it stays revoked. The time
// without service and the failed flows are logged.
func TestFailoverUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("starts six redis-server processes")
	}
	g := storetest.StartSentinelGroup(t)
	rs, err := store.NewRedis(t.Context(), store.RedisOptions{
		Sentinel:    &store.RedisSentinel{MasterName: g.MasterName, Addresses: g.Sentinels},
		ReplicaAcks: 1, ReplicaAckTimeout: 500 * time.Millisecond, Prefix: "ida:",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rs.Close() })
	f := newFixtureWith(t, func(o *Options) { o.Store = rs })
	// The second runtime: the same configuration and store.
	p2, err := New(Options{Store: rs, Users: mustBuiltin(t), UI: f.p.ui, Now: f.clock.now})
	if err != nil {
		t.Fatal(err)
	}
	if err := p2.Apply(f.snap); err != nil {
		t.Fatal(err)
	}
	srv2 := httptest.NewServer(p2.Handler())
	t.Cleanup(srv2.Close)
	bases := []string{f.srv.URL, srv2.URL}

	// One person signs in once; every flow after uses the session.
	b := f.browser()
	u, _ := f.authorizeURL(clientBasic, nil)
	f.signIn(b, u)
	fl := &flows{f: f, b: b, bases: bases}

	// Before the failover: tokens to check afterwards, one of them revoked.
	var before []string
	for range 10 {
		at, err := fl.run(context.Background(), 0)
		if err != nil {
			t.Fatalf("a flow before the failover: %v", err)
		}
		before = append(before, at)
	}
	revoked := before[len(before)-1]
	before = before[:len(before)-1]
	if resp := f.post(config.PathRevoke, url.Values{"token": {revoked}}, basicAuth(clientBasic, testSecret)); resp.StatusCode != http.StatusOK {
		t.Fatalf("revocation: %d", resp.StatusCode)
	}

	// The load: four workers, flows bounded to 2 s each.
	var ok, failed atomic.Int64
	var mu sync.Mutex
	var lastFail, firstOKAfter time.Time
	var killed time.Time
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				_, err := fl.run(ctx, i)
				cancel()
				now := time.Now()
				mu.Lock()
				if err != nil {
					failed.Add(1)
					lastFail = now
				} else {
					ok.Add(1)
					if !killed.IsZero() && firstOKAfter.IsZero() && now.After(killed) {
						firstOKAfter = now
					}
				}
				mu.Unlock()
				if err != nil {
					time.Sleep(50 * time.Millisecond)
				}
			}
		}()
	}
	time.Sleep(time.Second)
	okBefore := ok.Load()
	mu.Lock()
	killed = time.Now()
	mu.Unlock()
	g.Master.Kill()
	// Run until flows have succeeded for two seconds after the last failure.
	deadline := time.Now().Add(30 * time.Second)
	for {
		time.Sleep(100 * time.Millisecond)
		mu.Lock()
		quiet := !lastFail.IsZero() && time.Since(lastFail) > 2*time.Second || lastFail.IsZero() && time.Since(killed) > 5*time.Second
		mu.Unlock()
		if quiet {
			break
		}
		if time.Now().After(deadline) {
			close(stop)
			wg.Wait()
			t.Fatalf("flows still failing 30 s after the master was lost (%d failed)", failed.Load())
		}
	}
	close(stop)
	wg.Wait()
	mu.Lock()
	outage := lastFail.Sub(killed)
	if lastFail.IsZero() || lastFail.Before(killed) {
		outage = 0
	}
	mu.Unlock()
	t.Logf("failover under load: %d flows before the kill, %d failed, %d succeeded in all; last failure %v after the kill",
		okBefore, failed.Load(), ok.Load(), outage.Round(10*time.Millisecond))
	if ok.Load() <= okBefore {
		t.Fatal("no flow succeeded after the failover")
	}

	// Tokens from before the failover still work, at either runtime; the
	// revoked one did not come back.
	for i, at := range before {
		if status, _ := fl.userinfo(context.Background(), bases[i%2], at); status != http.StatusOK {
			t.Fatalf("a token from before the failover: UserInfo %d", status)
		}
	}
	if status, _ := fl.userinfo(context.Background(), bases[1], revoked); status != http.StatusUnauthorized {
		t.Fatalf("a token revoked before the failover: UserInfo %d", status)
	}
}

// flows runs complete code flows against several runtimes of one provider.
type flows struct {
	f     *fixture
	b     *http.Client
	bases []string
}

// run is one flow whose steps go to runtimes chosen by i; it returns the
// access token.
func (fl *flows) run(ctx context.Context, i int) (string, error) {
	at := func(k int, path string) string { return fl.bases[(i+k)%len(fl.bases)] + tenantPath + path }
	u, verifier := fl.f.authorizeURL(clientBasic, nil)
	u = at(0, config.PathAuthorize) + u[strings.Index(u, "?"):]
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	resp, err := fl.b.Do(req)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	code := loc.Query().Get("code")
	if resp.StatusCode != http.StatusSeeOther || code == "" {
		return "", fmt.Errorf("authorize: %d %s", resp.StatusCode, loc)
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, at(1, config.PathToken), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", basicAuth(clientBasic, testSecret)["Authorization"])
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	var tok map[string]any
	err = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	token, _ := tok["access_token"].(string)
	if err != nil || resp.StatusCode != http.StatusOK || token == "" {
		return "", fmt.Errorf("token: %d %v %v", resp.StatusCode, tok, err)
	}
	if status, err := fl.userinfo(ctx, fl.bases[(i+2)%len(fl.bases)], token); status != http.StatusOK {
		return "", fmt.Errorf("userinfo: %d %v", status, err)
	}
	return token, nil
}

func (fl *flows) userinfo(ctx context.Context, base, token string) (int, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+tenantPath+config.PathUserInfo, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
