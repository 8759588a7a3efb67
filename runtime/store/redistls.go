package store

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
)

// RedisTLS is the PEM material for connecting to Redis over TLS.
type RedisTLS struct {
	// CA holds the certificates that verify the server; empty means the
	// system roots.
	CA []byte
	// ClientCert and ClientKey, both or neither, are presented when the
	// server asks for a client certificate (mutual TLS).
	ClientCert, ClientKey []byte
	// ServerName is checked against the server's certificate; empty means
	// the host of the address.
	ServerName string
}

// NewRedisTLSConfig builds the client side of TLS 1.2 or newer from PEM.
func NewRedisTLSConfig(t RedisTLS) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	if len(t.CA) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(t.CA) {
			return nil, errors.New("store: redis TLS: the CA bundle holds no PEM certificate")
		}
		cfg.RootCAs = pool
	}
	switch {
	case len(t.ClientCert) > 0 && len(t.ClientKey) > 0:
		cert, err := tls.X509KeyPair(t.ClientCert, t.ClientKey)
		if err != nil {
			return nil, fmt.Errorf("store: redis TLS client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	case len(t.ClientCert) > 0 || len(t.ClientKey) > 0:
		return nil, errors.New("store: redis TLS: a client certificate needs both the certificate and its key")
	}
	return cfg, nil
}
