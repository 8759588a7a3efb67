package logsink

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder keeps each write call's bytes; the first call can be held.
type recorder struct {
	mu      sync.Mutex
	calls   []string
	hold    chan struct{} // when set, the first write waits for it
	entered chan struct{} // closed when the held write has begun
	failed  bool
}

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	hold := r.hold
	r.hold = nil
	r.mu.Unlock()
	if hold != nil {
		close(r.entered)
		<-hold
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, string(p))
	if r.failed {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

func (r *recorder) all() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.calls, "")
}

func TestSyncReturnsAfterTheRecordIsWritten(t *testing.T) {
	rec := &recorder{}
	s := New(rec)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				line := fmt.Sprintf("g%d-%d\n", g, i)
				s.Deferred().Write([]byte(line))
				if err := s.Sync(); err != nil {
					t.Error(err)
					return
				}
				if !strings.Contains(rec.all(), line) {
					t.Errorf("Sync returned before %q was written", line)
					return
				}
			}
		}()
	}
	wg.Wait()
	// Every record once, and each goroutine's in its own order.
	out := rec.all()
	for g := range 8 {
		last := -1
		for i := range 200 {
			line := fmt.Sprintf("g%d-%d\n", g, i)
			if strings.Count(out, line) != 1 {
				t.Fatalf("%q written %d times", line, strings.Count(out, line))
			}
			at := strings.Index(out, line)
			if at < last {
				t.Fatalf("%q out of order", line)
			}
			last = at
		}
	}
}

func TestRecordsInFlightShareOneWrite(t *testing.T) {
	rec := &recorder{hold: make(chan struct{}), entered: make(chan struct{})}
	hold := rec.hold
	s := New(rec)
	first := make(chan error)
	go func() {
		s.Deferred().Write([]byte("first\n"))
		first <- s.Sync() // the leader: its write is held
	}()
	<-rec.entered // the leader has taken what was pending and is writing it
	const n = 10
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.Deferred().Write([]byte(fmt.Sprintf("r%d\n", i)))
			if err := s.Sync(); err != nil {
				t.Error(err)
			}
		}()
	}
	waitFor(t, s, func() bool { return s.appended == uint64(len("first\n")+n*len("r0\n")) })
	close(hold)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if len(rec.calls) != 2 {
		t.Fatalf("%d write calls for %d records, want 2: %q", len(rec.calls), n+1, rec.calls)
	}
	if strings.Count(rec.calls[1], "\n") != n {
		t.Fatalf("second write %q does not carry the %d waiting records", rec.calls[1], n)
	}
}

func TestWriteKeepsOrderWithDeferredRecords(t *testing.T) {
	var out bytes.Buffer
	s := New(&out)
	s.Deferred().Write([]byte("audit\n"))
	s.Write([]byte("operational\n"))
	if out.String() != "audit\noperational\n" {
		t.Fatalf("got %q", out.String())
	}
	if err := s.Sync(); err != nil || out.String() != "audit\noperational\n" {
		t.Fatalf("Sync with nothing pending: %v, %q", err, out.String())
	}
}

func TestSyncReportsAFailedWrite(t *testing.T) {
	rec := &recorder{failed: true}
	s := New(rec)
	s.Deferred().Write([]byte("audit\n"))
	if err := s.Sync(); err == nil {
		t.Fatal("a failed write was not reported")
	}
	rec.failed = false
	s.Deferred().Write([]byte("again\n"))
	if err := s.Sync(); err != nil {
		t.Fatalf("a good write after a failed one: %v", err)
	}
}

func waitFor(t *testing.T, s *Sink, cond func() bool) {
	t.Helper()
	for range 10000 {
		s.mu.Lock()
		ok := cond()
		s.mu.Unlock()
		if ok {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatal("condition not reached")
}
