package grants

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/idaop/ida-operator/runtime/store"
)

// shared hides that the memory store is Local, so records go to it as
// they would to Redis.
type shared struct{ store.Store }

// filled returns a T with every field, however deep, set to a value that
// is not its zero value and differs from the other fields': a field that a
// codec forgets comes back different.
func filled[T any](t *testing.T) *T {
	t.Helper()
	v := new(T)
	n := 0
	var fill func(reflect.Value)
	fill = func(f reflect.Value) {
		n++
		switch f.Kind() {
		case reflect.String:
			f.SetString("v€" + string(rune('a'+n%26)) + time.Duration(n).String())
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Int64, reflect.Int:
			f.SetInt(int64(n) * -1_000_003)
		case reflect.Pointer:
			f.Set(reflect.New(f.Type().Elem()))
			fill(f.Elem())
		case reflect.Slice:
			f.Set(reflect.MakeSlice(f.Type(), 2, 2))
			fill(f.Index(0))
			fill(f.Index(1))
		case reflect.Struct:
			for i := range f.NumField() {
				fill(f.Field(i))
			}
		default:
			t.Fatalf("%T: no filler for a field of kind %s; teach filled and the codec", *v, f.Kind())
		}
	}
	fill(reflect.ValueOf(v).Elem())
	return v
}

// TestRecordsRoundTrip: every field of every record survives both forms,
// so a field added to a record but not to its binary form fails here.
func TestRecordsRoundTrip(t *testing.T) {
	t.Run("Code", func(t *testing.T) { roundTrip(t, filled[Code](t), true) })
	t.Run("Token", func(t *testing.T) { roundTrip(t, filled[Token](t), true) })
	t.Run("Grant", func(t *testing.T) { roundTrip(t, filled[Grant](t), true) })
	t.Run("Request", func(t *testing.T) { roundTrip(t, filled[Request](t), true) })
	t.Run("Session", func(t *testing.T) { roundTrip(t, filled[Session](t), true) })
	t.Run("Interaction", func(t *testing.T) { roundTrip(t, filled[Interaction](t), false) })
	t.Run("zero values", func(t *testing.T) {
		roundTrip(t, &Code{}, true)
		roundTrip(t, &Token{}, true)
		roundTrip(t, &Grant{}, true)
		roundTrip(t, &Request{}, true)
		roundTrip(t, &Session{}, true)
	})
}

func roundTrip[T any](t *testing.T, rec *T, binaryForm bool) {
	t.Helper()
	ctx := context.Background()
	for _, local := range []bool{true, false} {
		m := store.NewMemory()
		var s store.Store = m
		if !local {
			s = shared{m}
		}
		if err := put(ctx, s, store.IsLocal(s), store.KindCode, "k", rec, time.Hour); err != nil {
			t.Fatal(err)
		}
		raw, _ := m.Get(ctx, store.KindCode, "k")
		got, err := get[T](ctx, s, store.KindCode, "k")
		m.Close()
		if err != nil {
			t.Fatalf("%T local=%v: %v", rec, local, err)
		}
		if !reflect.DeepEqual(got, rec) {
			t.Fatalf("%T local=%v: read back\n%+v\nwant\n%+v", rec, local, got, rec)
		}
		if isBinary := raw[0] == binaryVersion; isBinary != (local && binaryForm) {
			t.Fatalf("%T local=%v: stored %q", rec, local, raw)
		}
		if raw[0] == binaryVersion {
			checkDamage[T](t, raw)
		}
	}
}

// checkDamage: a binary record cut short, or with bytes after it, is
// refused rather than misread.
func checkDamage[T any](t *testing.T, raw []byte) {
	t.Helper()
	for n := 1; n < len(raw); n++ {
		if _, err := decode[T](raw[:n]); err == nil {
			t.Fatalf("%T truncated to %d of %d bytes accepted", *new(T), n, len(raw))
		}
	}
	if _, err := decode[T](append(raw[:len(raw):len(raw)], 0)); err == nil {
		t.Fatalf("%T with a trailing byte accepted", *new(T))
	}
}

func TestDecodeRefusesBinaryOfTypeWithoutOne(t *testing.T) {
	if _, err := decode[Info]([]byte{binaryVersion, 1, 'x'}); err == nil {
		t.Fatal("a binary record of a type without a binary form accepted")
	}
}

func BenchmarkRecordCodec(b *testing.B) {
	rec := &Token{Info: Info{GrantID: NewSecret(), ClientID: "rp-load", Subject: "248289761001",
		Scope: "openid profile email offline_access", Claims: `{"userinfo":{"verified_claims":{"verification":{"trust_framework":null},"claims":{"given_name":null}}}}`,
		Purpose: "To deliver your order", AuthTime: 1700000000, SessionID: "0123456789abcdefghijkl"}, ExpiresAt: 1700003600}
	b.Run("binary", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			raw := encodeBinary(rec, make([]byte, 0, 256))
			if _, err := decode[Token](raw); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			raw, _ := json.Marshal(rec)
			if _, err := decode[Token](raw); err != nil {
				b.Fatal(err)
			}
		}
	})
}
