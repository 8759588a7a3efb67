package store

import (
	"context"
	"hash/maphash"
	"sync"
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

// NewMemory returns an empty store with its sweeper running.
func NewMemory() *Memory { return newMemory(defaultSweepCycle) }

func newMemory(cycle time.Duration) *Memory {
	m := &Memory{
		seed: maphash.MakeSeed(),
		base: time.Now(),
		stop: make(chan struct{}),
		done: make(chan struct{}),
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
	s := m.shard(key)
	s.mu.Lock()
	s.m[entryKey{kind, key}] = e
	s.mu.Unlock()
	return nil
}

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
	k := entryKey{kind, key}
	s := m.shard(key)
	s.mu.Lock()
	e, ok := s.m[k]
	if ok {
		delete(s.m, k)
	}
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
	delete(s.m, entryKey{kind, key})
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
	s.mu.Lock()
	defer s.mu.Unlock()
	now := m.now()
	if e, ok := s.m[k]; ok && e.expires > now {
		return false, nil
	}
	s.m[k] = entry{value: []byte{}, expires: now + int64(ttl)}
	return true, nil
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
	now := m.now()
	for k, e := range s.m {
		if e.expires <= now {
			delete(s.m, k)
		}
	}
}
