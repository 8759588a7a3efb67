// Package gateway_test puts a real Gateway API implementation in front of a
// provider: Traefik (built from the Go module proxy by hack/traefik.sh)
// watches the test control plane, takes the HTTPRoute the operator writes
// for spec.exposure.gateway, reports it Accepted (so the provider's Exposed
// condition comes from a real Gateway controller), and serves the issuer
// URL over TLS to the runtime, which runs locally exactly as its pod would
// (internal/localnode) on one of this host's addresses, reached through
// the EndpointSlice a kubelet and the EndpointSlice controller would have
// written.
package gateway_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
	"github.com/idaop/ida-operator/internal/controlplane"
	"github.com/idaop/ida-operator/internal/localnode"
	"github.com/idaop/ida-operator/internal/operatortest"
	"github.com/idaop/ida-operator/internal/testlog"
	"github.com/idaop/ida-operator/internal/testpki"
	"github.com/idaop/ida-operator/test/internal/story"
)

const (
	host        = "id.bank.example"
	issuer      = "https://" + host + "/eu"
	providerNS  = "identity"
	gatewayNS   = "gateways"
	traefikName = "traefik.io/gateway-controller"
)

func TestTraefikServesTheIssuerURL(t *testing.T) {
	root, err := controlplane.ProjectRoot()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(filepath.Join(root, "hack", "traefik.sh")).Output()
	if err != nil {
		t.Fatalf("hack/traefik.sh: %v", err)
	}
	traefik := strings.TrimSpace(string(out))

	crds, err := controlplane.GatewayAPICRDs()
	if err != nil {
		t.Fatal(err)
	}
	env, err := operatortest.Start(crds)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Stop)
	cp, c := env.ControlPlane, env.Client
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)

	// The edge: Traefik with an https entry point on a free port, its
	// Gateway listening there with a certificate for the issuer's host.
	port := freePort(t)
	ca := testpki.NewCA(t)
	certPEM, keyPEM := ca.Issue(t, 1, host)
	for _, o := range story.Tenancy(providerNS, "bank", "team-gw", "users", story.DemoUsers(t, "correct horse battery")) {
		create(t, c, o)
	}
	create(t, c, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: gatewayNS}})
	create(t, c, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: gatewayNS, Name: "edge-tls"},
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{corev1.TLSCertKey: certPEM, corev1.TLSPrivateKeyKey: keyPEM},
	})
	create(t, c, &gatewayv1.GatewayClass{
		ObjectMeta: metav1.ObjectMeta{Name: "traefik"},
		Spec:       gatewayv1.GatewayClassSpec{ControllerName: traefikName},
	})
	create(t, c, &gatewayv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Namespace: gatewayNS, Name: "public"},
		Spec: gatewayv1.GatewaySpec{
			GatewayClassName: "traefik",
			Listeners: []gatewayv1.Listener{{
				Name: "https", Port: gatewayv1.PortNumber(port), Protocol: gatewayv1.HTTPSProtocolType,
				Hostname: ptr.To(gatewayv1.Hostname(host)),
				TLS: &gatewayv1.ListenerTLSConfig{
					Mode:            ptr.To(gatewayv1.TLSModeTerminate),
					CertificateRefs: []gatewayv1.SecretObjectReference{{Name: "edge-tls"}},
				},
				AllowedRoutes: &gatewayv1.AllowedRoutes{Namespaces: &gatewayv1.RouteNamespaces{From: ptr.To(gatewayv1.NamespacesFromAll)}},
			}},
		},
	})
	startTraefik(t, ctx, cp, traefik, port)

	// The provider, exposed through that Gateway.
	tf := &idav1alpha1.TrustFramework{
		ObjectMeta: metav1.ObjectMeta{Name: "gw-aml"},
		Spec: idav1alpha1.TrustFrameworkSpec{
			Identifier: "gw_aml",
			Evidence:   []idav1alpha1.EvidenceSpec{{Type: idav1alpha1.EvidenceDocument, DocumentTypes: []idav1alpha1.Identifier{"passport"}}},
			Claims:     []idav1alpha1.ClaimName{"birthdate"},
		},
	}
	idp := &idav1alpha1.IdentityProvider{
		ObjectMeta: metav1.ObjectMeta{Namespace: providerNS, Name: "bank"},
		Spec: idav1alpha1.IdentityProviderSpec{
			Issuer:          issuer,
			TrustFrameworks: idav1alpha1.TrustFrameworkSelection{Names: []string{"gw-aml"}},
			Users: idav1alpha1.UserSourceSpec{
				Type:    idav1alpha1.UserSourceBuiltin,
				Builtin: &idav1alpha1.BuiltinUserSource{SecretRef: idav1alpha1.LocalSecretReference{Name: "users"}},
			},
			Exposure: &idav1alpha1.ExposureSpec{Gateway: &idav1alpha1.GatewayExposure{ParentRefs: []idav1alpha1.GatewayRef{
				{Name: "public", Namespace: gatewayNS, SectionName: "https"},
			}}},
		},
	}
	create(t, c, tf)
	create(t, c, idp)

	// The runtime, as its pod would run, and the EndpointSlice that makes
	// it the Service's backend.
	// An EndpointSlice may not name loopback: the runtime listens on one of
	// this host's own addresses, as a pod on its pod IP.
	ip := hostIP(t)
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	rtLog := &testlog.Buffer{}
	rt, err := localnode.Start(ctx, cp.Config, c, client.ObjectKey{Namespace: providerNS, Name: "bank"}, ln, t.TempDir(),
		slog.New(slog.NewJSONHandler(rtLog, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Stop() })
	create(t, c, &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: providerNS, Name: "bank-local", Labels: map[string]string{discoveryv1.LabelServiceName: "bank"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}},
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To(int32(ln.Addr().(*net.TCPAddr).Port)), Protocol: ptr.To(corev1.ProtocolTCP)}},
	})

	// Traefik accepts the operator's route: Exposed is True from a real
	// Gateway controller's status.
	eventually(t, 60*time.Second, func() error {
		var got idav1alpha1.IdentityProvider
		if err := c.Get(ctx, client.ObjectKeyFromObject(idp), &got); err != nil {
			return err
		}
		cond := meta.FindStatusCondition(got.Status.Conditions, string(idav1alpha1.ConditionExposed))
		if cond == nil || cond.Status != metav1.ConditionTrue {
			return fmt.Errorf("Exposed: %+v", cond)
		}
		return nil
	})

	// A relying party's view: discovery and the key set at the issuer URL,
	// over TLS with the Gateway's certificate, through Traefik.
	httpc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: ca.Pool},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if addr == host+":443" {
				addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
			}
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}}
	var doc map[string]any
	eventually(t, 30*time.Second, func() error {
		resp, err := httpc.Get(issuer + "/.well-known/openid-configuration")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("discovery through Traefik: %d %.200s", resp.StatusCode, body)
		}
		return json.Unmarshal(body, &doc)
	})
	if doc["issuer"] != issuer || doc["jwks_uri"] != issuer+"/jwks" {
		t.Errorf("discovery through Traefik: issuer %v jwks_uri %v", doc["issuer"], doc["jwks_uri"])
	}
	resp, err := httpc.Get(doc["jwks_uri"].(string))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.TLS == nil || resp.TLS.PeerCertificates[0].DNSNames[0] != host {
		t.Errorf("jwks through Traefik: %d", resp.StatusCode)
	}
	// Paths outside the issuer's are not routed to the provider.
	resp, err = httpc.Get("https://" + host + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("a path outside the issuer's prefix: %d, want Traefik's 404", resp.StatusCode)
	}
	if t.Failed() {
		t.Logf("runtime log:\n%s", rtLog.Tail(4000))
	}
}

// startTraefik runs Traefik with its Gateway API provider against the
// control plane, as a ServiceAccount with a token (how Traefik
// authenticates), and the https entry point on port.
func startTraefik(t *testing.T, ctx context.Context, cp *controlplane.ControlPlane, bin string, port int) {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().ServiceAccounts(gatewayNS).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "traefik"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The test's Gateway controller may read and report on everything.
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "traefik"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "traefik", Namespace: gatewayNS}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	tr, err := cs.CoreV1().ServiceAccounts(gatewayNS).CreateToken(ctx, "traefik", &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(caFile, cp.Config.CAData, 0o600); err != nil {
		t.Fatal(err)
	}
	static := map[string]any{
		"entryPoints": map[string]any{"websecure": map[string]any{"address": "127.0.0.1:" + strconv.Itoa(port)}},
		"providers": map[string]any{"kubernetesGateway": map[string]any{
			"endpoint": cp.Config.Host, "token": tr.Status.Token, "certAuthFilePath": caFile,
			"throttleDuration": "1s",
		}},
		"log": map[string]any{"level": "INFO"},
	}
	data, err := yaml.Marshal(static)
	if err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(dir, "traefik.yaml")
	if err := os.WriteFile(cfgFile, data, 0o600); err != nil {
		t.Fatal(err)
	}
	logs := &testlog.Buffer{}
	cmd := exec.CommandContext(ctx, bin, "--configFile="+cfgFile)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("traefik log:\n%s", logs.Tail(6000))
		}
	})
}

// hostIP is an IPv4 address of this host other than loopback.
func hostIP(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			return n.IP.String()
		}
	}
	t.Fatal("this host has no IPv4 address besides loopback: the runtime's EndpointSlice needs one")
	return ""
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func create(t *testing.T, c client.Client, obj client.Object) {
	t.Helper()
	if err := c.Create(context.Background(), obj); err != nil {
		t.Fatalf("creating %T %s: %v", obj, obj.GetName(), err)
	}
}

var eventually = operatortest.Eventually
