package grants

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/idaop/ida-operator/runtime/store"
)

// ErrNotFound: the secret is unknown, used up or expired.
var ErrNotFound = errors.New("grants: not found")

// ErrReplayed: a code that was redeemed, or a refresh token that was
// rotated, came back. Its grant has been revoked (RFC 9700 §4.2.4,
// §4.14.2); when revoking failed, the error says so too.
var ErrReplayed = errors.New("grants: already used")

// Every other error a verb returns means the store failed; the verb's name
// is in it.

// Store keeps the authorization state of a provider in a store.Store.
// It is safe for concurrent use.
type Store struct {
	s     store.Store
	local bool
	now   func() time.Time
}

// New wraps s; now is the clock that expiries are measured on.
func New(s store.Store, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{s: s, local: store.IsLocal(s), now: now}
}

// Ping reports whether the store can serve, for readiness.
func (g *Store) Ping(ctx context.Context) error { return g.s.Ping(ctx) }

// failed wraps a store error with the verb that met it; a missing entry
// becomes ErrNotFound.
func failed(verb string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return ErrNotFound
	}
	return fmt.Errorf("grants: %s: %w", verb, err)
}

// Push stores a pushed authorization request (RFC 9126 §2.2) for its
// client and returns the id its request_uri carries.
func (g *Store) Push(ctx context.Context, r *Request, ttl time.Duration) (string, error) {
	id := NewSecret()
	if err := put(ctx, g.s, g.local, store.KindPAR, pushedKey(r.ClientID, id), r, ttl); err != nil {
		return "", failed("push", err)
	}
	return id, nil
}

// TakePushed returns a client's pushed request and forgets it: a
// request_uri is used once. Another client's request_uri is not found and
// stays usable for its own client, so a wrong client_id cannot burn it.
func (g *Store) TakePushed(ctx context.Context, clientID, id string) (*Request, error) {
	r, err := take[Request](ctx, g.s, store.KindPAR, pushedKey(clientID, id))
	if err != nil {
		return nil, failed("take pushed request", err)
	}
	return r, nil
}

// pushedKey binds a request_uri to its client (RFC 9126 §4).
func pushedKey(clientID, id string) string { return keyOf(clientID + "\x00" + id) }

// SpendInteraction marks an interaction answered until ttl ends and
// reports whether it was the first answer: of concurrent answers exactly
// one is.
func (g *Store) SpendInteraction(ctx context.Context, id string, ttl time.Duration) (bool, error) {
	fresh, err := g.s.Remember(ctx, store.KindInteraction, keyOf(id), max(ttl, time.Second))
	if err != nil {
		return false, failed("spend interaction", err)
	}
	return fresh, nil
}

// PutCode stores an authorization code until it expires and returns it.
func (g *Store) PutCode(ctx context.Context, c *Code) (string, error) {
	code := NewSecret()
	if err := put(ctx, g.s, g.local, store.KindCode, keyOf(code), c, Remaining(c.ExpiresAt, g.now())); err != nil {
		return "", failed("put code", err)
	}
	return code, nil
}

// Code returns a code's record without using it up. A code redeemed
// before is ErrReplayed, and its grant is revoked.
func (g *Store) Code(ctx context.Context, code string) (*Code, error) {
	key := keyOf(code)
	c, err := get[Code](ctx, g.s, store.KindCode, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, g.replayed(ctx, codeMarker(key))
	}
	if err != nil {
		return nil, failed("get code", err)
	}
	return c, nil
}

// RedeemCode uses a code up. One store operation decides (Remember, atomic
// in both stores): of concurrent callers exactly one succeeds, and every
// other one, then or later while the grant's tokens can live (markerTTL),
// gets ErrReplayed and revokes the grant, the winner's tokens included
// (RFC 9700 §4.2.4).
func (g *Store) RedeemCode(ctx context.Context, code string, c *Code, markerTTL time.Duration) error {
	key := keyOf(code)
	return g.spend(ctx, store.KindCode, key, codeMarker(key), c.GrantID, max(markerTTL, time.Second))
}

// RefreshToken returns a refresh token's record. A rotated one is
// ErrReplayed, and its grant is revoked.
func (g *Store) RefreshToken(ctx context.Context, token string) (*Token, error) {
	key := keyOf(token)
	t, err := get[Token](ctx, g.s, store.KindRefreshToken, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, g.replayed(ctx, refreshMarker(key))
	}
	if err != nil {
		return nil, failed("get refresh token", err)
	}
	return t, nil
}

// RotateRefreshToken uses a refresh token up, as RedeemCode does a code;
// presenting it again revokes its grant until it would have expired.
func (g *Store) RotateRefreshToken(ctx context.Context, token string, t *Token) error {
	key := keyOf(token)
	return g.spend(ctx, store.KindRefreshToken, key, refreshMarker(key), t.GrantID, Remaining(t.ExpiresAt, g.now()))
}

// spend uses up the secret stored at kind/key. The marker, set once, is
// the decision: the caller that sets it has the secret; any other is a
// replay and revokes grantID. The marker then leads later presentations
// to the grant, and the record goes.
func (g *Store) spend(ctx context.Context, kind store.Kind, key, marker, grantID string, ttl time.Duration) error {
	first, err := g.s.Remember(ctx, store.KindGrant, spentKey(marker), ttl)
	if err != nil {
		return failed("spend", err)
	}
	if !first {
		return g.revokeReplayed(ctx, grantID)
	}
	if err := g.s.Put(ctx, store.KindGrant, marker, []byte(grantID), ttl); err != nil {
		return failed("mark spent", err)
	}
	// The marker decides from now on; the record only has to go before it
	// would expire anyway.
	if err := g.s.Delete(ctx, kind, key); err != nil {
		return failed("delete spent record", err)
	}
	return nil
}

// The markers live beside the grants, under the used secret's key: which
// grant it belonged to, and whether it was spent.
func codeMarker(key string) string    { return "code:" + key }
func refreshMarker(key string) string { return "rt:" + key }
func spentKey(marker string) string   { return "spent:" + marker }
func revokedKey(grantID string) string {
	return "revoked:" + grantID
}

// replayed answers a secret that is gone: ErrReplayed, with its grant
// revoked, when the marker says it was used; else ErrNotFound.
func (g *Store) replayed(ctx context.Context, marker string) error {
	gid, err := g.s.Get(ctx, store.KindGrant, marker)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return ErrNotFound
	case err != nil:
		return failed("get replay marker", err)
	}
	return g.revokeReplayed(ctx, string(gid))
}

// revokeReplayed revokes the grant of a replayed secret and says so.
func (g *Store) revokeReplayed(ctx context.Context, grantID string) error {
	if err := g.RevokeGrant(ctx, grantID); err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("%w; revoking its grant: %w", ErrReplayed, err)
	}
	return ErrReplayed
}

// AccessToken returns an access token's record.
func (g *Store) AccessToken(ctx context.Context, token string) (*Token, error) {
	t, err := get[Token](ctx, g.s, store.KindAccessToken, keyOf(token))
	if err != nil {
		return nil, failed("get access token", err)
	}
	return t, nil
}

// Grant returns the grant with this id; Revoked says whether it was
// revoked, whatever a racing Issue wrote into its record since.
func (g *Store) Grant(ctx context.Context, id string) (*Grant, error) {
	gr, err := get[Grant](ctx, g.s, store.KindGrant, id)
	if err != nil {
		return nil, failed("get grant", err)
	}
	if !gr.Revoked {
		if gr.Revoked, err = g.revoked(ctx, id); err != nil {
			return nil, err
		}
	}
	return gr, nil
}

// revoked reads a grant's revocation flag.
func (g *Store) revoked(ctx context.Context, id string) (bool, error) {
	_, err := g.s.Get(ctx, store.KindGrant, revokedKey(id))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	}
	return false, failed("read revocation", err)
}

// Issuance is what the token endpoint stores for one response.
type Issuance struct {
	// GrantID and Grant: the grant the tokens join; Grant.Tokens grows.
	GrantID string
	Grant   *Grant
	// AccessToken and Access: the new access token and its record.
	AccessToken string
	Access      Token
	// RefreshToken and Refresh: the new refresh token, when one is issued.
	RefreshToken string
	Refresh      Token
}

// maxTokenRefs keeps a grant's list bounded: a long-lived grant refreshed
// often would otherwise grow without end; the oldest entries have expired.
const maxTokenRefs = 64

// Issue stores the tokens of one token response and adds them to their
// grant. When the grant was revoked meanwhile (a replay of its code or
// refresh token raced this request) the new tokens are deleted again and
// the answer is ErrReplayed: RevokeGrant sets the flag before it reads the
// grant's tokens, and Issue reads the flag after it wrote them, so one of
// the two always sees the other.
func (g *Store) Issue(ctx context.Context, is *Issuance) error {
	if err := g.issue(ctx, is); err != nil {
		return err
	}
	switch revoked, err := g.revoked(ctx, is.GrantID); {
	case err != nil:
		return err
	case revoked:
		if err := g.RevokeGrant(ctx, is.GrantID); err != nil && !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("%w; revoking its grant: %w", ErrReplayed, err)
		}
		return ErrReplayed
	}
	return nil
}

func (g *Store) issue(ctx context.Context, is *Issuance) error {
	now := g.now()
	atKey := keyOf(is.AccessToken)
	if err := put(ctx, g.s, g.local, store.KindAccessToken, atKey, &is.Access, Remaining(is.Access.ExpiresAt, now)); err != nil {
		return failed("put access token", err)
	}
	is.Grant.Tokens = append(is.Grant.Tokens, TokenRef{Kind: store.KindAccessToken, Key: atKey})
	if is.RefreshToken != "" {
		rtKey := keyOf(is.RefreshToken)
		if err := put(ctx, g.s, g.local, store.KindRefreshToken, rtKey, &is.Refresh, Remaining(is.Refresh.ExpiresAt, now)); err != nil {
			return failed("put refresh token", err)
		}
		is.Grant.Tokens = append(is.Grant.Tokens, TokenRef{Kind: store.KindRefreshToken, Key: rtKey})
	}
	if n := len(is.Grant.Tokens); n > maxTokenRefs {
		is.Grant.Tokens = is.Grant.Tokens[n-maxTokenRefs:]
	}
	if err := put(ctx, g.s, g.local, store.KindGrant, is.GrantID, is.Grant, Remaining(is.Grant.ExpiresAt, now)); err != nil {
		return failed("put grant", err)
	}
	return nil
}

// revokedFlagLifetime keeps the revocation of a grant that has no record
// yet (its code was replayed while the first redemption was issuing) long
// enough for that issue to see it.
const revokedFlagLifetime = 24 * time.Hour

// RevokeGrant marks a grant revoked, then deletes every token it lists, so
// that no refresh under it works again and a racing Issue sees the mark.
func (g *Store) RevokeGrant(ctx context.Context, id string) error {
	gr, err := get[Grant](ctx, g.s, store.KindGrant, id)
	ttl := revokedFlagLifetime
	switch {
	case err == nil:
		ttl = max(ttl, Remaining(gr.ExpiresAt, g.now()))
	case !errors.Is(err, store.ErrNotFound):
		return failed("get grant", err)
	}
	if _, err := g.s.Remember(ctx, store.KindGrant, revokedKey(id), ttl); err != nil {
		return failed("flag revoked grant", err)
	}
	// Read again after the flag: tokens an Issue wrote before it saw the
	// flag are listed now.
	if gr, err = get[Grant](ctx, g.s, store.KindGrant, id); err != nil {
		return failed("get grant", err)
	}
	var errs []error
	for _, t := range gr.Tokens {
		if err := g.s.Delete(ctx, t.Kind, t.Key); err != nil {
			errs = append(errs, err)
		}
	}
	gr.Revoked, gr.Tokens = true, nil
	if err := put(ctx, g.s, g.local, store.KindGrant, id, gr, Remaining(gr.ExpiresAt, g.now())); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return failed("revoke grant", err)
	}
	return nil
}

// RevokeToken revokes a token of the client's (RFC 7009 §2.1): an access
// token alone, a refresh token with its whole grant. A token that is
// unknown or another client's changes nothing and is not an error, so the
// answer reveals nothing. refreshFirst follows token_type_hint.
func (g *Store) RevokeToken(ctx context.Context, token, clientID string, refreshFirst bool) error {
	kinds := [2]store.Kind{store.KindAccessToken, store.KindRefreshToken}
	if refreshFirst {
		kinds[0], kinds[1] = kinds[1], kinds[0]
	}
	key := keyOf(token)
	for _, kind := range kinds {
		t, err := get[Token](ctx, g.s, kind, key)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return failed("get token", err)
		}
		if t.ClientID != clientID {
			return nil
		}
		if kind == store.KindRefreshToken {
			if err := g.RevokeGrant(ctx, t.GrantID); err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
		}
		if err := g.s.Delete(ctx, kind, key); err != nil {
			return failed("delete token", err)
		}
		return nil
	}
	return nil
}

// SpendAssertionID records a client assertion's jti for ttl and reports
// whether it was unused (RFC 7523 §3).
func (g *Store) SpendAssertionID(ctx context.Context, clientID, jti string, ttl time.Duration) (bool, error) {
	fresh, err := g.s.Remember(ctx, store.KindJTI, keyOf(clientID+"\x00"+jti), max(ttl, time.Second))
	if err != nil {
		return false, failed("spend assertion id", err)
	}
	return fresh, nil
}

// SpendDPoPProof records a DPoP proof's replay key for ttl and reports
// whether it was unused (RFC 9449 §11.1).
func (g *Store) SpendDPoPProof(ctx context.Context, replayKey string, ttl time.Duration) (bool, error) {
	fresh, err := g.s.Remember(ctx, store.KindDPoPProof, keyOf(replayKey), max(ttl, time.Second))
	if err != nil {
		return false, failed("spend dpop proof", err)
	}
	return fresh, nil
}
