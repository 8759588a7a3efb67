// Package storetest is the conformance suite every store.Store must pass,
// and a helper that runs a real redis-server for tests. The same suite runs
// against Memory and Redis, so handlers may rely on exactly what it checks.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idaop/ida-operator/runtime/store"
)

// Run checks s against the Store contract. newStore must return an empty
// store each time it is called (a fresh Memory, or a Redis under a prefix
// of its own) and arrange its closing with t.Cleanup.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, store.Store)
	}{
		{"PutGet", testPutGet},
		{"Missing", testMissing},
		{"Overwrite", testOverwrite},
		{"Delete", testDelete},
		{"ValuesAreCopies", testValuesAreCopies},
		{"KindsIsolated", testKindsIsolated},
		{"TTLExpiry", testTTLExpiry},
		{"InvalidTTL", testInvalidTTL},
		{"TakeOnce", testTakeOnce},
		{"TakeExactlyOnceConcurrent", testTakeConcurrent},
		{"Remember", testRemember},
		{"RememberExactlyOnceConcurrent", testRememberConcurrent},
		{"Count", testCount},
		{"CountConcurrent", testCountConcurrent},
		{"ContextCancelled", testContextCancelled},
		{"Ping", testPing},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

const long = time.Hour

func mustPut(t *testing.T, s store.Store, kind store.Kind, key string, v []byte, ttl time.Duration) {
	t.Helper()
	if err := s.Put(t.Context(), kind, key, v, ttl); err != nil {
		t.Fatalf("Put(%s, %q): %v", kind, key, err)
	}
}

func wantValue(t *testing.T, s store.Store, kind store.Kind, key string, want []byte) {
	t.Helper()
	got, err := s.Get(t.Context(), kind, key)
	if err != nil {
		t.Fatalf("Get(%s, %q): %v, want %q", kind, key, err, want)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Get(%s, %q) = %q, want %q", kind, key, got, want)
	}
}

func wantNotFound(t *testing.T, s store.Store, kind store.Kind, key string) {
	t.Helper()
	if got, err := s.Get(t.Context(), kind, key); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get(%s, %q) = %q, %v; want ErrNotFound", kind, key, got, err)
	}
}

func testPutGet(t *testing.T, s store.Store) {
	mustPut(t, s, store.KindCode, "c1", []byte("hello"), long)
	wantValue(t, s, store.KindCode, "c1", []byte("hello"))

	// Binary values, empty values and large values survive as they are.
	bin := []byte{0, 1, 2, 0xff, '\r', '\n', 0}
	mustPut(t, s, store.KindSession, "bin", bin, long)
	wantValue(t, s, store.KindSession, "bin", bin)
	mustPut(t, s, store.KindSession, "empty", []byte{}, long)
	wantValue(t, s, store.KindSession, "empty", []byte{})
	big := bytes.Repeat([]byte("0123456789abcdef"), 64<<10/16)
	mustPut(t, s, store.KindPAR, "big", big, long)
	wantValue(t, s, store.KindPAR, "big", big)

	// Keys are opaque: separators and non-ASCII are fine.
	for _, k := range []string{"a:b:c", "with space", "ユーザー", "x/y?z=1"} {
		mustPut(t, s, store.KindGrant, k, []byte(k), long)
		wantValue(t, s, store.KindGrant, k, []byte(k))
	}
}

func testMissing(t *testing.T, s store.Store) {
	ctx := t.Context()
	wantNotFound(t, s, store.KindCode, "nope")
	if v, err := s.Take(ctx, store.KindCode, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Take(missing) = %q, %v; want ErrNotFound", v, err)
	}
	if err := s.Delete(ctx, store.KindCode, "nope"); err != nil {
		t.Fatalf("Delete(missing) = %v, want nil", err)
	}
}

func testOverwrite(t *testing.T, s store.Store) {
	mustPut(t, s, store.KindSession, "s", []byte("one"), 100*time.Millisecond)
	// The second Put replaces the value and the TTL.
	mustPut(t, s, store.KindSession, "s", []byte("two"), long)
	wantValue(t, s, store.KindSession, "s", []byte("two"))
	time.Sleep(250 * time.Millisecond)
	wantValue(t, s, store.KindSession, "s", []byte("two"))
}

func testDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustPut(t, s, store.KindRefreshToken, "r", []byte("v"), long)
	if err := s.Delete(ctx, store.KindRefreshToken, "r"); err != nil {
		t.Fatal(err)
	}
	wantNotFound(t, s, store.KindRefreshToken, "r")
	if err := s.Delete(ctx, store.KindRefreshToken, "r"); err != nil {
		t.Fatalf("second Delete = %v, want nil", err)
	}
}

func testValuesAreCopies(t *testing.T, s store.Store) {
	v := []byte("original")
	mustPut(t, s, store.KindSession, "k", v, long)
	copy(v, "CHANGED!")
	wantValue(t, s, store.KindSession, "k", []byte("original"))

	got, err := s.Get(t.Context(), store.KindSession, "k")
	if err != nil {
		t.Fatal(err)
	}
	copy(got, "CHANGED!")
	wantValue(t, s, store.KindSession, "k", []byte("original"))
}

func testKindsIsolated(t *testing.T, s store.Store) {
	ctx := t.Context()
	kinds := []store.Kind{
		store.KindCode, store.KindPAR, store.KindSession, store.KindInteraction,
		store.KindAccessToken, store.KindRefreshToken, store.KindGrant, store.KindJTI, store.KindDPoPProof,
	}
	for _, k := range kinds {
		mustPut(t, s, k, "same", []byte(k), long)
	}
	for _, k := range kinds {
		wantValue(t, s, k, "same", []byte(k))
	}
	// Taking or deleting under one kind leaves the others alone.
	if v, err := s.Take(ctx, store.KindCode, "same"); err != nil || string(v) != string(store.KindCode) {
		t.Fatalf("Take(code) = %q, %v", v, err)
	}
	if err := s.Delete(ctx, store.KindAccessToken, "same"); err != nil {
		t.Fatal(err)
	}
	wantNotFound(t, s, store.KindCode, "same")
	wantNotFound(t, s, store.KindAccessToken, "same")
	wantValue(t, s, store.KindRefreshToken, "same", []byte(store.KindRefreshToken))
	// A replay cache under one kind says nothing about another.
	if fresh, err := s.Remember(ctx, store.KindJTI, "j", long); err != nil || !fresh {
		t.Fatalf("Remember(jti) = %v, %v", fresh, err)
	}
	if fresh, err := s.Remember(ctx, store.KindDPoPProof, "j", long); err != nil || !fresh {
		t.Fatalf("Remember(dpop) after jti = %v, %v; want fresh", fresh, err)
	}
}

// ttl is short enough to keep the suite fast and long enough for a loaded
// 2-core machine to read the value back before it expires.
const ttl = 300 * time.Millisecond

func testTTLExpiry(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustPut(t, s, store.KindCode, "get", []byte("v"), ttl)
	mustPut(t, s, store.KindCode, "take", []byte("v"), ttl)
	mustPut(t, s, store.KindCode, "live", []byte("v"), long)
	if fresh, err := s.Remember(ctx, store.KindJTI, "j", ttl); err != nil || !fresh {
		t.Fatalf("Remember = %v, %v", fresh, err)
	}
	wantValue(t, s, store.KindCode, "get", []byte("v"))

	time.Sleep(ttl + 200*time.Millisecond)
	wantNotFound(t, s, store.KindCode, "get")
	if v, err := s.Take(ctx, store.KindCode, "take"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Take(expired) = %q, %v; want ErrNotFound", v, err)
	}
	wantValue(t, s, store.KindCode, "live", []byte("v"))
	// Once its entry expired, a jti may be seen again: the token it came
	// with has expired too.
	if fresh, err := s.Remember(ctx, store.KindJTI, "j", ttl); err != nil || !fresh {
		t.Fatalf("Remember after expiry = %v, %v; want fresh", fresh, err)
	}
}

func testInvalidTTL(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, d := range []time.Duration{0, -time.Second} {
		if err := s.Put(ctx, store.KindCode, "k", []byte("v"), d); !errors.Is(err, store.ErrInvalidTTL) {
			t.Errorf("Put(ttl=%v) = %v, want ErrInvalidTTL", d, err)
		}
		if _, err := s.Remember(ctx, store.KindJTI, "k", d); !errors.Is(err, store.ErrInvalidTTL) {
			t.Errorf("Remember(ttl=%v) = %v, want ErrInvalidTTL", d, err)
		}
	}
	wantNotFound(t, s, store.KindCode, "k")
}

func testTakeOnce(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustPut(t, s, store.KindCode, "c", []byte("grant-1"), long)
	v, err := s.Take(ctx, store.KindCode, "c")
	if err != nil || string(v) != "grant-1" {
		t.Fatalf("first Take = %q, %v", v, err)
	}
	if v, err := s.Take(ctx, store.KindCode, "c"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second Take = %q, %v; want ErrNotFound", v, err)
	}
	wantNotFound(t, s, store.KindCode, "c")
}

// racers is how many goroutines race for one code: a leaked code replayed
// by a botnet, in miniature.
const racers = 50

func testTakeConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	for round := range 20 {
		key := "code-" + strconv.Itoa(round)
		mustPut(t, s, store.KindCode, key, []byte(key), long)
		var wins, misses atomic.Int32
		var start, done sync.WaitGroup
		start.Add(1)
		for range racers {
			done.Go(func() {
				start.Wait()
				v, err := s.Take(ctx, store.KindCode, key)
				switch {
				case err == nil && string(v) == key:
					wins.Add(1)
				case errors.Is(err, store.ErrNotFound):
					misses.Add(1)
				default:
					t.Errorf("Take = %q, %v", v, err)
				}
			})
		}
		start.Done()
		done.Wait()
		if wins.Load() != 1 || misses.Load() != racers-1 {
			t.Fatalf("round %d: %d winners and %d misses, want 1 and %d", round, wins.Load(), misses.Load(), racers-1)
		}
	}
}

func testRemember(t *testing.T, s store.Store) {
	ctx := t.Context()
	fresh, err := s.Remember(ctx, store.KindJTI, "jti-1", long)
	if err != nil || !fresh {
		t.Fatalf("first Remember = %v, %v; want fresh", fresh, err)
	}
	for range 3 {
		if fresh, err := s.Remember(ctx, store.KindJTI, "jti-1", long); err != nil || fresh {
			t.Fatalf("replayed Remember = %v, %v; want not fresh", fresh, err)
		}
	}
	if fresh, err := s.Remember(ctx, store.KindJTI, "jti-2", long); err != nil || !fresh {
		t.Fatalf("other key = %v, %v; want fresh", fresh, err)
	}
	// A replay does not extend the first entry's life.
	if fresh, _ := s.Remember(ctx, store.KindDPoPProof, "p", ttl); !fresh {
		t.Fatal("first DPoP Remember not fresh")
	}
	if fresh, _ := s.Remember(ctx, store.KindDPoPProof, "p", long); fresh {
		t.Fatal("replayed DPoP Remember fresh")
	}
	time.Sleep(ttl + 200*time.Millisecond)
	if fresh, err := s.Remember(ctx, store.KindDPoPProof, "p", long); err != nil || !fresh {
		t.Fatalf("Remember after the first entry expired = %v, %v; want fresh", fresh, err)
	}
	// Remember shares the key space of Put: a live value counts as seen.
	mustPut(t, s, store.KindJTI, "put", []byte("v"), long)
	if fresh, err := s.Remember(ctx, store.KindJTI, "put", long); err != nil || fresh {
		t.Fatalf("Remember over Put = %v, %v; want not fresh", fresh, err)
	}
}

func testCount(t *testing.T, s store.Store) {
	ctx := t.Context()
	for want := int64(1); want <= 3; want++ {
		if n, err := s.Count(ctx, store.KindThrottle, "c", ttl); err != nil || n != want {
			t.Fatalf("Count = %d, %v; want %d", n, err, want)
		}
	}
	wantValue(t, s, store.KindThrottle, "c", []byte("3"))
	if n, err := s.Count(ctx, store.KindThrottle, "other", long); err != nil || n != 1 {
		t.Fatalf("another counter = %d, %v; want 1", n, err)
	}
	// A fixed window: counting does not extend the first count's ttl.
	time.Sleep(ttl + 200*time.Millisecond)
	if n, err := s.Count(ctx, store.KindThrottle, "c", ttl); err != nil || n != 1 {
		t.Fatalf("Count after the window = %d, %v; want 1", n, err)
	}
	if _, err := s.Count(ctx, store.KindThrottle, "c", 0); !errors.Is(err, store.ErrInvalidTTL) {
		t.Fatalf("Count with ttl 0 = %v, want ErrInvalidTTL", err)
	}
}

func testCountConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	const racers = 50
	var wg sync.WaitGroup
	seen := make([]atomic.Bool, racers+1)
	for range racers {
		wg.Go(func() {
			n, err := s.Count(ctx, store.KindThrottle, "race", long)
			if err != nil || n < 1 || n > racers || seen[n].Swap(true) {
				t.Errorf("Count = %d, %v: out of range or returned twice", n, err)
			}
		})
	}
	wg.Wait()
}

func testRememberConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	for round := range 20 {
		key := "jti-" + strconv.Itoa(round)
		var fresh atomic.Int32
		var start, done sync.WaitGroup
		start.Add(1)
		for range racers {
			done.Go(func() {
				start.Wait()
				ok, err := s.Remember(ctx, store.KindJTI, key, long)
				if err != nil {
					t.Errorf("Remember: %v", err)
				}
				if ok {
					fresh.Add(1)
				}
			})
		}
		start.Done()
		done.Wait()
		if fresh.Load() != 1 {
			t.Fatalf("round %d: %d fresh answers, want exactly 1", round, fresh.Load())
		}
	}
}

func testContextCancelled(t *testing.T, s store.Store) {
	mustPut(t, s, store.KindSession, "k", []byte("v"), long)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	expired, cancel2 := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel2()
	for _, c := range []struct {
		ctx  context.Context
		want error
	}{{ctx, context.Canceled}, {expired, context.DeadlineExceeded}} {
		ops := map[string]error{
			"Put":    s.Put(c.ctx, store.KindSession, "other", []byte("v"), long),
			"Delete": s.Delete(c.ctx, store.KindSession, "k"),
			"Ping":   s.Ping(c.ctx),
		}
		_, ops["Get"] = s.Get(c.ctx, store.KindSession, "k")
		_, ops["Take"] = s.Take(c.ctx, store.KindSession, "k")
		_, ops["Remember"] = s.Remember(c.ctx, store.KindJTI, "j", long)
		for op, err := range ops {
			if !errors.Is(err, c.want) {
				t.Errorf("%s with a done context = %v, want %v", op, err, c.want)
			}
		}
	}
	// Nothing happened: the value is still there and the others are not.
	wantValue(t, s, store.KindSession, "k", []byte("v"))
	wantNotFound(t, s, store.KindSession, "other")
	if fresh, err := s.Remember(t.Context(), store.KindJTI, "j", long); err != nil || !fresh {
		t.Fatalf("Remember after cancelled ones = %v, %v; want fresh", fresh, err)
	}
}

func testPing(t *testing.T, s store.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

// Bench measures the code flow's store traffic: Put a code, Take it, and
// a Remember for the client assertion's jti. It runs b.RunParallel, so
// -cpu shows how the store scales.
func Bench(b *testing.B, s store.Store) {
	ctx := context.Background()
	value := bytes.Repeat([]byte("x"), 512) // about a serialized grant
	b.Run("PutTake", func(b *testing.B) {
		var g atomic.Int64
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			// A counter per goroutine: a shared one would measure its own
			// cache line bouncing between cores, not the store.
			prefix := "bench-" + strconv.FormatInt(g.Add(1), 36) + "-"
			for i := 0; pb.Next(); i++ {
				key := prefix + strconv.Itoa(i)
				if err := s.Put(ctx, store.KindCode, key, value, time.Minute); err != nil {
					b.Error(err)
					return
				}
				if _, err := s.Take(ctx, store.KindCode, key); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("Remember", func(b *testing.B) {
		var g atomic.Int64
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			prefix := "jti-" + strconv.FormatInt(g.Add(1), 36) + "-"
			for i := 0; pb.Next(); i++ {
				key := prefix + strconv.Itoa(i)
				if _, err := s.Remember(ctx, store.KindJTI, key, time.Minute); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
