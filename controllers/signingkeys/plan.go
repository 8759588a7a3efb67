// Package signingkeys decides how a provider's signing keys rotate. Plan is
// a pure function of (keys, policy, now, rotate request): the controller
// carries out its result and requeues at NextEvent; tests drive it with a
// fake clock.
//
// The guarantees, in the order relying parties care about them:
//   - a key is published at least PublishLeadTime before it signs (only the
//     first key of an algorithm signs at once: there is nothing to wait for);
//   - each configured algorithm has exactly one signing key at any time;
//   - a retired key stays published for Retention, which the caller makes
//     longer than any token it signed can live;
//   - an existing key is never regenerated or changed, except that its
//     retirement and expiry times are set once.
package signingkeys

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/idaop/ida-operator/runtime/config"
)

// Policy is the rotation configuration of one provider.
type Policy struct {
	// Algorithms to keep a signing key for.
	Algorithms []string
	// RotationPeriod is how long a key signs before its successor takes over.
	RotationPeriod time.Duration
	// PublishLeadTime is how long a new key is published before it signs.
	PublishLeadTime time.Duration
	// Retention is how long a retired key stays published; the caller
	// makes it longer than the longest token lifetime.
	Retention time.Duration
	// InToken says new keys are made in a PKCS#11 token (the Generator
	// does that); a key held elsewhere is then replaced like a rotation,
	// and the other way round.
	InToken bool
}

// Validate checks what Plan relies on.
func (p Policy) Validate() error {
	var errs []error
	for i, a := range p.Algorithms {
		if !slices.Contains(config.SupportedAlgorithms, a) {
			errs = append(errs, fmt.Errorf("algorithms[%d]: %q is not supported", i, a))
		} else if slices.Contains(p.Algorithms[:i], a) {
			errs = append(errs, fmt.Errorf("algorithms[%d]: %q is listed twice", i, a))
		}
	}
	if p.RotationPeriod <= 0 {
		errs = append(errs, errors.New("rotation period must be positive"))
	}
	if p.PublishLeadTime < 0 {
		errs = append(errs, errors.New("publish lead time must not be negative"))
	}
	if p.PublishLeadTime >= p.RotationPeriod {
		errs = append(errs, errors.New("publish lead time must be shorter than the rotation period"))
	}
	if p.Retention < 0 {
		errs = append(errs, errors.New("retention must not be negative"))
	}
	return errors.Join(errs...)
}

// Kinds of Action.
const (
	ActionCreated   = "Created"
	ActionActivated = "Activated"
	ActionRetired   = "Retired"
	ActionRemoved   = "Removed"
)

// Action is one change the plan made, with a reason a person can read in an
// event.
type Action struct {
	Kind      string
	KeyID     string
	Algorithm string
	Reason    string
}

// Result is the planned key set and what changed.
type Result struct {
	Keys    config.KeySet
	Actions []Action
	// Changed says Keys differs from the input and must be written; it can
	// be true with no Actions when only a rotate request was recorded.
	Changed bool
	// NextEvent is when the plan must run again (a creation, activation,
	// retirement or expiry is due); zero if never.
	NextEvent time.Time
	// NextRotation is the earliest time a new key starts signing; zero if
	// none is foreseen.
	NextRotation time.Time
}

// Plan computes the key set at now. It is idempotent: planning the result
// again at the same now changes nothing. A rotateRequest that differs from
// current.RotationRequest (and is not empty) starts a new key for every
// algorithm, signing PublishLeadTime from now, and is recorded.
func Plan(current config.KeySet, p Policy, now time.Time, rotateRequest string, gen Generator) (Result, error) {
	if err := p.Validate(); err != nil {
		return Result{}, fmt.Errorf("rotation policy: %w", err)
	}
	now = now.Round(0) // wall clock only, as after a round trip through JSON
	pl := &planner{policy: p, now: now, gen: gen}
	for _, k := range current.Keys {
		pl.keys = append(pl.keys, &k)
	}
	rotate := rotateRequest != "" && rotateRequest != current.RotationRequest

	// Record what already happened before deciding anything new.
	pl.retireSuperseded()
	pl.retireUnconfigured()
	for _, alg := range p.Algorithms {
		if err := pl.schedule(alg, rotate, rotateRequest); err != nil {
			return Result{}, err
		}
	}
	// A key created to sign now supersedes its predecessor now.
	pl.retireSuperseded()
	pl.removeExpired()

	slices.SortStableFunc(pl.keys, func(a, b *config.SigningKey) int {
		if c := strings.Compare(a.Algorithm, b.Algorithm); c != 0 {
			return c
		}
		if c := a.ActivatesAt.Compare(b.ActivatesAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	keys := make([]config.SigningKey, len(pl.keys))
	for i, k := range pl.keys {
		keys[i] = *k
	}
	res := Result{
		Keys:    config.KeySet{Keys: keys, RotationRequest: current.RotationRequest},
		Actions: pl.actions,
		Changed: len(pl.actions) > 0,
	}
	if rotate {
		res.Keys.RotationRequest = rotateRequest
		res.Changed = true
	}
	res.NextEvent, res.NextRotation = pl.next()
	return res, nil
}

type planner struct {
	policy  Policy
	now     time.Time
	gen     Generator
	keys    []*config.SigningKey // copies: the caller's set is never changed
	actions []Action
}

func (pl *planner) act(kind string, k *config.SigningKey, reason string) {
	pl.actions = append(pl.actions, Action{Kind: kind, KeyID: k.ID, Algorithm: k.Algorithm, Reason: reason})
}

func (pl *planner) retire(k *config.SigningKey, at time.Time, reason string) {
	exp := at.Add(pl.policy.Retention)
	k.RetiresAt, k.ExpiresAt = &at, &exp
	pl.act(ActionRetired, k, fmt.Sprintf("%s; published until %s", reason, exp.Format(time.RFC3339)))
}

// signer is the key that signs alg at now; the rule lives in
// config.KeySet.Signer, which the runtime uses too.
func (pl *planner) signer(alg string) *config.SigningKey {
	ks := config.KeySet{}
	for _, k := range pl.keys {
		ks.Keys = append(ks.Keys, *k)
	}
	s, ok := ks.Signer(alg, pl.now)
	if !ok {
		return nil
	}
	for _, k := range pl.keys {
		if k.ID == s.ID {
			return k
		}
	}
	return nil
}

// upcoming are alg's keys that will sign later.
func (pl *planner) upcoming(alg string) []*config.SigningKey {
	var out []*config.SigningKey
	for _, k := range pl.keys {
		if k.Algorithm == alg && !k.Activated(pl.now) && k.RetiresAt == nil {
			out = append(out, k)
		}
	}
	return out
}

// retireSuperseded records the hand-over of every key whose successor has
// started signing: it retired at that moment.
func (pl *planner) retireSuperseded() {
	byAlg := map[string][]*config.SigningKey{}
	var algs []string
	for _, k := range pl.keys {
		if !k.Activated(pl.now) || k.RetiresAt != nil {
			continue
		}
		if _, ok := byAlg[k.Algorithm]; !ok {
			algs = append(algs, k.Algorithm)
		}
		byAlg[k.Algorithm] = append(byAlg[k.Algorithm], k)
	}
	for _, alg := range algs {
		ks := byAlg[alg]
		slices.SortStableFunc(ks, func(a, b *config.SigningKey) int { return a.ActivatesAt.Compare(b.ActivatesAt) })
		for i := 0; i+1 < len(ks); i++ {
			old, next := ks[i], ks[i+1]
			pl.act(ActionActivated, next, "replaces "+old.ID)
			pl.retire(old, next.ActivatesAt, "replaced by "+next.ID)
		}
	}
}

// retireUnconfigured stops the keys of algorithms no longer configured; they
// stay published for Retention like any retired key.
func (pl *planner) retireUnconfigured() {
	for _, k := range pl.keys {
		if k.RetiresAt == nil && !slices.Contains(pl.policy.Algorithms, k.Algorithm) {
			pl.retire(k, pl.now, k.Algorithm+" is no longer configured")
		}
	}
}

// schedule makes sure alg has a key signing now and, when due, its
// successor.
func (pl *planner) schedule(alg string, rotate bool, request string) error {
	cur := pl.signer(alg)
	if cur == nil {
		k, err := pl.create(alg, pl.now, "no key signs with "+alg+"; signs at once")
		if err != nil {
			return err
		}
		pl.act(ActionActivated, k, "first key for "+alg)
		return nil
	}
	if rotate {
		// Keys already waiting may have leaked with the one being replaced.
		for _, u := range pl.upcoming(alg) {
			pl.retire(u, pl.now, "superseded before signing by the rotation request")
		}
		_, err := pl.create(alg, pl.now.Add(pl.policy.PublishLeadTime), fmt.Sprintf("rotation requested (%q)", request))
		return err
	}
	// A key waiting in the store no longer configured never signs.
	for _, u := range pl.upcoming(alg) {
		if u.InToken() != pl.policy.InToken {
			pl.retire(u, pl.now, "superseded before signing: keys now live in "+pl.store())
		}
	}
	if len(pl.upcoming(alg)) > 0 {
		return nil
	}
	if cur.InToken() != pl.policy.InToken {
		// Moving stores is a rotation: the current key signs on from its
		// store until its successor has been published for the lead time.
		_, err := pl.create(alg, pl.now.Add(pl.policy.PublishLeadTime), "keys now live in "+pl.store())
		return err
	}
	due := cur.ActivatesAt.Add(pl.policy.RotationPeriod)
	if pl.now.Before(due.Add(-pl.policy.PublishLeadTime)) {
		return nil
	}
	// If the plan runs late, the successor waits the full lead time rather
	// than sign before relying parties could have fetched it.
	at := due
	if lead := pl.now.Add(pl.policy.PublishLeadTime); at.Before(lead) {
		at = lead
	}
	_, err := pl.create(alg, at, fmt.Sprintf("%s ends its rotation period at %s", cur.ID, due.Format(time.RFC3339)))
	return err
}

// store names where the policy keeps new keys, for a reason.
func (pl *planner) store() string {
	if pl.policy.InToken {
		return "the PKCS#11 token"
	}
	return "the key Secret"
}

func (pl *planner) create(alg string, activatesAt time.Time, reason string) (*config.SigningKey, error) {
	k, err := pl.gen(alg, pl.now)
	if err != nil {
		return nil, fmt.Errorf("generating a %s key: %w", alg, err)
	}
	if k.ID == "" || k.Algorithm != alg || k.InToken() != pl.policy.InToken || (k.InToken() && len(k.PublicJWK) == 0) {
		return nil, fmt.Errorf("generator returned an incomplete %s key", alg)
	}
	if slices.ContainsFunc(pl.keys, func(o *config.SigningKey) bool { return o.ID == k.ID }) {
		return nil, fmt.Errorf("generator returned kid %q, which is already in use", k.ID)
	}
	k.CreatedAt, k.ActivatesAt, k.RetiresAt, k.ExpiresAt = pl.now, activatesAt, nil, nil
	pl.keys = append(pl.keys, &k)
	if activatesAt.After(pl.now) {
		reason += "; signs from " + activatesAt.Format(time.RFC3339)
	}
	pl.act(ActionCreated, &k, reason)
	return &k, nil
}

func (pl *planner) removeExpired() {
	pl.keys = slices.DeleteFunc(pl.keys, func(k *config.SigningKey) bool {
		if k.Expired(pl.now) {
			pl.act(ActionRemoved, k, "retention ended at "+k.ExpiresAt.Format(time.RFC3339))
			return true
		}
		return false
	})
}

// next finds the earliest future moment the plan would act on, and the
// earliest future activation.
func (pl *planner) next() (event, rotation time.Time) {
	earliest := func(cur *time.Time, t time.Time) {
		if t.After(pl.now) && (cur.IsZero() || t.Before(*cur)) {
			*cur = t
		}
	}
	for _, k := range pl.keys {
		if k.RetiresAt == nil { // a key retired before signing never activates
			earliest(&event, k.ActivatesAt)
			earliest(&rotation, k.ActivatesAt)
		}
		if k.RetiresAt != nil {
			earliest(&event, *k.RetiresAt)
		}
		if k.ExpiresAt != nil {
			earliest(&event, *k.ExpiresAt)
		}
	}
	for _, alg := range pl.policy.Algorithms {
		cur := pl.signer(alg)
		if cur == nil || len(pl.upcoming(alg)) > 0 {
			continue
		}
		due := cur.ActivatesAt.Add(pl.policy.RotationPeriod)
		earliest(&event, due.Add(-pl.policy.PublishLeadTime))
		earliest(&rotation, due)
	}
	return event, rotation
}
