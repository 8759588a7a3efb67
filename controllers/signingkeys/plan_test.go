package signingkeys

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idaop/ida-operator/runtime/config"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// fakeGen makes numbered keys ("ES256-1", ...) without key material, so
// the plan's tests run fast and read easily.
func fakeGen() Generator {
	n := map[string]int{}
	return func(alg string, now time.Time) (config.SigningKey, error) {
		n[alg]++
		return config.SigningKey{
			ID: fmt.Sprintf("%s-%d", alg, n[alg]), Algorithm: alg,
			PrivateJWK: []byte(`{}`), CreatedAt: now, ActivatesAt: now,
		}, nil
	}
}

var policy = Policy{
	Algorithms:      []string{config.ES256},
	RotationPeriod:  100 * time.Hour,
	PublishLeadTime: 10 * time.Hour,
	Retention:       20 * time.Hour,
}

// run plans, checks idempotence (a second plan at the same now does
// nothing) and returns the result.
func run(t *testing.T, ks config.KeySet, p Policy, now time.Time, rotate string, gen Generator) Result {
	t.Helper()
	res, err := Plan(ks, p, now, rotate, gen)
	if err != nil {
		t.Fatalf("Plan at %s: %v", now.Sub(t0), err)
	}
	again, err := Plan(res.Keys, p, now, rotate, gen)
	if err != nil {
		t.Fatalf("Plan again at %s: %v", now.Sub(t0), err)
	}
	if again.Changed || len(again.Actions) > 0 || !reflect.DeepEqual(again.Keys, res.Keys) {
		t.Fatalf("Plan at %s is not idempotent: second run gave %v", now.Sub(t0), again.Actions)
	}
	return res
}

func kids(keys []config.SigningKey) string {
	var out []string
	for _, k := range keys {
		out = append(out, k.ID)
	}
	return strings.Join(out, ",")
}

func actions(as []Action) string {
	var out []string
	for _, a := range as {
		out = append(out, a.Kind+" "+a.KeyID)
	}
	return strings.Join(out, "; ")
}

type step struct {
	at        time.Duration // after t0
	rotate    string
	actions   string
	active    string // kid signing ES256 at that moment
	published string
	nextEvent time.Duration // after t0; -1 for none
}

func runSteps(t *testing.T, p Policy, steps []step) config.KeySet {
	t.Helper()
	gen := fakeGen()
	var ks config.KeySet
	for _, s := range steps {
		now := t0.Add(s.at)
		res := run(t, ks, p, now, s.rotate, gen)
		ks = res.Keys
		if got := actions(res.Actions); got != s.actions {
			t.Errorf("at %s: actions %q, want %q", s.at, got, s.actions)
		}
		active := ""
		if k, ok := ks.Signer(config.ES256, now); ok {
			active = k.ID
		}
		if active != s.active {
			t.Errorf("at %s: active %q, want %q", s.at, active, s.active)
		}
		if got := kids(ks.Published(now)); got != s.published {
			t.Errorf("at %s: published %q, want %q", s.at, got, s.published)
		}
		want := time.Time{}
		if s.nextEvent >= 0 {
			want = t0.Add(s.nextEvent)
		}
		if !res.NextEvent.Equal(want) {
			t.Errorf("at %s: next event %s, want %s", s.at, res.NextEvent.Sub(t0), s.nextEvent)
		}
		for _, a := range res.Actions {
			if a.Reason == "" || a.Algorithm != config.ES256 {
				t.Errorf("at %s: action %+v lacks a reason or algorithm", s.at, a)
			}
		}
	}
	return ks
}

func TestFullRotationCycle(t *testing.T) {
	h := time.Hour
	ks := runSteps(t, policy, []step{
		{at: 0, actions: "Created ES256-1; Activated ES256-1", active: "ES256-1", published: "ES256-1", nextEvent: 90 * h},
		{at: 90*h - time.Second, actions: "", active: "ES256-1", published: "ES256-1", nextEvent: 90 * h},
		{at: 90 * h, actions: "Created ES256-2", active: "ES256-1", published: "ES256-1,ES256-2", nextEvent: 100 * h},
		{at: 100*h - time.Second, actions: "", active: "ES256-1", published: "ES256-1,ES256-2", nextEvent: 100 * h},
		{at: 100 * h, actions: "Activated ES256-2; Retired ES256-1", active: "ES256-2", published: "ES256-1,ES256-2", nextEvent: 120 * h},
		{at: 120*h - time.Second, actions: "", active: "ES256-2", published: "ES256-1,ES256-2", nextEvent: 120 * h},
		{at: 120 * h, actions: "Removed ES256-1", active: "ES256-2", published: "ES256-2", nextEvent: 190 * h},
		{at: 190 * h, actions: "Created ES256-3", active: "ES256-2", published: "ES256-2,ES256-3", nextEvent: 200 * h},
		{at: 200 * h, actions: "Activated ES256-3; Retired ES256-2", active: "ES256-3", published: "ES256-2,ES256-3", nextEvent: 220 * h},
	})
	k2 := ks.Keys[0]
	if k2.ID != "ES256-2" || !k2.RetiresAt.Equal(t0.Add(200*h)) || !k2.ExpiresAt.Equal(t0.Add(220*h)) {
		t.Errorf("retired key: %+v", k2)
	}
	k3 := ks.Keys[1]
	if !k3.CreatedAt.Equal(t0.Add(190*h)) || !k3.ActivatesAt.Equal(t0.Add(200*h)) || k3.RetiresAt != nil {
		t.Errorf("new key: %+v", k3)
	}
}

func TestLateRunKeepsLeadTime(t *testing.T) {
	h := time.Hour
	runSteps(t, policy, []step{
		{at: 0, actions: "Created ES256-1; Activated ES256-1", active: "ES256-1", published: "ES256-1", nextEvent: 90 * h},
		// The operator was down at 90h: the successor still waits the full
		// lead time, and the old key signs a little longer.
		{at: 95 * h, actions: "Created ES256-2", active: "ES256-1", published: "ES256-1,ES256-2", nextEvent: 105 * h},
		{at: 104 * h, actions: "", active: "ES256-1", published: "ES256-1,ES256-2", nextEvent: 105 * h},
		{at: 105 * h, actions: "Activated ES256-2; Retired ES256-1", active: "ES256-2", published: "ES256-1,ES256-2", nextEvent: 125 * h},
	})
}

func TestVeryLateRunRecordsWhatHappened(t *testing.T) {
	h := time.Hour
	runSteps(t, policy, []step{
		{at: 0, actions: "Created ES256-1; Activated ES256-1", active: "ES256-1", published: "ES256-1", nextEvent: 90 * h},
		{at: 90 * h, actions: "Created ES256-2", active: "ES256-1", published: "ES256-1,ES256-2", nextEvent: 100 * h},
		// Down from 90h to 150h: ES256-2 signed from 100h on; ES256-1's
		// retention ended at 120h. Both facts are recorded at once.
		{at: 150 * h, actions: "Activated ES256-2; Retired ES256-1; Removed ES256-1", active: "ES256-2", published: "ES256-2", nextEvent: 190 * h},
	})
}

func TestRotateNow(t *testing.T) {
	h := time.Hour
	ks := runSteps(t, policy, []step{
		{at: 0, actions: "Created ES256-1; Activated ES256-1", active: "ES256-1", published: "ES256-1", nextEvent: 90 * h},
		{at: 5 * h, rotate: "r1", actions: "Created ES256-2", active: "ES256-1", published: "ES256-1,ES256-2", nextEvent: 15 * h},
		{at: 6 * h, rotate: "r1", actions: "", active: "ES256-1", published: "ES256-1,ES256-2", nextEvent: 15 * h},
		{at: 15 * h, rotate: "r1", actions: "Activated ES256-2; Retired ES256-1", active: "ES256-2", published: "ES256-1,ES256-2", nextEvent: 35 * h},
		// The next rotation counts from the new key's activation.
		{at: 35 * h, rotate: "r1", actions: "Removed ES256-1", active: "ES256-2", published: "ES256-2", nextEvent: 105 * h},
	})
	if ks.RotationRequest != "r1" {
		t.Errorf("rotation request %q not recorded", ks.RotationRequest)
	}
}

func TestRotateNowWhileSuccessorWaits(t *testing.T) {
	h := time.Hour
	runSteps(t, policy, []step{
		{at: 0, actions: "Created ES256-1; Activated ES256-1", active: "ES256-1", published: "ES256-1", nextEvent: 90 * h},
		{at: 90 * h, actions: "Created ES256-2", active: "ES256-1", published: "ES256-1,ES256-2", nextEvent: 100 * h},
		// ES256-2 may have leaked with ES256-1: it never signs.
		{at: 95 * h, rotate: "r1", actions: "Retired ES256-2; Created ES256-3", active: "ES256-1", published: "ES256-1,ES256-2,ES256-3", nextEvent: 105 * h},
		{at: 100 * h, rotate: "r1", actions: "", active: "ES256-1", published: "ES256-1,ES256-2,ES256-3", nextEvent: 105 * h},
		{at: 105 * h, rotate: "r1", actions: "Activated ES256-3; Retired ES256-1", active: "ES256-3", published: "ES256-1,ES256-2,ES256-3", nextEvent: 115 * h},
		{at: 115 * h, rotate: "r1", actions: "Removed ES256-2", active: "ES256-3", published: "ES256-1,ES256-3", nextEvent: 125 * h},
	})
}

func TestSameRotateRequestIsIgnored(t *testing.T) {
	res := run(t, config.KeySet{RotationRequest: "r1"}, policy, t0, "r1", fakeGen())
	if got := actions(res.Actions); got != "Created ES256-1; Activated ES256-1" {
		t.Fatalf("actions %q", got)
	}
	res = run(t, res.Keys, policy, t0.Add(time.Hour), "", fakeGen())
	if res.Changed || res.Keys.RotationRequest != "r1" {
		t.Fatalf("an empty request must change nothing: %+v", res)
	}
}

func TestRotateRequestRecordedWithoutKeys(t *testing.T) {
	p := policy
	p.Algorithms = nil
	res := run(t, config.KeySet{}, p, t0, "r1", fakeGen())
	if !res.Changed || len(res.Actions) != 0 || res.Keys.RotationRequest != "r1" {
		t.Fatalf("got %+v", res)
	}
}

func TestRemovedAlgorithm(t *testing.T) {
	h := time.Hour
	both := policy
	both.Algorithms = []string{config.ES256, config.PS256}
	gen := fakeGen()
	res := run(t, config.KeySet{}, both, t0, "", gen)
	if got := actions(res.Actions); got != "Created ES256-1; Activated ES256-1; Created PS256-1; Activated PS256-1" {
		t.Fatalf("actions %q", got)
	}
	now := t0.Add(30 * h)
	res = run(t, res.Keys, policy, now, "", gen)
	if got := actions(res.Actions); got != "Retired PS256-1" {
		t.Fatalf("actions %q", got)
	}
	if _, ok := res.Keys.Signer(config.PS256, now); ok {
		t.Error("a removed algorithm still signs")
	}
	if got := kids(res.Keys.Published(now)); got != "ES256-1,PS256-1" {
		t.Errorf("published %q", got)
	}
	if !res.NextEvent.Equal(t0.Add(50 * h)) {
		t.Errorf("next event %s, want 50h (retention end)", res.NextEvent.Sub(t0))
	}
	res = run(t, res.Keys, policy, t0.Add(50*h), "", gen)
	if got := actions(res.Actions); got != "Removed PS256-1" {
		t.Fatalf("actions %q", got)
	}
	// Adding it back makes a fresh key that signs at once.
	res = run(t, res.Keys, both, t0.Add(60*h), "", gen)
	if got := actions(res.Actions); got != "Created PS256-2; Activated PS256-2" {
		t.Fatalf("actions %q", got)
	}
}

func TestZeroLeadTime(t *testing.T) {
	p := policy
	p.PublishLeadTime = 0
	h := time.Hour
	runSteps(t, p, []step{
		{at: 0, actions: "Created ES256-1; Activated ES256-1", active: "ES256-1", published: "ES256-1", nextEvent: 100 * h},
		{at: 100 * h, actions: "Created ES256-2; Activated ES256-2; Retired ES256-1", active: "ES256-2", published: "ES256-1,ES256-2", nextEvent: 120 * h},
		{at: 110 * h, rotate: "x", actions: "Created ES256-3; Activated ES256-3; Retired ES256-2", active: "ES256-3", published: "ES256-1,ES256-2,ES256-3", nextEvent: 120 * h},
	})
}

func TestNextRotation(t *testing.T) {
	gen := fakeGen()
	res := run(t, config.KeySet{}, policy, t0, "", gen)
	if !res.NextRotation.Equal(t0.Add(100 * time.Hour)) {
		t.Errorf("next rotation %s", res.NextRotation.Sub(t0))
	}
	res = run(t, res.Keys, policy, t0.Add(5*time.Hour), "r", gen)
	if !res.NextRotation.Equal(t0.Add(15 * time.Hour)) {
		t.Errorf("next rotation after rotate-now %s", res.NextRotation.Sub(t0))
	}
}

func TestPlanDoesNotChangeItsInput(t *testing.T) {
	gen := fakeGen()
	res := run(t, config.KeySet{}, policy, t0, "", gen)
	res = run(t, res.Keys, policy, t0.Add(90*time.Hour), "", gen)
	before := res.Keys
	snapshot, _ := before.Marshal()
	if _, err := Plan(before, policy, t0.Add(150*time.Hour), "r", gen); err != nil {
		t.Fatal(err)
	}
	after, _ := before.Marshal()
	if string(after) != string(snapshot) {
		t.Errorf("Plan changed its input:\n%s\n%s", snapshot, after)
	}
}

func TestExistingKeysAreNeverChanged(t *testing.T) {
	gen := fakeGen()
	var ks config.KeySet
	seen := map[string]config.SigningKey{}
	for now := t0; now.Before(t0.Add(600 * time.Hour)); now = now.Add(7 * time.Hour) {
		res := run(t, ks, policy, now, "", gen)
		for _, k := range res.Keys.Keys {
			old, ok := seen[k.ID]
			if ok {
				if string(old.PrivateJWK) != string(k.PrivateJWK) || !old.CreatedAt.Equal(k.CreatedAt) || !old.ActivatesAt.Equal(k.ActivatesAt) {
					t.Fatalf("key %s changed", k.ID)
				}
				if old.RetiresAt != nil && (k.RetiresAt == nil || !old.RetiresAt.Equal(*k.RetiresAt) || !old.ExpiresAt.Equal(*k.ExpiresAt)) {
					t.Fatalf("retirement of %s changed", k.ID)
				}
			}
			seen[k.ID] = k
		}
		ks = res.Keys
	}
}

// TestSimulation runs the operator at irregular times (on time, late, very
// late, rotate requests) and watches, hour by hour, what the runtime would
// do with the last written key set.
func TestSimulation(t *testing.T) {
	p := Policy{
		Algorithms:      []string{config.ES256, config.PS256},
		RotationPeriod:  48 * time.Hour,
		PublishLeadTime: 6 * time.Hour,
		Retention:       12 * time.Hour,
	}
	for seed := uint64(1); seed <= 20; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 0))
			gen := fakeGen()
			var ks config.KeySet
			firstPublished := map[string]time.Time{}
			firstSigned := map[string]time.Time{}
			lastSigned := map[string]time.Time{}
			lastPublished := map[string]time.Time{}
			var firsts []string
			nextRun := t0
			request := ""
			lastAlgs := 0
			for now := t0; now.Before(t0.Add(2000 * time.Hour)); now = now.Add(time.Hour) {
				alg := p
				if now.After(t0.Add(1500*time.Hour)) && now.Before(t0.Add(1700*time.Hour)) {
					alg.Algorithms = []string{config.ES256} // PS256 removed for a while
				}
				// A spec change is an event of its own that reconciles.
				if !now.Before(nextRun) || len(alg.Algorithms) != lastAlgs {
					lastAlgs = len(alg.Algorithms)
					if rng.IntN(15) == 0 {
						request = fmt.Sprint("rotate-", now.Unix())
					}
					res := run(t, ks, alg, now, request, gen)
					for _, a := range res.Actions {
						if a.Kind == ActionActivated && strings.HasSuffix(a.Reason, "first key for "+a.Algorithm) {
							firsts = append(firsts, a.KeyID)
						}
					}
					ks = res.Keys
					// The operator requeues at NextEvent, but sometimes
					// runs late, sometimes much later.
					nextRun = res.NextEvent
					switch rng.IntN(4) {
					case 0:
						nextRun = nextRun.Add(time.Duration(rng.IntN(20)) * time.Hour)
					case 1:
						nextRun = now.Add(time.Duration(1+rng.IntN(5)) * time.Hour)
					}
				}
				for _, k := range ks.Published(now) {
					if _, ok := firstPublished[k.ID]; !ok {
						firstPublished[k.ID] = now
					}
					lastPublished[k.ID] = now
				}
				for _, alg := range p.Algorithms {
					var signing []string
					for _, k := range ks.Keys {
						if s, ok := ks.Signer(alg, now); ok && s.ID == k.ID {
							signing = append(signing, k.ID)
						}
					}
					removed := now.After(t0.Add(1500*time.Hour)) && now.Before(t0.Add(1700*time.Hour)) && alg == config.PS256
					if len(signing) != 1 && !(removed && len(signing) == 0) {
						t.Fatalf("at %s: %s signed by %v", now.Sub(t0), alg, signing)
					}
					for _, id := range signing {
						if _, ok := firstSigned[id]; !ok {
							firstSigned[id] = now
						}
						lastSigned[id] = now
					}
				}
			}
			for id, signed := range firstSigned {
				if slices.Contains(firsts, id) {
					continue
				}
				if lead := signed.Sub(firstPublished[id]); lead < p.PublishLeadTime {
					t.Errorf("%s signed %s after it was published, want ≥ %s", id, lead, p.PublishLeadTime)
				}
			}
			for id, last := range lastSigned {
				// hourly sampling: the key stops signing up to an hour
				// after the last sample.
				if kept := lastPublished[id].Sub(last); kept < p.Retention-time.Hour && lastPublished[id].Before(t0.Add(1999*time.Hour)) {
					t.Errorf("%s published only %s after it last signed, want ≥ %s", id, kept, p.Retention)
				}
			}
		})
	}
}

func TestPolicyValidation(t *testing.T) {
	for name, p := range map[string]Policy{
		"unknown alg":      {Algorithms: []string{"HS256"}, RotationPeriod: time.Hour},
		"twice":            {Algorithms: []string{"ES256", "ES256"}, RotationPeriod: time.Hour},
		"no period":        {Algorithms: []string{"ES256"}},
		"lead too long":    {Algorithms: []string{"ES256"}, RotationPeriod: time.Hour, PublishLeadTime: time.Hour},
		"negative lead":    {Algorithms: []string{"ES256"}, RotationPeriod: time.Hour, PublishLeadTime: -1},
		"negative keeping": {Algorithms: []string{"ES256"}, RotationPeriod: time.Hour, Retention: -1},
	} {
		if _, err := Plan(config.KeySet{}, p, t0, "", fakeGen()); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestGeneratorErrors(t *testing.T) {
	boom := errors.New("boom")
	for name, gen := range map[string]Generator{
		"error": func(string, time.Time) (config.SigningKey, error) { return config.SigningKey{}, boom },
		"empty": func(string, time.Time) (config.SigningKey, error) { return config.SigningKey{}, nil },
		"duplicate kid": func(alg string, now time.Time) (config.SigningKey, error) {
			return config.SigningKey{ID: "same", Algorithm: alg, PrivateJWK: []byte(`{}`)}, nil
		},
	} {
		p := policy
		p.Algorithms = []string{config.ES256, config.RS256}
		if _, err := Plan(config.KeySet{}, p, t0, "", gen); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// tokenGen makes numbered keys as a token generator does: a public half
// and a seed, no private half.
func tokenGen() Generator {
	n := map[string]int{}
	return func(alg string, now time.Time) (config.SigningKey, error) {
		n[alg]++
		return config.SigningKey{
			ID: fmt.Sprintf("hsm-%s-%d", alg, n[alg]), Algorithm: alg,
			PublicJWK: []byte(`{}`), Seed: make([]byte, config.SeedSize), CreatedAt: now, ActivatesAt: now,
		}, nil
	}
}

func TestMovingStoresIsARotation(t *testing.T) {
	h := time.Hour
	secret, token := policy, policy
	token.InToken = true
	// ES256-1 signs from the Secret; ES256-2 waits there for 100h.
	gen := fakeGen()
	ks := run(t, config.KeySet{}, secret, t0, "", gen).Keys
	ks = run(t, ks, secret, t0.Add(90*h), "", gen).Keys

	// At 95h the provider moves to a token: the waiting key never signs,
	// and the one in the token signs after the full lead time.
	res := run(t, ks, token, t0.Add(95*h), "", tokenGen())
	if got, want := actions(res.Actions), "Retired ES256-2; Created hsm-ES256-1"; got != want {
		t.Errorf("actions %q, want %q", got, want)
	}
	if k, _ := res.Keys.Signer(config.ES256, t0.Add(105*h-time.Second)); k.ID != "ES256-1" {
		t.Errorf("before the lead time %s signs, want ES256-1 from the Secret", k.ID)
	}
	after := run(t, res.Keys, token, t0.Add(105*h), "", tokenGen())
	if k, _ := after.Keys.Signer(config.ES256, t0.Add(105*h)); k.ID != "hsm-ES256-1" || !k.InToken() {
		t.Errorf("after the lead time %+v signs, want hsm-ES256-1 from the token", k)
	}
	if got, want := kids(after.Keys.Published(t0.Add(105*h))), "ES256-1,ES256-2,hsm-ES256-1"; got != want {
		t.Errorf("published %q, want %q: the Secret's keys stay for their retention", got, want)
	}

	// A generator that makes a key in the wrong store is refused.
	if _, err := Plan(after.Keys, token, t0.Add(300*h), "", gen); err == nil || !strings.Contains(err.Error(), "incomplete") {
		t.Errorf("a Secret key for a token policy: %v", err)
	}
}
