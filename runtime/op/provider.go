package op

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/grants"
	"github.com/idaop/ida-operator/runtime/hsm"
	"github.com/idaop/ida-operator/runtime/store"
	"github.com/idaop/ida-operator/runtime/ui"
	"github.com/idaop/ida-operator/runtime/users"
)

// Options are what a Provider needs besides its configuration.
type Options struct {
	// Store holds codes, sessions, tokens and replay caches. Required.
	Store store.Store
	// Users authenticates end-users and looks them up; SetUsers swaps it.
	Users users.Source
	// UI renders the login, consent and error pages. Required.
	UI *ui.Renderer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives operational logs and, under logger=audit, one event
	// per release of verified claims. Nil means slog.Default().
	Logger *slog.Logger
	// Audit, when set, receives the audit events instead of Logger, and
	// AuditSync, when set, is called after each one and returns once it
	// is written (logsink.Sink.Sync): a response that releases verified
	// claims is sent only after its event is out.
	Audit     *slog.Logger
	AuditSync func() error
	// Metrics, when set, receives the provider's Prometheus metrics.
	Metrics prometheus.Registerer
	// HTTPClient fetches the jwks_uri of private_key_jwt clients and of
	// external claim sources. Nil means a default client. Redirects are
	// never followed and a fetch never takes more than 3 seconds,
	// whatever the client says.
	HTTPClient *http.Client
	// OpenToken opens the PKCS#11 token the configuration names, when
	// it names one. Nil means hsm.Open.
	OpenToken func(hsm.Config) (hsm.KeyToken, error)
}

// Provider serves one OpenID Provider. It is safe for concurrent use;
// Apply and SetUsers swap its configuration while it serves.
type Provider struct {
	grants *grants.Store
	ui     *ui.Renderer
	now    func() time.Time
	log    *slog.Logger
	audit  *slog.Logger
	// auditSync writes the audit events logged so far; nil when audit
	// writes are synchronous already.
	auditSync func() error
	metrics   *metrics

	served atomic.Pointer[served]
	users  atomic.Pointer[usersHolder]

	// Caches of parsed immutable input; see cache.go.
	datasets cache[string, cachedDataset]
	claims   cache[claimsKey, *compiledClaims]
	// clientJWKS caches the key sets at clients' jwks_uri; it outlives
	// configuration changes. See jwksuri.go.
	clientJWKS *jwksURICache
	// backchannel sends logout tokens; see backchannel.go.
	backchannel *backchannel
	// sourceJWKS caches the key sets of external claim sources
	// (extclaims.go), with the same bounds.
	sourceJWKS *jwksURICache
	// keys reaches signing keys in a PKCS#11 token; see keystore.go.
	keys *keystore
}

type usersHolder struct{ src users.Source }

// New returns a Provider that answers 503 until the first Apply.
func New(opts Options) (*Provider, error) {
	if opts.Store == nil {
		return nil, errors.New("op: Options.Store is required")
	}
	if opts.UI == nil {
		return nil, errors.New("op: Options.UI is required")
	}
	p := &Provider{
		ui: opts.UI, now: opts.Now, log: opts.Logger,
		datasets: newCache[string, cachedDataset](datasetCacheSize),
		claims:   newCache[claimsKey, *compiledClaims](claimsCacheSize),
	}
	if p.now == nil {
		p.now = time.Now
	}
	p.grants = grants.New(opts.Store, p.now)
	if p.log == nil {
		p.log = slog.Default()
	}
	audit := p.log
	if opts.Audit != nil {
		audit, p.auditSync = opts.Audit, opts.AuditSync
	}
	p.audit = audit.With(slog.String("logger", "audit"))
	p.clientJWKS = newJWKSURICache(opts.HTTPClient, p.now, p.log)
	p.sourceJWKS = newJWKSURICache(opts.HTTPClient, p.now, p.log)
	m, err := newMetrics(opts.Metrics)
	if err != nil {
		return nil, err
	}
	p.metrics = m
	if p.backchannel, err = newBackchannel(opts.Metrics); err != nil {
		return nil, err
	}
	if p.keys, err = newKeystore(opts.OpenToken, p.log, opts.Metrics); err != nil {
		return nil, err
	}
	if opts.Users != nil {
		p.SetUsers(opts.Users)
	}
	return p, nil
}

// Apply validates a snapshot and, if it is good, makes it the one served:
// provider config, keys, clients, the IDA engines, discovery and JWKS. A
// bad snapshot is refused with an error and the previous one keeps serving.
func (p *Provider) Apply(s *config.Snapshot) error {
	now := p.now()
	sv, err := buildServed(s, p.ui, now)
	if err != nil {
		return err
	}
	sv.token, sv.keystore = p.keys.token(s.Provider.PKCS11), p.keys
	p.served.Store(sv)
	p.keys.warm(sv.token, s.Keys, now)
	return nil
}

// SetUsers swaps the user source.
func (p *Provider) SetUsers(u users.Source) {
	if u == nil {
		p.users.Store(nil)
		return
	}
	p.users.Store(&usersHolder{src: u})
}

func (p *Provider) userSource() users.Source {
	if h := p.users.Load(); h != nil {
		return h.src
	}
	return nil
}

// Ready reports whether a snapshot is applied and the store answers.
func (p *Provider) Ready() bool {
	if p.served.Load() == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return p.grants.Ping(ctx) == nil
}

// Handler serves every endpoint at its config.Path* below the issuer's
// path, plus the login and consent form targets and the UI stylesheet.
func (p *Provider) Handler() http.Handler { return http.HandlerFunc(p.serveHTTP) }

// endpoint names, used as metric labels.
const (
	epDiscovery       = "discovery"
	epJWKS            = "jwks"
	epPAR             = "par"
	epAuthorize       = "authorize"
	epToken           = "token"
	epUserInfo        = "userinfo"
	epRevoke          = "revocation"
	epIntrospect      = "introspection"
	epLogin           = "login"
	epConsent         = "consent"
	epOTP             = "otp"
	epOTPEnrol        = "otp_enrol"
	epStylesheet      = "stylesheet"
	epEndSession      = "end_session"
	epLogoutConfirm   = "logout_confirm"
	pathLogoutConfirm = "/interaction/logout"
	pathLogin         = "/interaction/login"
	pathConsent       = "/interaction/consent"
	pathOTP           = "/interaction/otp"
	pathOTPEnrol      = "/interaction/otp-enrol"
	// pathUI prefixes the stylesheet (ui.Renderer.StylesheetPath).
	pathUI = "/ui/"
)

// hstsValue asks browsers to use https for a year.
const hstsValue = "max-age=31536000"

type route struct {
	name    string
	methods []string
	handle  func(*Provider, *served, http.ResponseWriter, *http.Request)
}

var routes = map[string]route{
	config.PathDiscovery:  {epDiscovery, []string{http.MethodGet, http.MethodHead}, (*Provider).discovery},
	config.PathJWKS:       {epJWKS, []string{http.MethodGet, http.MethodHead}, (*Provider).jwks},
	config.PathPAR:        {epPAR, []string{http.MethodPost}, (*Provider).par},
	config.PathAuthorize:  {epAuthorize, []string{http.MethodGet, http.MethodPost}, (*Provider).authorize},
	config.PathToken:      {epToken, []string{http.MethodPost}, (*Provider).token},
	config.PathUserInfo:   {epUserInfo, []string{http.MethodGet, http.MethodPost}, (*Provider).userinfo},
	config.PathRevoke:     {epRevoke, []string{http.MethodPost}, (*Provider).revoke},
	config.PathIntrospect: {epIntrospect, []string{http.MethodPost}, (*Provider).introspect},
	pathLogin:             {epLogin, []string{http.MethodPost}, (*Provider).login},
	pathConsent:           {epConsent, []string{http.MethodPost}, (*Provider).consent},
	pathOTP:               {epOTP, []string{http.MethodPost}, (*Provider).otp},
	pathOTPEnrol:          {epOTPEnrol, []string{http.MethodPost}, (*Provider).otpEnrol},
	pathAccount:           {epAccount, []string{http.MethodGet}, (*Provider).account},
	pathWithdraw:          {epWithdraw, []string{http.MethodPost}, (*Provider).withdraw},
	config.PathEndSession: {epEndSession, []string{http.MethodGet, http.MethodPost}, (*Provider).endSession},
	pathLogoutConfirm:     {epLogoutConfirm, []string{http.MethodPost}, (*Provider).logoutConfirm},
	pathPasskeyLogin:      {epPasskeyLogin, []string{http.MethodPost}, (*Provider).passkeySignIn},
	pathPasskey:           {epPasskey, []string{http.MethodPost}, (*Provider).passkeyStepUp},
	pathPasskeyEnrol:      {epPasskeyEnrol, []string{http.MethodPost}, (*Provider).passkeyEnrol},
	pathAccountFactors:    {epAccountFactors, []string{http.MethodGet, http.MethodPost}, (*Provider).accountFactors},
}

func (p *Provider) serveHTTP(w http.ResponseWriter, r *http.Request) {
	sv := p.served.Load()
	if sv == nil {
		writeJSONError(w, &oauthError{Code: "temporarily_unavailable", Description: "the provider has no configuration yet", Status: http.StatusServiceUnavailable})
		return
	}
	rest, ok := cutBasePath(r.URL.Path, sv.basePath)
	rt, found := routes[rest]
	if !found && strings.HasPrefix(rest, pathUI) {
		rt, found = route{epStylesheet, []string{http.MethodGet, http.MethodHead}, (*Provider).stylesheet}, true
	}
	if !ok || !found {
		http.NotFound(w, r)
		return
	}
	if sv.secure {
		// Browsers keep to https for the issuer's host from then on (RFC
		// 6797); its subdomains are not the provider's to decide.
		w.Header().Set("Strict-Transport-Security", hstsValue)
	}
	start := time.Now()
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		if v := recover(); v != nil {
			// A bug must not take the process down or leak a stack trace;
			// the log line carries no request data.
			p.log.Error("handler panicked", slog.String("endpoint", rt.name), slog.Any("panic", v))
			if !rec.wrote {
				writeJSONError(rec, errServer("internal error"))
			}
		}
		p.metrics.observe(rt.name, rec.outcome(), time.Since(start))
	}()
	if !slices.Contains(rt.methods, r.Method) {
		rec.Header().Set("Allow", strings.Join(rt.methods, ", "))
		writeJSONError(rec, &oauthError{Code: "invalid_request", Description: "method not allowed", Status: http.StatusMethodNotAllowed})
		return
	}
	rt.handle(p, sv, rec, r)
}

// recorder notes the status and the OAuth error code of a response, for
// metrics.
type recorder struct {
	http.ResponseWriter
	status int
	code   string
	wrote  bool
}

func (r *recorder) WriteHeader(status int) {
	if !r.wrote {
		r.status, r.wrote = status, true
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

func (r *recorder) outcome() string {
	if r.code != "" {
		return r.code
	}
	switch {
	case r.status >= 500:
		return "server_error"
	case r.status >= 400:
		return "client_error"
	}
	return "ok"
}

// setOutcome records the OAuth error a handler answered with.
func setOutcome(w http.ResponseWriter, code string) {
	if rec, ok := w.(*recorder); ok {
		rec.code = code
	}
}

// signerCache holds parsed signers by kid; parsing a JWK per token would
// cost more than signing.
type signerCache struct{ m sync.Map }
