package users

import (
	"context"
	"testing"
)

// BenchmarkAuthenticatePassword: a password sign-in against the builtin
// source, bcrypt at HashCost, the cost the other sign-in factors are put
// beside in docs/BENCHMARKS.md.
func BenchmarkAuthenticatePassword(b *testing.B) {
	doc, err := DemoUsers("correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	src, err := NewBuiltin(doc)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		if _, err := src.Authenticate(ctx, "demo", "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}
