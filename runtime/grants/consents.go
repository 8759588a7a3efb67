package grants

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/idaop/ida-operator/runtime/store"
)

// A person's remembered consents and the record of what was released
// about them live in the shared store, one record of each per person
// (keyed by the hash of the provider's own user id): the authorization
// endpoint reads the consents in one Get, the account page both in two.
// Both records are bounded (maxConsents, maxGrantsPerConsent, the
// caller's release limit), so a person costs the store a known amount.

// Consent is what a person agreed to share with one relying party: what
// the consent pages they approved showed, merged, and the authorizations
// made under it, whose tokens withdrawing it revokes.
type Consent struct {
	ClientID string `json:"client_id"`
	// Scopes are the scope values approved.
	Scopes []string `json:"scopes,omitempty"`
	// Claims are the claims approved, verified or not.
	Claims []ConsentedClaim `json:"claims,omitempty"`
	// Purposes are the transaction purposes shown (the purpose parameter),
	// the newest last.
	Purposes []string `json:"purposes,omitempty"`
	// GrantedAt is when the person first approved, UpdatedAt when last,
	// in Unix seconds.
	GrantedAt int64 `json:"granted_at"`
	UpdatedAt int64 `json:"updated_at"`
	// Grants are the authorizations (Info.GrantID) made under this
	// consent, the oldest first, each with when its tokens end at the
	// latest.
	Grants []GrantRef `json:"grants,omitempty"`
}

// ConsentedClaim is one approved claim.
type ConsentedClaim struct {
	Name     string `json:"name"`
	Verified bool   `json:"verified,omitempty"`
	// TrustFrameworks a verified claim was approved under; empty: the
	// request left them open, so any.
	TrustFrameworks []string `json:"tfs,omitempty"`
	// Purpose is the purpose shown for the claim.
	Purpose string `json:"purpose,omitempty"`
}

// GrantRef names one authorization of a consent.
type GrantRef struct {
	ID        string `json:"id"`
	ExpiresAt int64  `json:"exp"`
	// Refresh: the authorization may get refresh tokens.
	Refresh bool `json:"rt,omitempty"`
}

// Consents are one person's consents, one per relying party.
type Consents struct {
	Items []Consent `json:"items,omitempty"`
}

// For returns the consent given to clientID, or nil.
func (cs *Consents) For(clientID string) *Consent {
	for i := range cs.Items {
		if cs.Items[i].ClientID == clientID {
			return &cs.Items[i]
		}
	}
	return nil
}

// Bounds of a person's consent record. Past them the oldest go. An
// authorization that may refresh is revoked as it goes, so no long-lived
// token is ever outside the record that withdrawing revokes it through;
// one with access tokens only is left to expire (within the access token
// lifetime), so a client that authorizes often loses nothing.
const (
	maxConsents         = 64
	maxGrantsPerConsent = 32
	maxPurposes         = 8
)

// Covers reports whether a stored consent covers what a request asks for
// (asked; its time fields and grants are ignored), so that no consent page
// is needed: every scope, every claim (verified or not) was approved, a
// verified claim under the trust frameworks asked for (approval with none
// named covers any; a request naming none is covered only by such an
// approval), and no purpose is shown that the person has not seen: the
// transaction purpose, and each claim's purpose, as approved.
func Covers(stored, asked *Consent) bool {
	if stored == nil || asked == nil || stored.ClientID != asked.ClientID {
		return false
	}
	for _, s := range asked.Scopes {
		if !slices.Contains(stored.Scopes, s) {
			return false
		}
	}
	for _, p := range asked.Purposes {
		if p != "" && !slices.Contains(stored.Purposes, p) {
			return false
		}
	}
	for _, c := range asked.Claims {
		if !claimCovered(stored.Claims, c) {
			return false
		}
	}
	return true
}

// claimCovered: one asked claim is among the approved ones.
func claimCovered(approved []ConsentedClaim, c ConsentedClaim) bool {
	for _, a := range approved {
		if a.Name != c.Name || a.Verified != c.Verified {
			continue
		}
		if c.Purpose != "" && c.Purpose != a.Purpose {
			return false
		}
		if !c.Verified || len(a.TrustFrameworks) == 0 {
			return true
		}
		if len(c.TrustFrameworks) == 0 {
			return false
		}
		for _, tf := range c.TrustFrameworks {
			if !slices.Contains(a.TrustFrameworks, tf) {
				return false
			}
		}
		return true
	}
	return false
}

// merge adds a newly approved consent page to the stored consent: the
// union of scopes and purposes; each claim's latest purpose, and the union
// of its trust frameworks (or any, when either left them open).
func (c *Consent) merge(approved *Consent) {
	for _, s := range approved.Scopes {
		if !slices.Contains(c.Scopes, s) {
			c.Scopes = append(c.Scopes, s)
		}
	}
	for _, p := range approved.Purposes {
		if p == "" {
			continue
		}
		c.Purposes = append(slices.DeleteFunc(c.Purposes, func(q string) bool { return q == p }), p)
	}
	if n := len(c.Purposes); n > maxPurposes {
		c.Purposes = c.Purposes[n-maxPurposes:]
	}
	for _, a := range approved.Claims {
		i := slices.IndexFunc(c.Claims, func(x ConsentedClaim) bool { return x.Name == a.Name && x.Verified == a.Verified })
		if i < 0 {
			c.Claims = append(c.Claims, ConsentedClaim{Name: a.Name, Verified: a.Verified, Purpose: a.Purpose,
				TrustFrameworks: slices.Clone(a.TrustFrameworks)})
			continue
		}
		x := &c.Claims[i]
		if a.Purpose != "" {
			x.Purpose = a.Purpose
		}
		if len(x.TrustFrameworks) == 0 || len(a.TrustFrameworks) == 0 {
			x.TrustFrameworks = nil
			continue
		}
		for _, tf := range a.TrustFrameworks {
			if !slices.Contains(x.TrustFrameworks, tf) {
				x.TrustFrameworks = append(x.TrustFrameworks, tf)
			}
		}
	}
	c.UpdatedAt = max(c.UpdatedAt, approved.UpdatedAt)
}

func consentsKey(subject string) string { return keyOf("consents\x00" + subject) }
func releasesKey(subject string) string { return keyOf("releases\x00" + subject) }

// Consents returns a person's consents; none is not an error.
func (g *Store) Consents(ctx context.Context, subject string) (*Consents, error) {
	cs, err := get[Consents](ctx, g.s, store.KindConsent, consentsKey(subject))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return &Consents{}, nil
	case err != nil:
		return nil, failed("get consents", err)
	}
	return cs, nil
}

// Consented records an authorization under a person's consent to its
// client: approved, when a consent page was just approved, merges into
// the consent (nil: a remembered consent is reused); the grant joins the
// consent's list. The record lives for keep, and at least until its
// grants' tokens end. Grants and consents past the bounds are revoked
// here.
//
// The record is read, changed and written back: of two concurrent
// authorizations of one person one grant may be left off the list; its
// tokens then live out their lifetimes, which withdrawal cannot shorten.
// One person's authorizations racing each other are rare, and the
// alternative (a store read per token use) costs every request.
func (g *Store) Consented(ctx context.Context, subject, clientID string, approved *Consent, grant GrantRef, keep time.Duration) error {
	cs, err := g.Consents(ctx, subject)
	if err != nil {
		return err
	}
	now := g.now().Unix()
	c := cs.For(clientID)
	if c == nil {
		if approved == nil {
			// Withdrawn meanwhile: nothing to reuse.
			return ErrNotFound
		}
		cs.Items = append(cs.Items, Consent{ClientID: clientID, GrantedAt: now})
		c = &cs.Items[len(cs.Items)-1]
	}
	if approved != nil {
		c.merge(approved)
		c.UpdatedAt = now
	}
	var revoke []string
	if grant.ID != "" {
		c.Grants = append(c.Grants, grant)
	}
	c.Grants = slices.DeleteFunc(c.Grants, func(r GrantRef) bool { return r.ExpiresAt <= now })
	if n := len(c.Grants); n > maxGrantsPerConsent {
		for _, r := range c.Grants[:n-maxGrantsPerConsent] {
			if r.Refresh {
				revoke = append(revoke, r.ID)
			}
		}
		c.Grants = slices.Clone(c.Grants[n-maxGrantsPerConsent:])
	}
	if len(cs.Items) > maxConsents {
		// The least recently approved consent goes, with its tokens.
		slices.SortStableFunc(cs.Items, func(a, b Consent) int { return cmp.Compare(b.UpdatedAt, a.UpdatedAt) })
		for _, old := range cs.Items[maxConsents:] {
			for _, r := range old.Grants {
				revoke = append(revoke, r.ID)
			}
		}
		cs.Items = cs.Items[:maxConsents]
	}
	if err := g.putConsents(ctx, subject, cs, keep); err != nil {
		return err
	}
	return g.revokeAll(ctx, revoke)
}

// putConsents writes a person's consents for keep, and at least as long
// as any grant listed can live; an empty list is deleted.
func (g *Store) putConsents(ctx context.Context, subject string, cs *Consents, keep time.Duration) error {
	if len(cs.Items) == 0 {
		if err := g.s.Delete(ctx, store.KindConsent, consentsKey(subject)); err != nil {
			return failed("delete consents", err)
		}
		return nil
	}
	now := g.now()
	ttl := keep
	for _, c := range cs.Items {
		for _, r := range c.Grants {
			ttl = max(ttl, Remaining(r.ExpiresAt, now))
		}
	}
	if err := put(ctx, g.s, g.local, store.KindConsent, consentsKey(subject), cs, ttl); err != nil {
		return failed("put consents", err)
	}
	return nil
}

// WithdrawConsent forgets a person's consent to a client and revokes
// every authorization made under it: their refresh tokens stop working
// and their access tokens are unknown from then on. The grants are
// revoked while the consent still stands, so a store that fails midway
// leaves it listed for the person to withdraw again; then the consent goes,
// and grants an authorization added meanwhile are revoked too.
// Withdrawing what was not given is not an error.
func (g *Store) WithdrawConsent(ctx context.Context, subject, clientID string, keep time.Duration) error {
	cs, err := g.Consents(ctx, subject)
	if err != nil {
		return err
	}
	c := cs.For(clientID)
	if c == nil {
		return nil
	}
	done := map[string]bool{}
	var ids []string
	for _, r := range c.Grants {
		ids, done[r.ID] = append(ids, r.ID), true
	}
	if err := g.revokeAll(ctx, ids); err != nil {
		return err
	}
	if cs, err = g.Consents(ctx, subject); err != nil {
		return err
	}
	if c = cs.For(clientID); c == nil {
		return nil
	}
	var late []string
	for _, r := range c.Grants {
		if !done[r.ID] {
			late = append(late, r.ID)
		}
	}
	cs.Items = slices.DeleteFunc(cs.Items, func(x Consent) bool { return x.ClientID == clientID })
	if err := g.putConsents(ctx, subject, cs, keep); err != nil {
		return err
	}
	return g.revokeAll(ctx, late)
}

// revokeAll revokes grants, all of them even when some fail.
func (g *Store) revokeAll(ctx context.Context, ids []string) error {
	var errs []error
	for _, id := range ids {
		if err := g.RevokeGrant(ctx, id); err != nil && !errors.Is(err, ErrNotFound) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Release is one release of a person's claims to a relying party, as the
// account page shows it; never a claim's value. Identical releases in a
// row (a client calling UserInfo again) are one record: Count says how
// many, At when the last was.
type Release struct {
	ClientID string `json:"client_id"`
	// Target is where the claims went: "id_token" or "userinfo".
	Target string `json:"target"`
	At     int64  `json:"at"`
	Count  int64  `json:"n,omitempty"`
	// Claims are the plain claims released, Verified the verified ones
	// with the TrustFrameworks they came under.
	Claims          []string `json:"claims,omitempty"`
	Verified        []string `json:"verified,omitempty"`
	TrustFrameworks []string `json:"tfs,omitempty"`
	// Purpose is the transaction purpose of the authorization.
	Purpose string `json:"purpose,omitempty"`
}

// sameRelease: two records say the same but for when.
func sameRelease(a, b *Release) bool {
	return a.ClientID == b.ClientID && a.Target == b.Target && a.Purpose == b.Purpose &&
		slices.Equal(a.Claims, b.Claims) && slices.Equal(a.Verified, b.Verified) &&
		slices.Equal(a.TrustFrameworks, b.TrustFrameworks)
}

// Releases are one person's release records, the oldest first.
type Releases struct {
	Items []Release `json:"items,omitempty"`
}

// RecordRelease adds a release to a person's records, which keep the
// newest limit records of the last keep. As Consented, it reads and
// writes back: of concurrent releases to one person one record may be
// lost (the audit log, written first, keeps every one).
func (g *Store) RecordRelease(ctx context.Context, subject string, r Release, keep time.Duration, limit int) error {
	rs, err := g.Releases(ctx, subject)
	if err != nil {
		return err
	}
	now := g.now()
	cutoff := now.Add(-keep).Unix()
	rs.Items = slices.DeleteFunc(rs.Items, func(x Release) bool { return x.At <= cutoff })
	if n := len(rs.Items); n > 0 && sameRelease(&rs.Items[n-1], &r) {
		last := &rs.Items[n-1]
		last.At, last.Count = r.At, max(last.Count, 1)+1
	} else {
		rs.Items = append(rs.Items, r)
	}
	if n := len(rs.Items); n > max(limit, 1) {
		rs.Items = rs.Items[n-max(limit, 1):]
	}
	if err := put(ctx, g.s, g.local, store.KindConsent, releasesKey(subject), rs, keep); err != nil {
		return failed("put releases", err)
	}
	return nil
}

// Releases returns a person's release records, the oldest first; none is
// not an error.
func (g *Store) Releases(ctx context.Context, subject string) (*Releases, error) {
	rs, err := get[Releases](ctx, g.s, store.KindConsent, releasesKey(subject))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return &Releases{}, nil
	case err != nil:
		return nil, failed("get releases", err)
	}
	return rs, nil
}
