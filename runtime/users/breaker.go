package users

import (
	"sync"
	"time"
)

// breaker is a consecutive-failure circuit breaker. Closed, it lets every
// call through; after threshold failures in a row it opens and refuses
// calls for cooldown; then it lets one probe through (half-open), whose
// success closes it and whose failure opens it again.
//
// A refused call costs nothing, so a KYC system that is down makes logins
// fail fast with temporarily_unavailable instead of piling up timeouts.
type breaker struct {
	now       func() time.Time
	threshold int
	cooldown  time.Duration

	mu        sync.Mutex
	state     breakerState
	failures  int
	openUntil time.Time
	probing   bool // half-open: the one probe is in flight
}

type breakerState uint8

const (
	breakerClosed breakerState = iota
	breakerOpen
	breakerHalfOpen
)

func (s breakerState) String() string {
	return [...]string{"closed", "open", "half-open"}[s]
}

// outcome is what one call tells the breaker.
type outcome uint8

const (
	outcomeSuccess outcome = iota // the service answered (any status below 500)
	outcomeFailure                // network error, timeout or 5xx
	outcomeNeutral                // says nothing about the service (the caller gave up)
)

func newBreaker(threshold int, cooldown time.Duration, now func() time.Time) *breaker {
	return &breaker{now: now, threshold: threshold, cooldown: cooldown}
}

// allow reports whether a call may go out now. Every allowed call must be
// followed by exactly one record.
func (b *breaker) allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case breakerOpen:
		if b.now().Before(b.openUntil) {
			return false
		}
		b.state = breakerHalfOpen
		b.probing = true
		return true
	case breakerHalfOpen:
		if b.probing {
			return false
		}
		b.probing = true
		return true
	default:
		return true
	}
}

// record takes the outcome of an allowed call.
func (b *breaker) record(o outcome) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch o {
	case outcomeSuccess:
		b.state, b.failures, b.probing = breakerClosed, 0, false
	case outcomeFailure:
		b.failures++
		if b.state == breakerHalfOpen || b.failures >= b.threshold {
			b.state = breakerOpen
			b.openUntil = b.now().Add(b.cooldown)
			b.probing = false
		}
	case outcomeNeutral:
		if b.state == breakerHalfOpen {
			// Let the next call probe instead.
			b.probing = false
		}
	}
}

func (b *breaker) current() breakerState {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state
}
