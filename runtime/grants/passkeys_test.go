package grants

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idaop/ida-operator/runtime/store"
)

// TestPasskeyRecords: a user's sealed passkeys and each credential's
// owner are stored for every replica (memory and a real Redis), removed
// on request, and a challenge is answered once, of concurrent answers
// exactly one.
func TestPasskeyRecords(t *testing.T) {
	backends(t, func(t *testing.T, g *Store, _ store.Store) {
		ctx := t.Context()
		if _, err := g.Passkeys(ctx, "alice"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("no passkeys yet: %v", err)
		}
		if err := g.PutPasskeys(ctx, "alice", []byte("sealed-a"), time.Hour); err != nil {
			t.Fatal(err)
		}
		if err := g.PutPasskeyOwner(ctx, []byte{1, 2, 3}, []byte("sealed-owner"), time.Hour); err != nil {
			t.Fatal(err)
		}
		if b, err := g.Passkeys(ctx, "alice"); err != nil || string(b) != "sealed-a" {
			t.Fatalf("alice: %q %v", b, err)
		}
		if b, err := g.PasskeyOwner(ctx, []byte{1, 2, 3}); err != nil || string(b) != "sealed-owner" {
			t.Fatalf("owner: %q %v", b, err)
		}
		if _, err := g.PasskeyOwner(ctx, []byte{1, 2, 4}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("another credential has an owner: %v", err)
		}
		if err := g.DeletePasskeys(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
		if err := g.DeletePasskeyOwner(ctx, []byte{1, 2, 3}); err != nil {
			t.Fatal(err)
		}
		if _, err := g.Passkeys(ctx, "alice"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("deleted passkeys remain: %v", err)
		}
		if _, err := g.PasskeyOwner(ctx, []byte{1, 2, 3}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("a deleted owner remains: %v", err)
		}
		var firsts atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				fresh, err := g.SpendPasskeyChallenge(ctx, "challenge-1", time.Minute)
				if err != nil {
					t.Error(err)
				}
				if fresh {
					firsts.Add(1)
				}
			}()
		}
		wg.Wait()
		if firsts.Load() != 1 {
			t.Fatalf("a challenge answered %d times", firsts.Load())
		}
	})
}
