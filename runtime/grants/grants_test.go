package grants

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idaop/ida-operator/runtime/store"
	"github.com/idaop/ida-operator/runtime/store/storetest"
)

// backends runs a test against the memory store (binary records) and a
// real Redis (JSON records, as replicas share them).
func backends(t *testing.T, run func(t *testing.T, g *Store, raw store.Store)) {
	t.Run("memory", func(t *testing.T) {
		m := store.NewMemory()
		t.Cleanup(func() { _ = m.Close() })
		run(t, New(m, nil), m)
	})
	t.Run("redis", func(t *testing.T) {
		r, err := store.NewRedis(t.Context(), store.RedisOptions{Address: storetest.StartRedis(t)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = r.Close() })
		run(t, New(r, nil), r)
	})
}

func newCode(clientID string) *Code {
	return &Code{Info: Info{GrantID: NewSecret(), ClientID: clientID, Subject: "s", Scope: "openid"},
		RedirectURI: "https://rp.example/cb", ExpiresAt: time.Now().Add(time.Minute).Unix()}
}

// issue stores the tokens of a code's grant, as the token endpoint does.
func issue(t *testing.T, g *Store, c *Code) (at, rt string) {
	t.Helper()
	at, rt = NewSecret(), NewSecret()
	exp := time.Now().Add(time.Hour).Unix()
	err := g.Issue(t.Context(), &Issuance{
		GrantID: c.GrantID, Grant: &Grant{ClientID: c.ClientID, ExpiresAt: exp},
		AccessToken: at, Access: Token{Info: c.Info, ExpiresAt: exp},
		RefreshToken: rt, Refresh: Token{Info: c.Info, ExpiresAt: exp},
	})
	if err != nil {
		t.Fatal(err)
	}
	return at, rt
}

// TestCodeOneTime: a code redeems once; presenting it again is a replay
// that revokes every token of its grant (RFC 9700 §4.2.4), and an unknown
// code is just not found.
func TestCodeOneTime(t *testing.T) {
	backends(t, func(t *testing.T, g *Store, _ store.Store) {
		ctx := t.Context()
		c := newCode("rp")
		code, err := g.PutCode(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		got, err := g.Code(ctx, code)
		if err != nil || got.GrantID != c.GrantID {
			t.Fatalf("Code: %v %+v", err, got)
		}
		if err := g.RedeemCode(ctx, code, got, time.Hour); err != nil {
			t.Fatal(err)
		}
		at, rt := issue(t, g, got)
		if _, err := g.Code(ctx, code); !errors.Is(err, ErrReplayed) {
			t.Fatalf("replayed code: %v, want ErrReplayed", err)
		}
		if _, err := g.AccessToken(ctx, at); !errors.Is(err, ErrNotFound) {
			t.Fatalf("access token after the replay: %v", err)
		}
		if _, err := g.RefreshToken(ctx, rt); !errors.Is(err, ErrNotFound) {
			t.Fatalf("refresh token after the replay: %v", err)
		}
		if gr, err := g.Grant(ctx, got.GrantID); err != nil || !gr.Revoked || len(gr.Tokens) != 0 {
			t.Fatalf("grant after the replay: %v %+v", err, gr)
		}
		if _, err := g.Code(ctx, NewSecret()); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown code: %v", err)
		}
	})
}

// TestRedeemCodeRace: of concurrent redemptions exactly one wins.
func TestRedeemCodeRace(t *testing.T) {
	backends(t, func(t *testing.T, g *Store, _ store.Store) {
		ctx := t.Context()
		c := newCode("rp")
		code, err := g.PutCode(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		var won, replayed atomic.Int32
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				switch err := g.RedeemCode(ctx, code, c, time.Hour); {
				case err == nil:
					won.Add(1)
				case errors.Is(err, ErrReplayed), errors.Is(err, ErrNotFound):
					replayed.Add(1)
				default:
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if won.Load() != 1 || replayed.Load() != 15 {
			t.Fatalf("won %d, refused %d", won.Load(), replayed.Load())
		}
	})
}

// TestRefreshRotation: a rotated refresh token presented again revokes
// the grant (RFC 9700 §4.14.2).
func TestRefreshRotation(t *testing.T) {
	backends(t, func(t *testing.T, g *Store, _ store.Store) {
		ctx := t.Context()
		c := newCode("rp")
		at, rt := issue(t, g, c)
		rec, err := g.RefreshToken(ctx, rt)
		if err != nil {
			t.Fatal(err)
		}
		if err := g.RotateRefreshToken(ctx, rt, rec); err != nil {
			t.Fatal(err)
		}
		if _, err := g.AccessToken(ctx, at); err != nil {
			t.Fatalf("rotation alone revoked the access token: %v", err)
		}
		if err := g.RotateRefreshToken(ctx, rt, rec); !errors.Is(err, ErrReplayed) {
			t.Fatalf("second rotation: %v, want ErrReplayed", err)
		}
		if _, err := g.AccessToken(ctx, at); !errors.Is(err, ErrNotFound) {
			t.Fatalf("access token after the replay: %v", err)
		}
	})
}

// TestRevokeToken: RFC 7009 §2.1: a refresh token takes its grant along,
// an access token goes alone, another client's token is left as it is.
func TestRevokeToken(t *testing.T) {
	backends(t, func(t *testing.T, g *Store, _ store.Store) {
		ctx := t.Context()
		c := newCode("rp")
		at, rt := issue(t, g, c)
		if err := g.RevokeToken(ctx, rt, "other-rp", true); err != nil {
			t.Fatal(err)
		}
		if _, err := g.RefreshToken(ctx, rt); err != nil {
			t.Fatalf("another client revoked the token: %v", err)
		}
		if err := g.RevokeToken(ctx, at, "rp", false); err != nil {
			t.Fatal(err)
		}
		if _, err := g.AccessToken(ctx, at); !errors.Is(err, ErrNotFound) {
			t.Fatalf("revoked access token: %v", err)
		}
		if _, err := g.RefreshToken(ctx, rt); err != nil {
			t.Fatalf("revoking the access token took the refresh token: %v", err)
		}
		at2, rt2 := issue(t, g, c)
		if err := g.RevokeToken(ctx, rt2, "rp", false); err != nil {
			t.Fatal(err)
		}
		if _, err := g.AccessToken(ctx, at2); !errors.Is(err, ErrNotFound) {
			t.Fatalf("access token of a revoked grant: %v", err)
		}
		if err := g.RevokeToken(ctx, NewSecret(), "rp", false); err != nil {
			t.Fatalf("unknown token: %v", err)
		}
	})
}

// TestIssueBoundsGrant: a grant refreshed often keeps only its newest
// token references.
func TestIssueBoundsGrant(t *testing.T) {
	m := store.NewMemory()
	defer m.Close()
	g := New(m, nil)
	c := newCode("rp")
	gr := &Grant{ClientID: "rp", ExpiresAt: time.Now().Add(time.Hour).Unix()}
	for range maxTokenRefs {
		if err := g.Issue(t.Context(), &Issuance{GrantID: c.GrantID, Grant: gr, AccessToken: NewSecret(),
			Access: Token{Info: c.Info, ExpiresAt: gr.ExpiresAt}}); err != nil {
			t.Fatal(err)
		}
	}
	if len(gr.Tokens) != maxTokenRefs {
		t.Fatalf("%d references", len(gr.Tokens))
	}
	last := NewSecret()
	if err := g.Issue(t.Context(), &Issuance{GrantID: c.GrantID, Grant: gr, AccessToken: last,
		Access: Token{Info: c.Info, ExpiresAt: gr.ExpiresAt}}); err != nil {
		t.Fatal(err)
	}
	stored, err := g.Grant(t.Context(), c.GrantID)
	if err != nil || len(stored.Tokens) != maxTokenRefs || stored.Tokens[maxTokenRefs-1].Key != keyOf(last) {
		t.Fatalf("stored grant: %v, %d references", err, len(stored.Tokens))
	}
}

// TestSecretsNotStored: what a client or browser presents is never a key
// or a value in the store.
func TestSecretsNotStored(t *testing.T) {
	backends(t, func(t *testing.T, g *Store, raw store.Store) {
		ctx := t.Context()
		code, err := g.PutCode(ctx, newCode("rp"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := raw.Get(ctx, store.KindCode, code); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the code itself is a key: %v", err)
		}
		cookie, _, err := g.StartSession(ctx, &Session{SID: "sid", Subject: "s", ExpiresAt: time.Now().Add(time.Minute).Unix()}, time.Minute, 4)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := raw.Get(ctx, store.KindSession, cookie); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the cookie itself is a key: %v", err)
		}
	})
}

// TestOnceOnly: pushed requests and interactions end once; replay caches
// remember.
func TestOnceOnly(t *testing.T) {
	backends(t, func(t *testing.T, g *Store, _ store.Store) {
		ctx := t.Context()
		id, err := g.Push(ctx, &Request{ClientID: "rp"}, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := g.TakePushed(ctx, "other-rp", id); !errors.Is(err, ErrNotFound) {
			t.Fatalf("take by another client: %v", err)
		}
		if r, err := g.TakePushed(ctx, "rp", id); err != nil || r.ClientID != "rp" {
			t.Fatalf("take: %v %+v", err, r)
		}
		if _, err := g.TakePushed(ctx, "rp", id); !errors.Is(err, ErrNotFound) {
			t.Fatalf("second take: %v", err)
		}
		for i, want := range []bool{true, false} {
			if fresh, err := g.SpendInteraction(ctx, "interaction-1", time.Minute); err != nil || fresh != want {
				t.Fatalf("interaction answer %d: fresh=%v err=%v", i, fresh, err)
			}
		}
		for i, want := range []bool{true, false} {
			if fresh, err := g.SpendAssertionID(ctx, "rp", "jti-1", time.Minute); err != nil || fresh != want {
				t.Fatalf("jti use %d: fresh=%v err=%v", i, fresh, err)
			}
		}
		if fresh, _ := g.SpendAssertionID(ctx, "other-rp", "jti-1", time.Minute); !fresh {
			t.Fatal("a jti is spent for every client at once")
		}
	})
}

// TestStoreFailure: a store that fails is neither not-found nor a replay.
func TestStoreFailure(t *testing.T) {
	m := store.NewMemory()
	_ = m.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	g := New(m, nil)
	_, err := g.Code(ctx, NewSecret())
	if err == nil || errors.Is(err, ErrNotFound) || errors.Is(err, ErrReplayed) {
		t.Fatalf("failed store: %v", err)
	}
}

// TestReplayRaceRevokesEverything: two redemptions of one code race, each
// the whole way (read, redeem, issue). When both read the code, the second
// is a replay whatever the interleaving: one of them gets ErrReplayed and
// no access token of the grant is left, the winner's included, even when
// it was issued after the revocation started.
func TestReplayRaceRevokesEverything(t *testing.T) {
	backends(t, func(t *testing.T, g *Store, _ store.Store) {
		ctx := t.Context()
		both := 0
		for round := range 100 {
			c := newCode("rp")
			code, err := g.PutCode(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			var read [2]bool
			var tokens [2]string
			var errs [2]error
			var start, wg sync.WaitGroup
			start.Add(1)
			for i := range 2 {
				wg.Go(func() {
					start.Wait()
					rec, err := g.Code(ctx, code)
					if err != nil {
						errs[i] = err
						return
					}
					read[i] = true
					if errs[i] = g.RedeemCode(ctx, code, rec, time.Hour); errs[i] != nil {
						return
					}
					tokens[i] = NewSecret()
					exp := time.Now().Add(time.Hour).Unix()
					errs[i] = g.Issue(ctx, &Issuance{GrantID: rec.GrantID, Grant: &Grant{ClientID: "rp", ExpiresAt: exp},
						AccessToken: tokens[i], Access: Token{Info: rec.Info, ExpiresAt: exp}})
				})
			}
			start.Done()
			wg.Wait()
			for i := range 2 {
				if errs[i] != nil && !errors.Is(errs[i], ErrReplayed) && !errors.Is(errs[i], ErrNotFound) {
					t.Fatalf("round %d: %v", round, errs[i])
				}
			}
			if !read[0] || !read[1] {
				continue // the second came after the first had used the code up
			}
			both++
			if !errors.Is(errs[0], ErrReplayed) && !errors.Is(errs[1], ErrReplayed) {
				t.Fatalf("round %d: both read the code, errors %v: no replay detected", round, errs)
			}
			for i := range 2 {
				if tokens[i] == "" {
					continue
				}
				if _, err := g.AccessToken(ctx, tokens[i]); !errors.Is(err, ErrNotFound) {
					t.Fatalf("round %d: errors %v: an access token survived the replay", round, errs)
				}
			}
		}
		t.Logf("both redemptions read the code in %d of 100 rounds", both)
	})
}
