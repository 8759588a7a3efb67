// Package logsink puts a process's log records onto one writer, in order,
// and lets the records that must be out before the process goes on (the
// audit trail of verified claims releases) share write calls: group
// commit, as a database does with its log.
//
// A synchronous write per audit event costs a system call and, in a
// container, the wake-up of the reader of stderr on another core; under
// load that was a fifth of a UserInfo request. With the sink, each request
// still answers only after its event is written, but the events of the
// requests in flight go out together.
package logsink

import (
	"io"
	"runtime"
	"sync"
)

// Sink is safe for concurrent use.
type Sink struct {
	out io.Writer

	mu       sync.Mutex
	flushed  sync.Cond
	pending  []byte
	spare    []byte
	appended uint64 // bytes appended since New
	written  uint64 // bytes handed to out since New
	flushing bool
	err      error // of the last write to out
}

// New returns a Sink that writes to out.
func New(out io.Writer) *Sink {
	s := &Sink{out: out}
	s.flushed.L = &s.mu
	return s
}

// Write appends p and returns once it is written, with everything
// appended before it: the writer of records nobody waits for apart from
// their writer (operational logs).
func (s *Sink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending = append(s.pending, p...)
	s.appended += uint64(len(p))
	return len(p), s.syncLocked(s.appended)
}

// Deferred is a writer that only appends; Sync writes. A slog handler on
// it formats the record under its own lock and leaves the write call out
// of that lock, so concurrent events can meet in one write.
func (s *Sink) Deferred() io.Writer { return deferred{s} }

type deferred struct{ s *Sink }

func (d deferred) Write(p []byte) (int, error) {
	d.s.mu.Lock()
	d.s.pending = append(d.s.pending, p...)
	d.s.appended += uint64(len(p))
	d.s.mu.Unlock()
	return len(p), nil
}

// Sync returns once everything appended before the call is written, and
// the error of the write that took the last of it.
func (s *Sink) Sync() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.syncLocked(s.appended)
}

// syncLocked waits until target bytes are written, writing them itself
// when no one else is. The writer first yields once, so goroutines that
// are ready to run can append their records to this write.
func (s *Sink) syncLocked(target uint64) error {
	for s.written < target {
		if s.flushing {
			s.flushed.Wait()
			continue
		}
		s.flushing = true
		s.mu.Unlock()
		runtime.Gosched()
		s.mu.Lock()
		buf, end := s.pending, s.appended
		s.pending = s.spare[:0]
		s.mu.Unlock()
		_, err := s.out.Write(buf)
		s.mu.Lock()
		if cap(buf) <= maxSpare {
			s.spare = buf[:0]
		}
		s.written, s.err, s.flushing = end, err, false
		s.flushed.Broadcast()
	}
	return s.err
}

// maxSpare bounds the buffer kept between writes; a burst larger than this
// gets a fresh one.
const maxSpare = 64 << 10
