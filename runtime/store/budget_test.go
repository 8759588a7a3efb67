package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime/debug"
	"testing"
	"time"
)

// A full Memory refuses new state with ErrFull and keeps what it holds;
// deleting, taking, replacing and expiry give room back.
func TestMemoryBudget(t *testing.T) {
	ctx := context.Background()
	v := make([]byte, 100)
	m := newMemory(time.Hour, 10*entryCost("k000", v)) // the sweeper stays out of the way
	defer m.Close()
	key := func(i int) string { return fmt.Sprintf("k%03d", i) }
	for i := range 10 {
		if err := m.Put(ctx, KindCode, key(i), v, time.Hour); err != nil {
			t.Fatalf("entry %d of 10: %v", i, err)
		}
	}
	if err := m.Put(ctx, KindCode, key(10), v, time.Hour); !errors.Is(err, ErrFull) {
		t.Fatalf("the eleventh entry: %v, want ErrFull", err)
	}
	if _, err := m.Remember(ctx, KindJTI, key(10), time.Hour); !errors.Is(err, ErrFull) {
		t.Fatalf("Remember when full: %v, want ErrFull", err)
	}
	for i := range 10 {
		if _, err := m.Get(ctx, KindCode, key(i)); err != nil {
			t.Fatalf("entry %d was lost to a refused write: %v", i, err)
		}
	}
	// Replacing an entry with one of the same size needs no room; a seen
	// key in Remember writes nothing.
	if err := m.Put(ctx, KindCode, key(3), v, time.Hour); err != nil {
		t.Fatalf("replacing when full: %v", err)
	}
	if err := m.Delete(ctx, KindCode, key(0)); err != nil {
		t.Fatal(err)
	}
	if fresh, err := m.Remember(ctx, KindJTI, "j", time.Hour); err != nil || !fresh {
		t.Fatalf("Remember after a delete: %v %v", fresh, err)
	}
	if fresh, err := m.Remember(ctx, KindJTI, "j", time.Hour); err != nil || fresh {
		t.Fatalf("Remember of a seen key: %v %v", fresh, err)
	}
	if _, err := m.Take(ctx, KindCode, key(1)); err != nil {
		t.Fatal(err)
	}
	if err := m.Put(ctx, KindCode, key(10), v, time.Hour); err != nil {
		t.Fatalf("after a take: %v", err)
	}
	if err := m.Put(ctx, KindCode, key(11), v, time.Hour); !errors.Is(err, ErrFull) {
		t.Fatalf("full again: %v", err)
	}

	// Expired entries anywhere are dropped to make room.
	for i := 2; i < 10; i++ {
		if err := m.Put(ctx, KindCode, key(i), v, time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(5 * time.Millisecond)
	m.lastFullSweep.Store(0)
	if err := m.Put(ctx, KindCode, key(11), v, time.Hour); err != nil {
		t.Fatalf("with eight expired entries: %v", err)
	}
	want := entryCost("j", nil) + 2*entryCost("k000", v)
	if got := m.Used(); got != want {
		t.Fatalf("used %d bytes, want %d (one jti and two codes)", got, want)
	}
}

// The default budget is half the Go memory limit, or 1 GiB without one.
func TestDefaultBudget(t *testing.T) {
	prev := debug.SetMemoryLimit(200 << 20)
	defer debug.SetMemoryLimit(prev)
	if got := defaultBudget(); got != 100<<20 {
		t.Fatalf("with a 200 MiB limit: %d", got)
	}
	debug.SetMemoryLimit(math.MaxInt64)
	if got := defaultBudget(); got != 1<<30 {
		t.Fatalf("without a limit: %d", got)
	}
}
