package grants

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/idaop/ida-operator/runtime/store"
)

// NewSecret returns 256 random bits, base64url: codes, tokens, ids.
func NewSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// keyOf is the store key of a bearer secret: its hash, so a dump of the
// store holds nothing a client could present.
func keyOf(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// put stores a record as JSON or, in a store.Local store, in the compact
// binary form of codec.go when the record has one. A record read back is
// the same either way.
func put[T any](ctx context.Context, s store.Store, local bool, kind store.Kind, key string, v *T, ttl time.Duration) error {
	if ttl < time.Second {
		ttl = time.Second
	}
	var b []byte
	if br, ok := any(v).(binaryRecord); ok && local {
		b = encodeBinary(br, make([]byte, 0, 256))
	} else {
		var err error
		if b, err = json.Marshal(v); err != nil {
			return err
		}
	}
	return s.Put(ctx, kind, key, b, ttl)
}

func get[T any](ctx context.Context, s store.Store, kind store.Kind, key string) (*T, error) {
	b, err := s.Get(ctx, kind, key)
	if err != nil {
		return nil, err
	}
	return decode[T](b)
}

func take[T any](ctx context.Context, s store.Store, kind store.Kind, key string) (*T, error) {
	b, err := s.Take(ctx, kind, key)
	if err != nil {
		return nil, err
	}
	return decode[T](b)
}

// decode reads either form put writes.
func decode[T any](b []byte) (*T, error) {
	var v T
	if len(b) > 0 && b[0] == binaryVersion {
		br, ok := any(&v).(binaryRecord)
		if !ok {
			return nil, fmt.Errorf("a binary record where a %T was expected", v)
		}
		if !decodeBinary(br, b[1:]) {
			return nil, fmt.Errorf("malformed binary %T record", v)
		}
		return &v, nil
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// Remaining is the time left until a Unix expiry, at least a second: the
// TTL of a record that must not outlive what it belongs to.
func Remaining(exp int64, now time.Time) time.Duration {
	return max(time.Unix(exp, 0).Sub(now), time.Second)
}
