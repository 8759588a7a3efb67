// Package servingcert serves the runtime's own TLS certificate from a
// certificate and key file pair, and picks up a renewed pair without a
// restart: the kubelet swaps a mounted Secret's files when cert-manager
// (or a person) renews it, and handshakes after the next check use the new
// one.
package servingcert

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"os"
	"sync"
	"time"
)

// DefaultCheckInterval is how often the files are looked at again, at
// most: a renewal is served within it, and handshakes in between cost no
// file access.
const DefaultCheckInterval = 10 * time.Second

// Reloader holds the current certificate of a file pair.
type Reloader struct {
	certFile, keyFile string
	interval          time.Duration
	now               func() time.Time
	// onError hears a renewed pair that could not be loaded; the last good
	// one keeps serving.
	onError func(error)

	mu        sync.Mutex
	cert      *tls.Certificate
	certPEM   []byte
	keyPEM    []byte
	checkedAt time.Time
}

// Options tune a Reloader; the zero value is the defaults.
type Options struct {
	// CheckInterval is DefaultCheckInterval when zero.
	CheckInterval time.Duration
	// Now is time.Now when nil.
	Now func() time.Time
	// OnError is called when a changed pair fails to load.
	OnError func(error)
}

// New loads the pair; an unreadable or mismatched pair at start is an
// error, so a runtime never starts serving without a certificate.
func New(certFile, keyFile string, o Options) (*Reloader, error) {
	r := &Reloader{certFile: certFile, keyFile: keyFile, interval: o.CheckInterval, now: o.Now, onError: o.OnError}
	if r.interval <= 0 {
		r.interval = DefaultCheckInterval
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.onError == nil {
		r.onError = func(error) {}
	}
	certPEM, keyPEM, err := r.read()
	if err != nil {
		return nil, err
	}
	cert, err := load(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	r.cert, r.certPEM, r.keyPEM, r.checkedAt = cert, certPEM, keyPEM, r.now()
	return r, nil
}

// GetCertificate is tls.Config.GetCertificate.
func (r *Reloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return r.Current(), nil
}

// Current returns the certificate to serve, reading the files again when
// the check interval has passed and they changed.
func (r *Reloader) Current() *tls.Certificate {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if now.Sub(r.checkedAt) < r.interval {
		return r.cert
	}
	r.checkedAt = now
	certPEM, keyPEM, err := r.read()
	if err != nil {
		r.onError(err)
		return r.cert
	}
	if bytes.Equal(certPEM, r.certPEM) && bytes.Equal(keyPEM, r.keyPEM) {
		return r.cert
	}
	// The kubelet writes both files at once (an atomic directory swap), but
	// a person copying files may be caught half-way: a pair that does not
	// match is tried again at the next check.
	cert, err := load(certPEM, keyPEM)
	if err != nil {
		r.onError(err)
		return r.cert
	}
	r.cert, r.certPEM, r.keyPEM = cert, certPEM, keyPEM
	return r.cert
}

// TLSConfig is a server configuration serving the reloaded certificate,
// TLS 1.2 or later (FAPI 2.0 Security Profile §5.2.1).
func (r *Reloader) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: r.GetCertificate,
		// FAPI 2.0 Security Profile §5.2.1: only these suites for TLS 1.2;
		// TLS 1.3's are all acceptable.
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		},
		NextProtos: []string{"h2", "http/1.1"},
	}
}

func (r *Reloader) read() (certPEM, keyPEM []byte, err error) {
	if certPEM, err = os.ReadFile(r.certFile); err != nil {
		return nil, nil, fmt.Errorf("reading the TLS certificate: %w", err)
	}
	if keyPEM, err = os.ReadFile(r.keyFile); err != nil {
		return nil, nil, fmt.Errorf("reading the TLS key: %w", err)
	}
	return certPEM, keyPEM, nil
}

func load(certPEM, keyPEM []byte) (*tls.Certificate, error) {
	// X509KeyPair checks that the key matches the certificate and fills
	// Leaf.
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("loading the TLS certificate and key: %w", err)
	}
	return &cert, nil
}
