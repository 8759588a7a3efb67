package demo

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
	"github.com/idaop/ida-operator/controllers/identityprovider"
	"github.com/idaop/ida-operator/controllers/relyingparty"
	"github.com/idaop/ida-operator/internal/controlplane"
	"github.com/idaop/ida-operator/internal/localnode"
	"github.com/idaop/ida-operator/runtime/users"
)

// callbackAddr serves the demo relying party's redirect URI,
// http://127.0.0.1:3000/callback (config/samples, team-a/webapp).
const callbackAddr = "127.0.0.1:3000"

// createDemoUsers writes the builtin users Secret the sample provider names,
// with a fresh password for the demo user.
func createDemoUsers(ctx context.Context, c client.Client) (string, error) {
	password := randomString(12)
	data, err := users.DemoUsers(password)
	if err != nil {
		return "", err
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "idp-demo", Name: "demo-users"},
		Data:       map[string][]byte{"users.json": data},
	}
	if err := c.Create(ctx, secret); err != nil {
		return "", fmt.Errorf("creating the demo users Secret: %w", err)
	}
	return password, nil
}

type runtimes struct{ list []*localnode.Runtime }

func (r *runtimes) stop() error {
	var errs []error
	for _, rt := range r.list {
		errs = append(errs, rt.Stop())
	}
	return errors.Join(errs...)
}

// startRuntimes runs every provider's runtime locally on its issuer's
// loopback address.
func startRuntimes(ctx context.Context, cp *controlplane.ControlPlane, c client.Client, stateDir string, logs io.Writer) (*runtimes, error) {
	var idps idav1alpha1.IdentityProviderList
	if err := c.List(ctx, &idps); err != nil {
		return nil, err
	}
	rts := &runtimes{}
	for i := range idps.Items {
		idp := &idps.Items[i]
		u, err := url.Parse(idp.Spec.Issuer)
		if err != nil {
			return rts, err
		}
		ln, err := net.Listen("tcp", u.Host)
		if err != nil {
			return rts, fmt.Errorf("the issuer %s needs %s free: %w", idp.Spec.Issuer, u.Host, err)
		}
		log := slog.New(slog.NewJSONHandler(logs, nil)).With("runtime", idp.Namespace+"/"+idp.Name)
		key := client.ObjectKey{Namespace: idp.Namespace, Name: identityprovider.RuntimeName(idp)}
		rt, err := localnode.Start(ctx, cp.Config, c, key, ln, filepath.Join(stateDir, "runtime"), log)
		if err != nil {
			ln.Close()
			return rts, err
		}
		rts.list = append(rts.list, rt)
	}
	return rts, nil
}

func waitForProvidersReady(ctx context.Context, c client.Client, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		var idps idav1alpha1.IdentityProviderList
		if err := c.List(ctx, &idps); err != nil {
			return err
		}
		ready := true
		for i := range idps.Items {
			ready = ready && meta.IsStatusConditionTrue(idps.Items[i].Status.Conditions, string(idav1alpha1.ConditionReady))
		}
		if ready {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("providers not Ready within %s; see bin/demo/operator.log", timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// authorityClaims asks, as a bank opening a business account would, which
// company the person represents as gBizID Prime (the authority claim of
// the Authority Claims Extension draft, docs/ida.md).
const authorityClaims = `{"userinfo":{"verified_claims":{"verification":{"trust_framework":{"value":"jp_gbizid_v1"}},` +
	`"claims":{"family_name":null,"given_name":null,"authority":{"applies_to":{"organization_name":null,"registration_number":null},` +
	`"permission":[{"role":{"value":"prime"}}]}}}}}`

// story is what a newcomer does next: sign in through a ready-made
// authorization URL and exchange the code.
type story struct {
	Issuer, ClientID, RedirectURI, Verifier, AuthorizeURL, EnvPath string
	// AuthorityURL signs in again asking for the company the demo user
	// acts for.
	AuthorityURL string
	// Env is what <stateDir>/env assigns for scripts.
	Env map[string]string
}

func prepareStory(ctx context.Context, c client.Client, stateDir string) (*story, error) {
	var rp idav1alpha1.RelyingParty
	if err := c.Get(ctx, client.ObjectKey{Namespace: "team-a", Name: "webapp"}, &rp); err != nil {
		return nil, err
	}
	var creds corev1.Secret
	if err := c.Get(ctx, client.ObjectKey{Namespace: rp.Namespace, Name: rp.CredentialsSecretName()}, &creds); err != nil {
		return nil, err
	}
	st := &story{
		Issuer:      string(creds.Data[relyingparty.KeyIssuer]),
		ClientID:    string(creds.Data[relyingparty.KeyClientID]),
		RedirectURI: "http://" + callbackAddr + "/callback",
		Verifier:    randomString(43),
		EnvPath:     filepath.Join(stateDir, "env"),
	}
	sum := sha256.Sum256([]byte(st.Verifier))
	q := url.Values{
		"response_type": {"code"}, "client_id": {st.ClientID}, "redirect_uri": {st.RedirectURI},
		"scope": {"openid profile jp_oidf_ida"}, "state": {randomString(16)}, "nonce": {randomString(16)},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
		"purpose": {"To open your account, we check who you are."},
	}
	st.AuthorizeURL = strings.TrimSuffix(st.Issuer, "/") + "/authorize?" + q.Encode()
	q.Set("scope", "openid")
	q.Set("claims", authorityClaims)
	q.Set("purpose", "To open a business account, we check which company you represent.")
	st.AuthorityURL = strings.TrimSuffix(st.Issuer, "/") + "/authorize?" + q.Encode()

	st.Env = map[string]string{
		"ISSUER":               st.Issuer,
		"DEMO_AUTHORIZE_URL":   st.AuthorizeURL,
		"DEMO_AUTHORITY_URL":   st.AuthorityURL,
		"DEMO_CODE_VERIFIER":   st.Verifier,
		"DEMO_REDIRECT_URI":    st.RedirectURI,
		"WEBAPP_CLIENT_ID":     st.ClientID,
		"WEBAPP_CLIENT_SECRET": string(creds.Data[relyingparty.KeyClientSecret]),
	}
	var rps idav1alpha1.RelyingPartyList
	if err := c.List(ctx, &rps); err != nil {
		return nil, err
	}
	for i := range rps.Items {
		r := &rps.Items[i]
		prefix := envName(r.Name)
		st.Env[prefix+"_NAMESPACE"] = r.Namespace
		st.Env[prefix+"_NAME"] = r.Name
		st.Env[prefix+"_CREDENTIALS_SECRET"] = r.CredentialsSecretName()
	}
	return st, nil
}

// writeEnv writes the shell assignments scripts source, in one go: a
// temporary file renamed over path, so a script waiting for the file never
// reads half of it.
func writeEnv(path string, vars map[string]string) (err error) {
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "=" + shellQuote(vars[k]) + "\n")
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".env-*") // 0600: it holds secrets
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(f.Name())
		}
	}()
	if _, err := f.WriteString(b.String()); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func envName(s string) string {
	return strings.ToUpper(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, s))
}

func curlCommand(st *story, code string) string {
	return fmt.Sprintf(`. %s
curl -s -u "$WEBAPP_CLIENT_ID:$WEBAPP_CLIENT_SECRET" \
  -d grant_type=authorization_code -d code=%s \
  -d redirect_uri="$DEMO_REDIRECT_URI" -d code_verifier="$DEMO_CODE_VERIFIER" \
  "$ISSUER/token"`, st.EnvPath, code)
}

var callbackPage = template.Must(template.New("cb").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ida-operator demo: callback</title></head>
<body><main>
<h1>The provider redirected back with {{if .Code}}a code{{else}}an error{{end}}</h1>
{{if .Code}}<p>Exchange it for tokens (the code is valid for a minute, once):</p>
<pre>{{.Curl}}</pre>
<p>Then read UserInfo with the access token:</p>
<pre>curl -s -H "Authorization: Bearer ACCESS_TOKEN" "$ISSUER/userinfo"</pre>
{{else}}<p>error: {{.Error}} {{.Description}}</p>{{end}}
<p>iss: {{.Iss}}</p>
</main></body></html>
`))

// serveCallback serves the demo relying party's redirect URI: a page that
// shows the code and the command that exchanges it.
func serveCallback(st *story) (func(), error) {
	ln, err := net.Listen("tcp", callbackAddr)
	if err != nil {
		return nil, fmt.Errorf("the demo relying party needs %s free: %w", callbackAddr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_ = callbackPage.Execute(w, map[string]string{
			"Code": q.Get("code"), "Curl": curlCommand(st, q.Get("code")), "Iss": q.Get("iss"),
			"Error": q.Get("error"), "Description": q.Get("error_description"),
		})
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return func() { _ = srv.Close() }, nil
}

func printStory(out io.Writer, st *story) {
	fmt.Fprintf(out, `
The provider is serving at %s (discovery: %s/.well-known/openid-configuration).

Sign in as the demo user (login and password in %s: DEMO_USERNAME, DEMO_PASSWORD)
by opening this URL in a browser:

  %s

After login and consent the browser lands on %s, which shows the code and
the command that exchanges it:

%s

UserInfo then holds verified_claims for the jp_oidf_ida scope. An API that
receives the access token asks the provider about it (introspection,
RFC 7662; a RelyingParty with spec.resourceServer: true may ask about
every client's tokens):

  curl -s -u "$WEBAPP_CLIENT_ID:$WEBAPP_CLIENT_SECRET" -d token=<ACCESS_TOKEN> "$ISSUER/introspect"

The demo user also represents a company, %s, as gBizID Prime. Sign in
with this URL (DEMO_AUTHORITY_URL) to be asked for that: the consent page
says "You act for %s", and UserInfo carries the authority claim (which
company, by name and registration number, and the role "prime"), nothing
else of it:

  %s

Add &acr_values=urn:idaop:demo:acr:mfa to the sign-in URL to ask for the
two-factor level: after the password the provider sets up an authenticator
app (a QR code) and then asks only for its code; the ID token says so in
acr and amr.

Open the sign-in URL again: no consent page this time, the consent is
remembered. %s/account/shared shows the demo user what the web app
received and when; withdrawing there revokes the app's tokens (UserInfo
answers 401, introspection "active": false), and the next sign-in asks
again.

Mistype the password three times and the account is locked for a moment,
right password included; each such failure is a security event in
bin/demo/operator.log ("event":"login_failed", "login_locked") and in the
runtime's ida_op_security_events_total metric.
`, st.Issuer, st.Issuer, st.EnvPath, st.AuthorizeURL, st.RedirectURI, curlCommand(st, "<CODE>"),
		users.DemoCompany, users.DemoCompany, st.AuthorityURL, strings.TrimSuffix(st.Issuer, "/"))
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)[:n]
}
