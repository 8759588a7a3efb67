package grants

import (
	"errors"
	"testing"
	"time"

	"github.com/idaop/ida-operator/runtime/store"
)

// TestUserSessions: a person's sessions are listed, note the clients they
// signed in to, end one by one or all together, and are bounded: the
// oldest ends when one too many starts.
func TestUserSessions(t *testing.T) {
	backends(t, func(t *testing.T, g *Store, raw store.Store) {
		ctx := t.Context()
		exp := time.Now().Add(time.Hour).Unix()
		start := func(sid, sub string) (string, []UserSession) {
			t.Helper()
			cookie, ended, err := g.StartSession(ctx, &Session{SID: sid, Subject: sub, ExpiresAt: exp}, time.Hour, 3)
			if err != nil {
				t.Fatal(err)
			}
			return cookie, ended
		}
		c1, _ := start("s1", "alice")
		start("s2", "alice")
		start("s3", "alice")
		start("b1", "bob")
		if err := g.SignedInTo(ctx, "alice", "s1", "rp-a", "sub-a"); err != nil {
			t.Fatal(err)
		}
		for range 2 { // the second time writes nothing new
			if err := g.SignedInTo(ctx, "alice", "s1", "rp-b", "sub-b"); err != nil {
				t.Fatal(err)
			}
		}
		// A fourth session ends the oldest, which had signed in to two clients.
		_, ended := start("s4", "alice")
		if len(ended) != 1 || ended[0].SID != "s1" || len(ended[0].Clients) != 2 || ended[0].Clients[1] != (SignedInClient{"rp-b", "sub-b"}) {
			t.Fatalf("ended over the bound: %+v", ended)
		}
		if _, err := g.Session(ctx, c1); !errors.Is(err, ErrNotFound) {
			t.Fatalf("the oldest session still works: %v", err)
		}
		live, err := g.SessionsOf(ctx, "alice")
		if err != nil || len(live) != 3 || live[0].SID != "s2" {
			t.Fatalf("SessionsOf = %+v, %v", live, err)
		}

		c5, _ := start("s5", "alice") // ends s2
		if err := g.SignedInTo(ctx, "alice", "s5", "rp-a", "sub-a"); err != nil {
			t.Fatal(err)
		}
		s, us, err := g.EndSession(ctx, c5)
		if err != nil || s.SID != "s5" || us.SID != "s5" || len(us.Clients) != 1 {
			t.Fatalf("EndSession = %+v %+v %v", s, us, err)
		}
		if _, _, err := g.EndSession(ctx, c5); !errors.Is(err, ErrNotFound) {
			t.Fatalf("ending twice: %v", err)
		}
		all, err := g.EndSessions(ctx, "alice")
		if err != nil || len(all) != 2 || all[0].SID != "s3" || all[1].SID != "s4" {
			t.Fatalf("EndSessions = %+v, %v", all, err)
		}
		if live, _ := g.SessionsOf(ctx, "alice"); len(live) != 0 {
			t.Fatalf("sessions left: %+v", live)
		}
		if live, _ := g.SessionsOf(ctx, "bob"); len(live) != 1 {
			t.Fatalf("bob's session ended with alice's: %+v", live)
		}
		if _, err := raw.Get(ctx, store.KindSession, "alice"); !errors.Is(err, store.ErrNotFound) {
			t.Fatal("the subject itself is a key")
		}
	})
}
