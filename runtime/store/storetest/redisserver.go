package storetest

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/idaop/ida-operator/internal/testlog"
)

// StartRedis runs a throwaway redis-server on a free loopback port, without
// persistence, in a temporary directory, and stops it when t ends. It
// returns host:port. A missing binary fails the test, never skips it: the
// shared store is part of what `make test` proves, and hack/redis.sh
// installs it.
func StartRedis(t testing.TB) string {
	t.Helper()
	return StartRedisWith(t, RedisServer{})
}

// RedisServer says how StartRedisWith runs redis-server.
type RedisServer struct {
	// PKI, when set, makes the server speak TLS only (--port 0) with
	// PKI's server certificate.
	PKI *PKI
	// ClientAuth requires a client certificate signed by PKI's CA
	// (--tls-auth-clients yes).
	ClientAuth bool
	// Users are ACL rules, one --user flag each, such as
	// "ida on >secret ~ida:* +@all".
	Users []string
	// Args are further flags, such as "--maxmemory", "64mb".
	Args []string

	// sentinel runs the server as a Sentinel from this configuration
	// (without its port, which startRedis chooses).
	sentinel string
}

// RedisProcess is one redis-server a test started; it is stopped when the
// test ends, or earlier by Kill.
type RedisProcess struct {
	// Addr is its loopback host:port.
	Addr   string
	out    *testlog.Buffer
	proc   *os.Process
	exited chan error
	done   bool
}

// Kill ends the server at once (SIGKILL), as a lost node would end.
func (p *RedisProcess) Kill() {
	if p.done {
		return
	}
	p.done = true
	_ = p.proc.Kill()
	<-p.exited
}

func (p *RedisProcess) stop() {
	if p.done {
		return
	}
	p.done = true
	_ = p.proc.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
		_ = p.proc.Kill()
		<-p.exited
	}
}

// StartRedisWith is StartRedis with TLS, ACL users or other settings.
func StartRedisWith(t testing.TB, srv RedisServer) string {
	t.Helper()
	return StartRedisProcess(t, srv).Addr
}

// StartRedisProcess is StartRedisWith, keeping the process for Kill.
func StartRedisProcess(t testing.TB, srv RedisServer) *RedisProcess {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server not found on PATH (%v): run hack/redis.sh to install Debian's redis-server", err)
	}
	// The free port may be taken between choosing and binding it; try again
	// with another.
	var lastErr error
	for range 5 {
		p, err := startRedis(t, bin, srv)
		if err == nil {
			return p
		}
		lastErr = err
	}
	t.Fatalf("starting redis-server: %v", lastErr)
	return nil
}

func startRedis(t testing.TB, bin string, srv RedisServer) (*RedisProcess, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	dir := t.TempDir()
	var args []string
	ready := "Ready to accept connections"
	if srv.sentinel != "" {
		// Sentinel rewrites its configuration file: it must be its own.
		conf := filepath.Join(dir, "sentinel.conf")
		if err := os.WriteFile(conf, []byte(srv.sentinel), 0o600); err != nil {
			return nil, err
		}
		args, ready = []string{conf, "--sentinel"}, "+monitor master"
	}
	args = append(args,
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--dir", dir,
		"--daemonize", "no",
		"--logfile", "",
	)
	var probeTLS *tls.Config
	if p := srv.PKI; p != nil {
		files := map[string][]byte{"ca.crt": p.CA, "tls.crt": p.ServerCert, "tls.key": p.ServerKey}
		for name, data := range files {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
				return nil, err
			}
		}
		auth := "no"
		if srv.ClientAuth {
			auth = "yes"
		}
		args = append(args, "--port", "0", "--tls-port", strconv.Itoa(port),
			"--tls-cert-file", filepath.Join(dir, "tls.crt"),
			"--tls-key-file", filepath.Join(dir, "tls.key"),
			"--tls-ca-cert-file", filepath.Join(dir, "ca.crt"),
			"--tls-auth-clients", auth)
		if probeTLS, err = clientTLS(p); err != nil {
			return nil, err
		}
	} else {
		args = append(args, "--port", strconv.Itoa(port))
	}
	for _, u := range srv.Users {
		// redis-server takes a directive's words as separate arguments.
		args = append(append(args, "--user"), strings.Fields(u)...)
	}
	args = append(args, srv.Args...)
	out := &testlog.Buffer{}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &RedisProcess{Addr: addr, out: out, proc: cmd.Process, exited: make(chan error, 1)}
	go func() { p.exited <- cmd.Wait() }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case err := <-p.exited:
			p.done = true
			return nil, fmt.Errorf("redis-server exited (%v):\n%s", err, out.String())
		default:
		}
		// Our own log line first: PONG alone could come from another
		// server that won the race for the port.
		if strings.Contains(out.String(), ready) && Ping(addr, probeTLS) == nil {
			t.Cleanup(p.stop)
			return p, nil
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("redis-server did not answer PING on %s within 10s:\n%s", addr, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// clientTLS trusts p's CA and presents its client certificate.
func clientTLS(p *PKI) (*tls.Config, error) {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(p.CA)
	cert, err := tls.X509KeyPair(p.ClientCert, p.ClientKey)
	if err != nil {
		return nil, err
	}
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// Ping speaks just enough RESP to know a server is up, without a client
// (the load tool uses it too). NOAUTH counts as up: the server answered,
// it only wants a password.
func Ping(addr string, tlsConfig *tls.Config) error {
	d := &net.Dialer{Timeout: time.Second}
	var c net.Conn
	var err error
	if tlsConfig != nil {
		c, err = tls.DialWithDialer(d, "tcp", addr, tlsConfig)
	} else {
		c, err = d.Dial("tcp", addr)
	}
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+PONG") && !strings.HasPrefix(line, "-NOAUTH") {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}
