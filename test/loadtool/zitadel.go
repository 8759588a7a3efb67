package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"time"
)

// The zitadel example's defaults (example/server/main.go and storage):
// port 9998, issuer http://localhost:9998/, client "web" with secret
// "secret" (client_secret_basic, authorization_code and refresh_token,
// redirect URIs from REDIRECT_URI), user "test-user2" / "verysecure",
// RS256 signing key generated at start, login form at /login/username.
const (
	zitadelPort     = "9998"
	zitadelUser     = "test-user2"
	zitadelPassword = "verysecure"
)

// zitadelInner runs inside the network namespace made by runZitadel: it
// refuses to run where any interface but lo exists, starts the example
// server and drives it.
func zitadelInner(ctx context.Context, s settings, bin string) ([]row, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	for _, i := range ifs {
		if i.Name != "lo" {
			return nil, fmt.Errorf("%w (found interface %s)", errNoNamespace, i.Name)
		}
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "PORT="+zitadelPort, "REDIRECT_URI="+redirectURI)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard // it logs every request at debug level
	if err := startPinned(cmd); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	defer p.stop()
	base := "http://127.0.0.1:" + zitadelPort
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(base + "/.well-known/openid-configuration")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the zitadel example did not serve within 20s: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	verifier, challenge := pkcePair()
	t := &target{
		Name: "zitadel example", Base: base, DiscoveryURL: base + "/.well-known/openid-configuration",
		ClientID: "web", Secret: "secret", RedirectURI: redirectURI,
		Scope:    "openid profile email offline_access",
		Verifier: verifier, Challenge: challenge, PID: cmd.Process.Pid,
		skipped: map[string]string{
			epPAR:        "no PAR endpoint (zitadel/oidc v3 has no RFC 9126 support)",
			epIntrospect: "the example's introspection answers its own API (resource server) clients only, not the relying party",
			epTokenJWT:   "the example's JWT access tokens are not set up here",
			epFlow:       "no browser session in the example: every authorization request goes through its login form, so PAR + authorize with an existing session cannot be done",
		},
	}
	t.mint = t.mintZitadel
	return prepareAndRun(ctx, t, s, "", "", nil)
}

// mintZitadel: authorize (redirect to the login form), post the login
// form, follow the callback to the redirect with the code.
func (t *target) mintZitadel(ctx context.Context, hc *http.Client) (string, error) {
	_, resp, err := t.do(ctx, hc, http.MethodGet, t.Authz+"?"+t.authParams().Encode(), nil, nil, http.StatusFound, http.StatusSeeOther)
	if err != nil {
		return "", err
	}
	loc, err := t.local(resp)
	if err != nil {
		return "", err
	}
	id := loc.Query().Get("authRequestID")
	if id == "" {
		return "", fmt.Errorf("no authRequestID in %s", loc)
	}
	form := url.Values{"id": {id}, "username": {zitadelUser}, "password": {zitadelPassword}}
	_, resp, err = t.do(ctx, hc, http.MethodPost, t.Base+"/login/username", form, nil, http.StatusFound, http.StatusSeeOther)
	if err != nil {
		return "", err
	}
	if loc, err = t.local(resp); err != nil {
		return "", err
	}
	b, resp, err := t.do(ctx, hc, http.MethodGet, loc.String(), nil, nil, http.StatusFound, http.StatusSeeOther)
	if err != nil {
		return "", err
	}
	return t.codeFrom(resp.Header.Get("Location"), b)
}

// local resolves a redirect within the provider onto its loopback address.
func (t *target) local(resp *http.Response) (*url.URL, error) {
	loc, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
	if err != nil {
		return nil, err
	}
	base, _ := url.Parse(t.Base)
	loc.Scheme, loc.Host = base.Scheme, base.Host
	return loc, nil
}
