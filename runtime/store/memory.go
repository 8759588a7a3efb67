package store

import (
	"context"
	"hash/maphash"
	"math"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// shardCount spreads keys over independent locks, so concurrent requests on
// different keys rarely wait for each other.
const shardCount = 64

// defaultSweepCycle is how long one pass of the sweeper over every shard
// takes. Reads check expiry themselves; the sweeper only returns memory,
// so memory stays bounded by the live entries plus one cycle of expired
// ones, at a cost of one shard's scan per tick.
const defaultSweepCycle = 8 * time.Second

// Memory is the single-replica store: a sharded map with TTLs, safe for
// concurrent use. Close stops its sweeper.
type Memory struct {
	shards [shardCount]shard
	seed   maphash.Seed
	// budget bounds used, the estimated bytes of the entries held; a
	// soft bound: concurrent writers may pass it by an entry each.
	budget int64
	used   atomic.Int64
	// lastFullSweep is when a full store last swept every shard (in
	// nanoseconds since base).
	lastFullSweep atomic.Int64
	// base anchors expiry times to the monotonic clock, so a wall clock
	// step never expires or revives entries.
	base      time.Time
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

type shard struct {
	mu sync.Mutex
	m  map[entryKey]entry
	// The padding fills the 64-byte cache line, so two cores working on
	// neighbouring shards do not invalidate each other's line.
	_ [64 - 16]byte
}

type entryKey struct {
	kind Kind
	key  string
}

type entry struct {
	value []byte
	// expires is in nanoseconds since Memory.base.
	expires int64
}

var _ Local = (*Memory)(nil)

// Local marks Memory as a Local store: its values stay in this process.
func (m *Memory) Local() {}

// NewMemory returns an empty store with its sweeper running and the
// default budget: half the Go memory limit (GOMEMLIMIT, which the operator
// sets from the container's memory limit), or 1 GiB without one.
func NewMemory() *Memory { return newMemory(defaultSweepCycle, defaultBudget()) }

// NewMemoryWithBudget is NewMemory holding at most about maxBytes of
// entries (keys, values and an estimate of the map's own cost).
func NewMemoryWithBudget(maxBytes int64) *Memory { return newMemory(defaultSweepCycle, maxBytes) }

func defaultBudget() int64 {
	if limit := debug.SetMemoryLimit(-1); limit < math.MaxInt64 {
		return limit / 2
	}
	return 1 << 30
}

// entryOverhead estimates what an entry costs besides its key and value
// bytes: the map slot, the key's and the value's headers, allocation
// rounding.
const entryOverhead = 128

func entryCost(key string, value []byte) int64 {
	return int64(len(key) + len(value) + entryOverhead)
}

func newMemory(cycle time.Duration, budget int64) *Memory {
	m := &Memory{
		budget: budget,
		seed:   maphash.MakeSeed(),
		base:   time.Now(),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	for i := range m.shards {
		m.shards[i].m = map[entryKey]entry{}
	}
	go m.sweep(max(cycle/shardCount, time.Millisecond))
	return m
}

func (m *Memory) now() int64 { return int64(time.Since(m.base)) }

func (m *Memory) shard(key string) *shard {
	return &m.shards[maphash.String(m.seed, key)%shardCount]
}

// Put stores a copy of value, so the caller may reuse its buffer.
func (m *Memory) Put(ctx context.Context, kind Kind, key string, value []byte, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if ttl <= 0 {
		return ErrInvalidTTL
	}
	e := entry{value: append(make([]byte, 0, len(value)), value...), expires: m.now() + int64(ttl)}
	k := entryKey{kind, key}
	s := m.shard(key)
	return m.withRoom(s, func() (bool, error) {
		delta := entryCost(key, value)
		if old, ok := s.m[k]; ok {
			delta -= entryCost(key, old.value)
		}
		if !m.reserve(delta) {
			return false, nil
		}
		s.m[k] = e
		return true, nil
	})
}

// withRoom runs write with s locked; write reports false when the budget
// has no room for it. Then every shard's expired entries are dropped (at
// most once per fullSweepEvery, so a full store under load is not swept
// on every request) and write is tried once more before ErrFull.
func (m *Memory) withRoom(s *shard, write func() (bool, error)) error {
	for attempt := 0; ; attempt++ {
		s.mu.Lock()
		done, err := write()
		s.mu.Unlock()
		if done || err != nil {
			return err
		}
		if attempt > 0 || !m.sweepAllOnce() {
			return ErrFull
		}
	}
}

// fullSweepEvery spaces out the sweeps a full store triggers.
const fullSweepEvery = 100 * time.Millisecond

// sweepAllOnce drops every shard's expired entries unless another full
// sweep ran in the last fullSweepEvery; it reports whether it swept.
func (m *Memory) sweepAllOnce() bool {
	last := m.lastFullSweep.Load()
	now := m.now()
	if now-last < int64(fullSweepEvery) && last != 0 || !m.lastFullSweep.CompareAndSwap(last, now) {
		return false
	}
	for i := range m.shards {
		m.sweepShard(&m.shards[i])
	}
	return true
}

// reserve accounts delta more bytes if the budget allows.
func (m *Memory) reserve(delta int64) bool {
	if delta > 0 && m.used.Load()+delta > m.budget {
		return false
	}
	m.used.Add(delta)
	return true
}

// dropExpired removes s's expired entries; s's lock is held.
func (m *Memory) dropExpired(s *shard) {
	now := m.now()
	for k, e := range s.m {
		if e.expires <= now {
			delete(s.m, k)
			m.used.Add(-entryCost(k.key, e.value))
		}
	}
}

// remove deletes k from s (its lock held) and returns what it held.
func (m *Memory) remove(s *shard, k entryKey) (entry, bool) {
	e, ok := s.m[k]
	if ok {
		delete(s.m, k)
		m.used.Add(-entryCost(k.key, e.value))
	}
	return e, ok
}

// Used is the estimated bytes of the entries held (expired ones not yet
// dropped included), for metrics and tests.
func (m *Memory) Used() int64 { return m.used.Load() }

// Budget is the most Used may reach.
func (m *Memory) Budget() int64 { return m.budget }

// Get returns a copy of the value, so the caller cannot change the store.
func (m *Memory) Get(ctx context.Context, kind Kind, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := m.shard(key)
	s.mu.Lock()
	e, ok := s.m[entryKey{kind, key}]
	s.mu.Unlock()
	if !ok || e.expires <= m.now() {
		return nil, ErrNotFound
	}
	return append(make([]byte, 0, len(e.value)), e.value...), nil
}

// Take hands out the stored slice itself: once deleted, nobody else holds it.
func (m *Memory) Take(ctx context.Context, kind Kind, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := m.shard(key)
	s.mu.Lock()
	e, ok := m.remove(s, entryKey{kind, key})
	s.mu.Unlock()
	if !ok || e.expires <= m.now() {
		return nil, ErrNotFound
	}
	return e.value, nil
}

// Delete removes the key.
func (m *Memory) Delete(ctx context.Context, kind Kind, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s := m.shard(key)
	s.mu.Lock()
	m.remove(s, entryKey{kind, key})
	s.mu.Unlock()
	return nil
}

// Remember records the key with an empty value unless a live entry has it.
func (m *Memory) Remember(ctx context.Context, kind Kind, key string, ttl time.Duration) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if ttl <= 0 {
		return false, ErrInvalidTTL
	}
	k := entryKey{kind, key}
	s := m.shard(key)
	fresh := false
	err := m.withRoom(s, func() (bool, error) {
		now := m.now()
		delta := entryCost(key, nil)
		if e, ok := s.m[k]; ok {
			if e.expires > now {
				return true, nil // seen: not fresh, nothing written
			}
			delta -= entryCost(key, e.value)
		}
		if !m.reserve(delta) {
			return false, nil
		}
		s.m[k] = entry{value: []byte{}, expires: now + int64(ttl)}
		fresh = true
		return true, nil
	})
	return fresh, err
}

// Count adds one to the counter, kept as its decimal value.
func (m *Memory) Count(ctx context.Context, kind Kind, key string, ttl time.Duration) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if ttl <= 0 {
		return 0, ErrInvalidTTL
	}
	k := entryKey{kind, key}
	s := m.shard(key)
	var n int64
	err := m.withRoom(s, func() (bool, error) {
		now := m.now()
		e, ok := s.m[k]
		if !ok || e.expires <= now {
			e = entry{expires: now + int64(ttl)}
		}
		n, _ = strconv.ParseInt(string(e.value), 10, 64)
		n++
		value := strconv.AppendInt(nil, n, 10)
		delta := entryCost(key, value)
		if old, ok := s.m[k]; ok {
			delta -= entryCost(key, old.value)
		}
		if !m.reserve(delta) {
			return false, nil
		}
		e.value = value
		s.m[k] = e
		return true, nil
	})
	return n, err
}

// Ping always succeeds unless ctx is done: memory is always there.
func (m *Memory) Ping(ctx context.Context) error { return ctx.Err() }

// Close stops the sweeper; the entries stay readable. It is safe to call
// more than once.
func (m *Memory) Close() error {
	m.closeOnce.Do(func() {
		close(m.stop)
		<-m.done
	})
	return nil
}

// Len counts the entries held, expired ones not yet swept included; it is
// for metrics and tests.
func (m *Memory) Len() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		n += len(s.m)
		s.mu.Unlock()
	}
	return n
}

// sweep removes expired entries, one shard per tick, so no lock is held
// for long and a full pass costs little.
func (m *Memory) sweep(every time.Duration) {
	defer close(m.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for i := 0; ; i = (i + 1) % shardCount {
		select {
		case <-m.stop:
			return
		case <-t.C:
		}
		m.sweepShard(&m.shards[i])
	}
}

func (m *Memory) sweepShard(s *shard) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m.dropExpired(s)
}
