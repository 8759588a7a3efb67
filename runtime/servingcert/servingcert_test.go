package servingcert

import (
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/idaop/ida-operator/internal/testpki"
)

// serveTLS serves HTTPS with r's configuration alone (httptest's own
// certificate would shadow GetCertificate) and returns the address.
func serveTLS(t *testing.T, r *Reloader) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), ErrorLog: log.New(io.Discard, "", 0)}
	go srv.Serve(tls.NewListener(ln, r.TLSConfig()))
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// A real TLS server on the reloader: a client that trusts the CA sees the
// first certificate, then the renewed one once the check interval has
// passed; a broken renewal keeps the last good one serving.
func TestServesTheRenewedCertificate(t *testing.T) {
	ca := testpki.NewCA(t)
	dir := t.TempDir()
	certFile, keyFile := ca.IssueFiles(t, dir, 100)
	clk := &clock{t: time.Unix(1_800_000_000, 0)}
	var errs []error
	r, err := New(certFile, keyFile, Options{Now: clk.now, OnError: func(err error) { errs = append(errs, err) }})
	if err != nil {
		t.Fatal(err)
	}
	addr := serveTLS(t, r)
	serial := func() int64 {
		t.Helper()
		// A new connection each time: a renewed certificate is for new
		// handshakes.
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool}, DisableKeepAlives: true}}
		resp, err := client.Get("https://" + addr)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.TLS.PeerCertificates[0].SerialNumber.Int64()
	}
	if s := serial(); s != 100 {
		t.Fatalf("serving serial %d, want 100", s)
	}
	ca.IssueFiles(t, dir, 200)
	if s := serial(); s != 100 {
		t.Fatalf("serial %d before the check interval, want 100 still", s)
	}
	clk.add(DefaultCheckInterval)
	if s := serial(); s != 200 {
		t.Fatalf("serial %d after renewal, want 200", s)
	}
	// A key that does not match the certificate: refused, 200 serves on.
	_, otherKey := ca.Issue(t, 300)
	if err := os.WriteFile(keyFile, otherKey, 0o600); err != nil {
		t.Fatal(err)
	}
	clk.add(DefaultCheckInterval)
	if s := serial(); s != 200 {
		t.Fatalf("serial %d after a broken renewal, want 200", s)
	}
	if len(errs) != 1 {
		t.Fatalf("errors reported: %v, want one", errs)
	}
}

// A runtime never starts on a missing or broken pair.
func TestNewRefusesABrokenPair(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if _, err := New(certFile, keyFile, Options{}); err == nil {
		t.Fatal("missing files accepted")
	}
	for _, f := range []string{certFile, keyFile} {
		if err := os.WriteFile(f, []byte("not PEM"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := New(certFile, keyFile, Options{}); err == nil {
		t.Fatal("garbage accepted")
	}
}

// TLS 1.1 is refused (FAPI 2.0 Security Profile §5.2.1).
func TestRefusesOldTLS(t *testing.T) {
	ca := testpki.NewCA(t)
	certFile, keyFile := ca.IssueFiles(t, t.TempDir(), 1)
	r, err := New(certFile, keyFile, Options{})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := tls.Dial("tcp", serveTLS(t, r), &tls.Config{RootCAs: ca.Pool, MaxVersion: tls.VersionTLS11})
	if err == nil {
		conn.Close()
		t.Fatal("a TLS 1.1 handshake succeeded")
	}
}
