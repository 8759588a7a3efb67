package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// RedisOptions says how to reach the shared Redis.
type RedisOptions struct {
	// Address is host:port.
	Address  string
	Password string
	// Prefix goes before every key, so several providers (or tests) can
	// share one Redis database.
	Prefix string
}

// Redis is the store shared by several replicas. Each operation is one
// Redis command, atomic on the server: GETDEL for Take, SET NX PX for
// Remember. Keys are Prefix + kind + ":" + key. It needs Redis 6.2 or newer.
//
// Every method checks ctx before it sends anything, so a request that is
// already cancelled changes nothing.
type Redis struct {
	c      *redis.Client
	prefix string
}

var _ Store = (*Redis)(nil)

// NewRedis connects and pings, so a wrong address or password fails at
// start with a clear error rather than on the first login.
func NewRedis(ctx context.Context, opts RedisOptions) (*Redis, error) {
	if opts.Address == "" {
		return nil, errors.New("store: redis address is empty")
	}
	c := redis.NewClient(&redis.Options{
		Addr:     opts.Address,
		Password: opts.Password,
		// Deadlines of incoming requests bound the Redis round trips too.
		ContextTimeoutEnabled: true,
		// CLIENT SETINFO and maintenance notifications are extra round
		// trips on every new connection that plain Redis 7.0 rejects.
		DisableIdentity:          true,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	})
	r := &Redis{c: c, prefix: opts.Prefix}
	if err := r.Ping(ctx); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("store: redis at %s: %w", opts.Address, err)
	}
	return r, nil
}

func (r *Redis) key(kind Kind, key string) string {
	return r.prefix + string(kind) + ":" + key
}

// milliseconds rounds up, so a TTL below 1ms still expires rather than
// being refused by Redis.
func milliseconds(ttl time.Duration) string {
	return strconv.FormatInt(int64((ttl+time.Millisecond-1)/time.Millisecond), 10)
}

// Put is SET key value PX ttl.
func (r *Redis) Put(ctx context.Context, kind Kind, key string, value []byte, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if ttl <= 0 {
		return ErrInvalidTTL
	}
	if err := r.c.Do(ctx, "set", r.key(kind, key), value, "px", milliseconds(ttl)).Err(); err != nil {
		return fmt.Errorf("store: redis set: %w", err)
	}
	return nil
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
	v, err := r.c.GetDel(ctx, r.key(kind, key)).Bytes()
	return v, readErr("getdel", err)
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
	if err := r.c.Del(ctx, r.key(kind, key)).Err(); err != nil {
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
	err := r.c.Do(ctx, "set", r.key(kind, key), "", "nx", "px", milliseconds(ttl)).Err()
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, redis.Nil):
		return false, nil
	default:
		return false, fmt.Errorf("store: redis set nx: %w", err)
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
		return 0, fmt.Errorf("store: redis count: %w", err)
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

// Close closes the connection pool.
func (r *Redis) Close() error { return r.c.Close() }
