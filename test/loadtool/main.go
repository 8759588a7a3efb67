// Command loadtool measures the provider runtime (`ida-operator runtime`,
// internal/runtimecmd) under load on this machine, and two peers on the
// endpoints they share: panva's oidc-provider (npm) and the zitadel/oidc v3
// example server. It reports requests per second, p50/p99 latency and the
// server process's resident memory per endpoint.
//
//	go run ./test/loadtool -all
//
// Every server runs as its own process; the load comes from this one. All
// traffic goes to loopback: ida-operator and oidc-provider listen on
// 127.0.0.1, and the zitadel example (it binds every interface) runs with
// this tool's load inside a network namespace of their own (unshare -n, lo
// up). Runs are bounded in time and count. See docs/BENCHMARKS.md.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

const (
	// redirectURI is the load client's redirect URI: a loopback port
	// nothing listens on. The tool never follows redirects to it; it only
	// reads the code from the Location header.
	redirectURI = "http://127.0.0.1:9/cb"
	// zitadelVersion is the example server installed into bin/.
	zitadelModule = "github.com/zitadel/oidc/v3/example/server@v3.51.17"
)

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
}

func main() {
	var (
		all         = flag.Bool("all", false, "drive ida-operator, oidc-provider and the zitadel example (same as -servers ours,oidc-provider,zitadel)")
		servers     = flag.String("servers", "ours,oidc-provider,zitadel", "comma-separated servers to drive")
		conc        = flag.Int("c", 16, "concurrent connections (workers), the same for every server")
		dur         = flag.Duration("d", 5*time.Second, "timed window per endpoint (upper bound)")
		warm        = flag.Duration("warmup", time.Second, "warm-up per repeatable endpoint")
		maxReq      = flag.Int("max", 200000, "upper bound of requests per timed window")
		codes       = flag.Int("codes", 8000, "authorization codes pre-minted for the timed token window (refresh tokens come from their redemption)")
		warmCodes   = flag.Int("warm-codes", 500, "codes (and refresh tokens) used to warm up the token endpoint")
		profileDir  = flag.String("profile", "", "write CPU profiles of ida-operator, one per endpoint, to this directory")
		jsonOut     = flag.String("json", "", "also write the rows as JSON to this file")
		root        = flag.String("root", "", "project root (default: the directory with go.mod above the working directory)")
		serveOursF  = flag.Bool("serve-ours", false, "internal: run ida-operator's runtime as the helper process")
		zitadelIn   = flag.Bool("zitadel-inner", false, "internal: inside the network namespace, run the zitadel example and drive it")
		secretF     = flag.String("secret", "", "internal: the load client's secret")
		passwordF   = flag.String("password", "", "internal: the demo user's password")
		zitadelBinF = flag.String("zitadel-bin", "", "internal: the zitadel example binary")
		engineF     = flag.String("engine", engineConn, "load engine: conn (one raw HTTP/1.1 keep-alive connection per worker) or vegeta (vegeta/v12's attacker)")
		pinF        = flag.Bool("pin", true, "run the load generator on CPU 0 and every server on CPU 1 (needs 2 or more CPUs)")
		storeF      = flag.String("store", "memory", "session store of ida-operator and oidc-provider: memory, redis (a redis-server of their own, started here on the servers' CPU) or sentinel (a master, two replicas and three sentinels of their own; ida-operator waits for one replica per write)")
		redisF      = flag.String("redis", "", "internal: the Redis address of -serve-ours")
	)
	flag.Parse()
	if *serveOursF {
		if err := serveOurs(*secretF, *passwordF, *redisF, redirectURI); err != nil {
			logf("serve-ours: %v", err)
			os.Exit(1)
		}
		return
	}
	switch *storeF {
	case "memory", "redis", "sentinel":
		storeKind = *storeF
	default:
		logf("unknown -store %q (memory, redis or sentinel)", *storeF)
		os.Exit(2)
	}
	switch *engineF {
	case engineConn, engineVegeta:
		engine = *engineF
	default:
		logf("unknown -engine %q (conn or vegeta)", *engineF)
		os.Exit(2)
	}
	// The inner zitadel run follows the outer one's decision: it starts
	// on loadCPU alone, so its own CPU count is 1.
	if placement = *pinF && (*zitadelIn || runtime.NumCPU() >= 2); placement {
		if err := pinSelf(loadCPU); err != nil {
			logf("%v", err)
			os.Exit(2)
		}
	}
	s := settings{Concurrency: *conc, Duration: *dur, Warmup: *warm, MaxRequests: *maxReq, Codes: *codes, WarmCodes: *warmCodes, ProfileDir: *profileDir}
	if *dur > time.Minute || *warm > time.Minute || *codes > 200000 {
		logf("refusing: keep -d and -warmup within a minute and -codes within 200000")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *zitadelIn {
		rows, err := zitadelInner(ctx, s, *zitadelBinF)
		if err != nil {
			logf("zitadel: %v", err)
		}
		json.NewEncoder(os.Stdout).Encode(rows)
		if err != nil {
			os.Exit(1)
		}
		return
	}
	if *all {
		*servers = "ours,oidc-provider,zitadel"
	}
	dir := *root
	if dir == "" {
		var err error
		if dir, err = projectRoot(); err != nil {
			logf("%v", err)
			os.Exit(2)
		}
	}
	if s.ProfileDir != "" {
		if err := os.MkdirAll(s.ProfileDir, 0o755); err != nil {
			logf("%v", err)
			os.Exit(2)
		}
	}
	// Overall bound: nothing here runs longer than this.
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()

	logf("loadtool: %s, %d CPUs, Go %s; engine %s, concurrency %d, window %s (max %d requests), warm-up %s, %d+%d codes; %s store; %s",
		cpuModel(), runtime.NumCPU(), runtime.Version(), engine, s.Concurrency, s.Duration, s.MaxRequests, s.Warmup, s.WarmCodes, s.Codes, storeKind, placementNote())
	var rows []row
	failed := false
	for _, name := range strings.Split(*servers, ",") {
		var r []row
		var err error
		switch strings.TrimSpace(name) {
		case "ours":
			r, err = runOurs(ctx, s)
		case "oidc-provider":
			r, err = runOIDCProvider(ctx, s, dir)
		case "zitadel":
			r, err = runZitadel(ctx, s, dir)
		default:
			err = fmt.Errorf("unknown server %q", name)
		}
		rows = append(rows, r...)
		if err != nil {
			logf("%s: %v", name, err)
			failed = true
		}
	}
	fmt.Print(markdown(rows, s))
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(rows, "", "  ")
		os.WriteFile(*jsonOut, b, 0o644)
	}
	if failed {
		os.Exit(1)
	}
}

func projectRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod above %s; pass -root", wd)
		}
	}
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
		}
	}
	return runtime.GOARCH
}

// process is a server process this tool started.
type process struct {
	cmd  *exec.Cmd
	done chan error
}

// start runs cmd and waits for its first stdout line that starts with
// prefix; it returns that line's fields.
func start(cmd *exec.Cmd, prefix string, timeout time.Duration) (*process, []string, error) {
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	if err := startPinned(cmd); err != nil {
		return nil, nil, err
	}
	p := &process{cmd: cmd, done: make(chan error, 1)}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sent := false
		for sc.Scan() {
			if !sent && strings.HasPrefix(sc.Text(), prefix) {
				lines <- sc.Text()
				sent = true
			}
		}
		io.Copy(io.Discard, out)
		p.done <- cmd.Wait()
	}()
	select {
	case l := <-lines:
		return p, strings.Fields(l), nil
	case err := <-p.done:
		return nil, nil, fmt.Errorf("%s exited before serving: %v", cmd.Path, err)
	case <-time.After(timeout):
		p.stop()
		return nil, nil, fmt.Errorf("%s did not serve within %s", cmd.Path, timeout)
	}
}

// stop ends the process it started (by its pid) and waits for it.
func (p *process) stop() {
	if p == nil || p.cmd.Process == nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

func runOurs(ctx context.Context, s settings) ([]row, error) {
	logf("\n== ida-operator runtime (ES256, %s store, builtin users, verified_claims) ==", storeKind)
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	redisAddr, stopRedis, err := startStore(ctx)
	if err != nil {
		return nil, err
	}
	defer stopRedis()
	secret, password := randomString()+randomString(), randomString()
	logFile, err := os.CreateTemp("", "loadtool-ours-*.log")
	if err != nil {
		return nil, err
	}
	defer os.Remove(logFile.Name())
	defer logFile.Close()
	cmd := exec.Command(self, "-serve-ours", "-secret", secret, "-password", password, "-redis", redisAddr.flag())
	// The runtime's JSON log goes through a pipe that this process drains
	// into a file, as a container runtime collects a container's stderr
	// (a FIFO read by its shim), not straight into a file: hiding the
	// *os.File makes os/exec make the pipe and copy from it.
	cmd.Stderr = struct{ io.Writer }{logFile}
	p, f, err := start(cmd, "LISTEN", 30*time.Second)
	if err != nil {
		return nil, err
	}
	defer p.stop()
	verifier, challenge := pkcePair()
	t := &target{
		Name: "ida-operator", Base: f[1], DiscoveryURL: f[1] + "/.well-known/openid-configuration",
		ClientID: oursClientID, Secret: secret, RedirectURI: redirectURI,
		Scope:    "openid profile email offline_access",
		Extra:    map[string][]string{"claims": {oursClaims}, "purpose": {loadPurpose}},
		Verifier: verifier, Challenge: challenge, PID: cmd.Process.Pid, flow: true,
	}
	t.mint = t.mintWithSession
	std := *t
	std.Extra, std.Scope = nil, "openid profile email"
	std.mint = std.mintWithSession
	t.standard = &std
	jwt := *t
	jwt.ClientID = oursJWTClientID
	jwt.mint = jwt.mintWithSession
	t.jwtTokens = &jwt
	s.PprofURL = f[3]
	return prepareAndRun(ctx, t, s, demoUsername, password, checkVerifiedClaims)
}

// prepareAndRun reads discovery, signs in once (session and consent for
// the load's exact request), checks one complete flow and runs the suite.
func prepareAndRun(ctx context.Context, t *target, s settings, user, password string, check func([]byte) error) ([]row, error) {
	hc := newHTTPClient(2)
	if err := t.discover(ctx, hc); err != nil {
		return nil, err
	}
	if t.flow {
		if err := t.signIn(ctx, user, password); err != nil {
			return nil, fmt.Errorf("signing in: %w", err)
		}
		for _, other := range []*target{t.standard, t.jwtTokens} {
			if other == nil {
				continue
			}
			other.discover(ctx, hc)
			if err := other.signIn(ctx, user, password); err != nil {
				return nil, fmt.Errorf("signing in as %s: %w", other.ClientID, err)
			}
		}
	}
	code, err := t.mint(ctx, hc)
	if err != nil {
		return nil, fmt.Errorf("first code: %w", err)
	}
	tr, err := t.redeem(ctx, hc, code)
	if err != nil {
		return nil, fmt.Errorf("first token: %w", err)
	}
	ui, err := t.userinfo(ctx, hc, tr.AccessToken)
	if err != nil {
		return nil, fmt.Errorf("first UserInfo: %w", err)
	}
	logf("  check: ID token alg %s, refresh token %v, UserInfo %d bytes", jwtAlg(tr.IDToken), tr.RefreshToken != "", len(ui))
	if t.Introspect != "" && t.skipped[epIntrospect] == "" {
		if err := t.introspect(ctx, hc, tr.AccessToken); err != nil {
			return nil, err
		}
	}
	if jt := t.jwtTokens; jt != nil {
		tr, err := jt.tokens(ctx, hc)
		if err != nil {
			return nil, fmt.Errorf("first JWT access token: %w", err)
		}
		if alg := jwtAlg(tr.AccessToken); alg == "?" || tr.IDToken == "" {
			return nil, fmt.Errorf("the token response of %s lacks a JWT access token or an ID token: %.40s", jt.ClientID, tr.AccessToken)
		}
		logf("  check: %s gets a %s JWT access token and an ID token", jt.ClientID, jwtAlg(tr.AccessToken))
	}
	if check != nil {
		if err := check(ui); err != nil {
			return nil, err
		}
	}
	return suite(ctx, t, s)
}

func checkVerifiedClaims(ui []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(ui, &m); err != nil || m["verified_claims"] == nil {
		return fmt.Errorf("UserInfo has no verified_claims: %.300s", ui)
	}
	return nil
}

func jwtAlg(jwt string) string {
	h, _, _ := strings.Cut(jwt, ".")
	b, err := decodeSegment(h)
	if err != nil {
		return "?"
	}
	var v struct {
		Alg string `json:"alg"`
	}
	json.Unmarshal(b, &v)
	return v.Alg
}

func runOIDCProvider(ctx context.Context, s settings, root string) ([]row, error) {
	logf("\n== oidc-provider (npm, Node %s, %s store) ==", nodeVersion(), storeKind)
	dir := filepath.Join(root, "test", "loadtool", "peers", "oidc-provider")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "oidc-provider", "package.json")); err != nil {
		logf("  npm ci in %s", dir)
		cctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(cctx, "npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir, cmd.Stdout, cmd.Stderr = dir, os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("npm ci: %w", err)
		}
	}
	secret := randomString() + randomString()
	redisAddr, stopRedis, err := startStore(ctx)
	if err != nil {
		return nil, err
	}
	defer stopRedis()
	args := []string{"server.mjs", "--port", "0", "--redirect-uri", redirectURI, "--secret", secret}
	switch {
	case redisAddr.Addr != "":
		args = append(args, "--redis", "redis://"+redisAddr.Addr)
	case redisAddr.Master != "":
		args = append(args, "--sentinels", strings.Join(redisAddr.Sentinels, ","), "--master-name", redisAddr.Master)
	}
	cmd := exec.Command("node", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NODE_ENV=production")
	errLog, err := os.CreateTemp("", "loadtool-oidc-provider-*.log")
	if err != nil {
		return nil, err
	}
	defer os.Remove(errLog.Name())
	defer errLog.Close()
	cmd.Stderr = errLog
	p, f, err := start(cmd, "LISTEN", 30*time.Second)
	if err != nil {
		b, _ := os.ReadFile(errLog.Name())
		return nil, fmt.Errorf("%w\n%s", err, b)
	}
	defer p.stop()
	verifier, challenge := pkcePair()
	t := &target{
		Name: "oidc-provider", Base: f[1], DiscoveryURL: f[1] + "/.well-known/openid-configuration",
		ClientID: "rp-load", Secret: secret, RedirectURI: redirectURI,
		Scope:    "openid profile email address offline_access",
		Verifier: verifier, Challenge: challenge, PID: cmd.Process.Pid, flow: true,
	}
	t.mint = t.mintWithSession
	jwt := *t
	jwt.ClientID = "rp-load-jwt"
	jwt.mint = jwt.mintWithSession
	t.jwtTokens = &jwt
	rows, err := prepareAndRun(ctx, t, s, "248289761001", "any", nil)
	if err != nil {
		if b, _ := os.ReadFile(errLog.Name()); len(b) > 0 {
			err = fmt.Errorf("%w\noidc-provider's log:\n%.2000s", err, b)
		}
	}
	return rows, err
}

func nodeVersion() string {
	b, err := exec.Command("node", "--version").Output()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(b))
}

// runZitadel runs this tool again inside a new network namespace (lo up)
// where it starts the zitadel example and drives it; rows come back as
// JSON on stdout.
func runZitadel(ctx context.Context, s settings, root string) ([]row, error) {
	logf("\n== zitadel/oidc v3 example server (in its own network namespace) ==")
	bin := filepath.Join(root, "bin", "server")
	if _, err := os.Stat(bin); err != nil {
		logf("  go install %s into %s", zitadelModule, filepath.Dir(bin))
		cctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(cctx, "go", "install", zitadelModule)
		cmd.Env = append(os.Environ(), "GOBIN="+filepath.Dir(bin))
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("go install: %w", err)
		}
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	args := []string{"-n", "sh", "-c", `ip link set lo up && exec "$0" "$@"`, self, "-zitadel-inner", "-zitadel-bin", bin,
		"-c", fmt.Sprint(s.Concurrency), "-d", s.Duration.String(), "-warmup", s.Warmup.String(),
		"-max", fmt.Sprint(s.MaxRequests), "-codes", fmt.Sprint(s.Codes), "-warm-codes", fmt.Sprint(s.WarmCodes),
		"-engine", engine, "-pin=" + fmt.Sprint(placement)}
	cmd := exec.CommandContext(ctx, "unshare", args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	var rows []row
	if jerr := json.Unmarshal(out, &rows); jerr != nil && err == nil {
		err = jerr
	}
	return rows, err
}

var errNoNamespace = errors.New("refusing to run the zitadel example outside a network namespace of its own")
