package users

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idaop/ida-operator/runtime/config"
)

// factorKYC is a KYC system's side of the factor calls, as docs/users.md
// describes them: records kept as they come, by path.
type factorKYC struct {
	mu      sync.Mutex
	records map[string]string // path -> value
	token   string
	fail500 atomic.Int32 // answer 500 this many times first
	calls   atomic.Int32
}

func (k *factorKYC) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	k.calls.Add(1)
	if r.Header.Get("Authorization") != "Bearer "+k.token {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if k.fail500.Load() > 0 {
		k.fail500.Add(-1)
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	if !strings.HasPrefix(r.URL.Path, "/passkeys/") && !strings.Contains(r.URL.Path, "/factors/") {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	switch r.Method {
	case http.MethodGet:
		v, ok := k.records[r.URL.EscapedPath()]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"value": v})
	case http.MethodPut:
		var body struct{ Value string }
		if json.NewDecoder(r.Body).Decode(&body) != nil || body.Value == "" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		k.records[r.URL.EscapedPath()] = body.Value
		w.WriteHeader(http.StatusNoContent)
	case http.MethodDelete:
		delete(k.records, r.URL.EscapedPath())
		w.WriteHeader(http.StatusNoContent)
	}
}

func newFactorSource(t *testing.T, factors bool) (*HTTP, *factorKYC) {
	t.Helper()
	k := &factorKYC{records: map[string]string{}, token: "tok"}
	srv := httptest.NewServer(k)
	t.Cleanup(srv.Close)
	h := NewHTTP(config.HTTPUsers{URL: srv.URL, Factors: factors}, "tok", srv.Client())
	h.sleep = func(context.Context, time.Duration) error { return nil }
	return h, k
}

// TestHTTPFactors: the factor calls against a server that keeps records
// as the contract says: a missing record is ErrNotFound, what is put is
// read back as it was, deleted is gone (twice is fine), passkey index
// records are apart from users' records; a 500 is retried (the calls are
// idempotent); a source without factors makes no call.
func TestHTTPFactors(t *testing.T) {
	ctx := context.Background()
	h, k := newFactorSource(t, true)
	if !h.KeepsFactors() {
		t.Fatal("factors set, but the source keeps none")
	}
	sub := "user/ü 1" // escaped in the path
	if _, err := h.UserFactor(ctx, sub, "totp"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("no record yet: %v", err)
	}
	sealed := []byte{0, 1, 2, 250, 255}
	if err := h.PutUserFactor(ctx, sub, "totp", sealed); err != nil {
		t.Fatal(err)
	}
	if b, err := h.UserFactor(ctx, sub, "totp"); err != nil || string(b) != string(sealed) {
		t.Fatalf("read back %v, %v", b, err)
	}
	if _, err := h.UserFactor(ctx, sub, "passkeys"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another kind: %v", err)
	}
	if _, ok := k.records["/users/user%2F%C3%BC%201/factors/totp"]; !ok {
		t.Fatalf("the record is not at the documented path: %v", k.records)
	}
	id := []byte{9, 8, 7}
	if err := h.PutPasskeyIndex(ctx, id, []byte("owner")); err != nil {
		t.Fatal(err)
	}
	if b, err := h.PasskeyIndex(ctx, id); err != nil || string(b) != "owner" {
		t.Fatalf("index %q, %v", b, err)
	}
	if _, ok := k.records["/passkeys/CQgH"]; !ok {
		t.Fatalf("the index is not at the documented path: %v", k.records)
	}
	k.fail500.Store(2)
	if err := h.DeleteUserFactor(ctx, sub, "totp"); err != nil {
		t.Fatalf("a delete after two 500s: %v", err)
	}
	if err := h.DeleteUserFactor(ctx, sub, "totp"); err != nil {
		t.Fatalf("a second delete: %v", err)
	}
	if err := h.DeletePasskeyIndex(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := h.PasskeyIndex(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted index: %v", err)
	}

	off, k2 := newFactorSource(t, false)
	if off.KeepsFactors() {
		t.Fatal("factors unset, but the source keeps them")
	}
	if _, err := off.UserFactor(ctx, sub, "totp"); !errors.Is(err, ErrUnavailable) || k2.calls.Load() != 0 {
		t.Fatalf("a source without factors: %v, %d calls", err, k2.calls.Load())
	}
}

// TestHTTPFactorBadAnswers: answers outside the contract are
// ErrUnavailable, never a record, and never quote the subject.
func TestHTTPFactorBadAnswers(t *testing.T) {
	ctx := context.Background()
	for name, handler := range map[string]http.HandlerFunc{
		"no value":       func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{}`)) },
		"not base64url":  func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{"value":"a+b/"}`)) },
		"not JSON":       func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`<html>`)) },
		"a put refused":  func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusForbidden) },
		"always failing": func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) },
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(handler)
			defer srv.Close()
			h := NewHTTP(config.HTTPUsers{URL: srv.URL, Factors: true}, "", srv.Client())
			h.sleep = func(context.Context, time.Duration) error { return nil }
			var err error
			if name == "a put refused" {
				err = h.PutUserFactor(ctx, "secret-subject", "totp", []byte("x"))
			} else {
				_, err = h.UserFactor(ctx, "secret-subject", "totp")
			}
			if !errors.Is(err, ErrUnavailable) || strings.Contains(err.Error(), "secret-subject") {
				t.Fatalf("err %v", err)
			}
		})
	}
}
