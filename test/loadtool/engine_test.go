package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// The conn engine reads every framing a peer may answer with, reconnects
// when a server closes, counts what is not the wanted status as an error
// and hands each wanted body over whole.
func TestConnEngine(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/length":
			w.Header().Set("Content-Length", "5")
			w.Write([]byte("hello"))
		case "/chunked": // no length: net/http answers chunked after a flush
			w.Write([]byte("hel"))
			w.(http.Flusher).Flush()
			w.Write([]byte("lo"))
		case "/close":
			w.Header().Set("Connection", "close")
			w.Write([]byte("hello"))
		case "/post":
			b := make([]byte, 16)
			n, _ := r.Body.Read(b)
			fmt.Fprintf(w, "%s %s", r.Method, b[:n])
		default:
			http.Error(w, "no", http.StatusTeapot)
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	run := func(path, method string, body []byte, n int) (*stats, []string) {
		var i atomic.Int64
		src := func(tgt *vegeta.Target) bool {
			if i.Add(1) > int64(n) {
				return false
			}
			tgt.Method, tgt.URL, tgt.Body = method, srv.URL+path, body
			return true
		}
		var mu sync.Mutex
		var bodies []string
		st, _ := attackConn(settings{Concurrency: 4}, 10*time.Second, 0, src, http.StatusOK, func(b []byte) {
			mu.Lock()
			bodies = append(bodies, string(b))
			mu.Unlock()
		})
		return st, bodies
	}
	for _, path := range []string{"/length", "/chunked", "/close"} {
		conns.Store(0)
		st, bodies := run(path, http.MethodGet, nil, 40)
		if len(st.lat) != 40 || st.errs != 0 {
			t.Fatalf("%s: %d answers, %d errors (%s)", path, len(st.lat), st.errs, st.firstErr)
		}
		for _, b := range bodies {
			if b != "hello" {
				t.Fatalf("%s: body %q", path, b)
			}
		}
		// Keep-alive: one connection per worker, unless the server closes.
		if got := conns.Load(); (path == "/close") != (got > 4) {
			t.Fatalf("%s: %d connections for 4 workers", path, got)
		}
	}
	if st, bodies := run("/post", http.MethodPost, []byte("form=1"), 8); st.errs != 0 || len(bodies) != 8 || bodies[0] != "POST form=1" {
		t.Fatalf("post: %d errors (%s), bodies %q", st.errs, st.firstErr, bodies)
	}
	if st, _ := run("/teapot", http.MethodGet, nil, 8); st.errs != 8 || !strings.HasPrefix(st.firstErr, "status 418") {
		t.Fatalf("unwanted status: %d errors, first %q", st.errs, st.firstErr)
	}
}
