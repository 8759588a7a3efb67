//go:build nodee2e

package node

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	idav1alpha1 "github.com/idaop/ida-operator/api/v1alpha1"
	"github.com/idaop/ida-operator/internal/manager"
	"github.com/idaop/ida-operator/test/internal/rptest"
)

// nodeEnv is what hack/node/e2e.sh passes: where the node is.
type nodeEnv struct {
	kubeconfig, kubectl, nodeIP, containerd, kubeletRoot string
}

func readEnv(t *testing.T) nodeEnv {
	t.Helper()
	e := nodeEnv{
		kubeconfig:  os.Getenv("IDA_NODE_KUBECONFIG"),
		kubectl:     os.Getenv("IDA_NODE_KUBECTL"),
		nodeIP:      os.Getenv("IDA_NODE_IP"),
		containerd:  os.Getenv("IDA_NODE_CONTAINERD"),
		kubeletRoot: os.Getenv("IDA_NODE_KUBELET_ROOT"),
	}
	if e.kubeconfig == "" || e.kubectl == "" || e.nodeIP == "" || e.containerd == "" || e.kubeletRoot == "" {
		t.Fatal("IDA_NODE_* are not set: run this test with make e2e (hack/node/e2e.sh)")
	}
	return e
}

// suite is the running system and what the phases share.
type suite struct {
	*rptest.Phases
	t       *testing.T
	ctx     context.Context
	env     nodeEnv
	cfg     *rest.Config
	c       client.Client
	root    string
	specDir string
}

func newSuite(t *testing.T, ctx context.Context, root, specDir string) *suite {
	s := &suite{Phases: rptest.NewPhases(t, os.Stdout), t: t, ctx: ctx, env: readEnv(t), root: root, specDir: specDir}
	var err error
	if s.cfg, err = clientcmd.BuildConfigFromFlags("", s.env.kubeconfig); err != nil {
		t.Fatal(err)
	}
	if s.c, err = client.New(s.cfg, client.Options{Scheme: manager.Scheme()}); err != nil {
		t.Fatal(err)
	}
	return s
}

// kubectl runs the node's kubectl with the admin kubeconfig.
func (s *suite) kubectl(args ...string) string {
	s.t.Helper()
	cmd := exec.CommandContext(s.ctx, s.env.kubectl, append([]string{"--kubeconfig", s.env.kubeconfig}, args...)...)
	cmd.Dir = s.root
	out, err := cmd.CombinedOutput()
	if err != nil {
		s.t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// eventually retries f every 200ms until it succeeds or timeout passes.
func eventually(ctx context.Context, timeout time.Duration, f func() error) error {
	return rptest.Eventually(ctx, timeout, 200*time.Millisecond, f)
}

// waitDeployment waits until every replica of the Deployment runs its
// current template and is Ready, with no old pods left.
func (s *suite) waitDeployment(ns, name string, replicas int32, timeout time.Duration) *appsv1.Deployment {
	s.t.Helper()
	var d appsv1.Deployment
	err := eventually(s.ctx, timeout, func() error {
		if err := s.c.Get(s.ctx, client.ObjectKey{Namespace: ns, Name: name}, &d); err != nil {
			return err
		}
		st := d.Status
		if st.ObservedGeneration < d.Generation || st.Replicas != replicas || st.UpdatedReplicas != replicas ||
			st.ReadyReplicas != replicas || st.AvailableReplicas != replicas {
			return fmt.Errorf("generation %d observed %d, replicas %d updated %d ready %d available %d (want %d)",
				d.Generation, st.ObservedGeneration, st.Replicas, st.UpdatedReplicas, st.ReadyReplicas, st.AvailableReplicas, replicas)
		}
		pods := s.pods(ns, d.Spec.Selector.MatchLabels)
		if int32(len(pods)) != replicas {
			return fmt.Errorf("%d pods, want %d", len(pods), replicas)
		}
		return nil
	})
	if err != nil {
		s.dumpPods(ns)
		s.t.Fatalf("Deployment %s/%s not Ready within %s: %v", ns, name, timeout, err)
	}
	return &d
}

// pods are the running, not terminating pods matching labels.
func (s *suite) pods(ns string, labels map[string]string) []corev1.Pod {
	s.t.Helper()
	var list corev1.PodList
	if err := s.c.List(s.ctx, &list, client.InNamespace(ns), client.MatchingLabels(labels)); err != nil {
		s.t.Fatal(err)
	}
	var out []corev1.Pod
	for _, p := range list.Items {
		if p.DeletionTimestamp == nil && p.Status.Phase == corev1.PodRunning {
			out = append(out, p)
		}
	}
	return out
}

// dumpPods logs the pods of ns, their events and container logs.
func (s *suite) dumpPods(ns string) {
	s.t.Helper()
	cmd := exec.Command(s.env.kubectl, "--kubeconfig", s.env.kubeconfig, "-n", ns, "describe", "pods")
	out, _ := cmd.CombinedOutput()
	s.t.Logf("pods of %s:\n%.8000s", ns, out)
	cmd = exec.Command(s.env.kubectl, "--kubeconfig", s.env.kubeconfig, "-n", ns, "logs", "--all-containers", "--prefix", "--tail=60", "-l", "app.kubernetes.io/name")
	out, _ = cmd.CombinedOutput()
	s.t.Logf("logs of %s:\n%.8000s", ns, out)
}

// waitReady waits until obj has Ready=True for its current generation.
func (s *suite) waitReady(obj client.Object, conds func() []metav1.Condition, timeout time.Duration) {
	s.t.Helper()
	key := client.ObjectKeyFromObject(obj)
	err := eventually(s.ctx, timeout, func() error {
		if err := s.c.Get(s.ctx, key, obj); err != nil {
			return err
		}
		c := meta.FindStatusCondition(conds(), string(idav1alpha1.ConditionReady))
		if c == nil || c.Status != metav1.ConditionTrue || c.ObservedGeneration != obj.GetGeneration() {
			return fmt.Errorf("not Ready: %+v", conds())
		}
		return nil
	})
	if err != nil {
		s.t.Fatalf("%T %s not Ready within %s: %v", obj, key, timeout, err)
	}
}

// relay is a TCP relay on loopback to a target address (a Service's
// ClusterIP or one pod), which can be set after the relay starts. Every
// connection is dialled anew, so through a Service kube-proxy picks a pod
// per connection. It exists because an http issuer must be a loopback URL
// (see docs/node.md).
type relay struct {
	ln     net.Listener
	target atomic.Value // string
	wg     sync.WaitGroup
}

func startRelay(t *testing.T, target string) *relay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &relay{ln: ln}
	r.target.Store(target)
	r.wg.Add(1)
	go r.serve()
	t.Cleanup(func() {
		ln.Close()
		r.wg.Wait()
	})
	return r
}

func (r *relay) URL() string { return "http://" + r.ln.Addr().String() }

func (r *relay) serve() {
	defer r.wg.Done()
	for {
		in, err := r.ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer in.Close()
			target, _ := r.target.Load().(string)
			if target == "" {
				return
			}
			out, err := net.DialTimeout("tcp", target, 3*time.Second)
			if err != nil {
				return
			}
			defer out.Close()
			done := make(chan struct{}, 2)
			go func() { io.Copy(out, in); out.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
			go func() { io.Copy(in, out); in.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
			<-done
			<-done
		}()
	}
}

// containerPID is the host PID of a running container, from containerd.
func (s *suite) containerPID(containerID string) int {
	s.t.Helper()
	id := strings.TrimPrefix(containerID, "containerd://")
	out, err := exec.Command("ctr", "--address", s.env.containerd, "-n", "k8s.io", "tasks", "ls").CombinedOutput()
	if err != nil {
		s.t.Fatalf("ctr tasks ls: %v\n%s", err, out)
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 3 && f[0] == id {
			var pid int
			fmt.Sscan(f[1], &pid)
			return pid
		}
	}
	s.t.Fatalf("container %s is not a running containerd task:\n%s", id, out)
	return 0
}

// procStatus reads /proc/<pid>/status as a map.
func procStatus(t *testing.T, pid int) map[string]string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}

// rootMountOptions are the mount options of / as the process sees it.
func rootMountOptions(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 5 && f[4] == "/" {
			return f[5]
		}
	}
	t.Fatalf("no / in /proc/%d/mountinfo", pid)
	return ""
}

// podToken is the ServiceAccount token kubelet mounted into the pod.
func (s *suite) podToken(p *corev1.Pod) string {
	s.t.Helper()
	matches, _ := filepath.Glob(filepath.Join(s.env.kubeletRoot, "pods", string(p.UID), "volumes", "kubernetes.io~projected", "*", "token"))
	if len(matches) != 1 {
		s.t.Fatalf("pod %s: want one projected ServiceAccount token, found %v", p.Name, matches)
	}
	b, err := os.ReadFile(matches[0])
	if err != nil {
		s.t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// freePort returns a port free on host right now.
func freePort(t *testing.T, host string) string {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}
