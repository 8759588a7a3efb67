package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
	"github.com/idaop/ida-operator/controllers/identityprovider"
	"github.com/idaop/ida-operator/internal/controlplane"
	"github.com/idaop/ida-operator/internal/localnode"
	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/test/internal/rptest"
)

// harness is the running system and what the phases share.
type harness struct {
	*rptest.Phases
	t        *testing.T
	ctx      context.Context
	root     string
	specDir  string
	dir      string
	cp       *controlplane.ControlPlane
	c        client.Client
	kubecfg  string
	mgr      *managerProc
	mgrLog   string
	rt       *localnode.Runtime
	rtLog    *rptest.SyncBuffer
	addr     string // the issuer's host:port
	issuer   string
	password string
}

// dumpOnFailure prints the manager's and the runtime's logs when t fails.
func (h *harness) dumpOnFailure() {
	h.t.Cleanup(func() {
		if !h.t.Failed() {
			return
		}
		if b, err := os.ReadFile(h.mgrLog); err == nil {
			s := string(b)
			if len(s) > 15000 {
				s = "...\n" + s[len(s)-15000:]
			}
			h.t.Logf("manager log (%s):\n%s", h.mgrLog, s)
		}
		h.t.Logf("runtime log:\n%s", h.rtLog)
	})
}

func (h *harness) startManager() {
	h.t.Helper()
	p, err := startManager(h.kubecfg, h.mgrLog)
	if err != nil {
		h.t.Fatalf("starting the manager: %v", err)
	}
	h.mgr = p
}

func (h *harness) stopManager() {
	h.t.Helper()
	if err := h.mgr.stop(); err != nil {
		h.t.Errorf("stopping the manager: %v", err)
	}
}

// startRuntime runs the provider's runtime on ln (or, when nil, on the
// issuer's address once it is free again) as its pod would.
func (h *harness) startRuntime(ln net.Listener) {
	h.t.Helper()
	if ln == nil {
		err := eventually(h.ctx, 10*time.Second, func() error {
			var err error
			ln, err = net.Listen("tcp", h.addr)
			return err
		})
		if err != nil {
			h.t.Fatalf("the issuer's address %s is not free again: %v", h.addr, err)
		}
	}
	log := slog.New(slog.NewJSONHandler(h.rtLog, nil))
	key := client.ObjectKey{Namespace: providerNS, Name: identityprovider.RuntimeName(h.provider())}
	rt, err := localnode.Start(h.ctx, h.cp.Config, h.c, key, ln, filepath.Join(h.dir, "runtime"), log)
	if err != nil {
		ln.Close()
		h.t.Fatalf("starting the runtime: %v", err)
	}
	h.rt = rt
}

func (h *harness) stopRuntime() {
	h.t.Helper()
	if h.rt == nil {
		return
	}
	if err := h.rt.Stop(); err != nil {
		h.t.Errorf("stopping the runtime: %v", err)
	}
	h.rt = nil
}

func (h *harness) provider() *idav1alpha1.IdentityProvider {
	h.t.Helper()
	var idp idav1alpha1.IdentityProvider
	if err := h.c.Get(h.ctx, client.ObjectKey{Namespace: providerNS, Name: providerName}, &idp); err != nil {
		h.t.Fatalf("reading the IdentityProvider: %v", err)
	}
	return &idp
}

func (h *harness) secret(ns, name string) *corev1.Secret {
	h.t.Helper()
	var s corev1.Secret
	if err := h.c.Get(h.ctx, client.ObjectKey{Namespace: ns, Name: name}, &s); err != nil {
		h.t.Fatalf("reading Secret %s/%s: %v", ns, name, err)
	}
	return &s
}

// keySet reads the provider's signing keys Secret.
func (h *harness) keySet() (*corev1.Secret, *config.KeySet) {
	h.t.Helper()
	s := h.secret(providerNS, identityprovider.SigningKeysName(h.provider()))
	ks, err := config.ParseKeySet(s.Data[config.KeySetKey])
	if err != nil {
		h.t.Fatalf("the signing keys Secret: %v", err)
	}
	return s, ks
}

// registrations are the client registration Secrets in the provider's
// namespace, by name.
func (h *harness) registrations() map[string]corev1.Secret {
	h.t.Helper()
	var list corev1.SecretList
	if err := h.c.List(h.ctx, &list, client.InNamespace(providerNS),
		client.MatchingLabels{config.LabelComponent: config.ComponentClientRegistration}); err != nil {
		h.t.Fatal(err)
	}
	out := map[string]corev1.Secret{}
	for _, s := range list.Items {
		out[s.Name] = s
	}
	return out
}

// waitReady waits until obj has Ready=True for its current generation.
func (h *harness) waitReady(obj client.Object, timeout time.Duration) {
	h.t.Helper()
	key := client.ObjectKeyFromObject(obj)
	var last string
	err := eventually(h.ctx, timeout, func() error {
		if err := h.managerAlive(); err != nil {
			return err
		}
		if err := h.c.Get(h.ctx, key, obj); err != nil {
			return err
		}
		conds := obj.(idav1alpha1.Conditioned).GetConditions()
		cond := meta.FindStatusCondition(conds, string(idav1alpha1.ConditionReady))
		last = summarize(conds)
		if cond == nil || cond.Status != metav1.ConditionTrue || cond.ObservedGeneration != obj.GetGeneration() {
			return fmt.Errorf("not Ready: %s", last)
		}
		return nil
	})
	if err != nil {
		h.t.Fatalf("%T %s not Ready within %s: %v", obj, key, timeout, err)
	}
}

func (h *harness) managerAlive() error {
	if h.mgr == nil {
		return nil
	}
	return h.mgr.exited()
}

func summarize(conds []metav1.Condition) string {
	var parts []string
	for _, c := range conds {
		parts = append(parts, fmt.Sprintf("%s=%s (%s: %s)", c.Type, c.Status, c.Reason, c.Message))
	}
	return strings.Join(parts, "; ")
}

// eventually retries f every 100ms until it succeeds or timeout passes.
func eventually(ctx context.Context, timeout time.Duration, f func() error) error {
	return rptest.Eventually(ctx, timeout, 100*time.Millisecond, f)
}

// discovery fetches the runtime's discovery document.
func (h *harness) discovery() (map[string]any, error) {
	hc := &http.Client{Timeout: 3 * time.Second}
	resp, err := hc.Get(h.issuer + "/.well-known/openid-configuration")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("discovery: %s", resp.Status)
	}
	var doc map[string]any
	return doc, json.NewDecoder(resp.Body).Decode(&doc)
}

func strings_(v any) []string {
	arr, _ := v.([]any)
	var out []string
	for _, x := range arr {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func hasString(v any, s string) bool { return slices.Contains(strings_(v), s) }
