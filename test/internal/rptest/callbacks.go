package rptest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"
)

// Callbacks is the relying parties' redirect URI on loopback: it hands each
// authorization response to the flow waiting for its state.
type Callbacks struct {
	srv     *httptest.Server
	mu      sync.Mutex
	waiting map[string]chan *url.URL
}

// StartCallbacks starts the redirect URI server; Close stops it.
func StartCallbacks() *Callbacks {
	c := &Callbacks{waiting: map[string]chan *url.URL{}}
	c.srv = httptest.NewServer(http.HandlerFunc(c.serve))
	return c
}

// NewCallbacks starts the redirect URI server; it stops when t ends.
func NewCallbacks(t testing.TB) *Callbacks {
	c := StartCallbacks()
	t.Cleanup(c.Close)
	return c
}

// Close stops the server.
func (c *Callbacks) Close() { c.srv.Close() }

// RedirectURI is http://127.0.0.1:<port>/cb.
func (c *Callbacks) RedirectURI() string { return c.srv.URL + "/cb" }

// Expect registers a flow's state before the browser is sent off.
func (c *Callbacks) Expect(state string) <-chan *url.URL {
	ch := make(chan *url.URL, 1)
	c.mu.Lock()
	c.waiting[state] = ch
	c.mu.Unlock()
	return ch
}

func (c *Callbacks) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/cb" {
		http.NotFound(w, r)
		return
	}
	state := r.URL.Query().Get("state")
	c.mu.Lock()
	ch, ok := c.waiting[state]
	delete(c.waiting, state)
	c.mu.Unlock()
	if !ok {
		http.Error(w, "unexpected state", http.StatusBadRequest)
		return
	}
	u, _ := url.Parse(c.srv.URL + r.URL.RequestURI())
	ch <- u
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	io.WriteString(w, `<!doctype html><title>Relying party</title><p id="rp-done">Back at the relying party.</p>`)
}

// Wait returns the authorization response or fails after d.
func Wait(t testing.TB, ch <-chan *url.URL, d time.Duration) *url.URL {
	t.Helper()
	select {
	case u := <-ch:
		return u
	case <-time.After(d):
		t.Fatalf("no authorization response at the redirect URI within %s", d)
		return nil
	}
}
