// Command controllerbench measures the operator against the real test
// control plane: how fast thousands of RelyingParties become Ready, how
// quickly one applied RelyingParty is registered, the manager's memory, and
// that steady state writes nothing. `make bench-controllers` runs it; the
// results go to docs/BENCHMARKS.md.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
	"github.com/idaop/ida-operator/controllers/relyingparty"
	"github.com/idaop/ida-operator/internal/controlplane"
	"github.com/idaop/ida-operator/internal/manager"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "controllerbench:", err)
		os.Exit(1)
	}
}

type options struct {
	binary       string
	namespaces   int
	perNamespace int
	samples      int
	steady       time.Duration
	workers      int
	qps          int
	timeout      time.Duration
	profile      string
}

func run() error {
	var o options
	flag.StringVar(&o.binary, "binary", "bin/ida-operator", "the operator binary; the manager runs as its own process so its memory can be measured")
	flag.IntVar(&o.namespaces, "namespaces", 1000, "relying-party namespaces")
	flag.IntVar(&o.perNamespace, "per-namespace", 10, "RelyingParties per namespace")
	flag.IntVar(&o.samples, "latency-samples", 100, "RelyingParties applied one at a time to measure registration latency")
	flag.DurationVar(&o.steady, "steady", 60*time.Second, "steady-state window in which no API writes are allowed")
	flag.IntVar(&o.workers, "workers", 4, "the manager's --workers")
	flag.IntVar(&o.qps, "qps", 100, "the manager's --kube-api-qps")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Minute, "give up after this long")
	flag.StringVar(&o.profile, "apiserver-profile", "", "write a 20 s CPU profile of the kube-apiserver, taken while the RelyingParties are created, to this file")
	flag.Parse()

	// Interrupted, it still stops the control plane and the manager.
	sigCtx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(sigCtx, o.timeout)
	defer cancel()

	ctrl.SetLogger(logr.Discard()) // the benchmark's own clients log nothing worth reading
	fmt.Println("starting the control plane")
	cp, err := controlplane.Start()
	if err != nil {
		return err
	}
	defer func() { _ = cp.Stop() }()
	kubeconfig, err := cp.AdminKubeconfig()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "controllerbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	kubeconfigPath := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfigPath, kubeconfig, 0o600); err != nil {
		return err
	}

	// The benchmark's own client must not be the bottleneck.
	cfg := rest.CopyConfig(cp.Config)
	cfg.QPS, cfg.Burst = 2000, 4000
	c, err := client.New(cfg, client.Options{Scheme: manager.Scheme()})
	if err != nil {
		return err
	}
	idp, err := setUpProvider(ctx, c)
	if err != nil {
		return err
	}
	// Readiness is counted from a watch: listing 10,000 objects every second
	// would cost the API server more than the operator does.
	rpCache, err := cache.New(cfg, cache.Options{Scheme: manager.Scheme(), DefaultTransform: cache.TransformStripManagedFields()})
	if err != nil {
		return err
	}
	inf, err := rpCache.GetInformer(ctx, &idav1alpha1.RelyingParty{})
	if err != nil {
		return err
	}
	// Each RelyingParty's own time from creation to Ready.
	lat := &readyLatency{created: map[string]time.Time{}, ready: map[string]time.Time{}}
	if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		UpdateFunc: func(_, obj any) { lat.observe(obj) },
		AddFunc:    func(obj any) { lat.observe(obj) },
	}); err != nil {
		return err
	}
	go func() { _ = rpCache.Start(ctx) }()
	if !rpCache.WaitForCacheSync(ctx) {
		return errors.New("the benchmark's cache did not sync")
	}

	metricsAddr, err := freeAddr()
	if err != nil {
		return err
	}
	mgr := exec.CommandContext(ctx, o.binary, "manager",
		"--metrics-bind-address="+metricsAddr, "--health-probe-bind-address=0",
		"--workers="+strconv.Itoa(o.workers), "--kube-api-qps="+strconv.Itoa(o.qps), "--kube-api-burst="+strconv.Itoa(2*o.qps))
	mgr.Env = append(os.Environ(), "KUBECONFIG="+kubeconfigPath)
	logFile, err := os.Create(filepath.Join(dir, "manager.log"))
	if err != nil {
		return err
	}
	mgr.Stdout, mgr.Stderr = logFile, logFile
	if err := mgr.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", o.binary, err)
	}
	defer func() {
		_ = mgr.Process.Signal(os.Interrupt)
		_ = mgr.Wait()
	}()
	var peakRSS atomic.Int64
	go sampleRSS(ctx, mgr.Process.Pid, &peakRSS)

	if err := waitFor(ctx, 60*time.Second, func() (bool, error) {
		var got idav1alpha1.IdentityProvider
		if err := c.Get(ctx, client.ObjectKeyFromObject(idp), &got); err != nil {
			return false, err
		}
		return meta.IsStatusConditionTrue(got.Status.Conditions, string(idav1alpha1.ConditionConfigReady)), nil
	}); err != nil {
		return fmt.Errorf("provider not configured: %w", err)
	}

	total := o.namespaces * o.perNamespace
	fmt.Printf("creating %d namespaces and %d RelyingParties\n", o.namespaces, total)
	start := time.Now()
	if o.profile != "" {
		go profileAPIServer(ctx, cfg, o.profile)
	}
	if err := createMany(ctx, c, idp, o.namespaces, o.perNamespace, lat); err != nil {
		return err
	}
	created := time.Since(start)
	var readyAt time.Duration
	if err := waitFor(ctx, o.timeout, func() (bool, error) {
		n, err := countReady(ctx, rpCache)
		if err != nil {
			return false, err
		}
		fmt.Printf("  %6.1fs  %d/%d Ready  manager RSS %d MiB\n", time.Since(start).Seconds(), n, total, peakRSS.Load()>>20)
		readyAt = time.Since(start)
		return n >= total, nil
	}); err != nil {
		return err
	}

	fmt.Printf("applying %d RelyingParties one at a time\n", o.samples)
	latencies, err := registrationLatencies(ctx, c, idp, o.samples)
	if err != nil {
		return err
	}

	fmt.Printf("watching %s of steady state\n", o.steady)
	if err := waitFor(ctx, time.Minute, func() (bool, error) { // let the last status writes land
		n, err := countReady(ctx, rpCache)
		return n >= total+o.samples, err
	}); err != nil {
		return err
	}
	time.Sleep(5 * time.Second)
	before, err := writeCount(metricsAddr)
	if err != nil {
		return err
	}
	time.Sleep(o.steady)
	after, err := writeCount(metricsAddr)
	if err != nil {
		return err
	}

	perRP := lat.durations()
	slices.Sort(latencies)
	median := latencies[len(latencies)/2]
	p90 := latencies[len(latencies)*9/10]
	fmt.Printf(`
results (%d namespaces, %d RelyingParties, manager --workers=%d --kube-api-qps=%d)
  created in                         %6.1f s
  all Ready after                    %6.1f s   target <= 120 s   %s
  manager peak RSS                   %6d MiB  target < 300 MiB  %s
  each RP, creation to Ready: p50 %d s, p99 %d s, max %d s
  registration latency median        %6d ms   target <= 1000 ms %s
  registration latency p90 / max     %6d / %d ms
  API writes in %s of steady state %6d     target 0          %s
`, o.namespaces, total, o.workers, o.qps,
		created.Seconds(),
		readyAt.Seconds(), verdict(readyAt <= 120*time.Second),
		peakRSS.Load()>>20, verdict(peakRSS.Load() < 300<<20),
		perRP[len(perRP)/2]/time.Second, perRP[len(perRP)*99/100]/time.Second, perRP[len(perRP)-1]/time.Second,
		median.Milliseconds(), verdict(median <= time.Second),
		p90.Milliseconds(), latencies[len(latencies)-1].Milliseconds(),
		o.steady, after-before, verdict(after == before))
	return nil
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func setUpProvider(ctx context.Context, c client.Client) (*idav1alpha1.IdentityProvider, error) {
	root, err := controlplane.ProjectRoot()
	if err != nil {
		return nil, err
	}
	tfs, err := controlplane.ReadManifests(filepath.Join(root, "config", "trustframeworks"))
	if err != nil {
		return nil, err
	}
	if err := controlplane.Apply(ctx, c, tfs); err != nil {
		return nil, err
	}
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "identity"}}); err != nil {
		return nil, err
	}
	idp := &idav1alpha1.IdentityProvider{
		ObjectMeta: metav1.ObjectMeta{Namespace: "identity", Name: "bank"},
		Spec: idav1alpha1.IdentityProviderSpec{
			Issuer:          "https://id.bank.example",
			TrustFrameworks: idav1alpha1.TrustFrameworkSelection{Names: []string{"jp-aml", "uk-tfida"}},
			Users: idav1alpha1.UserSourceSpec{Type: idav1alpha1.UserSourceBuiltin,
				Builtin: &idav1alpha1.BuiltinUserSource{SecretRef: idav1alpha1.LocalSecretReference{Name: "users"}}},
			AllowedRelyingParties: idav1alpha1.AllowedRelyingParties{Namespaces: idav1alpha1.RelyingPartyNamespaces{From: idav1alpha1.NamespacesFromAll}},
		},
	}
	return idp, c.Create(ctx, idp)
}

func newRP(ns, name string, idp *idav1alpha1.IdentityProvider) *idav1alpha1.RelyingParty {
	return &idav1alpha1.RelyingParty{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: idav1alpha1.RelyingPartySpec{
			ProviderRef:  idav1alpha1.ProviderReference{Name: idp.Name, Namespace: idp.Namespace},
			RedirectURIs: []string{"https://" + name + "." + ns + ".example/cb"},
			Scopes:       []string{"openid", "profile"},
			VerifiedClaims: idav1alpha1.VerifiedClaimsPolicy{
				TrustFrameworks: []string{"jp_aml"}, Claims: []idav1alpha1.ClaimName{"birthdate"},
			},
		},
	}
}

// createMany creates the namespaces and RelyingParties from 32 workers.
func createMany(ctx context.Context, c client.Client, idp *idav1alpha1.IdentityProvider, namespaces, per int, lat *readyLatency) error {
	jobs := make(chan int)
	errs := make(chan error, 32)
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				ns := fmt.Sprintf("team-%04d", i)
				if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
					errs <- err
					return
				}
				for j := range per {
					rp := newRP(ns, fmt.Sprintf("app-%02d", j), idp)
					if err := c.Create(ctx, rp); err != nil {
						errs <- err
						return
					}
					lat.createdAt(ns+"/"+rp.Name, time.Now())
				}
			}
		}()
	}
	for i := range namespaces {
		select {
		case jobs <- i:
		case err := <-errs:
			close(jobs)
			return err
		}
	}
	close(jobs)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

func countReady(ctx context.Context, c client.Reader) (int, error) {
	var rps idav1alpha1.RelyingPartyList
	if err := c.List(ctx, &rps); err != nil {
		return 0, err
	}
	n := 0
	for i := range rps.Items {
		if meta.IsStatusConditionTrue(rps.Items[i].Status.Conditions, string(idav1alpha1.ConditionReady)) {
			n++
		}
	}
	return n, nil
}

// registrationLatencies applies RelyingParties one at a time and measures
// how long until each one's registration Secret exists: when its client
// becomes usable.
func registrationLatencies(ctx context.Context, c client.Client, idp *idav1alpha1.IdentityProvider, n int) ([]time.Duration, error) {
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "latency"}}); err != nil {
		return nil, err
	}
	out := make([]time.Duration, 0, n)
	for i := range n {
		rp := newRP("latency", fmt.Sprintf("app-%03d", i), idp)
		start := time.Now()
		if err := c.Create(ctx, rp); err != nil {
			return nil, err
		}
		key := client.ObjectKey{Namespace: idp.Namespace, Name: relyingparty.RegistrationName(rp)}
		for {
			var s corev1.Secret
			err := c.Get(ctx, key, &s)
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			time.Sleep(5 * time.Millisecond)
		}
		out = append(out, time.Since(start))
	}
	return out, nil
}

func waitFor(ctx context.Context, timeout time.Duration, cond func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		ok, err := cond()
		if err == nil && ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), err)
		case <-time.After(time.Second):
		}
	}
}

// writeCount sums the manager's client-go requests that write:
// rest_client_requests_total with method POST, PUT, PATCH or DELETE.
func writeCount(addr string) (int64, error) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var total int64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "rest_client_requests_total{") {
			continue
		}
		labels, value, _ := strings.Cut(line, "} ")
		for _, m := range []string{`method="POST"`, `method="PUT"`, `method="PATCH"`, `method="DELETE"`} {
			if strings.Contains(labels, m) {
				v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
				if err != nil {
					return 0, err
				}
				total += int64(v)
			}
		}
	}
	return total, sc.Err()
}

// sampleRSS records the process's peak resident memory (VmHWM).
func sampleRSS(ctx context.Context, pid int, peak *atomic.Int64) {
	path := fmt.Sprintf("/proc/%d/status", pid)
	for ctx.Err() == nil {
		data, err := os.ReadFile(path)
		if err != nil {
			return
		}
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
				peak.Store(kb << 10)
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// profileAPIServer saves a CPU profile of the kube-apiserver (its
// /debug/pprof, open to the control plane's administrator).
func profileAPIServer(ctx context.Context, cfg *rest.Config, path string) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "profile:", err)
		return
	}
	data, err := cs.CoreV1().RESTClient().Get().AbsPath("/debug/pprof/profile").Param("seconds", "20").Timeout(time.Minute).DoRaw(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "profile:", err)
		return
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "profile:", err)
	}
}

// readyLatency records when each RelyingParty was created and first seen
// Ready.
type readyLatency struct {
	mu             sync.Mutex
	created, ready map[string]time.Time
}

func (l *readyLatency) createdAt(key string, t time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.created[key] = t
}

func (l *readyLatency) observe(obj any) {
	rp, ok := obj.(*idav1alpha1.RelyingParty)
	if !ok || !meta.IsStatusConditionTrue(rp.Status.Conditions, string(idav1alpha1.ConditionReady)) {
		return
	}
	key := rp.Namespace + "/" + rp.Name
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, seen := l.ready[key]; !seen {
		l.ready[key] = time.Now()
	}
}

// durations are the sorted creation-to-Ready times of the bulk-created
// RelyingParties.
func (l *readyLatency) durations() []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]time.Duration, 0, len(l.created))
	for k, c := range l.created {
		if r, ok := l.ready[k]; ok {
			out = append(out, max(r.Sub(c), 0))
		}
	}
	slices.Sort(out)
	if len(out) == 0 {
		out = append(out, 0)
	}
	return out
}
