package op

import (
	"errors"
	"fmt"
	"testing"

	"github.com/idaop/ida-operator/runtime/grants"
)

// TestSpentSecret: how a code or refresh token the store could not give
// is answered: a replay and an unknown one are invalid_grant (RFC 6749
// §5.2), a store that failed is temporarily_unavailable, never a 500.
func TestSpentSecret(t *testing.T) {
	p, _ := servedFor(t)
	cases := []struct {
		name string
		err  error
		code string
		desc string
	}{
		{"replayed", grants.ErrReplayed, "invalid_grant", "the authorization code was already used"},
		{"replayed, revoking failed", fmt.Errorf("%w; revoking its grant: %w", grants.ErrReplayed, errors.New("down")), "invalid_grant", "the authorization code was already used"},
		{"unknown or expired", grants.ErrNotFound, "invalid_grant", "the authorization code is invalid or expired"},
		{"store failed", errors.New("grants: get code: connection refused"), "temporarily_unavailable", "the session store is unavailable"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := p.spentSecret(tc.err, "authorization code", clientBasic)
			if e.Code != tc.code || e.Description != tc.desc {
				t.Fatalf("got %s %q, want %s %q", e.Code, e.Description, tc.code, tc.desc)
			}
		})
	}
}

// TestIssuesRefreshToken: only to clients registered for the grant, and
// only with offline_access granted (OIDC Core §11).
func TestIssuesRefreshToken(t *testing.T) {
	_, sv := servedFor(t)
	cases := []struct {
		name, client, scope string
		want                bool
	}{
		{"registered, offline_access granted", clientPost, "openid offline_access", true},
		{"registered, no offline_access", clientPost, "openid", false},
		{"not registered for refresh_token", clientBasic, "openid offline_access", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := issuesRefreshToken(sv.clients[tc.client], tc.scope); got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}
