package hsm_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idaop/ida-operator/runtime/hsm"
)

// fakeToken is a KeyToken in memory whose answers a test controls: calls
// can be made to hang (gate) or fail. The timing logic of Reopening is
// tested against it; the real token is SoftHSM2, in runtime/op's tests.
type fakeToken struct {
	key  *ecdsa.PrivateKey
	gate chan struct{} // when set, Sign and Signer wait for it to close
	fail error         // when set, Sign answers it

	mu                sync.Mutex
	signing, maxInUse int
	lookups, signs    int
	closed            bool
}

func (f *fakeToken) wait() {
	f.mu.Lock()
	gate := f.gate
	f.mu.Unlock()
	if gate != nil {
		<-gate
	}
}

func (f *fakeToken) Generate(string, string) (crypto.PublicKey, error) { return nil, errors.New("no") }
func (f *fakeToken) Delete(string) error                               { return nil }

func (f *fakeToken) Signer(id string) (crypto.Signer, error) {
	f.wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lookups++
	if id != "k1" {
		return nil, fmt.Errorf("%w: %q", hsm.ErrNoKey, id)
	}
	return fakeSigner{f}, nil
}

func (f *fakeToken) Close() error {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	return nil
}

type fakeSigner struct{ f *fakeToken }

func (s fakeSigner) Public() crypto.PublicKey { return s.f.key.Public() }

func (s fakeSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	f := s.f
	f.mu.Lock()
	f.signing++
	f.maxInUse = max(f.maxInUse, f.signing)
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.signing--
		f.signs++
		f.mu.Unlock()
	}()
	f.wait()
	f.mu.Lock()
	err := f.fail
	f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return f.key.Sign(r, digest, opts)
}

func (f *fakeToken) set(gate chan struct{}, fail error) {
	f.mu.Lock()
	f.gate, f.fail = gate, fail
	f.mu.Unlock()
}

func (f *fakeToken) counts() (lookups, signs, maxInUse int, closed bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lookups, f.signs, f.maxInUse, f.closed
}

// opener opens fresh fakeTokens sharing one key, or fails with err.
type opener struct {
	key   *ecdsa.PrivateKey
	mu    sync.Mutex
	err   error
	opens int
	last  *fakeToken
}

func (o *opener) open() (hsm.KeyToken, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.opens++
	if o.err != nil {
		return nil, o.err
	}
	o.last = &fakeToken{key: o.key}
	return o.last, nil
}

func (o *opener) state() (int, *fakeToken) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.opens, o.last
}

func (o *opener) setErr(err error) {
	o.mu.Lock()
	o.err = err
	o.mu.Unlock()
}

// changes records OnChange calls.
type changes struct {
	mu  sync.Mutex
	ups []bool
}

func (c *changes) record(up bool, _ error) {
	c.mu.Lock()
	c.ups = append(c.ups, up)
	c.mu.Unlock()
}

func (c *changes) get() []bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]bool(nil), c.ups...)
}

const (
	testTimeout = 100 * time.Millisecond
	testBackoff = 50 * time.Millisecond
)

func newReopening(t *testing.T, o *opener, ch *changes, maxInFlight int) *hsm.Reopening {
	t.Helper()
	cfg := hsm.ReopeningConfig{Open: o.open, Timeout: testTimeout, Backoff: testBackoff, MaxBackoff: 4 * testBackoff, MaxInFlight: maxInFlight}
	if ch != nil {
		cfg.OnChange = ch.record
	}
	r := hsm.NewReopening(cfg)
	t.Cleanup(r.Close)
	return r
}

func digest() []byte {
	sum := sha256.Sum256([]byte("payload"))
	return sum[:]
}

func reason(err error) string {
	var ue *hsm.UnavailableError
	if errors.As(err, &ue) {
		return ue.Reason
	}
	return ""
}

// eventually polls cond for up to 5 s: probes run on timers, and the
// machine may be loaded.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("%s: not within 5s", what)
}

// TestReopeningOpensAtFirstUse: nothing is opened before the first
// signature; the token and the key are then reused, and signatures verify.
func TestReopeningOpensAtFirstUse(t *testing.T) {
	o := &opener{key: mustECDSA(t)}
	r := newReopening(t, o, nil, 0)
	s := r.Signer("k1", o.key.Public())
	if n, _ := o.state(); n != 0 {
		t.Fatalf("opened %d times before any use", n)
	}
	for range 3 {
		sig, err := s.Sign(rand.Reader, digest(), crypto.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		if !ecdsa.VerifyASN1(&o.key.PublicKey, digest(), sig) {
			t.Fatal("the signature does not verify")
		}
	}
	n, tok := o.state()
	if lookups, signs, _, _ := tok.counts(); n != 1 || lookups != 1 || signs != 3 {
		t.Fatalf("opens %d, key lookups %d, signatures %d; want 1, 1, 3", n, lookups, signs)
	}
	if !r.Up() {
		t.Fatal("down after good signatures")
	}
}

// TestReopeningDeadline: a token that hangs fails the call within the
// deadline, the next calls are refused at once without reaching it, and
// once it answers again a probe brings the Reopening back up.
func TestReopeningDeadline(t *testing.T) {
	o := &opener{key: mustECDSA(t)}
	ch := &changes{}
	r := newReopening(t, o, ch, 0)
	s := r.Signer("k1", o.key.Public())
	if _, err := s.Sign(rand.Reader, digest(), crypto.SHA256); err != nil {
		t.Fatal(err)
	}
	_, tok := o.state()
	gate := make(chan struct{})
	tok.set(gate, nil)

	start := time.Now()
	_, err := s.Sign(rand.Reader, digest(), crypto.SHA256)
	if took := time.Since(start); took > testTimeout+time.Second {
		t.Fatalf("the call took %s with a deadline of %s", took, testTimeout)
	}
	if !errors.Is(err, hsm.ErrUnavailable) || reason(err) != hsm.ReasonTimeout {
		t.Fatalf("hung token: %v, want a timeout", err)
	}
	if r.Up() {
		t.Fatal("up after a timeout")
	}
	start = time.Now()
	for range 20 {
		_, err = s.Sign(rand.Reader, digest(), crypto.SHA256)
		if reason(err) != hsm.ReasonDown {
			t.Fatalf("while down: %v, want it refused", err)
		}
	}
	if took := time.Since(start); took > testTimeout {
		t.Fatalf("20 refusals took %s: they waited for the token", took)
	}
	if _, signs, _, _ := tok.counts(); signs != 1 {
		t.Fatalf("%d signatures finished in the hung token, want the first only", signs)
	}
	// The token answers again; a probe reopens it and signs once.
	close(gate)
	eventually(t, "back up", r.Up)
	if n, _ := o.state(); n < 2 {
		t.Fatalf("opens %d: the hung token was not reopened", n)
	}
	eventually(t, "the hung token closed", func() bool { _, _, _, closed := tok.counts(); return closed })
	if _, err := s.Sign(rand.Reader, digest(), crypto.SHA256); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
	if got := ch.get(); len(got) != 2 || got[0] || !got[1] {
		t.Fatalf("OnChange heard %v, want [false true]", got)
	}
}

// TestReopeningBoundsStuckCalls: calls stuck in a token hold at most
// MaxInFlight slots; the others give up at the deadline without adding
// to the pile.
func TestReopeningBoundsStuckCalls(t *testing.T) {
	o := &opener{key: mustECDSA(t)}
	r := newReopening(t, o, nil, 2)
	s := r.Signer("k1", o.key.Public())
	if _, err := s.Sign(rand.Reader, digest(), crypto.SHA256); err != nil {
		t.Fatal(err)
	}
	_, tok := o.state()
	gate := make(chan struct{})
	tok.set(gate, nil)
	var wg sync.WaitGroup
	var failed atomic.Int32
	for range 8 {
		wg.Go(func() {
			if _, err := s.Sign(rand.Reader, digest(), crypto.SHA256); errors.Is(err, hsm.ErrUnavailable) {
				failed.Add(1)
			}
		})
	}
	wg.Wait()
	if failed.Load() != 8 {
		t.Fatalf("%d of 8 calls failed on a hung token", failed.Load())
	}
	if _, _, inUse, _ := tok.counts(); inUse > 2 {
		t.Fatalf("%d calls were in the token at once, want at most 2", inUse)
	}
	close(gate)
	eventually(t, "back up", r.Up)
}

// TestReopeningOpenBackoff: a token that cannot be opened is tried by the
// first call and then only by probes, however many calls come; it is
// used as soon as a probe opens it.
func TestReopeningOpenBackoff(t *testing.T) {
	o := &opener{key: mustECDSA(t), err: errors.New("could not find PKCS#11 token")}
	r := newReopening(t, o, nil, 0)
	s := r.Signer("k1", o.key.Public())
	_, err := s.Sign(rand.Reader, digest(), crypto.SHA256)
	if reason(err) != hsm.ReasonOpen {
		t.Fatalf("first call: %v, want an open failure", err)
	}
	for range 100 {
		if _, err := s.Sign(rand.Reader, digest(), crypto.SHA256); reason(err) != hsm.ReasonDown {
			t.Fatalf("while down: %v", err)
		}
	}
	if n, _ := o.state(); n > 3 {
		t.Fatalf("%d opens for 101 calls: every call tried", n)
	}
	o.setErr(nil)
	eventually(t, "opened by a probe", r.Up)
	if _, err := s.Sign(rand.Reader, digest(), crypto.SHA256); err != nil {
		t.Fatal(err)
	}
}

// TestReopeningPINNotRetried: a refused PIN is tried once; probes do not
// try it again, since tokens lock a PIN after a few failed logins.
func TestReopeningPINNotRetried(t *testing.T) {
	o := &opener{key: mustECDSA(t), err: fmt.Errorf("%w: CKR_PIN_INCORRECT", hsm.ErrPIN)}
	r := newReopening(t, o, nil, 0)
	s := r.Signer("k1", o.key.Public())
	if _, err := s.Sign(rand.Reader, digest(), crypto.SHA256); reason(err) != hsm.ReasonPIN || !errors.Is(err, hsm.ErrPIN) {
		t.Fatalf("wrong PIN: %v", err)
	}
	time.Sleep(10 * testBackoff)
	for range 5 {
		if _, err := s.Sign(rand.Reader, digest(), crypto.SHA256); reason(err) != hsm.ReasonDown || !errors.Is(err, hsm.ErrPIN) {
			t.Fatalf("after a refused PIN: %v", err)
		}
	}
	if n, _ := o.state(); n != 1 {
		t.Fatalf("the PIN was tried %d times", n)
	}
}

// TestReopeningErrors: a token that answers with an error is closed and
// reopened by a probe; a key the token lacks is the caller's error and
// leaves the token up.
func TestReopeningErrors(t *testing.T) {
	o := &opener{key: mustECDSA(t)}
	r := newReopening(t, o, nil, 0)
	if err := r.Check("k1"); err != nil {
		t.Fatal(err)
	}
	if err := r.Check("nope"); !errors.Is(err, hsm.ErrNoKey) || errors.Is(err, hsm.ErrUnavailable) || !r.Up() {
		t.Fatalf("missing key: %v (up %v)", err, r.Up())
	}
	_, tok := o.state()
	tok.set(nil, errors.New("CKR_DEVICE_ERROR"))
	s := r.Signer("k1", o.key.Public())
	if _, err := s.Sign(rand.Reader, digest(), crypto.SHA256); reason(err) != hsm.ReasonError {
		t.Fatalf("device error: %v", err)
	}
	// Closed in the background: a hung token must not hold up the caller.
	eventually(t, "the failing token closed", func() bool { _, _, _, closed := tok.counts(); return closed })
	eventually(t, "reopened", r.Up)
	if _, err := s.Sign(rand.Reader, digest(), crypto.SHA256); err != nil {
		t.Fatal(err)
	}
	if n, _ := o.state(); n != 2 {
		t.Fatalf("opens %d, want 2", n)
	}
}
