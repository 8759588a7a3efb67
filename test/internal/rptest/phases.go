package rptest

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"
)

// Phases runs a test's steps one after another and keeps how long each
// took.
type Phases struct {
	t testing.TB
	// out gets the phase lines; nil: t.Logf.
	out     io.Writer
	timings []string
}

// NewPhases reports the phases of t to out (os.Stdout, say, to see them
// as they happen), or with t.Logf when out is nil.
func NewPhases(t testing.TB, out io.Writer) *Phases {
	return &Phases{t: t, out: out}
}

func (p *Phases) printf(format string, args ...any) {
	p.t.Helper()
	if p.out == nil {
		p.t.Logf(format, args...)
		return
	}
	fmt.Fprintf(p.out, format+"\n", args...)
}

// Phase runs one step and reports how long it took.
func (p *Phases) Phase(name string, f func()) {
	p.t.Helper()
	start := time.Now()
	p.printf("=== phase %s", name)
	f()
	line := fmt.Sprintf("%-52s %6.2fs", name, time.Since(start).Seconds())
	p.timings = append(p.timings, line)
	p.printf("--- phase %s", line)
}

// Timings are a line for each phase run so far: its name and seconds.
func (p *Phases) Timings() []string { return p.timings }

// Eventually calls f every interval until it succeeds or timeout passes,
// and returns its last error.
func Eventually(ctx context.Context, timeout, interval time.Duration, f func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), err)
		case <-time.After(interval):
		}
	}
}
