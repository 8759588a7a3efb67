package store_test

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idaop/ida-operator/runtime/store"
	"github.com/idaop/ida-operator/runtime/store/storetest"
)

func TestRedis(t *testing.T) {
	addr := storetest.StartRedis(t)
	var n atomic.Int64
	storetest.Run(t, func(t *testing.T) store.Store {
		// One server for the suite; a prefix per subtest keeps them apart
		// and exercises Prefix.
		r, err := store.NewRedis(t.Context(), store.RedisOptions{
			Address: addr, Prefix: "t" + strconv.FormatInt(n.Add(1), 10) + ":",
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = r.Close() })
		return r
	})
}

// TestRedisPrefixesIsolated: two providers sharing one Redis never see each
// other's state.
func TestRedisPrefixesIsolated(t *testing.T) {
	addr := storetest.StartRedis(t)
	ctx := t.Context()
	a, err := store.NewRedis(ctx, store.RedisOptions{Address: addr, Prefix: "idp-a:"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := store.NewRedis(ctx, store.RedisOptions{Address: addr, Prefix: "idp-b:"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := a.Put(ctx, store.KindCode, "c", []byte("a"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Take(ctx, store.KindCode, "c"); err != store.ErrNotFound {
		t.Fatalf("other prefix Take = %v, want ErrNotFound", err)
	}
	if v, err := a.Take(ctx, store.KindCode, "c"); err != nil || string(v) != "a" {
		t.Fatalf("own prefix Take = %q, %v", v, err)
	}
}

func TestRedisUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	// Port 1 on loopback refuses connections.
	_, err := store.NewRedis(ctx, store.RedisOptions{Address: "127.0.0.1:1"})
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("NewRedis(unreachable) = %v, want an error naming the address", err)
	}
}

func BenchmarkRedis(b *testing.B) {
	addr := storetest.StartRedis(b)
	r, err := store.NewRedis(context.Background(), store.RedisOptions{Address: addr, Prefix: "bench:"})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	storetest.Bench(b, r)
}
