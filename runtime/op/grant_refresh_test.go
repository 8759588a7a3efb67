package op

import (
	"net/url"
	"testing"
	"time"

	"github.com/idaop/ida-operator/runtime/config"
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
			sv: sv, client: sv.clients[clientPost], form: url.Values{}, rec: rec, info: rec.Info,
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
		{"a scope the client lost since is not granted again", func(rr *refreshRequest) {
			lost := *rr.client
			lost.Client = ptr(*rr.client.Client)
			lost.Scopes = []string{"openid", "offline_access"}
			rr.client = &lost
		}, "", "openid offline_access"},
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

// TestRefreshRotationByProfile: by default a refresh rotates the token and
// its reuse revokes the grant (RFC 9700 §4.14.2); under FAPI 2.0 the
// client keeps its refresh token, so a retry after a lost answer works
// (FAPI 2.0 Security Profile §5.3.2.1).
func TestRefreshRotationByProfile(t *testing.T) {
	for _, fapi2 := range []bool{false, true} {
		t.Run(map[bool]string{false: "default", true: "FAPI2"}[fapi2], func(t *testing.T) {
			f := newFixture(t, func(s *config.Snapshot) {
				if fapi2 {
					fapi2Only(s)
				}
			})
			p, sv := f.p, f.p.served.Load()
			c := sv.clients[clientFAPI]
			now := f.clock.now()
			info := grants.Info{GrantID: grants.NewSecret(), ClientID: clientFAPI, Subject: testSubject, Scope: "openid offline_access", AuthTime: now.Unix()}
			rt := grants.NewSecret()
			exp := now.Add(time.Hour).Unix()
			if err := p.grants.Issue(t.Context(), &grants.Issuance{
				GrantID: info.GrantID, Grant: &grants.Grant{ClientID: clientFAPI, ExpiresAt: exp},
				AccessToken: grants.NewSecret(), Access: grants.Token{Info: info, ExpiresAt: exp},
				RefreshToken: rt, Refresh: grants.Token{Info: info, ExpiresAt: exp},
			}); err != nil {
				t.Fatal(err)
			}
			form := url.Values{"refresh_token": {rt}}
			first, err := p.refreshGrant(t.Context(), sv, c, form, nil, nil)
			if err != nil {
				t.Fatalf("first refresh: %v", err)
			}
			second, err := p.refreshGrant(t.Context(), sv, c, form, nil, nil)
			switch {
			case fapi2 && (err != nil || first.RefreshToken != "" || second.AccessToken == ""):
				t.Fatalf("FAPI2: the same refresh token must keep working and no new one be issued: %v, %+v", err, first)
			case !fapi2 && (codeOf(err) != "invalid_grant" || first.RefreshToken == ""):
				t.Fatalf("default: a rotated token must be refused: %v, %+v", err, first)
			}
		})
	}
}

// fapi2Only puts the provider under FAPI 2.0 and keeps the clients that
// profile allows (private_key_jwt).
func fapi2Only(s *config.Snapshot) {
	s.Provider.Security.Profile = config.ProfileFAPI2
	for id, c := range s.Clients {
		if c.TokenEndpointAuthMethod != config.AuthPrivateKeyJWT {
			delete(s.Clients, id)
		}
	}
}
