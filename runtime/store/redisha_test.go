package store_test

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/idaop/ida-operator/runtime/store"
	"github.com/idaop/ida-operator/runtime/store/storetest"
)

// TestRedisSentinel: the store reaches its master through Sentinel (go-redis'
// failover client) and passes the same conformance suite.
func TestRedisSentinel(t *testing.T) {
	g := storetest.StartSentinelGroup(t)
	var n atomic.Int64
	storetest.Run(t, func(t *testing.T) store.Store {
		return openRedis(t, store.RedisOptions{
			Sentinel:    &store.RedisSentinel{MasterName: g.MasterName, Addresses: g.Sentinels},
			ReplicaAcks: 1, Prefix: "s" + strconv.FormatInt(n.Add(1), 10) + ":",
		})
	})
}

// TestRedisCluster: the store on a Redis Cluster of three masters (go-redis'
// cluster client) passes the same conformance suite; every operation is on
// one key, so no operation spans slots.
func TestRedisCluster(t *testing.T) {
	addrs := storetest.StartCluster(t)
	var n atomic.Int64
	storetest.Run(t, func(t *testing.T) store.Store {
		return openRedis(t, store.RedisOptions{ClusterAddresses: addrs, Prefix: "c" + strconv.FormatInt(n.Add(1), 10) + ":"})
	})
	// The keys of one run land on every master, so the suite above really
	// spread over the cluster.
	r := openRedis(t, store.RedisOptions{ClusterAddresses: addrs, ReplicaAcks: 0, Prefix: "spread:"})
	for i := range 64 {
		if err := r.Put(t.Context(), store.KindCode, strconv.Itoa(i), []byte("v"), time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range addrs {
		c := redis.NewClient(&redis.Options{Addr: a})
		n, err := c.DBSize(t.Context()).Result()
		_ = c.Close()
		if err != nil || n == 0 {
			t.Errorf("master %s holds none of 64 keys (%v)", a, err)
		}
	}
	// The memory budget reads every master.
	tight := openRedis(t, store.RedisOptions{ClusterAddresses: addrs, MaxMemory: 1})
	if err := tight.Put(t.Context(), store.KindCode, "k", []byte("v"), time.Minute); !errors.Is(err, store.ErrFull) {
		t.Fatalf("Put over the budget on a cluster = %v, want ErrFull", err)
	}
	roomy := openRedis(t, store.RedisOptions{ClusterAddresses: addrs, MaxMemory: 1 << 40})
	if err := roomy.Put(t.Context(), store.KindCode, "k", []byte("v"), time.Minute); err != nil {
		t.Fatalf("Put under the budget on a cluster = %v", err)
	}
}

// TestRedisSentinelFailover: writes acknowledged by a replica survive the
// loss of the master; the store follows the promotion by itself; while
// there is no master, operations fail (bounded by the caller's deadline)
// instead of hanging. The time without a master is logged.
func TestRedisSentinelFailover(t *testing.T) {
	g := storetest.StartSentinelGroup(t)
	r := openRedis(t, store.RedisOptions{
		Sentinel:    &store.RedisSentinel{MasterName: g.MasterName, Addresses: g.Sentinels},
		ReplicaAcks: 1, ReplicaAckTimeout: 500 * time.Millisecond, Prefix: "fo:",
	})
	ctx := t.Context()
	const n = 200
	for i := range n {
		k := strconv.Itoa(i)
		if err := r.Put(ctx, store.KindCode, k, []byte("code-"+k), time.Hour); err != nil {
			t.Fatalf("Put %d: %v", i, err)
		}
		if first, err := r.Remember(ctx, store.KindJTI, k, time.Hour); err != nil || !first {
			t.Fatalf("Remember %d: %v %v", i, first, err)
		}
	}
	old := g.Master.Addr
	g.Master.Kill()
	killed := time.Now()
	promoted := make(chan time.Duration, 1)
	go func() {
		for time.Since(killed) < 30*time.Second {
			if m, err := g.CurrentMaster(ctx); err == nil && m != old {
				promoted <- time.Since(killed)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	var failed int
	for {
		opCtx, cancel := context.WithTimeout(ctx, time.Second)
		err := r.Put(opCtx, store.KindSession, "after", []byte("x"), time.Hour)
		cancel()
		if err == nil {
			break
		}
		failed++
		if time.Since(killed) > 30*time.Second {
			t.Fatalf("no write succeeded within 30s of losing the master: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	outage := time.Since(killed)
	now, err := g.CurrentMaster(ctx)
	if err != nil || now == old {
		t.Fatalf("master after the failover: %q (%v), was %s", now, err, old)
	}
	select {
	case p := <-promoted:
		t.Logf("failover: the sentinels promoted %s %v after the master was killed; the store's writes failed for %v (%d attempts)",
			now, p.Round(10*time.Millisecond), outage.Round(10*time.Millisecond), failed)
	case <-time.After(time.Second):
		t.Logf("failover: writes failed for %v (%d attempts) until %s was promoted", outage.Round(10*time.Millisecond), failed, now)
	}
	for i := range n {
		k := strconv.Itoa(i)
		v, err := r.Get(ctx, store.KindCode, k)
		if err != nil || string(v) != "code-"+k {
			t.Fatalf("acknowledged code %d after the failover: %q, %v", i, v, err)
		}
		if first, err := r.Remember(ctx, store.KindJTI, k, time.Hour); err != nil || first {
			t.Fatalf("replay marker %d after the failover: first=%v, %v", i, first, err)
		}
	}
}

// TestRedisReplicaAcksRefused: with ReplicaAcks beyond the replicas there
// are, writes fail with ErrUnreplicated rather than pretending.
func TestRedisReplicaAcksRefused(t *testing.T) {
	r := openRedis(t, store.RedisOptions{Address: storetest.StartRedis(t), ReplicaAcks: 1, ReplicaAckTimeout: 20 * time.Millisecond})
	err := r.Put(t.Context(), store.KindCode, "k", []byte("v"), time.Minute)
	if !errors.Is(err, store.ErrUnreplicated) {
		t.Fatalf("Put without a replica = %v, want ErrUnreplicated", err)
	}
	if _, err := r.Remember(t.Context(), store.KindJTI, "j", time.Minute); !errors.Is(err, store.ErrUnreplicated) {
		t.Fatalf("Remember without a replica = %v, want ErrUnreplicated", err)
	}
}

func TestRedisTopologyChoice(t *testing.T) {
	for name, opts := range map[string]store.RedisOptions{
		"none":         {},
		"two":          {Address: "127.0.0.1:1", ClusterAddresses: []string{"127.0.0.1:2"}},
		"nameless":     {Sentinel: &store.RedisSentinel{Addresses: []string{"127.0.0.1:1"}}},
		"no sentinels": {Sentinel: &store.RedisSentinel{MasterName: "ida"}},
		"negative":     {Address: "127.0.0.1:1", ReplicaAcks: -1},
	} {
		if _, err := store.NewRedis(t.Context(), opts); err == nil {
			t.Errorf("%s: NewRedis accepted %+v", name, opts)
		}
	}
}

func openRedis(t *testing.T, opts store.RedisOptions) *store.Redis {
	t.Helper()
	r, err := store.NewRedis(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}
