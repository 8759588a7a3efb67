// Package manager builds the operator's controller manager from flags.
package manager

import (
	"context"
	"crypto/x509"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
	"github.com/idaop/ida-operator/controllers"
	"github.com/idaop/ida-operator/controllers/identityprovider"
)

// ownedObjectsOnly limits the cache to the Secrets, ConfigMaps and workload
// objects the operator labels as its own: it never holds every Secret of the
// cluster in memory.
// HTTPRoutes and cert-manager Certificates are cached only where the
// cluster serves them.
func ownedObjectsOnly(optional servedKinds) map[client.Object]cache.ByObject {
	owned := cache.ByObject{Label: labels.SelectorFromSet(labels.Set{idav1alpha1.LabelManagedBy: idav1alpha1.ManagedByOperator})}
	objs := map[client.Object]cache.ByObject{
		&corev1.Secret{}:                         owned,
		&corev1.ConfigMap{}:                      owned,
		&corev1.Service{}:                        owned,
		&corev1.ServiceAccount{}:                 owned,
		&appsv1.Deployment{}:                     owned,
		&rbacv1.Role{}:                           owned,
		&rbacv1.RoleBinding{}:                    owned,
		&policyv1.PodDisruptionBudget{}:          owned,
		&networkingv1.Ingress{}:                  owned,
		&networkingv1.NetworkPolicy{}:            owned,
		&autoscalingv2.HorizontalPodAutoscaler{}: owned,
	}
	if optional.gatewayAPI {
		objs[&gatewayv1.HTTPRoute{}] = owned
	}
	if optional.certManager {
		cert := &unstructured.Unstructured{}
		cert.SetGroupVersionKind(identityprovider.CertificateKind)
		objs[cert] = owned
	}
	return objs
}

// servedKinds are the optional APIs of other projects the cluster serves.
type servedKinds struct{ gatewayAPI, certManager bool }

// discoverOptionalKinds asks the API server, once, before the manager's
// cache is set up, whether it serves HTTPRoutes and cert-manager's
// Certificates.
func discoverOptionalKinds(cfg *rest.Config) (servedKinds, error) {
	var k servedKinds
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return k, fmt.Errorf("building a discovery client: %w", err)
	}
	mapper, err := apiutil.NewDynamicRESTMapper(cfg, httpClient)
	if err != nil {
		return k, fmt.Errorf("building a REST mapper: %w", err)
	}
	if k.gatewayAPI, err = identityprovider.ServesKind(mapper, identityprovider.HTTPRouteKind); err != nil {
		return k, err
	}
	k.certManager, err = identityprovider.ServesKind(mapper, identityprovider.CertificateKind)
	return k, err
}

// Options are the manager's settings; Bind reads them from flags.
type Options struct {
	MetricsAddr     string
	ProbeAddr       string
	LeaderElection  bool
	LeaderElectNS   string
	WatchNamespaces string
	RuntimeImage    string
	// RuntimePKCS11Image is the cgo build of the runtime, for providers
	// whose keys are in a PKCS#11 token; empty: RuntimeImage + "-pkcs11".
	RuntimePKCS11Image string
	KubeAPIQPS         float64
	KubeAPIBurst       int
	Workers            int
	// Now replaces the clock of key rotation, for tests; not a flag.
	Now func() time.Time
	// SectorRoots replace the system roots that verify the servers of
	// sectorIdentifierURIs, for tests; not a flag.
	SectorRoots *x509.CertPool
}

// Bind registers the options as flags of fs.
func (o *Options) Bind(fs *flag.FlagSet) {
	fs.StringVar(&o.MetricsAddr, "metrics-bind-address", ":8080", "address of the Prometheus metrics endpoint; 0 disables it")
	fs.StringVar(&o.ProbeAddr, "health-probe-bind-address", ":8081", "address of the /healthz and /readyz endpoints; 0 disables them")
	fs.BoolVar(&o.LeaderElection, "leader-elect", false, "elect a leader so that only one replica reconciles")
	fs.StringVar(&o.LeaderElectNS, "leader-election-namespace", "", "namespace of the leader election Lease (default: the pod's namespace)")
	fs.StringVar(&o.WatchNamespaces, "namespaces", "", "comma-separated namespaces to watch; all when empty")
	fs.Float64Var(&o.KubeAPIQPS, "kube-api-qps", 100, "requests per second the manager may send to the API server")
	fs.IntVar(&o.KubeAPIBurst, "kube-api-burst", 200, "burst of requests above kube-api-qps")
	fs.IntVar(&o.Workers, "workers", 4, "reconciles each controller may run at once")
	fs.StringVar(&o.RuntimeImage, "runtime-image", envOr("RUNTIME_IMAGE", DefaultImage), "image of the provider runtime Deployments (default: $RUNTIME_IMAGE, else the operator's own)")
	fs.StringVar(&o.RuntimePKCS11Image, "runtime-pkcs11-image", os.Getenv("RUNTIME_PKCS11_IMAGE"), "image of the runtime of providers whose keys are in a PKCS#11 token (default: $RUNTIME_PKCS11_IMAGE, else the runtime image with the tag suffix -pkcs11)")
}

// DefaultImage is the operator's own image; the runtime is the same binary.
const DefaultImage = "ghcr.io/idaop/ida-operator:dev"

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// Scheme holds the kinds the manager reads and writes.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := idav1alpha1.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := gatewayv1.Install(s); err != nil {
		panic(err)
	}
	return s
}

// New builds a manager with every reconciler registered.
func New(ctx context.Context, cfg *rest.Config, o Options) (ctrl.Manager, error) {
	if o.RuntimeImage == "" {
		o.RuntimeImage = DefaultImage
	}
	cfg = rest.CopyConfig(cfg)
	if o.KubeAPIQPS > 0 {
		cfg.QPS, cfg.Burst = float32(o.KubeAPIQPS), max(o.KubeAPIBurst, 1)
	}
	if o.Workers < 1 {
		o.Workers = 4
	}
	optional, err := discoverOptionalKinds(cfg)
	if err != nil {
		return nil, err
	}
	cacheOpts := cache.Options{
		ByObject: ownedObjectsOnly(optional),
		// Managed fields are about half of a small object's size and the
		// controllers never read them.
		DefaultTransform: cache.TransformStripManagedFields(),
	}
	if o.WatchNamespaces != "" {
		cacheOpts.DefaultNamespaces = map[string]cache.Config{}
		for ns := range strings.SplitSeq(o.WatchNamespaces, ",") {
			if ns = strings.TrimSpace(ns); ns != "" {
				cacheOpts.DefaultNamespaces[ns] = cache.Config{}
			}
		}
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  Scheme(),
		Cache:                   cacheOpts,
		Metrics:                 metricsserver.Options{BindAddress: o.MetricsAddr},
		Controller:              config.Controller{MaxConcurrentReconciles: o.Workers},
		HealthProbeBindAddress:  o.ProbeAddr,
		LeaderElection:          o.LeaderElection,
		LeaderElectionID:        "ida-operator.idaop.dev",
		LeaderElectionNamespace: o.LeaderElectNS,
		// The manager exits soon after losing the lease, so a new leader
		// can start quickly.
		LeaderElectionReleaseOnCancel: true,
	})
	if err != nil {
		return nil, fmt.Errorf("creating the manager: %w", err)
	}
	if err := controllers.Setup(ctx, mgr, controllers.Options{RuntimeImage: o.RuntimeImage, RuntimePKCS11Image: o.RuntimePKCS11Image, Now: o.Now, SectorRoots: o.SectorRoots, GatewayAPI: optional.gatewayAPI, CertManager: optional.certManager}); err != nil {
		return nil, fmt.Errorf("registering controllers: %w", err)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return nil, err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return nil, err
	}
	return mgr, nil
}

// Run parses args and runs the manager against the cluster of the current
// kubeconfig (or in-cluster config) until ctx ends.
func Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("manager", flag.ContinueOnError)
	var o Options
	o.Bind(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("loading the Kubernetes client config: %w", err)
	}
	mgr, err := New(ctx, cfg, o)
	if err != nil {
		return err
	}
	return mgr.Start(ctx)
}
