package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/idaop/ida-operator/internal/runtimecmd"
	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/test/internal/fixture"
)

// The load client registered with ida-operator: client_secret_basic,
// authorization_code and refresh_token, ID tokens in the provider's
// default algorithm (ES256, listed first).
const (
	oursClientID = "rp-load"
	// oursJWTClientID is the same client with JWT access tokens.
	oursJWTClientID = "rp-load-jwt"
	demoUsername    = "demo"
	loadPurpose     = "To deliver your order to your verified address"
	claimsPurpose   = "To send your order to where you live"
)

// oursClaims asks for verified claims in the ID token (uk_tfida) and in
// UserInfo (jp_aml), as the project's go-oidc test does.
const oursClaims = `{"id_token":{"verified_claims":{"verification":{"trust_framework":{"value":"uk_tfida"},"assurance_level":null,"time":null},"claims":{"given_name":{"purpose":"To print your name on the parcel"},"family_name":null,"birthdate":null}}},` +
	`"userinfo":{"verified_claims":{"verification":{"trust_framework":{"value":"jp_aml"}},"claims":{"address":{"purpose":"` + claimsPurpose + `"},"family_name#ja-Kana-JP":null}}}}`

// serveOurs is the helper process (-serve-ours): it writes a --config-dir
// for an issuer on a fresh loopback port, serves runtimecmd.Serve there
// (the same code as `ida-operator runtime`, logging JSON at Info to
// stderr), serves net/http/pprof on a second loopback port, prints
// "LISTEN <issuer> PPROF <url>" and runs until SIGTERM.
func serveOurs(secret, password, redisAddr, redirectURI string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	issuer := "http://" + ln.Addr().String()
	dir, err := os.MkdirTemp("", "ida-loadtool-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := writeOursConfig(dir, issuer, secret, password, redisAddr, redirectURI); err != nil {
		return err
	}

	pln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	psrv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go psrv.Serve(pln)
	defer psrv.Close()

	// The loggers of `ida-operator runtime`.
	log, audit := runtimecmd.JSONLogs(os.Stderr)
	done := make(chan error, 1)
	go func() {
		done <- runtimecmd.Serve(ctx, runtimecmd.Options{ConfigDir: dir, StartTimeout: 20 * time.Second, ShutdownGrace: 2 * time.Second, Audit: audit}, ln, log)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(issuer + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-done:
			return fmt.Errorf("runtime stopped before it was ready: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return errors.New("runtime not ready within 20s")
		}
	}
	fmt.Printf("LISTEN %s PPROF http://%s\n", issuer, pln.Addr())
	return <-done
}

// writeOursConfig writes the --config-dir: ES256 (the default) and PS256
// keys, one-hour access tokens and ten-minute codes, the demo users with
// password, the load clients, and Redis as the store when redisAddr is set.
func writeOursConfig(dir, issuer, secret, password, redisAddr, redirectURI string) error {
	p := fixture.Provider(issuer, []string{config.ES256, config.PS256}, time.Hour, 10*time.Minute)
	switch sa := parseStoreFlag(redisAddr); {
	case sa.Addr != "":
		p.SessionStore = config.SessionStore{Type: config.SessionStoreRedis, Redis: &config.RedisStore{Address: sa.Addr}}
	case sa.Master != "":
		p.SessionStore = config.SessionStore{Type: config.SessionStoreRedis, Redis: &config.RedisStore{
			Sentinel: &config.RedisSentinel{MasterName: sa.Master, Addresses: sa.Sentinels}, ReplicaAcks: 1}}
	}
	// One client makes all the load, hundreds of thousands of pushes.
	p.Security.PushedRequestsPerClient = 10_000_000
	c := fixture.Client(oursClientID, "Load test RP", "bench", redirectURI, secret, "openid", "profile", "email", "offline_access")
	jwt := fixture.Client(oursJWTClientID, "Load test RP (JWT access tokens)", "bench", redirectURI, secret, "openid", "profile", "email", "offline_access")
	jwt.AccessTokenFormat = config.AccessTokenJWT
	return fixture.WriteConfigDir(dir, p, password, c, jwt)
}
