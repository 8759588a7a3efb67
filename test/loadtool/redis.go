package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/idaop/ida-operator/runtime/store/storetest"
)

// storeKind is the -store flag: memory, redis or sentinel.
var storeKind = "memory"

// storeAddr is where a server under test finds its Redis: Addr for a
// single server, or Master (the name) and Sentinels.
type storeAddr struct {
	Addr      string
	Master    string
	Sentinels []string
}

// flag is the -redis value of -serve-ours: an address, or
// sentinel:NAME@host:port,host:port.
func (a storeAddr) flag() string {
	if a.Master != "" {
		return "sentinel:" + a.Master + "@" + strings.Join(a.Sentinels, ",")
	}
	return a.Addr
}

func parseStoreFlag(v string) storeAddr {
	if rest, ok := strings.CutPrefix(v, "sentinel:"); ok {
		name, addrs, _ := strings.Cut(rest, "@")
		return storeAddr{Master: name, Sentinels: strings.Split(addrs, ",")}
	}
	return storeAddr{Addr: v}
}

// startStore starts, with -store redis, a redis-server of its own for one
// server under test, and with -store sentinel a master, two replicas and
// three sentinels; all on the servers' CPU (Redis is part of what serves
// a request), without persistence. With -store memory it starts nothing.
func startStore(ctx context.Context) (storeAddr, func(), error) {
	var procs []*exec.Cmd
	var dirs []string
	stop := func() {
		for _, c := range procs {
			c.Process.Kill()
			c.Wait()
		}
		for _, d := range dirs {
			os.RemoveAll(d)
		}
	}
	bin, err := exec.LookPath("redis-server")
	if storeKind == "memory" {
		return storeAddr{}, func() {}, nil
	}
	if err != nil {
		return storeAddr{}, nil, fmt.Errorf("-store %s needs redis-server (hack/redis.sh installs it): %w", storeKind, err)
	}
	run := func(args ...string) (string, error) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", err
		}
		port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
		l.Close()
		dir, err := os.MkdirTemp("", "loadtool-redis-")
		if err != nil {
			return "", err
		}
		dirs = append(dirs, dir)
		if len(args) > 0 && args[0] == "sentinel" {
			conf := dir + "/sentinel.conf"
			if err := os.WriteFile(conf, []byte(args[1]), 0o600); err != nil {
				return "", err
			}
			args = []string{conf, "--sentinel"}
		}
		args = append(args, "--bind", "127.0.0.1", "--port", port, "--save", "", "--appendonly", "no",
			"--dir", dir, "--daemonize", "no", "--maxmemory-policy", "noeviction")
		cmd := exec.Command(bin, args...)
		if err := startPinned(cmd); err != nil {
			return "", err
		}
		procs = append(procs, cmd)
		addr := net.JoinHostPort("127.0.0.1", port)
		for deadline := time.Now().Add(10 * time.Second); storetest.Ping(addr, nil) != nil; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) || ctx.Err() != nil {
				return "", fmt.Errorf("redis-server on %s did not answer within 10s", addr)
			}
		}
		return addr, nil
	}
	master, err := run()
	if err != nil {
		stop()
		return storeAddr{}, nil, err
	}
	if storeKind == "redis" {
		logf("  redis-server %s on %s", redisVersion(bin), master)
		return storeAddr{Addr: master}, stop, nil
	}
	host, port, _ := net.SplitHostPort(master)
	for range 2 {
		if _, err := run("--replicaof", host, port); err != nil {
			stop()
			return storeAddr{}, nil, err
		}
	}
	conf := fmt.Sprintf("sentinel monitor ida %s %s 2\nsentinel down-after-milliseconds ida 1000\nsentinel failover-timeout ida 3000\n", host, port)
	sa := storeAddr{Master: "ida"}
	for range 3 {
		a, err := run("sentinel", conf)
		if err != nil {
			stop()
			return storeAddr{}, nil, err
		}
		sa.Sentinels = append(sa.Sentinels, a)
	}
	// The replicas in sync (WAIT counts only those), the sentinels met.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		info, err := redisInfo(master, "replication")
		if err == nil && strings.Count(info, "state=online") == 2 {
			break
		}
		if time.Now().After(deadline) {
			stop()
			return storeAddr{}, nil, fmt.Errorf("the replicas of %s did not come online within 20s: %v\n%s", master, err, info)
		}
	}
	time.Sleep(2 * time.Second)
	logf("  redis-server %s: master %s, two replicas, sentinels %s", redisVersion(bin), master, strings.Join(sa.Sentinels, ","))
	return sa, stop, nil
}

// redisInfo is INFO section, read with redis-cli.
func redisInfo(addr, section string) (string, error) {
	host, port, _ := net.SplitHostPort(addr)
	out, err := exec.Command("redis-cli", "-h", host, "-p", port, "info", section).Output()
	return string(out), err
}

func redisVersion(bin string) string {
	out, _ := exec.Command(bin, "--version").Output()
	for _, f := range strings.Fields(string(out)) {
		if v, ok := strings.CutPrefix(f, "v="); ok {
			return v
		}
	}
	return "?"
}
