package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/idaop/ida-operator/controllers/signingkeys"
	"github.com/idaop/ida-operator/internal/runtimecmd"
	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/ida"
	"github.com/idaop/ida-operator/runtime/source"
	"github.com/idaop/ida-operator/runtime/users"
)

// The load client registered with ida-operator: client_secret_basic,
// authorization_code and refresh_token, ID tokens in the provider's
// default algorithm (ES256, listed first).
const (
	oursClientID  = "rp-load"
	demoUsername  = "demo"
	loadPurpose   = "To deliver your order to your verified address"
	claimsPurpose = "To send your order to where you live"
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
func serveOurs(secret, password, redirectURI string) error {
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
	if err := writeOursConfig(dir, issuer, secret, password, redirectURI); err != nil {
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

	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	done := make(chan error, 1)
	go func() {
		done <- runtimecmd.Serve(ctx, runtimecmd.Options{ConfigDir: dir, StartTimeout: 20 * time.Second, ShutdownGrace: 2 * time.Second}, ln, log)
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

func writeOursConfig(dir, issuer, secret, password, redirectURI string) error {
	write := func(name string, v any) error {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, name), b, 0o600)
	}
	d := func(x time.Duration) config.Duration { return config.Duration{Duration: x} }
	p := &config.Provider{
		Issuer:            issuer,
		SigningAlgorithms: []string{config.ES256, config.PS256},
		Tokens: config.Lifetimes{
			IDToken: d(5 * time.Minute), AccessToken: d(time.Hour),
			RefreshToken: d(24 * time.Hour), AuthorizationCode: d(10 * time.Minute),
		},
		Security:     config.Security{Profile: config.ProfileDefault},
		Users:        config.UserSource{Type: config.UsersBuiltin, Builtin: &config.BuiltinUsers{SecretName: "demo-users"}},
		SessionStore: config.SessionStore{Type: config.SessionStoreMemory},
		IDA:          ida.Policy{TrustFrameworks: trustFrameworks(), Profiles: []string{ida.ProfileJPBasic}},
	}
	if err := write(config.ProviderConfigKey, p); err != nil {
		return err
	}
	now := time.Now().Add(-time.Minute)
	var ks config.KeySet
	for _, alg := range []string{config.ES256, config.PS256} {
		k, err := signingkeys.Generate(alg, now)
		if err != nil {
			return err
		}
		ks.Keys = append(ks.Keys, k)
	}
	if err := write(config.KeySetKey, ks); err != nil {
		return err
	}
	doc, err := users.DemoUsers(password)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, source.UsersKey), doc, 0o600); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, config.ClientsDir), 0o700); err != nil {
		return err
	}
	c := &config.Client{
		ClientID: oursClientID, ClientName: "Load test RP", Namespace: "bench", Name: oursClientID,
		RedirectURIs:            []string{redirectURI},
		GrantTypes:              []string{"authorization_code", "refresh_token"},
		ResponseTypes:           []string{"code"},
		Scopes:                  []string{"openid", "profile", "email", "offline_access"},
		TokenEndpointAuthMethod: config.AuthClientSecretBasic,
		SecretHash:              config.HashClientSecret(secret),
		TrustFrameworks:         []string{"jp_oidf_ida", "jp_aml", "uk_tfida"},
		VerifiedClaims:          []string{"name", "given_name", "family_name", "given_name#ja-Kana-JP", "family_name#ja-Kana-JP", "birthdate", "address", "msisdn"},
	}
	if err := write(filepath.Join(config.ClientsDir, c.ClientID+".json"), c); err != nil {
		return err
	}
	_, err = config.LoadDir(dir)
	return err
}

// trustFrameworks are config/trustframeworks/{jp-oidf-ida,jp-aml,uk-tfida}.yaml
// as the operator renders them.
func trustFrameworks() []ida.TrustFramework {
	return []ida.TrustFramework{
		{
			Identifier:            "jp_oidf_ida",
			EvidenceTypes:         []string{"document", "electronic_record", "electronic_signature"},
			DocumentTypes:         []string{"jp_drivers_license", "jp_residency_card_for_foreigner", "jp_individual_number_card", "jp_permanent_residency_card_for_foreigner", "jp_health_insurance_card", "jp_residency_card", "passport"},
			CheckMethods:          []string{"vpip", "vcrypt", "pvr", "data"},
			ElectronicRecordTypes: []string{"mno"},
			Claims:                []string{"name", "birthdate", "address", "msisdn"},
		},
		{
			Identifier:       "jp_aml",
			EvidenceTypes:    []string{"document", "electronic_signature"},
			DocumentTypes:    []string{"jp_drivers_license", "jp_individual_number_card", "jp_residency_card", "jp_residency_card_for_foreigner", "jp_permanent_residency_card_for_foreigner", "jp_health_insurance_card", "passport"},
			CheckMethods:     []string{"vpip", "vcrypt", "pvr", "vri"},
			Claims:           []string{"name", "family_name", "given_name", "family_name#ja-Kana-JP", "given_name#ja-Kana-JP", "birthdate", "address", "gender"},
			RequiredElements: []string{"time", "evidence"},
		},
		{
			Identifier:            "uk_tfida",
			AssuranceLevels:       []string{"low", "medium", "high", "very_high"},
			EvidenceTypes:         []string{"document", "electronic_record", "vouch"},
			DocumentTypes:         []string{"passport", "driving_permit", "idcard", "residence_permit"},
			CheckMethods:          []string{"vpip", "vpiruv", "vri", "vdig", "vcrypt", "pvp", "pvr", "bvr", "kbv", "data", "auth", "token"},
			ElectronicRecordTypes: []string{"bank_account", "mortgage_account", "mno", "population_register"},
			Claims:                []string{"given_name", "family_name", "middle_name", "birthdate", "address", "place_of_birth", "nationalities", "title"},
			RequiredElements:      []string{"evidence"},
		},
	}
}
