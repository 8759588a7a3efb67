// Package store holds the provider's per-request state: authorization codes,
// PAR requests, sessions, tokens and replay caches. Every entry has a TTL,
// and none of it ever goes to the Kubernetes API (DESIGN.md, "State").
//
// Memory serves a single replica; Redis is shared by several. Both pass the
// same conformance suite (package storetest), so the handlers cannot tell
// them apart.
package store

import (
	"context"
	"errors"
	"time"
)

// Kind separates the kinds of state, so a code can never be redeemed as a
// token even if the two keys happened to be equal. A Kind must not contain
// ':', which separates it from the key in Redis.
type Kind string

// Kinds of state the runtime keeps.
const (
	KindCode         Kind = "code"
	KindPAR          Kind = "par"
	KindSession      Kind = "session"
	KindInteraction  Kind = "interaction"
	KindAccessToken  Kind = "access"
	KindRefreshToken Kind = "refresh"
	KindGrant        Kind = "grant"
	KindJTI          Kind = "jti"
	KindDPoPProof    Kind = "dpop"
	KindThrottle     Kind = "throttle"
	// KindFactor holds users' second factors (sealed) and their one-time
	// code markers.
	KindFactor Kind = "factor"
	// KindConsent holds each person's remembered consents and release
	// records.
	KindConsent Kind = "consent"
)

// ErrNotFound is returned for a key that is absent or has expired.
var ErrNotFound = errors.New("store: not found")

// ErrFull is returned by Memory when storing would pass its byte budget,
// and by Redis' Put when Redis is over the budget (or by any Redis write
// at Redis' own maxmemory): new state is refused (the handlers answer
// temporarily_unavailable) and live state is kept, instead of the process
// or the server growing until it is killed.
var ErrFull = errors.New("store: full")

// ErrUnreplicated is returned by a Redis write that too few replicas
// acknowledged in time (RedisOptions.ReplicaAcks): it is on the master
// but might not survive a failover, so the request it served fails.
var ErrUnreplicated = errors.New("store: write not replicated")

// ErrInvalidTTL is returned for a TTL that is not positive: state without an
// end would outlive every token it belongs to.
var ErrInvalidTTL = errors.New("store: ttl must be positive")

// Store is the session store the handlers use.
type Store interface {
	// Put sets the value, replacing any previous one and its TTL.
	Put(ctx context.Context, kind Kind, key string, value []byte, ttl time.Duration) error
	// Get returns the value, or ErrNotFound when absent or expired.
	Get(ctx context.Context, kind Kind, key string) ([]byte, error)
	// Take gets and deletes in one atomic step, so of any number of
	// concurrent callers exactly one wins: one-time codes, request_uris.
	Take(ctx context.Context, kind Kind, key string) ([]byte, error)
	// Delete removes the key; a missing key is not an error.
	Delete(ctx context.Context, kind Kind, key string) error
	// Remember records the key for ttl if it is not already recorded and
	// reports whether it was fresh: jti and DPoP proof replay caches.
	Remember(ctx context.Context, kind Kind, key string, ttl time.Duration) (fresh bool, err error)
	// Count adds one to the counter at key and returns the new count, in
	// one atomic step. The first count starts the counter's ttl, which
	// later counts do not extend: a fixed window. Get reads a counter as
	// its count in decimal.
	Count(ctx context.Context, kind Kind, key string, ttl time.Duration) (int64, error)
	// Ping reports whether the store can serve, for readiness.
	Ping(ctx context.Context) error
	// Close releases the store's resources.
	Close() error
}

// Local is implemented by a Store whose values never leave this process
// (Memory). Only the binary that wrote a value reads it back, so callers
// may store values in an encoding of their own that need not stay stable
// from one version to the next: a faster one than JSON, which a store
// shared by replicas of different versions (Redis) keeps.
type Local interface {
	Store
	// Local marks the store; it does nothing.
	Local()
}

// IsLocal reports whether s is a Local store.
func IsLocal(s Store) bool {
	_, ok := s.(Local)
	return ok
}
