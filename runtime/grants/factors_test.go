package grants

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idaop/ida-operator/runtime/store"
)

// TestTOTPFactor: a user's sealed generator is stored for every replica
// (memory and a real Redis), kept apart from other users', and one code
// step is used once, of concurrent uses exactly one.
func TestTOTPFactor(t *testing.T) {
	backends(t, func(t *testing.T, g *Store, _ store.Store) {
		ctx := t.Context()
		if _, err := g.TOTP(ctx, "alice"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("no enrolment yet: %v", err)
		}
		if err := g.PutTOTP(ctx, "alice", []byte("sealed-a"), time.Hour); err != nil {
			t.Fatal(err)
		}
		if b, err := g.TOTP(ctx, "alice"); err != nil || string(b) != "sealed-a" {
			t.Fatalf("alice: %q %v", b, err)
		}
		if _, err := g.TOTP(ctx, "bob"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("bob has alice's factor: %v", err)
		}
		var firsts atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				fresh, err := g.SpendTOTPStep(ctx, "alice", 42, time.Minute)
				if err != nil {
					t.Error(err)
				}
				if fresh {
					firsts.Add(1)
				}
			}()
		}
		wg.Wait()
		if n := firsts.Load(); n != 1 {
			t.Fatalf("%d uses of one step were first, want 1", n)
		}
		for _, other := range []struct {
			subject string
			step    int64
		}{{"alice", 43}, {"bob", 42}} {
			if fresh, err := g.SpendTOTPStep(ctx, other.subject, other.step, time.Minute); err != nil || !fresh {
				t.Fatalf("%s step %d: fresh=%v %v", other.subject, other.step, fresh, err)
			}
		}
	})
}
