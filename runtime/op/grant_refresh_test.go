package op

import (
	"net/url"
	"testing"
	"time"

	"github.com/idaop/ida-operator/runtime/grants"
)

// TestRefreshChecks: each case breaks one rule of the refresh grant
// (RFC 6749 §6) and gets that rule's error.
func TestRefreshChecks(t *testing.T) {
	_, sv := servedFor(t)
	now := time.Unix(1_800_000_000, 0)
	valid := func() *refreshRequest {
		rec := &grants.Token{Info: grants.Info{ClientID: clientPost, Scope: "openid email offline_access"}, ExpiresAt: now.Unix() + 60}
		return &refreshRequest{
			client: sv.clients[clientPost], form: url.Values{}, rec: rec, info: rec.Info,
			grant: &grants.Grant{ClientID: clientPost}, now: now,
		}
	}
	cases := []struct {
		name  string
		edit  func(*refreshRequest)
		code  string
		scope string
	}{
		{"valid refresh keeps the granted scope", func(*refreshRequest) {}, "", "openid email offline_access"},
		{"token issued to another client", func(rr *refreshRequest) { rr.client = sv.clients[clientFAPI] }, "invalid_grant", ""},
		{"token expired, at its expiry second", func(rr *refreshRequest) { rr.now = time.Unix(rr.rec.ExpiresAt, 0) }, "invalid_grant", ""},
		{"grant gone", func(rr *refreshRequest) { rr.grant = nil }, "invalid_grant", ""},
		{"grant revoked", func(rr *refreshRequest) { rr.grant.Revoked = true }, "invalid_grant", ""},
		{"scope wider than granted", func(rr *refreshRequest) { rr.form.Set("scope", "openid profile") }, "invalid_scope", ""},
		{"scope narrowed", func(rr *refreshRequest) { rr.form.Set("scope", "openid openid") }, "", "openid"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rr := valid()
			tc.edit(rr)
			if got := codeOf(runChecks(rr, refreshChecks)); got != tc.code {
				t.Fatalf("got %q, want %q", got, tc.code)
			}
			if tc.code == "" && rr.info.Scope != tc.scope {
				t.Fatalf("scope %q, want %q", rr.info.Scope, tc.scope)
			}
		})
	}
}
