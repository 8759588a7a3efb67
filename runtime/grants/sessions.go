package grants

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/idaop/ida-operator/runtime/store"
)

// A session is stored under the hash of its cookie. Each person also has
// one list of their sessions (UserSessions), so that all of them can be
// ended together and each ended one says which clients it signed in to
// (for back-channel logout). The list is read, changed and written back:
// two sign-ins of one person at the same instant on two replicas may leave
// one of them out of the list; that session still ends by its own
// timeouts.

// UserSession is one of a person's sessions as their list keeps it.
type UserSession struct {
	// Key is the store key of the session's record.
	Key string `json:"key"`
	SID string `json:"sid"`
	// ExpiresAt is the session's absolute end, in Unix seconds.
	ExpiresAt int64 `json:"exp"`
	// Clients are the clients the session signed in to, each with the
	// sub it received, in the order signed in to.
	Clients []SignedInClient `json:"clients,omitempty"`
}

// SignedInClient is a client a session issued a code to.
type SignedInClient struct {
	ClientID string `json:"client_id"`
	Subject  string `json:"sub"`
}

// maxClientsPerSession bounds a session's list of clients; a session that
// signed in to more than this many keeps the latest.
const maxClientsPerSession = 64

type userSessions struct {
	Sessions []UserSession `json:"sessions"`
}

func userKey(subject string) string { return "user:" + keyOf(subject) }

// StartSession stores a new session and returns the cookie value that
// names it; the value itself is stored nowhere. The session joins its
// user's list; when the list then holds more than limit sessions, the
// oldest are ended and returned, so their clients can be told.
func (g *Store) StartSession(ctx context.Context, s *Session, ttl time.Duration, limit int) (string, []UserSession, error) {
	cookie := NewSecret()
	if err := g.UpdateSession(ctx, cookie, s, ttl); err != nil {
		return "", nil, err
	}
	list, err := g.userSessions(ctx, s.Subject)
	if err != nil {
		return "", nil, err
	}
	list.Sessions = append(list.Sessions, UserSession{Key: keyOf(cookie), SID: s.SID, ExpiresAt: s.ExpiresAt})
	var ended []UserSession
	if limit > 0 && len(list.Sessions) > limit {
		ended = slices.Clone(list.Sessions[:len(list.Sessions)-limit])
		list.Sessions = list.Sessions[len(list.Sessions)-limit:]
	}
	var errs []error
	for _, e := range ended {
		if err := g.s.Delete(ctx, store.KindSession, e.Key); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, g.putUserSessions(ctx, s.Subject, list))
	if err := errors.Join(errs...); err != nil {
		return "", nil, failed("start session", err)
	}
	return cookie, ended, nil
}

// Session returns the session a cookie names.
func (g *Store) Session(ctx context.Context, cookie string) (*Session, error) {
	s, err := get[Session](ctx, g.s, store.KindSession, keyOf(cookie))
	if err != nil {
		return nil, failed("get session", err)
	}
	return s, nil
}

// UpdateSession replaces the session a cookie names.
func (g *Store) UpdateSession(ctx context.Context, cookie string, s *Session, ttl time.Duration) error {
	if err := put(ctx, g.s, g.local, store.KindSession, keyOf(cookie), s, ttl); err != nil {
		return failed("put session", err)
	}
	return nil
}

// SignedInTo notes that the session sid of subject issued a code to a
// client, which saw the person as clientSub. Nothing is written when the
// client is noted already.
func (g *Store) SignedInTo(ctx context.Context, subject, sid, clientID, clientSub string) error {
	list, err := g.userSessions(ctx, subject)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(list.Sessions, func(u UserSession) bool { return u.SID == sid })
	if i < 0 {
		return nil
	}
	us := &list.Sessions[i]
	c := SignedInClient{ClientID: clientID, Subject: clientSub}
	if slices.Contains(us.Clients, c) {
		return nil
	}
	us.Clients = append(us.Clients, c)
	if n := len(us.Clients); n > maxClientsPerSession {
		us.Clients = us.Clients[n-maxClientsPerSession:]
	}
	if err := g.putUserSessions(ctx, subject, list); err != nil {
		return failed("note client of session", err)
	}
	return nil
}

// EndSession forgets the session a cookie names and returns it as its
// user's list knew it (with its clients). A session that is gone already
// is ErrNotFound.
func (g *Store) EndSession(ctx context.Context, cookie string) (*Session, *UserSession, error) {
	key := keyOf(cookie)
	s, err := get[Session](ctx, g.s, store.KindSession, key)
	if err != nil {
		return nil, nil, failed("get session", err)
	}
	if err := g.s.Delete(ctx, store.KindSession, key); err != nil {
		return nil, nil, failed("end session", err)
	}
	ended := &UserSession{Key: key, SID: s.SID, ExpiresAt: s.ExpiresAt}
	list, err := g.userSessions(ctx, s.Subject)
	if err != nil {
		return s, ended, err
	}
	if i := slices.IndexFunc(list.Sessions, func(u UserSession) bool { return u.Key == key }); i >= 0 {
		*ended = list.Sessions[i]
		list.Sessions = slices.Delete(list.Sessions, i, i+1)
		if err := g.putUserSessions(ctx, s.Subject, list); err != nil {
			return s, ended, failed("end session", err)
		}
	}
	return s, ended, nil
}

// SessionsOf lists a person's sessions that have not ended.
func (g *Store) SessionsOf(ctx context.Context, subject string) ([]UserSession, error) {
	list, err := g.userSessions(ctx, subject)
	if err != nil {
		return nil, err
	}
	var out []UserSession
	for _, u := range list.Sessions {
		switch _, err := g.s.Get(ctx, store.KindSession, u.Key); {
		case err == nil:
			out = append(out, u)
		case !errors.Is(err, store.ErrNotFound):
			return nil, failed("get session", err)
		}
	}
	return out, nil
}

// EndSessions ends every session of a person and returns those that had
// not ended yet, with their clients.
func (g *Store) EndSessions(ctx context.Context, subject string) ([]UserSession, error) {
	live, err := g.SessionsOf(ctx, subject)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, u := range live {
		if err := g.s.Delete(ctx, store.KindSession, u.Key); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		errs = append(errs, g.s.Delete(ctx, store.KindSession, userKey(subject)))
	}
	if err := errors.Join(errs...); err != nil {
		return live, failed("end sessions", err)
	}
	return live, nil
}

// userSessions reads a person's list, without the sessions past their
// absolute end.
func (g *Store) userSessions(ctx context.Context, subject string) (*userSessions, error) {
	list, err := get[userSessions](ctx, g.s, store.KindSession, userKey(subject))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return &userSessions{}, nil
	case err != nil:
		return nil, failed("get sessions of user", err)
	}
	now := g.now().Unix()
	list.Sessions = slices.DeleteFunc(list.Sessions, func(u UserSession) bool { return u.ExpiresAt <= now })
	return list, nil
}

// putUserSessions writes a person's list until its last session's end.
func (g *Store) putUserSessions(ctx context.Context, subject string, list *userSessions) error {
	if len(list.Sessions) == 0 {
		return g.s.Delete(ctx, store.KindSession, userKey(subject))
	}
	var last int64
	for _, u := range list.Sessions {
		last = max(last, u.ExpiresAt)
	}
	return put(ctx, g.s, g.local, store.KindSession, userKey(subject), list, Remaining(last, g.now()))
}
