package runtimecmd

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/store"
	"github.com/idaop/ida-operator/runtime/store/storetest"
)

// fakeSecrets reads "name/key" from a map, as the Kubernetes reader does
// from Secrets.
func fakeSecrets(m map[string]string) secretReader {
	return func(_ context.Context, ref *config.SecretKeyRef) (string, error) {
		v, ok := m[ref.Name+"/"+ref.Key]
		if !ok {
			return "", fmt.Errorf("Secret %s has no key %s", ref.Name, ref.Key)
		}
		return v, nil
	}
}

// openStore reads the password, the CA bundle and the client certificate
// from their Secrets and reaches a redis-server that demands all three
// and an ACL user.
func TestOpenStoreRedisMutualTLS(t *testing.T) {
	pki := storetest.NewPKI(t)
	addr := storetest.StartRedisWith(t, storetest.RedisServer{PKI: pki, ClientAuth: true,
		Users: []string{"idp-a on >pw resetchannels ~ida:* +get +set +getdel +del +incr +pexpire +eval +evalsha +ping +info"}})
	secrets := fakeSecrets(map[string]string{
		"redis/password":       "pw",
		"redis-ca/ca.crt":      string(pki.CA),
		"redis-client/tls.crt": string(pki.ClientCert),
		"redis-client/tls.key": string(pki.ClientKey),
	})
	cfg := config.SessionStore{Type: config.SessionStoreRedis, Redis: &config.RedisStore{
		Address: addr, Username: "idp-a", PasswordSecret: &config.SecretKeyRef{Name: "redis", Key: "password"},
		MaxMemoryBytes: 64 << 20,
		TLS: &config.RedisTLS{CASecret: &config.SecretKeyRef{Name: "redis-ca", Key: "ca.crt"},
			ClientCertificateSecret: "redis-client", ServerName: storetest.ServerName},
	}}
	st, err := openStore(t.Context(), cfg, secrets)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, ok := st.(*store.Redis); !ok {
		t.Fatalf("openStore = %T, want *store.Redis", st)
	}
	if err := st.Put(t.Context(), store.KindCode, "c", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if v, err := st.Take(t.Context(), store.KindCode, "c"); err != nil || string(v) != "v" {
		t.Fatalf("Take = %q, %v", v, err)
	}

	// A Secret without the key says which part of the configuration it
	// was read for.
	cfg.Redis.TLS.ClientCertificateSecret = "other"
	if _, err := openStore(t.Context(), cfg, secrets); err == nil || !strings.Contains(err.Error(), "redis TLS client certificate: Secret other has no key tls.crt") {
		t.Fatalf("openStore with a missing client certificate Secret: %v", err)
	}
}
