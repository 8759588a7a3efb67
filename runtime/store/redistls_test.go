package store_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/idaop/ida-operator/runtime/store"
	"github.com/idaop/ida-operator/runtime/store/storetest"
)

// aclUser may touch only its own keys, with only the commands the store
// sends.
const aclUser = "ida on >s3cret resetchannels ~t* " + runtimeCommands

// runtimeCommands are the commands the store sends, which docs/deploy.md
// recommends granting the runtime's ACL user; the suite passing under them
// proves the list complete.
const runtimeCommands = "+get +set +getdel +del +incr +pexpire +eval +evalsha +ping +info"

func tlsConfig(t *testing.T, m store.RedisTLS) *tls.Config {
	t.Helper()
	c, err := store.NewRedisTLSConfig(m)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestRedisTLS runs the conformance suite over TLS: once verifying the
// server only, under a server name override, and once with mutual TLS and
// an ACL user.
func TestRedisTLS(t *testing.T) {
	pki := storetest.NewPKI(t)
	for _, tc := range []struct {
		name       string
		server     storetest.RedisServer
		tls        store.RedisTLS
		user, pass string
		maxMemory  int64
	}{
		{
			name:   "ServerVerified",
			server: storetest.RedisServer{PKI: pki},
			tls:    store.RedisTLS{CA: pki.CA, ServerName: storetest.ServerName},
		},
		{
			name:   "MutualWithACLUser",
			server: storetest.RedisServer{PKI: pki, ClientAuth: true, Users: []string{aclUser}},
			tls:    store.RedisTLS{CA: pki.CA, ClientCert: pki.ClientCert, ClientKey: pki.ClientKey},
			user:   "ida", pass: "s3cret",
			// The budget's INFO must pass the ACL too.
			maxMemory: 1 << 30,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := storetest.StartRedisWith(t, tc.server)
			var n atomic.Int64
			storetest.Run(t, func(t *testing.T) store.Store {
				r, err := store.NewRedis(t.Context(), store.RedisOptions{
					Address: addr, TLS: tlsConfig(t, tc.tls), Username: tc.user, Password: tc.pass, MaxMemory: tc.maxMemory,
					Prefix: "t" + strconv.FormatInt(n.Add(1), 10) + ":",
				})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = r.Close() })
				return r
			})
		})
	}
}

// Each way of getting TLS or the ACL user wrong fails at start, with an
// error that says what to look at.
func TestRedisConnectFailures(t *testing.T) {
	pki, other := storetest.NewPKI(t), storetest.NewPKI(t)
	mutual := storetest.StartRedisWith(t, storetest.RedisServer{PKI: pki, ClientAuth: true, Users: []string{aclUser}})
	plainACL := storetest.StartRedisWith(t, storetest.RedisServer{Users: []string{aclUser, "noinfo on >pw ~* +@all -info"}})
	withCert := store.RedisTLS{CA: pki.CA, ClientCert: pki.ClientCert, ClientKey: pki.ClientKey}
	for _, tc := range []struct {
		name string
		opts store.RedisOptions
		want []string
	}{
		{"WrongCA", store.RedisOptions{Address: mutual, TLS: tlsConfig(t, store.RedisTLS{CA: other.CA, ClientCert: pki.ClientCert, ClientKey: pki.ClientKey})},
			[]string{"unknown authority", "not signed by the configured CA bundle"}},
		{"WrongServerName", store.RedisOptions{Address: mutual, TLS: tlsConfig(t, store.RedisTLS{CA: pki.CA, ClientCert: pki.ClientCert, ClientKey: pki.ClientKey, ServerName: "other.invalid"})},
			[]string{"other.invalid", "set the TLS server name"}},
		{"NoClientCertificate", store.RedisOptions{Address: mutual, TLS: tlsConfig(t, store.RedisTLS{CA: pki.CA})},
			[]string{"requires a client certificate"}},
		{"PlainTextToTLSPort", store.RedisOptions{Address: mutual},
			[]string{mutual, "does it expect TLS?"}},
		{"WrongACLPassword", store.RedisOptions{Address: mutual, TLS: tlsConfig(t, withCert), Username: "ida", Password: "wrong"},
			[]string{"WRONGPASS", "check the ACL username and the password Secret"}},
		{"UnknownACLUser", store.RedisOptions{Address: plainACL, Username: "nobody", Password: "s3cret"},
			[]string{"WRONGPASS"}},
		{"BudgetWithoutINFO", store.RedisOptions{Address: plainACL, Username: "noinfo", Password: "pw", MaxMemory: 1 << 30},
			[]string{"used_memory", "+info", "NOPERM"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			r, err := store.NewRedis(ctx, tc.opts)
			if err == nil {
				_ = r.Close()
				t.Fatal("NewRedis succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestNewRedisTLSConfig(t *testing.T) {
	pki := storetest.NewPKI(t)
	c, err := store.NewRedisTLSConfig(store.RedisTLS{})
	if err != nil {
		t.Fatal(err)
	}
	if c.RootCAs != nil || len(c.Certificates) != 0 || c.MinVersion != tls.VersionTLS12 {
		t.Fatalf("without material: RootCAs %v, %d certificates, MinVersion %x; want system roots, none, TLS 1.2", c.RootCAs, len(c.Certificates), c.MinVersion)
	}
	for _, tc := range []struct {
		name string
		in   store.RedisTLS
		want string
	}{
		{"CANotPEM", store.RedisTLS{CA: []byte("not a certificate")}, "no PEM certificate"},
		{"CertWithoutKey", store.RedisTLS{ClientCert: pki.ClientCert}, "both the certificate and its key"},
		{"KeyOfAnotherCert", store.RedisTLS{ClientCert: pki.ClientCert, ClientKey: pki.ServerKey}, "client certificate"},
	} {
		if _, err := store.NewRedisTLSConfig(tc.in); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}

// Over the budget, Put is refused while replay markers, counters and live
// state keep working; room given back lets Put in again.
func TestRedisBudget(t *testing.T) {
	addr := storetest.StartRedis(t)
	ctx := t.Context()
	r, err := store.NewRedis(ctx, store.RedisOptions{
		Address: addr, Prefix: "b:", MaxMemory: 4 << 20, MemoryCheckEvery: 10 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	v := make([]byte, 64<<10)
	if err := r.Put(ctx, store.KindSession, "first", []byte("live"), time.Hour); err != nil {
		t.Fatalf("Put under the budget: %v", err)
	}
	filled := 0
	full := fillUntilFull(t, r, v, &filled)
	if !full {
		t.Fatalf("%d puts of 64 KiB never met ErrFull under a 4 MiB budget", filled)
	}
	if fresh, err := r.Remember(ctx, store.KindJTI, "j", time.Hour); err != nil || !fresh {
		t.Fatalf("Remember over the budget: %v, %v; want fresh", fresh, err)
	}
	if fresh, err := r.Remember(ctx, store.KindJTI, "j", time.Hour); err != nil || fresh {
		t.Fatalf("Remember of a seen jti over the budget: %v, %v; want not fresh", fresh, err)
	}
	if n, err := r.Count(ctx, store.KindThrottle, "c", time.Hour); err != nil || n != 1 {
		t.Fatalf("Count over the budget: %d, %v", n, err)
	}
	if got, err := r.Get(ctx, store.KindSession, "first"); err != nil || string(got) != "live" {
		t.Fatalf("Get of live state over the budget: %q, %v", got, err)
	}
	if got, err := r.Take(ctx, store.KindSession, "first"); err != nil || string(got) != "live" {
		t.Fatalf("Take over the budget: %q, %v", got, err)
	}
	for i := range filled {
		if err := r.Delete(ctx, store.KindCode, fmt.Sprint(i)); err != nil {
			t.Fatalf("Delete over the budget: %v", err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := r.Put(ctx, store.KindCode, "again", v, time.Hour)
		if err == nil {
			break
		}
		if !errors.Is(err, store.ErrFull) || time.Now().After(deadline) {
			t.Fatalf("Put after the room was given back: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// fillUntilFull puts 64 KiB values until Put answers ErrFull, counting the
// values stored in filled; the budget is read every 10ms, so it waits a
// little between puts rather than racing ahead of the reading.
func fillUntilFull(t *testing.T, r store.Store, v []byte, filled *int) bool {
	t.Helper()
	for i := range 1000 {
		err := r.Put(t.Context(), store.KindCode, fmt.Sprint(i), v, time.Hour)
		if errors.Is(err, store.ErrFull) {
			return true
		}
		if err != nil {
			t.Fatalf("Put %d: %v", i, err)
		}
		*filled = i + 1
		time.Sleep(time.Millisecond)
	}
	return false
}

// Redis' own maxmemory under noeviction answers OOM to every write that
// may grow memory; the store makes that ErrFull, so the handlers answer
// temporarily_unavailable. Remember and Count meet it too: why the
// runtime's budget belongs below Redis' own.
func TestRedisOOMIsErrFull(t *testing.T) {
	addr := storetest.StartRedisWith(t, storetest.RedisServer{Args: []string{"--maxmemory-policy", "noeviction"}})
	ctx := t.Context()
	r, err := store.NewRedis(ctx, store.RedisOptions{Address: addr, Prefix: "o:"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Put(ctx, store.KindCode, "live", []byte("v"), time.Hour); err != nil {
		t.Fatal(err)
	}
	// One byte: every write that may grow memory is over from now on.
	admin := redis.NewClient(&redis.Options{Addr: addr, DisableIdentity: true,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}})
	defer admin.Close()
	if err := admin.ConfigSet(ctx, "maxmemory", "1").Err(); err != nil {
		t.Fatal(err)
	}
	if err := r.Put(ctx, store.KindCode, "new", []byte("v"), time.Hour); !errors.Is(err, store.ErrFull) {
		t.Fatalf("Put at Redis' maxmemory: %v, want ErrFull", err)
	}
	if _, err := r.Remember(ctx, store.KindJTI, "j", time.Hour); !errors.Is(err, store.ErrFull) || !strings.Contains(err.Error(), "OOM") {
		t.Fatalf("Remember at Redis' maxmemory: %v, want ErrFull naming OOM", err)
	}
	if _, err := r.Count(ctx, store.KindThrottle, "c", time.Hour); !errors.Is(err, store.ErrFull) {
		t.Fatalf("Count at Redis' maxmemory: %v, want ErrFull", err)
	}
	if got, err := r.Take(ctx, store.KindCode, "live"); err != nil || string(got) != "v" {
		t.Fatalf("Take at Redis' maxmemory: %q, %v", got, err)
	}
}
