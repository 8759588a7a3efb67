package store

import (
	"context"
	"strconv"
	"testing"
	"time"
	"unsafe"
)

// TestMemorySweepBoundsMemory: entries that nobody reads again still leave,
// so a flood of abandoned authorization requests cannot grow the heap.
func TestMemorySweepBoundsMemory(t *testing.T) {
	m := newMemory(64*time.Millisecond, 1<<30)
	defer m.Close()
	ctx := context.Background()
	for i := range 10000 {
		// Two seconds: long enough that a loaded machine still counts
		// them all before they expire, short for the test.
		if err := m.Put(ctx, KindPAR, strconv.Itoa(i), []byte("request"), 2*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Put(ctx, KindSession, "live", []byte("v"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if n := m.Len(); n != 10001 {
		t.Fatalf("Len = %d before expiry, want 10001", n)
	}
	deadline := time.Now().Add(10 * time.Second)
	for m.Len() > 1 {
		if time.Now().After(deadline) {
			t.Fatalf("Len = %d after 10s, want 1: the sweeper left expired entries", m.Len())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := m.Get(ctx, KindSession, "live"); err != nil {
		t.Fatalf("the sweeper removed a live entry: %v", err)
	}
}

func TestMemoryCloseIdempotent(t *testing.T) {
	m := NewMemory()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestShardFillsCacheLine(t *testing.T) {
	if n := unsafe.Sizeof(shard{}); n != 64 {
		t.Fatalf("shard is %d bytes, want 64", n)
	}
}
