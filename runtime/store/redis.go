package store

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// RedisOptions says how to reach the shared Redis: one server at
// Address, a master found through Sentinel, or a Cluster. Exactly one of
// the three is set.
type RedisOptions struct {
	// Address is host:port of a single Redis.
	Address string
	// Sentinel finds the master, and follows it across failovers, through
	// Redis Sentinel.
	Sentinel *RedisSentinel
	// ClusterAddresses are seed nodes (host:port) of a Redis Cluster.
	ClusterAddresses []string
	// ReplicaAcks, when positive, makes every write but Count wait until
	// that many replicas have it (WAIT), so that a failover soon after
	// loses no code, token or replay marker; a write that is not
	// acknowledged within ReplicaAckTimeout fails. Zero means Redis'
	// asynchronous replication: a failover may lose the last writes.
	ReplicaAcks int
	// ReplicaAckTimeout bounds that wait; zero means 100ms.
	ReplicaAckTimeout time.Duration
	// Username is the ACL user; empty means Redis' default user.
	Username string
	Password string
	// TLS, when set, is used for every connection (NewRedisTLSConfig
	// builds one); nil means plain TCP.
	TLS *tls.Config
	// Prefix goes before every key, so several providers (or tests) can
	// share one Redis database.
	Prefix string
	// MaxMemory, when positive, is the budget in bytes: while Redis'
	// used_memory (INFO memory) is over it, Put refuses with ErrFull.
	// Zero means no budget of our own.
	MaxMemory int64
	// MemoryCheckEvery is how often used_memory is read; zero means every
	// second.
	MemoryCheckEvery time.Duration
}

// RedisSentinel names a master monitored by Sentinel.
type RedisSentinel struct {
	// MasterName is the name the sentinels monitor the master under.
	MasterName string
	// Addresses are sentinels (host:port); the client asks them in turn.
	Addresses []string
	// Username and Password authenticate to the sentinels themselves
	// (the data nodes use RedisOptions' own).
	Username, Password string
}

// Redis is the store shared by several replicas. Each operation is one
// Redis command, atomic on the server: GETDEL for Take, SET NX PX for
// Remember. Keys are Prefix + kind + ":" + key. It needs Redis 6.2 or newer.
//
// Every method checks ctx before it sends anything, so a request that is
// already cancelled changes nothing.
//
// With a MaxMemory budget, only Put refuses when Redis is over it: Remember
// and Count (replay caches, counters) and Take, Get and Delete keep
// working, so replay protection and live grants are never dropped for
// want of room. used_memory is read in the background, never per request.
// An OOM error from Redis' own maxmemory (under the noeviction policy)
// is ErrFull too, from any write.
type Redis struct {
	c      redis.UniversalClient
	prefix string
	// where names the server for errors: an address, a master or a cluster.
	where string

	acks       int
	ackTimeout time.Duration

	maxMemory int64
	// over is whether the last reading of used_memory was over maxMemory.
	over      atomic.Bool
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

var _ Store = (*Redis)(nil)

// NewRedis connects and pings, so a wrong address or password fails at
// start with a clear error rather than on the first login.
func NewRedis(ctx context.Context, opts RedisOptions) (*Redis, error) {
	c, where, err := newRedisClient(opts)
	if err != nil {
		return nil, err
	}
	r := &Redis{c: c, prefix: opts.Prefix, where: where, maxMemory: opts.MaxMemory,
		acks: opts.ReplicaAcks, ackTimeout: cmp.Or(opts.ReplicaAckTimeout, 100*time.Millisecond)}
	if err := r.Ping(ctx); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("store: redis at %s: %w%s", where, err, connectHint(err, opts.TLS != nil))
	}
	if r.maxMemory > 0 {
		// A user without INFO would leave the budget blind: fail at start.
		if err := r.checkMemory(ctx); err != nil {
			_ = c.Close()
			hint := ""
			if strings.HasPrefix(err.Error(), "NOPERM") {
				hint = " (the ACL user needs +info)"
			}
			return nil, fmt.Errorf("store: redis at %s: reading used_memory for the memory budget: %w%s", where, err, hint)
		}
		every := opts.MemoryCheckEvery
		if every <= 0 {
			every = time.Second
		}
		r.stop, r.done = make(chan struct{}), make(chan struct{})
		go r.watchMemory(every)
	}
	return r, nil
}

// newRedisClient is go-redis' client for the topology opts name: a
// single server, Sentinel's failover client or the cluster client. Each
// follows its topology itself (a promoted replica, moved slots); the
// store only sends single-key commands, so any of them can serve it.
func newRedisClient(opts RedisOptions) (redis.UniversalClient, string, error) {
	set := 0
	for _, b := range []bool{opts.Address != "", opts.Sentinel != nil, len(opts.ClusterAddresses) > 0} {
		if b {
			set++
		}
	}
	if set != 1 {
		return nil, "", errors.New("store: set exactly one of a redis address, a sentinel master or cluster addresses")
	}
	if opts.ReplicaAcks < 0 {
		return nil, "", errors.New("store: redis replica acknowledgements must not be negative")
	}
	// Deadlines of incoming requests bound the Redis round trips too.
	// CLIENT SETINFO and maintenance notifications are extra round trips
	// on every new connection that plain Redis 7.0 rejects.
	noMaint := &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	switch {
	case opts.Sentinel != nil:
		s := opts.Sentinel
		if s.MasterName == "" || len(s.Addresses) == 0 {
			return nil, "", errors.New("store: a sentinel master needs its name and at least one sentinel address")
		}
		return redis.NewFailoverClient(&redis.FailoverOptions{
			MasterName: s.MasterName, SentinelAddrs: s.Addresses,
			SentinelUsername: s.Username, SentinelPassword: s.Password,
			Username: opts.Username, Password: opts.Password, TLSConfig: opts.TLS,
			ContextTimeoutEnabled: true, DisableIdentity: true, // go-redis turns maintenance notifications off here
		}), "master " + s.MasterName + " of sentinels " + strings.Join(s.Addresses, ","), nil
	case len(opts.ClusterAddresses) > 0:
		return redis.NewClusterClient(&redis.ClusterOptions{
			Addrs: opts.ClusterAddresses, Username: opts.Username, Password: opts.Password, TLSConfig: opts.TLS,
			ContextTimeoutEnabled: true, DisableIdentity: true, MaintNotificationsConfig: noMaint,
		}), "cluster " + strings.Join(opts.ClusterAddresses, ","), nil
	}
	return redis.NewClient(&redis.Options{
		Addr: opts.Address, Username: opts.Username, Password: opts.Password, TLSConfig: opts.TLS,
		ContextTimeoutEnabled: true, DisableIdentity: true, MaintNotificationsConfig: noMaint,
	}), opts.Address, nil
}

// connectHint names the setting to look at for the failures people meet
// when they first configure TLS or an ACL user.
func connectHint(err error, overTLS bool) string {
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	msg := err.Error()
	switch {
	case errors.As(err, &unknownCA):
		return " (the server's certificate is not signed by the configured CA bundle)"
	case errors.As(err, &hostname):
		return " (the server's certificate does not name this host: set the TLS server name)"
	case strings.Contains(msg, "certificate required"):
		return " (the server requires a client certificate)"
	case strings.Contains(msg, "handshake failure"):
		return " (the server refused the TLS handshake: does it require a client certificate?)"
	case !overTLS && errors.Is(err, io.EOF):
		return " (the server closed the connection: does it expect TLS?)"
	case strings.HasPrefix(msg, "WRONGPASS"):
		return " (check the ACL username and the password Secret)"
	case strings.HasPrefix(msg, "NOAUTH"):
		return " (the server requires a password)"
	}
	return ""
}

// watchMemory reads used_memory every interval until Close. A failed
// reading keeps the last verdict: if Redis is down, writes fail anyway.
func (r *Redis) watchMemory(every time.Duration) {
	defer close(r.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), max(every, time.Second))
			_ = r.checkMemory(ctx)
			cancel()
		}
	}
}

// checkMemory reads used_memory; on a cluster every master's, and the
// budget holds for each (keys spread evenly over the slots).
func (r *Redis) checkMemory(ctx context.Context) error {
	read := func(ctx context.Context, c *redis.Client) (int64, error) {
		info, err := c.Info(ctx, "memory").Result()
		if err != nil {
			return 0, err
		}
		return usedMemory(info)
	}
	var most atomic.Int64
	var err error
	switch c := r.c.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
			used, err := read(ctx, m)
			for old := most.Load(); err == nil && used > old && !most.CompareAndSwap(old, used); old = most.Load() {
			}
			return err
		})
	case *redis.Client:
		var used int64
		used, err = read(ctx, c)
		most.Store(used)
	}
	if err != nil {
		return err
	}
	r.over.Store(most.Load() > r.maxMemory)
	return nil
}

// usedMemory reads the used_memory line of INFO memory.
func usedMemory(info string) (int64, error) {
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return 0, fmt.Errorf("INFO memory: used_memory %q: %w", v, err)
			}
			return n, nil
		}
	}
	return 0, errors.New("INFO memory has no used_memory")
}

// writeErr wraps a failed write; Redis' OOM answer (its maxmemory reached
// under noeviction) is ErrFull, so handlers answer temporarily_unavailable.
func writeErr(cmd string, err error) error {
	if strings.HasPrefix(err.Error(), "OOM ") {
		return fmt.Errorf("store: redis %s: %w: %w", cmd, ErrFull, err)
	}
	return fmt.Errorf("store: redis %s: %w", cmd, err)
}

func (r *Redis) key(kind Kind, key string) string {
	return r.prefix + string(kind) + ":" + key
}

// milliseconds rounds up, so a TTL below 1ms still expires rather than
// being refused by Redis.
func milliseconds(ttl time.Duration) string {
	return strconv.FormatInt(int64((ttl+time.Millisecond-1)/time.Millisecond), 10)
}

// Put is SET key value PX ttl, refused with ErrFull while Redis is over
// the budget.
func (r *Redis) Put(ctx context.Context, kind Kind, key string, value []byte, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if ttl <= 0 {
		return ErrInvalidTTL
	}
	if r.maxMemory > 0 && r.over.Load() {
		return fmt.Errorf("store: redis is over the memory budget of %d bytes: %w", r.maxMemory, ErrFull)
	}
	if err := r.write(ctx, "set", r.key(kind, key), value, "px", milliseconds(ttl)).Err(); err != nil {
		return writeErr("set", err)
	}
	return nil
}

// write sends one write command whose first argument after the name is
// its key. With ReplicaAcks it is followed by WAIT on the same connection
// (a pipeline to the key's master), and fails unless enough replicas have
// acknowledged it: Redis replicates asynchronously, and without WAIT the
// last writes before a failover may be lost (a redeemed code usable again,
// a session gone).
func (r *Redis) write(ctx context.Context, args ...any) *redis.Cmd {
	if r.acks == 0 {
		return r.c.Do(ctx, args...)
	}
	var node redis.Cmdable = r.c
	if cc, ok := r.c.(*redis.ClusterClient); ok {
		m, err := cc.MasterForKey(ctx, args[1].(string))
		if err != nil {
			cmd := redis.NewCmd(ctx, args...)
			cmd.SetErr(err)
			return cmd
		}
		node = m
	}
	pipe := node.Pipeline()
	cmd := pipe.Do(ctx, args...)
	wait := pipe.Do(ctx, "wait", r.acks, r.ackTimeout.Milliseconds())
	_, _ = pipe.Exec(ctx) // each command keeps its own error
	switch n, err := wait.Int64(); {
	case cmd.Err() != nil && !errors.Is(cmd.Err(), redis.Nil):
	case err != nil:
		cmd.SetErr(fmt.Errorf("wait for replicas: %w", err))
	case n < int64(r.acks):
		cmd.SetErr(fmt.Errorf("%w: %d of %d replicas acknowledged the write within %s", ErrUnreplicated, n, r.acks, r.ackTimeout))
	}
	return cmd
}

// Get is GET; Redis itself never returns an expired key.
func (r *Redis) Get(ctx context.Context, kind Kind, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	v, err := r.c.Get(ctx, r.key(kind, key)).Bytes()
	return v, readErr("get", err)
}

// Take is GETDEL: one command, so exactly one of concurrent callers gets
// the value even across replicas.
func (r *Redis) Take(ctx context.Context, kind Kind, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	v, err := r.write(ctx, "getdel", r.key(kind, key)).Text()
	if err != nil {
		return nil, readErr("getdel", err)
	}
	return []byte(v), nil
}

func readErr(cmd string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, redis.Nil):
		return ErrNotFound
	default:
		return fmt.Errorf("store: redis %s: %w", cmd, err)
	}
}

// Delete is DEL.
func (r *Redis) Delete(ctx context.Context, kind Kind, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := r.write(ctx, "del", r.key(kind, key)).Err(); err != nil {
		return fmt.Errorf("store: redis del: %w", err)
	}
	return nil
}

// Remember is SET key "" NX PX ttl: the reply says whether the key was set.
func (r *Redis) Remember(ctx context.Context, kind Kind, key string, ttl time.Duration) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if ttl <= 0 {
		return false, ErrInvalidTTL
	}
	err := r.write(ctx, "set", r.key(kind, key), "", "nx", "px", milliseconds(ttl)).Err()
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, redis.Nil):
		return false, nil
	default:
		return false, writeErr("set nx", err)
	}
}

// countScript is INCR with the ttl set by the first count only, atomic in
// Redis.
var countScript = redis.NewScript(`local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`)

// Count runs countScript.
func (r *Redis) Count(ctx context.Context, kind Kind, key string, ttl time.Duration) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if ttl <= 0 {
		return 0, ErrInvalidTTL
	}
	n, err := countScript.Run(ctx, r.c, []string{r.key(kind, key)}, milliseconds(ttl)).Int64()
	if err != nil {
		return 0, writeErr("count", err)
	}
	return n, nil
}

// Ping is PING.
func (r *Redis) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return r.c.Ping(ctx).Err()
}

// Close stops the memory watch and closes the connection pool. It is safe
// to call more than once.
func (r *Redis) Close() error {
	var err error
	r.closeOnce.Do(func() {
		if r.stop != nil {
			close(r.stop)
			<-r.done
		}
		err = r.c.Close()
	})
	return err
}
