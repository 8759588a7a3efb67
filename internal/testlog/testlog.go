// Package testlog holds the one log buffer tests share: concurrent
// writers (slog handlers behind HTTP handlers, a child process's stderr)
// write into it while the test reads it. Standard library only, so any
// test in the module can import it.
package testlog

import (
	"bytes"
	"sync"
)

// Buffer collects writes from concurrent writers. The zero value is ready
// to use.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p; it never fails.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String is everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Tail is the last n bytes written, after "...\n" when older ones were
// cut: long logs stay readable in a failure message.
func (b *Buffer) Tail(n int) string {
	s := b.String()
	if len(s) > n {
		return "...\n" + s[len(s)-n:]
	}
	return s
}
