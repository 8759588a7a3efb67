package testlog

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

func TestBufferKeepsEveryConcurrentWrite(t *testing.T) {
	var b Buffer
	log := slog.New(slog.NewTextHandler(&b, nil))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				log.Info("line", "id", fmt.Sprintf("g%d-%d", g, i))
			}
		}()
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 800 {
		t.Fatalf("%d lines, want 800", len(lines))
	}
	for _, l := range lines {
		if !strings.HasSuffix(l, `msg=line id=`+l[strings.LastIndex(l, "=")+1:]) || !strings.HasPrefix(l, "time=") {
			t.Fatalf("interleaved line %q", l)
		}
	}
}

func TestTail(t *testing.T) {
	var b Buffer
	if got := b.Tail(4); got != "" {
		t.Errorf("empty: %q", got)
	}
	b.Write([]byte("abc"))
	if got := b.Tail(4); got != "abc" {
		t.Errorf("short: %q", got)
	}
	b.Write([]byte("defgh"))
	if got := b.Tail(4); got != "...\nefgh" {
		t.Errorf("cut: %q", got)
	}
	if got := b.String(); got != "abcdefgh" {
		t.Errorf("String: %q", got)
	}
}
