package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Endpoint names, in report order.
const (
	epDiscovery = "discovery"
	epJWKS      = "jwks"
	epPAR       = "par"
	epTokenCode = "token (authorization_code)"
	epTokenRT   = "token (refresh_token)"
	// epTokenJWT is the code grant of a client whose access tokens are
	// JWTs (RFC 9068): one more signature per response.
	epTokenJWT = "token (authorization_code, JWT access token)"
	epUserInfo = "userinfo"
	// epUserInfoStd is UserInfo for a token without a claims request:
	// standard claims of the profile and email scopes only, what the
	// peers' UserInfo answers. Only ida-operator is driven on it; its
	// ratios are taken against the peers' userinfo rows.
	epUserInfoStd = "userinfo (standard claims only)"
	// epIntrospect is token introspection (RFC 7662) of the client's own
	// access tokens, JSON answers.
	epIntrospect = "introspection"
	epFlow       = "complete code flow"
)

var endpoints = []string{epDiscovery, epJWKS, epPAR, epTokenCode, epTokenJWT, epTokenRT, epUserInfo, epUserInfoStd, epIntrospect, epFlow}

// settings bound every run; they are the same for every server.
type settings struct {
	Concurrency int
	Duration    time.Duration // timed window per endpoint (upper bound)
	Warmup      time.Duration // warm-up per repeatable endpoint
	MaxRequests int           // upper bound of requests per timed window
	Codes       int           // codes pre-minted for the timed token window
	WarmCodes   int           // codes used for warming up the token endpoint
	ProfileDir  string        // CPU profiles of ida-operator per endpoint
	PprofURL    string
}

// row is one server × endpoint figure.
type row struct {
	Server   string        `json:"server"`
	Endpoint string        `json:"endpoint"`
	Requests int           `json:"requests"`
	Errors   int           `json:"errors"`
	Window   time.Duration `json:"window"`
	RPS      float64       `json:"rps"`
	P50      time.Duration `json:"p50"`
	P99      time.Duration `json:"p99"`
	RSSKiB   int64         `json:"rss_kib"`
	// CPU is the server process's CPU time (user+system, all threads)
	// during the timed window; CPUPerReq divides it by the successes.
	CPU       time.Duration `json:"cpu"`
	CPUPerReq time.Duration `json:"cpu_per_request"`
	// ClientCPU is the load generator's CPU time in the window: well
	// under the window's length means the server set the pace.
	ClientCPU time.Duration `json:"client_cpu"`
	Note      string        `json:"note,omitempty"`
	FirstErr  string        `json:"first_error,omitempty"`
}

// stats collects latencies of one timed window.
type stats struct {
	mu       sync.Mutex
	lat      []time.Duration
	errs     int
	firstErr string
}

func (s *stats) add(d time.Duration, err string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != "" {
		s.errs++
		if s.firstErr == "" {
			s.firstErr = err
		}
		return
	}
	s.lat = append(s.lat, d)
}

func (s *stats) row(server, ep string, window time.Duration, pid int) row {
	slices.Sort(s.lat)
	q := func(p float64) time.Duration {
		if len(s.lat) == 0 {
			return 0
		}
		i := int(p*float64(len(s.lat))+0.5) - 1
		return s.lat[max(0, min(i, len(s.lat)-1))]
	}
	return row{
		Server: server, Endpoint: ep, Requests: len(s.lat) + s.errs, Errors: s.errs, Window: window,
		RPS: float64(len(s.lat)) / window.Seconds(), P50: q(0.50), P99: q(0.99), RSSKiB: rssKiB(pid),
		FirstErr: s.firstErr,
	}
}

// rssKiB reads the resident set of a process from /proc.
func rssKiB(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return -1
}

// requestSource yields the next request of a run; ok=false ends it.
type requestSource func(tgt *vegeta.Target) (ok bool)

// loop runs fn from s.Concurrency goroutines until n calls are made (n>0)
// or d passes; it is the runner of multi-request flows and of minting.
func loop(ctx context.Context, conc int, d time.Duration, n int, fn func(i int) error) (*stats, time.Duration) {
	st := &stats{}
	var next atomic.Int64
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && time.Now().Before(deadline) {
				i := int(next.Add(1)) - 1
				if n > 0 && i >= n {
					return
				}
				t0 := time.Now()
				err := fn(i)
				if err != nil {
					st.add(0, err.Error())
				} else {
					st.add(time.Since(t0), "")
				}
			}
		}()
	}
	wg.Wait()
	return st, time.Since(start)
}

// profile fetches a CPU profile of ida-operator for the next seconds.
func profile(s settings, server, ep string, seconds int) func() {
	if s.ProfileDir == "" || s.PprofURL == "" {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		resp, err := http.Get(fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", s.PprofURL, seconds))
		if err != nil {
			logf("profile %s: %v", ep, err)
			return
		}
		defer resp.Body.Close()
		name := filepath.Join(s.ProfileDir, server+"-"+strings.NewReplacer(" ", "-", "(", "", ")", "").Replace(ep)+".pprof")
		f, err := os.Create(name)
		if err != nil {
			logf("profile %s: %v", ep, err)
			return
		}
		io.Copy(f, resp.Body)
		f.Close()
		logf("  CPU profile: %s", name)
	}()
	return func() { <-done }
}

// suite drives every endpoint of one target and returns its rows.
func suite(ctx context.Context, t *target, s settings) ([]row, error) {
	hc := newHTTPClient(s.Concurrency)
	var rows []row
	add := func(r row) {
		logf("  %-28s %9.0f/s  p50 %-8v p99 %-8v RSS %6.1f MiB  CPU %5.0fµs/req %.2f cores, load %.2f cores  (%d requests, %d errors, %.1fs)%s",
			r.Endpoint, r.RPS, r.P50.Round(10*time.Microsecond), r.P99.Round(10*time.Microsecond),
			float64(r.RSSKiB)/1024, float64(r.CPUPerReq)/1e3, r.CPU.Seconds()/r.Window.Seconds(), r.ClientCPU.Seconds()/r.Window.Seconds(),
			r.Requests, r.Errors, r.Window.Seconds(), errSuffix(r.FirstErr))
		rows = append(rows, r)
	}
	skip := func(ep, why string) {
		logf("  %-28s not driven: %s", ep, why)
		rows = append(rows, row{Server: t.Name, Endpoint: ep, Note: why, RSSKiB: -1})
	}
	secs := max(1, int(s.Duration.Seconds())-1)

	// Repeatable GET/POST endpoints: warm up, then the timed window.
	repeat := func(ep string, src func() requestSource, want int) {
		attack(s, ep+" warm-up", s.Warmup, 0, src(), want, nil)
		wait := profile(s, t.Name, ep, secs)
		m := startMeter(t.PID)
		st, w := attack(s, ep, s.Duration, s.MaxRequests, src(), want, nil)
		add(m.fill(st.row(t.Name, ep, w, t.PID)))
		wait()
	}
	get := func(u string, hdr http.Header) func() requestSource {
		return func() requestSource {
			return func(tgt *vegeta.Target) bool {
				tgt.Method, tgt.URL, tgt.Header = http.MethodGet, u, hdr
				return true
			}
		}
	}

	repeat(epDiscovery, get(t.DiscoveryURL, nil), http.StatusOK)
	repeat(epJWKS, get(t.JWKS, nil), http.StatusOK)

	formHdr := t.basicAuth()
	formHdr.Set("Content-Type", "application/x-www-form-urlencoded")
	post := func(u string, body func(i int) []byte) func() requestSource {
		return func() requestSource {
			var i atomic.Int64
			return func(tgt *vegeta.Target) bool {
				tgt.Method, tgt.URL, tgt.Header, tgt.Body = http.MethodPost, u, formHdr, body(int(i.Add(1)-1))
				return true
			}
		}
	}
	if t.PAR == "" {
		skip(epPAR, t.skipped[epPAR])
	} else {
		repeat(epPAR, post(t.PAR, func(int) []byte { return []byte(t.parForm().Encode()) }), http.StatusCreated)
	}

	var mu sync.Mutex
	var refresh, access []string
	collect := func(b []byte) {
		var tr tokenResponse
		if json.Unmarshal(b, &tr) == nil {
			// The first 256 access tokens form UserInfo's pool; their
			// refresh tokens are left alone, since a refresh may revoke
			// the access tokens issued before it (the zitadel example does).
			mu.Lock()
			switch {
			case tr.AccessToken != "" && len(access) < 256:
				access = append(access, tr.AccessToken)
			case tr.RefreshToken != "":
				refresh = append(refresh, tr.RefreshToken)
			}
			mu.Unlock()
		}
	}
	fromList := func(tt *target, list []string, form func(string) url.Values) requestSource {
		hdr := tt.basicAuth()
		hdr.Set("Content-Type", "application/x-www-form-urlencoded")
		var i atomic.Int64
		return func(tgt *vegeta.Target) bool {
			n := int(i.Add(1) - 1)
			if n >= len(list) {
				return false
			}
			tgt.Method, tgt.URL, tgt.Header, tgt.Body = http.MethodPost, tt.Token, hdr, []byte(form(list[n]).Encode())
			return true
		}
	}
	// Token, authorization_code: codes are one-time, so mint them first
	// (outside the timed window), then fire them.
	redeemCodes := func(tt *target, ep string, collect func([]byte)) error {
		total := s.WarmCodes + s.Codes
		logf("  minting %d codes ...", total)
		codes := make([]string, total)
		mst, mw := loop(ctx, s.Concurrency, 10*time.Minute, total, func(i int) error {
			c, err := tt.mint(ctx, hc)
			codes[i] = c
			return err
		})
		if mst.errs > 0 {
			return fmt.Errorf("minting codes: %d failed: %s", mst.errs, mst.firstErr)
		}
		logf("  minted %d codes in %.1fs", total, mw.Seconds())
		attack(s, ep+" warm-up", 0, 0, fromList(tt, codes[:s.WarmCodes], tt.codeForm), http.StatusOK, collect)
		wait := profile(s, t.Name, ep, 1)
		m := startMeter(t.PID)
		st, w := attack(s, ep, s.Duration, 0, fromList(tt, codes[s.WarmCodes:], tt.codeForm), http.StatusOK, collect)
		add(m.fill(st.row(t.Name, ep, w, t.PID)))
		wait()
		return nil
	}
	if err := redeemCodes(t, epTokenCode, collect); err != nil {
		return rows, err
	}

	// Token, refresh_token: the refresh tokens the code grants just issued
	// (one-time each: rotation).
	if len(refresh) <= s.WarmCodes {
		skip(epTokenRT, fmt.Sprintf("only %d refresh tokens were issued", len(refresh)))
	} else {
		attack(s, "refresh warm-up", 0, 0, fromList(t, refresh[:s.WarmCodes], refreshForm), http.StatusOK, nil)
		wait := profile(s, t.Name, epTokenRT, 1)
		m := startMeter(t.PID)
		st, w := attack(s, epTokenRT, s.Duration, 0, fromList(t, refresh[s.WarmCodes:], refreshForm), http.StatusOK, nil)
		add(m.fill(st.row(t.Name, epTokenRT, w, t.PID)))
		wait()
	}

	// The code grant of the JWT client, after the refresh grants, which
	// thus run right after the code grants that issued their tokens, as
	// before this row existed.
	if t.jwtTokens == nil {
		skip(epTokenJWT, t.skipped[epTokenJWT])
	} else if err := redeemCodes(t.jwtTokens, epTokenJWT, nil); err != nil {
		return rows, fmt.Errorf("JWT access tokens: %w", err)
	}

	// UserInfo: access tokens are reusable; cycle through a pool.
	if len(access) == 0 {
		return rows, errors.New("no access tokens were issued")
	}
	cycle := func(access []string) func() requestSource {
		return func() requestSource {
			var i atomic.Int64
			hdrs := make([]http.Header, len(access))
			for k, at := range access {
				hdrs[k] = bearer(at)
			}
			return func(tgt *vegeta.Target) bool {
				tgt.Method, tgt.URL, tgt.Header = http.MethodGet, t.UserInfo, hdrs[int(i.Add(1)-1)%len(hdrs)]
				return true
			}
		}
	}
	repeat(epUserInfo, cycle(access), http.StatusOK)
	if std := t.standard; std != nil {
		pool, err := std.accessTokens(ctx, hc, s.Concurrency, 256)
		if err != nil {
			return rows, fmt.Errorf("tokens for standard claims: %w", err)
		}
		repeat(epUserInfoStd, cycle(pool), http.StatusOK)
	}

	// Introspection: the client asks about its own access tokens.
	if t.Introspect == "" || t.skipped[epIntrospect] != "" {
		skip(epIntrospect, cmp.Or(t.skipped[epIntrospect], "no introspection_endpoint in discovery"))
	} else {
		repeat(epIntrospect, func() requestSource {
			var i atomic.Int64
			return func(tgt *vegeta.Target) bool {
				at := access[int(i.Add(1)-1)%len(access)]
				tgt.Method, tgt.URL, tgt.Header, tgt.Body = http.MethodPost, t.Introspect, formHdr, []byte(url.Values{"token": {at}}.Encode())
				return true
			}
		}, http.StatusOK)
	}

	// The complete flow with a signed-in, consented user.
	if !t.flow {
		skip(epFlow, t.skipped[epFlow])
	} else {
		flow := func(int) error { return t.completeFlow(ctx, hc) }
		loop(ctx, s.Concurrency, s.Warmup, 0, flow)
		wait := profile(s, t.Name, epFlow, secs)
		m := startMeter(t.PID)
		st, w := loop(ctx, s.Concurrency, s.Duration, s.MaxRequests, flow)
		r := m.fill(st.row(t.Name, epFlow, w, t.PID))
		r.Note = "flows/s; one flow = PAR + authorize + token + UserInfo"
		add(r)
		wait()
	}
	return rows, nil
}

func errSuffix(s string) string {
	if s == "" {
		return ""
	}
	return "  first error: " + s
}

// maxBody: bodies are kept only when a run reads them (token responses);
// otherwise vegeta discards them without buffering, for every server alike.
func maxBody(onBody func([]byte)) int64 {
	if onBody != nil {
		return -1
	}
	return 0
}

// cpuTime reads a process's user+system CPU time from /proc (all threads).
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	// Fields after the command name, which is in parentheses.
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / clockTicks
}

// clockTicks is USER_HZ, 100 on Linux.
const clockTicks = 100

// meter reads the CPU time of the server and of this process (the load
// generator) over a window.
type meter struct {
	pid            int
	server, client time.Duration
}

func startMeter(pid int) meter {
	return meter{pid: pid, server: cpuTime(pid), client: cpuTime(os.Getpid())}
}

// fill sets the window's CPU figures of r.
func (m meter) fill(r row) row {
	r.CPU = cpuTime(m.pid) - m.server
	r.ClientCPU = cpuTime(os.Getpid()) - m.client
	if ok := r.Requests - r.Errors; ok > 0 {
		r.CPUPerReq = r.CPU / time.Duration(ok)
	}
	return r
}
