// Package runtimecmd is the `runtime` subcommand: it serves one OpenID
// Provider from the configuration the operator renders, read either from
// the provider's namespace in a cluster or from a directory.
package runtimecmd

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/logsink"
	"github.com/idaop/ida-operator/runtime/op"
	"github.com/idaop/ida-operator/runtime/servingcert"
	"github.com/idaop/ida-operator/runtime/source"
	"github.com/idaop/ida-operator/runtime/store"
	"github.com/idaop/ida-operator/runtime/ui"
	"github.com/idaop/ida-operator/runtime/users"
)

// Options are the runtime's flags.
type Options struct {
	Listen        string
	OpsListen     string
	ConfigDir     string
	Namespace     string
	ConfigMap     string
	SigningKeys   string
	UsersSecret   string
	SaltSecret    string
	Kubeconfig    string
	StartTimeout  time.Duration
	ShutdownGrace time.Duration
	// TLSCertFile and TLSKeyFile, both set, make the provider's port serve
	// https from them, renewed files picked up without a restart.
	TLSCertFile string
	TLSKeyFile  string

	// OpsListener, when set, serves /healthz, /readyz and /metrics instead
	// of the provider's listener (not a flag; Run opens --ops-listen).
	OpsListener net.Listener

	// Audit, when its Log is set, takes the audit events (not a flag;
	// JSONLogs makes one).
	Audit Audit

	// HTTPClient, when set, fetches clients' and external claim sources'
	// key sets (not a flag; tests trust their own servers with it).
	HTTPClient *http.Client
}

// Audit is a stream of audit events: Log formats an event, Sync returns
// once the events logged so far are written (see op.Options).
type Audit struct {
	Log  *slog.Logger
	Sync func() error
}

// JSONLogs returns the runtime's loggers: JSON lines on w, operational
// records written as they come, audit events written in groups with the
// events of other requests in flight (logsink), each request waiting for
// its own.
func JSONLogs(w io.Writer) (*slog.Logger, Audit) {
	sink := logsink.New(w)
	return slog.New(slog.NewJSONHandler(sink, nil)),
		Audit{Log: slog.New(slog.NewJSONHandler(sink.Deferred(), nil)), Sync: sink.Sync}
}

// Bind registers the flags.
func (o *Options) Bind(fs *flag.FlagSet) {
	fs.StringVar(&o.Listen, "listen", ":8080", "address of the provider's endpoints (and of /healthz, /readyz and /metrics without --ops-listen)")
	fs.StringVar(&o.OpsListen, "ops-listen", "", "address of /healthz, /readyz and /metrics on a port of their own, out of reach of any route to the provider's port; empty: on the provider's port")
	fs.StringVar(&o.ConfigDir, "config-dir", "", "read provider.json, keys.json, clients/*.json and users.json from this directory instead of a cluster")
	fs.StringVar(&o.Namespace, "namespace", os.Getenv("POD_NAMESPACE"), "the provider's namespace (in a cluster)")
	fs.StringVar(&o.ConfigMap, "config-map", "", "the provider ConfigMap (in a cluster)")
	fs.StringVar(&o.SigningKeys, "signing-keys", "", "the signing key Secret (in a cluster)")
	fs.StringVar(&o.UsersSecret, "users-secret", "", "the Secret holding users.json for the builtin user source (in a cluster)")
	fs.StringVar(&o.SaltSecret, "pairwise-salt-secret", "", "the Secret holding the pairwise subject salt (in a cluster)")
	fs.StringVar(&o.Kubeconfig, "kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig to use outside a pod; in-cluster config otherwise")
	fs.StringVar(&o.TLSCertFile, "tls-cert-file", "", "serve the provider's port over TLS with this PEM certificate chain (with --tls-key-file); renewals are picked up within 10s")
	fs.StringVar(&o.TLSKeyFile, "tls-key-file", "", "the PEM private key of --tls-cert-file")
	fs.DurationVar(&o.StartTimeout, "start-timeout", 60*time.Second, "how long to wait for a first valid configuration")
	fs.DurationVar(&o.ShutdownGrace, "shutdown-grace", 10*time.Second, "how long in-flight requests may finish after SIGTERM")
	// Accepted so the operator can name the provider in the pod's args.
	fs.String("provider", "", "the IdentityProvider's name (informational)")
}

// Run parses args and serves until ctx ends, logging JSON lines to
// stderr.
func Run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("runtime", flag.ContinueOnError)
	var o Options
	o.Bind(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return err
	}
	if o.OpsListen != "" {
		if o.OpsListener, err = net.Listen("tcp", o.OpsListen); err != nil {
			ln.Close()
			return fmt.Errorf("listening for /healthz, /readyz and /metrics: %w", err)
		}
	}
	log, audit := JSONLogs(stderr)
	o.Audit = audit
	return Serve(ctx, o, ln, log)
}

// Serve runs the runtime on ln until ctx ends; tests and the demo call it
// with a listener of their own.
func Serve(ctx context.Context, o Options, ln net.Listener, log *slog.Logger) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if (o.TLSCertFile == "") != (o.TLSKeyFile == "") {
		return errors.New("--tls-cert-file and --tls-key-file go together")
	}
	if o.TLSCertFile != "" {
		certs, err := servingcert.New(o.TLSCertFile, o.TLSKeyFile, servingcert.Options{OnError: func(err error) {
			log.Error("renewed TLS certificate refused; the last good one keeps serving", "err", err)
		}})
		if err != nil {
			return err
		}
		ln = tls.NewListener(ln, certs.TLSConfig())
	}
	opsLn := o.OpsListener
	if opsLn != nil {
		defer opsLn.Close()
	}
	src, secrets, err := o.source()
	if err != nil {
		return err
	}
	updates := make(chan source.Update, 1)
	srcErr := make(chan error, 1)
	go func() { srcErr <- src.Run(ctx, updates) }()

	first, err := firstSnapshot(ctx, updates, o.StartTimeout, log)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, first.Snapshot.Provider.SessionStore, secrets)
	if err != nil {
		return err
	}
	defer st.Close()
	renderer, err := ui.New()
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if err := users.RegisterMetrics(reg); err != nil {
		return err
	}
	if mem, ok := st.(*store.Memory); ok {
		// How close the memory store is to refusing new state.
		reg.MustRegister(
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "ida", Subsystem: "store", Name: "memory_used_bytes",
				Help: "Estimated bytes of the entries in the memory session store."}, func() float64 { return float64(mem.Used()) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "ida", Subsystem: "store", Name: "memory_budget_bytes",
				Help: "Bytes the memory session store may hold before it refuses new state."}, func() float64 { return float64(mem.Budget()) }),
		)
	}
	provider, err := op.New(op.Options{Store: st, UI: renderer, Logger: log, Audit: o.Audit.Log, AuditSync: o.Audit.Sync, Metrics: reg, HTTPClient: o.HTTPClient})
	if err != nil {
		return err
	}
	apply := func(u source.Update) {
		for _, err := range u.Skipped {
			log.Error("client registration left out", "err", err)
		}
		if u.Err != nil {
			log.Error("configuration refused; the last good one keeps serving", "err", u.Err)
			return
		}
		us, err := userSource(ctx, u, secrets)
		if err != nil {
			log.Error("user source refused; the last good one keeps serving", "err", err)
			return
		}
		if err := provider.Apply(u.Snapshot); err != nil {
			log.Error("configuration refused; the last good one keeps serving", "err", err)
			return
		}
		if us != nil {
			provider.SetUsers(us)
		}
		log.Info("configuration applied", "issuer", u.Snapshot.Provider.Issuer, "clients", len(u.Snapshot.Clients))
	}
	apply(first)

	ops := http.NewServeMux()
	ops.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	ops.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !provider.Ready() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	ops.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	server := func(h http.Handler) *http.Server {
		return &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       15 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       120 * time.Second,
			MaxHeaderBytes:    64 << 10,
		}
	}
	serveErr := make(chan error, 2)
	srv := server(routes(ops, provider.Handler()))
	var opsSrv *http.Server
	if opsLn != nil {
		// The provider's port then answers only below the issuer.
		srv = server(provider.Handler())
		opsSrv = server(ops)
		go func() { serveErr <- opsSrv.Serve(opsLn) }()
		log.Info("serving health and metrics", "address", opsLn.Addr().String())
	}
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("serving", "address", ln.Addr().String(), "tls", o.TLSCertFile != "")

	for {
		select {
		case u := <-updates:
			apply(u)
		case err := <-srcErr:
			if ctx.Err() == nil {
				return fmt.Errorf("configuration source stopped: %w", err)
			}
		case err := <-serveErr:
			return err
		case <-ctx.Done():
			shutdownCtx, done := context.WithTimeout(context.Background(), o.ShutdownGrace)
			defer done()
			err := srv.Shutdown(shutdownCtx)
			if opsSrv != nil {
				// Probes answer until the provider has drained.
				err = errors.Join(err, opsSrv.Shutdown(shutdownCtx))
			}
			return err
		}
	}
}

// routes sends the three operational paths to ops and everything else to
// the provider, which routes its own paths below the issuer. A switch on
// the path instead of one ServeMux for both: the mux's pattern matching
// was 5% of a discovery request's cost, on every provider request.
func routes(ops, provider http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz", "/readyz", "/metrics":
			ops.ServeHTTP(w, r)
		default:
			provider.ServeHTTP(w, r)
		}
	})
}

// secretReader reads a key of a Secret in the provider's namespace; nil
// outside a cluster.
type secretReader func(ctx context.Context, ref *config.SecretKeyRef) (string, error)

func (o *Options) source() (source.Source, secretReader, error) {
	if o.ConfigDir != "" {
		env := func(_ context.Context, ref *config.SecretKeyRef) (string, error) {
			// Outside a cluster, IDA_SECRET_<NAME>_<KEY> stands in for a Secret.
			name := "IDA_SECRET_" + envName(ref.Name) + "_" + envName(ref.Key)
			v, ok := os.LookupEnv(name)
			if !ok {
				return "", fmt.Errorf("%s is not set (stands in for Secret %s key %s)", name, ref.Name, ref.Key)
			}
			return v, nil
		}
		return source.NewDir(o.ConfigDir, 500*time.Millisecond), env, nil
	}
	if o.Namespace == "" || o.ConfigMap == "" || o.SigningKeys == "" {
		return nil, nil, errors.New("set --config-dir, or --namespace, --config-map and --signing-keys")
	}
	cfg, err := restConfig(o.Kubeconfig)
	if err != nil {
		return nil, nil, err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, nil, err
	}
	read := func(ctx context.Context, ref *config.SecretKeyRef) (string, error) {
		s, err := cs.CoreV1().Secrets(o.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			return "", fmt.Errorf("reading Secret %s: %w", ref.Name, err)
		}
		v, ok := s.Data[ref.Key]
		if !ok {
			return "", fmt.Errorf("Secret %s has no key %s", ref.Name, ref.Key)
		}
		return string(v), nil
	}
	return source.NewKubernetes(cs, o.Namespace, o.ConfigMap, o.SigningKeys, o.UsersSecret, o.SaltSecret), read, nil
}

func envName(s string) string {
	out := []byte(s)
	for i, c := range out {
		switch {
		case c >= 'a' && c <= 'z':
			out[i] = c - 'a' + 'A'
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		default:
			out[i] = '_'
		}
	}
	return string(out)
}

func restConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig != "" {
		return clientcmd.BuildConfigFromFlags("", kubeconfig)
	}
	return rest.InClusterConfig()
}

func firstSnapshot(ctx context.Context, updates <-chan source.Update, timeout time.Duration, log *slog.Logger) (source.Update, error) {
	deadline := time.After(timeout)
	for {
		select {
		case u := <-updates:
			if u.Err == nil {
				return u, nil
			}
			log.Error("waiting for a valid configuration", "err", u.Err)
		case <-deadline:
			return source.Update{}, fmt.Errorf("no valid configuration within %s", timeout)
		case <-ctx.Done():
			return source.Update{}, ctx.Err()
		}
	}
}

func openStore(ctx context.Context, cfg config.SessionStore, secrets secretReader) (store.Store, error) {
	if cfg.Type != config.SessionStoreRedis {
		return store.NewMemory(), nil
	}
	opts, err := redisOptions(ctx, cfg.Redis, secrets)
	if err != nil {
		return nil, err
	}
	return store.NewRedis(ctx, opts)
}

// redisOptions reads the password and TLS material from their Secrets,
// once at start, as the password always was.
func redisOptions(ctx context.Context, cfg *config.RedisStore, secrets secretReader) (store.RedisOptions, error) {
	opts := store.RedisOptions{Address: cfg.Address, ClusterAddresses: cfg.ClusterAddresses, ReplicaAcks: cfg.ReplicaAcks,
		Username: cfg.Username, Prefix: "ida:", MaxMemory: cfg.MaxMemoryBytes}
	if ref := cfg.PasswordSecret; ref != nil {
		pw, err := secrets(ctx, ref)
		if err != nil {
			return opts, fmt.Errorf("redis password: %w", err)
		}
		opts.Password = pw
	}
	if s := cfg.Sentinel; s != nil {
		opts.Sentinel = &store.RedisSentinel{MasterName: s.MasterName, Addresses: s.Addresses, Username: s.Username}
		if ref := s.PasswordSecret; ref != nil {
			pw, err := secrets(ctx, ref)
			if err != nil {
				return opts, fmt.Errorf("redis sentinel password: %w", err)
			}
			opts.Sentinel.Password = pw
		}
	}
	t := cfg.TLS
	if t == nil {
		return opts, nil
	}
	material := store.RedisTLS{ServerName: t.ServerName}
	if ref := t.CASecret; ref != nil {
		ca, err := secrets(ctx, ref)
		if err != nil {
			return opts, fmt.Errorf("redis TLS CA bundle: %w", err)
		}
		material.CA = []byte(ca)
	}
	if name := t.ClientCertificateSecret; name != "" {
		cert, err := secrets(ctx, &config.SecretKeyRef{Name: name, Key: config.TLSCertKey})
		if err != nil {
			return opts, fmt.Errorf("redis TLS client certificate: %w", err)
		}
		key, err := secrets(ctx, &config.SecretKeyRef{Name: name, Key: config.TLSKeyKey})
		if err != nil {
			return opts, fmt.Errorf("redis TLS client key: %w", err)
		}
		material.ClientCert, material.ClientKey = []byte(cert), []byte(key)
	}
	tlsConfig, err := store.NewRedisTLSConfig(material)
	if err != nil {
		return opts, err
	}
	opts.TLS = tlsConfig
	return opts, nil
}

// userSource builds the user source an update asks for; nil keeps the
// current one.
func userSource(ctx context.Context, u source.Update, secrets secretReader) (users.Source, error) {
	us := u.Snapshot.Provider.Users
	switch us.Type {
	case config.UsersHTTP:
		token := ""
		if ref := us.HTTP.CredentialsSecret; ref != nil {
			t, err := secrets(ctx, ref)
			if err != nil {
				return nil, err
			}
			token = t
		}
		return users.NewHTTP(*us.HTTP, token, nil), nil
	default:
		if u.Users == nil {
			return nil, errors.New("the builtin user source has no users.json")
		}
		return users.NewBuiltin(u.Users)
	}
}
