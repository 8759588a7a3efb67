package store_test

import (
	"testing"

	"github.com/idaop/ida-operator/runtime/store"
	"github.com/idaop/ida-operator/runtime/store/storetest"
)

func TestMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		m := store.NewMemory()
		t.Cleanup(func() { _ = m.Close() })
		return m
	})
}

func BenchmarkMemory(b *testing.B) {
	m := store.NewMemory()
	defer m.Close()
	storetest.Bench(b, m)
}
