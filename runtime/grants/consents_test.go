package grants

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/idaop/ida-operator/runtime/store"
)

// TestCovers is the rule of remembered consent, one case per way a
// request can ask for more than was approved.
func TestCovers(t *testing.T) {
	stored := &Consent{
		ClientID: "rp", Scopes: []string{"openid", "profile", "offline_access"},
		Purposes: []string{"Open an account"},
		Claims: []ConsentedClaim{
			{Name: "email"},
			{Name: "given_name", Verified: true, TrustFrameworks: []string{"jp_aml"}, Purpose: "KYC"},
			{Name: "birthdate", Verified: true},
		},
	}
	ask := func(f func(c *Consent)) *Consent {
		c := &Consent{ClientID: "rp", Scopes: []string{"openid"}}
		f(c)
		return c
	}
	for _, tc := range []struct {
		name   string
		stored *Consent
		asked  *Consent
		want   bool
	}{
		{"nothing stored", nil, ask(func(*Consent) {}), false},
		{"another client's consent", stored, ask(func(c *Consent) { c.ClientID = "other" }), false},
		{"fewer scopes", stored, ask(func(*Consent) {}), true},
		{"the same scopes", stored, ask(func(c *Consent) { c.Scopes = []string{"openid", "profile", "offline_access"} }), true},
		{"one more scope", stored, ask(func(c *Consent) { c.Scopes = []string{"openid", "email"} }), false},
		{"an approved plain claim", stored, ask(func(c *Consent) { c.Claims = []ConsentedClaim{{Name: "email"}} }), true},
		{"a new plain claim", stored, ask(func(c *Consent) { c.Claims = []ConsentedClaim{{Name: "phone_number"}} }), false},
		{"a plain claim approved only as verified", stored, ask(func(c *Consent) { c.Claims = []ConsentedClaim{{Name: "birthdate"}} }), false},
		{"a verified claim approved only as plain", stored, ask(func(c *Consent) { c.Claims = []ConsentedClaim{{Name: "email", Verified: true}} }), false},
		{"a verified claim under its framework", stored, ask(func(c *Consent) {
			c.Claims = []ConsentedClaim{{Name: "given_name", Verified: true, TrustFrameworks: []string{"jp_aml"}, Purpose: "KYC"}}
		}), true},
		{"a verified claim under another framework", stored, ask(func(c *Consent) {
			c.Claims = []ConsentedClaim{{Name: "given_name", Verified: true, TrustFrameworks: []string{"eidas"}}}
		}), false},
		{"a verified claim under any framework, approved under one", stored, ask(func(c *Consent) {
			c.Claims = []ConsentedClaim{{Name: "given_name", Verified: true}}
		}), false},
		{"a verified claim under one framework, approved under any", stored, ask(func(c *Consent) {
			c.Claims = []ConsentedClaim{{Name: "birthdate", Verified: true, TrustFrameworks: []string{"de_aml"}}}
		}), true},
		{"a claim's purpose not shown before", stored, ask(func(c *Consent) {
			c.Claims = []ConsentedClaim{{Name: "given_name", Verified: true, TrustFrameworks: []string{"jp_aml"}, Purpose: "Marketing"}}
		}), false},
		{"a claim without a purpose", stored, ask(func(c *Consent) {
			c.Claims = []ConsentedClaim{{Name: "given_name", Verified: true, TrustFrameworks: []string{"jp_aml"}}}
		}), true},
		{"a transaction purpose shown before", stored, ask(func(c *Consent) { c.Purposes = []string{"Open an account"} }), true},
		{"a new transaction purpose", stored, ask(func(c *Consent) { c.Purposes = []string{"Take out a loan"} }), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Covers(tc.stored, tc.asked); got != tc.want {
				t.Fatalf("Covers = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestConsentMerge: approving more widens the consent; a later page
// covers the earlier one's claims still.
func TestConsentMerge(t *testing.T) {
	c := &Consent{ClientID: "rp", Scopes: []string{"openid"}, Claims: []ConsentedClaim{
		{Name: "given_name", Verified: true, TrustFrameworks: []string{"jp_aml"}},
		{Name: "birthdate", Verified: true, TrustFrameworks: []string{"jp_aml"}},
	}}
	first := *c
	first.Claims = append([]ConsentedClaim(nil), c.Claims...)
	c.merge(&Consent{Scopes: []string{"openid", "email"}, Purposes: []string{"p"}, Claims: []ConsentedClaim{
		{Name: "given_name", Verified: true, TrustFrameworks: []string{"eidas"}, Purpose: "KYC"},
		{Name: "birthdate", Verified: true},
		{Name: "email"},
	}})
	for _, asked := range []*Consent{
		&first,
		{ClientID: "rp", Scopes: []string{"email"}, Purposes: []string{"p"}, Claims: []ConsentedClaim{
			{Name: "given_name", Verified: true, TrustFrameworks: []string{"eidas", "jp_aml"}, Purpose: "KYC"},
			{Name: "birthdate", Verified: true},
			{Name: "email"},
		}},
	} {
		if !Covers(c, asked) {
			t.Fatalf("merged %+v does not cover %+v", c, asked)
		}
	}
}

// TestConsentRecords: a consent is stored per person and client on both
// stores, reused, widened, and withdrawn with every token of its grants.
func TestConsentRecords(t *testing.T) {
	backends(t, func(t *testing.T, g *Store, _ store.Store) {
		ctx := t.Context()
		exp := time.Now().Add(time.Hour).Unix()
		approved := &Consent{ClientID: "rp", Scopes: []string{"openid", "offline_access"}, Claims: []ConsentedClaim{{Name: "given_name", Verified: true}}}

		c1 := newCode("rp")
		if err := g.Consented(ctx, "alice", "rp", approved, GrantRef{ID: c1.GrantID, ExpiresAt: exp}, time.Hour); err != nil {
			t.Fatal(err)
		}
		at1, rt1 := issue(t, g, c1)
		// A second authorization reuses the consent.
		c2 := newCode("rp")
		if err := g.Consented(ctx, "alice", "rp", nil, GrantRef{ID: c2.GrantID, ExpiresAt: exp}, time.Hour); err != nil {
			t.Fatal(err)
		}
		at2, rt2 := issue(t, g, c2)
		// Another client's grant is not touched by withdrawing rp's.
		other := newCode("other")
		if err := g.Consented(ctx, "alice", "other", &Consent{ClientID: "other", Scopes: []string{"openid"}}, GrantRef{ID: other.GrantID, ExpiresAt: exp}, time.Hour); err != nil {
			t.Fatal(err)
		}
		otherAT, _ := issue(t, g, other)

		cs, err := g.Consents(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		rp := cs.For("rp")
		if rp == nil || len(rp.Grants) != 2 || !Covers(rp, approved) || rp.GrantedAt == 0 {
			t.Fatalf("rp's consent: %+v", rp)
		}
		if bob, err := g.Consents(ctx, "bob"); err != nil || len(bob.Items) != 0 {
			t.Fatalf("bob has consents: %+v %v", bob, err)
		}

		if err := g.WithdrawConsent(ctx, "alice", "rp", time.Hour); err != nil {
			t.Fatal(err)
		}
		for _, at := range []string{at1, at2} {
			if _, err := g.AccessToken(ctx, at); !errors.Is(err, ErrNotFound) {
				t.Fatalf("access token of a withdrawn consent: %v", err)
			}
		}
		for _, rt := range []string{rt1, rt2} {
			if _, err := g.RefreshToken(ctx, rt); !errors.Is(err, ErrNotFound) {
				t.Fatalf("refresh token of a withdrawn consent: %v", err)
			}
		}
		if gr, err := g.Grant(ctx, c1.GrantID); err != nil || !gr.Revoked {
			t.Fatalf("grant after withdrawal: %+v %v", gr, err)
		}
		if _, err := g.AccessToken(ctx, otherAT); err != nil {
			t.Fatalf("another client's token went too: %v", err)
		}
		cs, err = g.Consents(ctx, "alice")
		if err != nil || cs.For("rp") != nil || cs.For("other") == nil {
			t.Fatalf("consents after withdrawal: %+v %v", cs, err)
		}
		// Reuse after withdrawal records nothing: the next authorization
		// asks again.
		if err := g.Consented(ctx, "alice", "rp", nil, GrantRef{ID: NewSecret(), ExpiresAt: exp}, time.Hour); !errors.Is(err, ErrNotFound) {
			t.Fatalf("reusing a withdrawn consent: %v", err)
		}
		if cs, _ := g.Consents(ctx, "alice"); cs.For("rp") != nil {
			t.Fatal("a withdrawn consent came back")
		}
		if err := g.WithdrawConsent(ctx, "alice", "never", time.Hour); err != nil {
			t.Fatalf("withdrawing what was not given: %v", err)
		}
	})
}

// TestConsentGrantsBounded: past maxGrantsPerConsent the oldest grant
// goes; one that may refresh is revoked, so no long-lived token is out of
// withdrawal's reach; one with an access token only is left to expire.
func TestConsentGrantsBounded(t *testing.T) {
	backends(t, func(t *testing.T, g *Store, _ store.Store) {
		ctx := t.Context()
		exp := time.Now().Add(time.Hour).Unix()
		var refreshing *Code
		var refreshingAT, accessOnlyAT string
		for i := range maxGrantsPerConsent + 2 {
			c := newCode("rp")
			ref := GrantRef{ID: c.GrantID, ExpiresAt: exp, Refresh: i == 0}
			var approved *Consent
			if i == 0 {
				approved = &Consent{ClientID: "rp", Scopes: []string{"openid"}}
			}
			if err := g.Consented(ctx, "alice", "rp", approved, ref, time.Hour); err != nil {
				t.Fatal(err)
			}
			switch i {
			case 0:
				refreshing = c
				refreshingAT, _ = issue(t, g, c)
			case 1:
				accessOnlyAT, _ = issue(t, g, c)
			}
		}
		cs, _ := g.Consents(ctx, "alice")
		if n := len(cs.For("rp").Grants); n != maxGrantsPerConsent {
			t.Fatalf("%d grants listed, want %d", n, maxGrantsPerConsent)
		}
		if _, err := g.AccessToken(ctx, refreshingAT); !errors.Is(err, ErrNotFound) {
			t.Fatalf("a refreshing grant dropped from the list still has its token: %v", err)
		}
		if gr, err := g.Grant(ctx, refreshing.GrantID); err != nil || !gr.Revoked {
			t.Fatalf("refreshing grant: %+v %v", gr, err)
		}
		if _, err := g.AccessToken(ctx, accessOnlyAT); err != nil {
			t.Fatalf("an access-only grant dropped from the list lost its token: %v", err)
		}
	})
}

// TestReleaseRecords: releases are kept per person, identical ones in a
// row merged, bounded in count and by age.
func TestReleaseRecords(t *testing.T) {
	backends(t, func(t *testing.T, g *Store, _ store.Store) {
		ctx := t.Context()
		now := time.Now()
		rel := func(client string, at time.Time) Release {
			return Release{ClientID: client, Target: "userinfo", At: at.Unix(), Verified: []string{"given_name"}, TrustFrameworks: []string{"jp_aml"}}
		}
		old := rel("rp", now.Add(-48*time.Hour))
		for _, r := range []Release{old, rel("rp", now.Add(-time.Minute)), rel("rp", now), rel("b", now), rel("c", now), rel("d", now)} {
			if err := g.RecordRelease(ctx, "alice", r, 24*time.Hour, 3); err != nil {
				t.Fatal(err)
			}
		}
		rs, err := g.Releases(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range rs.Items {
			got = append(got, fmt.Sprintf("%s×%d", r.ClientID, max(r.Count, 1)))
		}
		if fmt.Sprint(got) != "[b×1 c×1 d×1]" {
			t.Fatalf("records %v", got)
		}
		if err := g.RecordRelease(ctx, "alice", rel("d", now), 24*time.Hour, 3); err != nil {
			t.Fatal(err)
		}
		rs, _ = g.Releases(ctx, "alice")
		if last := rs.Items[len(rs.Items)-1]; last.Count != 2 {
			t.Fatalf("a repeated release: %+v", last)
		}
		if bob, err := g.Releases(ctx, "bob"); err != nil || len(bob.Items) != 0 {
			t.Fatalf("bob: %+v %v", bob, err)
		}
	})
}

// TestConsentRecordSize measures what one person costs the store, for
// docs/security.md: a consent to a relying party asking for a verified
// name, birthdate and address under one trust framework plus email, with
// two live authorizations, and one release record.
func TestConsentRecordSize(t *testing.T) {
	grant := func() GrantRef { return GrantRef{ID: NewSecret(), ExpiresAt: 1_800_000_000} }
	cs := Consents{Items: []Consent{{
		ClientID: "bank-app-7f3c2a", Scopes: []string{"openid", "email", "offline_access"},
		Purposes:  []string{"Open a savings account"},
		GrantedAt: 1_790_000_000, UpdatedAt: 1_790_000_000,
		Claims: []ConsentedClaim{
			{Name: "email"},
			{Name: "given_name", Verified: true, TrustFrameworks: []string{"jp_aml"}, Purpose: "Identity check"},
			{Name: "family_name", Verified: true, TrustFrameworks: []string{"jp_aml"}, Purpose: "Identity check"},
			{Name: "birthdate", Verified: true, TrustFrameworks: []string{"jp_aml"}, Purpose: "Identity check"},
			{Name: "address", Verified: true, TrustFrameworks: []string{"jp_aml"}, Purpose: "Identity check"},
		},
		Grants: []GrantRef{grant(), grant()},
	}}}
	rel := Release{ClientID: "bank-app-7f3c2a", Target: "userinfo", At: 1_790_000_000, Count: 3,
		Claims: []string{"email"}, Verified: []string{"address", "birthdate", "family_name", "given_name"},
		TrustFrameworks: []string{"jp_aml"}, Purpose: "Open a savings account"}
	cb, _ := json.Marshal(cs)
	rb, _ := json.Marshal(Releases{Items: []Release{rel}})
	t.Logf("one consent: %d bytes; one release record: %d bytes", len(cb), len(rb)-len(`{"items":[]}`))
	// The documented numbers (docs/security.md) hold within a margin.
	if len(cb) > 800 || len(rb) > 300 {
		t.Fatalf("records grew: consent %d bytes, release %d bytes; update docs/security.md", len(cb), len(rb))
	}
}
