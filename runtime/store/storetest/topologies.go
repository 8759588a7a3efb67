package storetest

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// SentinelGroup is a master, two replicas and three sentinels on
// loopback, each a real redis-server process: after a failover one
// replica is left to acknowledge writes (RedisOptions.ReplicaAcks).
type SentinelGroup struct {
	MasterName string
	Master     *RedisProcess
	Replicas   []*RedisProcess
	// Sentinels are the sentinels' addresses.
	Sentinels []string
}

// StartSentinelGroup starts a SentinelGroup that notices a lost master
// within a second (down-after-milliseconds 1000, quorum 2) and returns it
// once the sentinels agree on the master, know the replicas and each
// other, and the replicas are in sync.
func StartSentinelGroup(t testing.TB) *SentinelGroup {
	t.Helper()
	g := &SentinelGroup{MasterName: "ida"}
	g.Master = StartRedisProcess(t, RedisServer{})
	host, port, _ := net.SplitHostPort(g.Master.Addr)
	for range 2 {
		g.Replicas = append(g.Replicas, StartRedisProcess(t, RedisServer{Args: []string{"--replicaof", host, port}}))
	}
	conf := fmt.Sprintf("sentinel monitor %s %s %s 2\n"+
		"sentinel down-after-milliseconds %[1]s 1000\n"+
		"sentinel failover-timeout %[1]s 3000\n"+
		"sentinel parallel-syncs %[1]s 1\n", g.MasterName, host, port)
	for range 3 {
		g.Sentinels = append(g.Sentinels, StartRedisProcess(t, RedisServer{sentinel: conf}).Addr)
	}
	waitFor(t, 20*time.Second, "the replicas to sync and the sentinels to know each other", func(ctx context.Context) error {
		for _, r := range g.Replicas {
			if err := replicaInSync(ctx, r.Addr); err != nil {
				return err
			}
		}
		for _, s := range g.Sentinels {
			sc := redis.NewSentinelClient(&redis.Options{Addr: s})
			replicas, err := sc.Replicas(ctx, g.MasterName).Result()
			if err == nil && len(replicas) != len(g.Replicas) {
				err = fmt.Errorf("sentinel %s knows %d replicas", s, len(replicas))
			}
			if err == nil {
				var others []map[string]string
				if others, err = sc.Sentinels(ctx, g.MasterName).Result(); err == nil && len(others) != 2 {
					err = fmt.Errorf("sentinel %s knows %d other sentinels", s, len(others))
				}
			}
			_ = sc.Close()
			if err != nil {
				return err
			}
		}
		return nil
	})
	return g
}

// CurrentMaster asks a sentinel which address is the master now.
func (g *SentinelGroup) CurrentMaster(ctx context.Context) (string, error) {
	for _, s := range g.Sentinels {
		sc := redis.NewSentinelClient(&redis.Options{Addr: s})
		hp, err := sc.GetMasterAddrByName(ctx, g.MasterName).Result()
		_ = sc.Close()
		if err == nil && len(hp) == 2 {
			return net.JoinHostPort(hp[0], hp[1]), nil
		}
	}
	return "", fmt.Errorf("no sentinel names a master for %s", g.MasterName)
}

func replicaInSync(ctx context.Context, addr string) error {
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	info, err := c.Info(ctx, "replication").Result()
	if err != nil {
		return err
	}
	if !strings.Contains(info, "master_link_status:up") {
		return fmt.Errorf("replica %s: link to its master not up", addr)
	}
	return nil
}

// StartCluster starts a Redis Cluster of three masters (no replicas) on
// loopback, the slots split evenly, and returns their addresses once
// every node says the cluster is ok.
func StartCluster(t testing.TB) []string {
	t.Helper()
	var addrs []string
	for range 3 {
		p := StartRedisProcess(t, RedisServer{Args: []string{"--cluster-enabled", "yes", "--cluster-node-timeout", "2000",
			"--cluster-config-file", "nodes-" + strconv.Itoa(len(addrs)) + ".conf"}})
		addrs = append(addrs, p.Addr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const slots = 16384
	for i, a := range addrs {
		c := redis.NewClient(&redis.Options{Addr: a})
		first, last := i*slots/len(addrs), (i+1)*slots/len(addrs)-1
		err := c.Do(ctx, "cluster", "addslotsrange", first, last).Err()
		if err == nil && i > 0 {
			host, port, _ := net.SplitHostPort(addrs[0])
			err = c.ClusterMeet(ctx, host, port).Err()
		}
		_ = c.Close()
		if err != nil {
			t.Fatalf("forming the cluster at %s: %v", a, err)
		}
	}
	waitFor(t, 20*time.Second, "the cluster to be ok on every node", func(ctx context.Context) error {
		for _, a := range addrs {
			c := redis.NewClient(&redis.Options{Addr: a})
			info, err := c.ClusterInfo(ctx).Result()
			_ = c.Close()
			if err != nil {
				return err
			}
			if !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_known_nodes:3") {
				return fmt.Errorf("node %s: %s", a, strings.Fields(info)[0])
			}
		}
		return nil
	})
	return addrs
}

// waitFor polls cond until it returns nil or the time is up.
func waitFor(t testing.TB, within time.Duration, what string, cond func(ctx context.Context) error) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := cond(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
