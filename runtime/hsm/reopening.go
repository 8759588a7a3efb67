package hsm

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// Reopening lets request handlers sign through a token without ever
// being held up by it. The token is opened at the first call, not before,
// so a process starts while its HSM is away. Every call (open, key lookup,
// signature) is bounded by a deadline; PKCS#11 calls cannot be cancelled,
// so a call past its deadline is left to finish on its own while it holds
// one of a bounded number of slots. After a failure the token is closed and
// the Reopening is down: calls are refused at once, and a probe in the
// background tries again after a backoff that doubles up to a bound, until
// the token answers. A refused PIN is never tried again (tokens lock a PIN
// after a few failed logins), nor is a build without PKCS#11.
type Reopening struct {
	cfg   ReopeningConfig
	slots chan struct{}
	// openMu keeps to one open at a time.
	openMu sync.Mutex

	mu      sync.Mutex
	tok     KeyToken
	signers map[string]crypto.Signer
	// down is why calls are refused; nil while the token answers.
	down     *UnavailableError
	failures int
	// probeID and probeOpts are the last key and options a call signed
	// with: what the probe signs with to see the token answer again.
	probeID   string
	probeOpts crypto.SignerOpts
	probe     *time.Timer
	closed    bool
}

// ReopeningConfig says how to open a token and how long to wait for it.
type ReopeningConfig struct {
	// Open opens the token (hsm.Open with its Config, usually). Required.
	Open func() (KeyToken, error)
	// Timeout bounds each call; zero means DefaultTimeout.
	Timeout time.Duration
	// Backoff is the wait before the first probe after a failure,
	// doubling up to MaxBackoff; zero means the defaults.
	Backoff, MaxBackoff time.Duration
	// MaxInFlight bounds the calls under way at once, stuck ones
	// included; zero means DefaultMaxInFlight.
	MaxInFlight int
	// OnChange, when set, hears every change between up and down, with
	// the error that took the token down. It must not block.
	OnChange func(up bool, err error)
}

// Defaults of ReopeningConfig.
const (
	DefaultTimeout     = 2 * time.Second
	DefaultBackoff     = time.Second
	DefaultMaxBackoff  = 30 * time.Second
	DefaultMaxInFlight = 16
)

// ErrUnavailable is what every error of a Reopening that is about the
// token, rather than a key, matches (errors.Is).
var ErrUnavailable = errors.New("hsm: the token is unavailable")

// Reasons an UnavailableError gives.
const (
	// ReasonTimeout: a call did not finish within the deadline.
	ReasonTimeout = "timeout"
	// ReasonBusy: every slot is held by calls still under way.
	ReasonBusy = "busy"
	// ReasonOpen: the token could not be opened (module, label, login).
	ReasonOpen = "open"
	// ReasonPIN: the token refused the PIN, or there is none; not retried.
	ReasonPIN = "pin"
	// ReasonError: the token answered a call with an error.
	ReasonError = "error"
	// ReasonDown: refused at once, since an earlier call failed and the
	// token has not answered a probe since.
	ReasonDown = "down"
)

// UnavailableError says why the token could not be used.
type UnavailableError struct {
	Reason string
	Err    error
}

func (e *UnavailableError) Error() string {
	return "hsm: the token is unavailable (" + e.Reason + "): " + e.Err.Error()
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// Is makes every UnavailableError match ErrUnavailable.
func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }

// NewReopening returns a Reopening that opens nothing until it is used.
func NewReopening(cfg ReopeningConfig) *Reopening {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = DefaultBackoff
	}
	if cfg.MaxBackoff < cfg.Backoff {
		cfg.MaxBackoff = max(DefaultMaxBackoff, cfg.Backoff)
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	return &Reopening{cfg: cfg, slots: make(chan struct{}, cfg.MaxInFlight), signers: map[string]crypto.Signer{}}
}

// Up reports whether calls are let through: true until a call fails, and
// again once a probe succeeds.
func (r *Reopening) Up() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.down == nil
}

// Signer is the key under id, whose public half is pub, as a
// crypto.Signer whose every Sign is bounded by the deadline. Nothing is
// asked of the token until the first Sign.
func (r *Reopening) Signer(id string, pub crypto.PublicKey) crypto.Signer {
	return &boundedSigner{r: r, id: id, pub: pub}
}

// Check makes sure the key under id can be used now: refused at once
// while the token is down, else the token opened and the key found
// within the deadline. Callers check before they spend something a
// failed signature would waste (an authorization code).
func (r *Reopening) Check(id string) error {
	r.mu.Lock()
	ready := r.down == nil && r.signers[id] != nil
	r.mu.Unlock()
	if ready {
		return nil // found before, and nothing has failed since
	}
	_, err := r.call(id, nil, nil)
	return err
}

// Close stops the probe and closes the token in the background: a call
// stuck in it must not hold up the caller.
func (r *Reopening) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	if r.probe != nil {
		r.probe.Stop()
	}
	r.drop(r.tok)
}

type boundedSigner struct {
	r   *Reopening
	id  string
	pub crypto.PublicKey
}

func (s *boundedSigner) Public() crypto.PublicKey { return s.pub }

func (s *boundedSigner) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	// The token draws its own randomness.
	return s.r.call(s.id, digest, opts)
}

// outcome is what a call in its own goroutine comes back with.
type outcome struct {
	sig []byte
	err error
	tok KeyToken
}

// call finds the key under id and, when opts is set, signs digest with
// it, within the deadline.
func (r *Reopening) call(id string, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if err := r.refusal(); err != nil {
		return nil, err
	}
	deadline := time.NewTimer(r.cfg.Timeout)
	defer deadline.Stop()
	select {
	case r.slots <- struct{}{}:
	case <-deadline.C:
		return nil, r.fail(nil, &UnavailableError{Reason: ReasonBusy, Err: fmt.Errorf("%d calls to the token are still under way", r.cfg.MaxInFlight)}, false)
	}
	done := make(chan outcome, 1)
	go func() {
		defer func() { <-r.slots }()
		done <- r.run(id, digest, opts, false)
	}()
	select {
	case o := <-done:
		if o.err != nil {
			return nil, r.fail(o.tok, o.err, false)
		}
		if opts != nil {
			r.mu.Lock()
			r.probeID, r.probeOpts = id, opts
			r.mu.Unlock()
		}
		return o.sig, nil
	case <-deadline.C:
		return nil, r.fail(nil, &UnavailableError{Reason: ReasonTimeout, Err: fmt.Errorf("no answer within %s", r.cfg.Timeout)}, false)
	}
}

// run does the work of a call or a probe: open the token if need be, find
// the key, sign.
func (r *Reopening) run(id string, digest []byte, opts crypto.SignerOpts, probe bool) outcome {
	tok, err := r.open(probe)
	if err != nil || id == "" {
		return outcome{tok: tok, err: err}
	}
	r.mu.Lock()
	s := r.signers[id]
	r.mu.Unlock()
	if s == nil {
		if s, err = tok.Signer(id); err != nil {
			return outcome{tok: tok, err: err}
		}
		r.mu.Lock()
		if r.tok == tok {
			r.signers[id] = s
		}
		r.mu.Unlock()
	}
	if opts == nil {
		return outcome{tok: tok}
	}
	sig, err := s.Sign(rand.Reader, digest, opts)
	return outcome{sig: sig, err: err, tok: tok}
}

// open returns the open token, opening it if there is none. Only a probe
// opens while the Reopening is down, so a refused PIN is tried once.
func (r *Reopening) open(probe bool) (KeyToken, error) {
	r.openMu.Lock()
	defer r.openMu.Unlock()
	r.mu.Lock()
	tok, down := r.tok, r.down
	r.mu.Unlock()
	switch {
	case tok != nil:
		return tok, nil
	case down != nil && !probe:
		return nil, refused(down)
	}
	tok, err := r.cfg.Open()
	if err != nil {
		reason := ReasonOpen
		if errors.Is(err, ErrPIN) {
			reason = ReasonPIN
		}
		return nil, &UnavailableError{Reason: reason, Err: err}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		go func() { _ = tok.Close() }()
		return nil, &UnavailableError{Reason: ReasonOpen, Err: errors.New("closed")}
	}
	r.tok, r.signers = tok, map[string]crypto.Signer{}
	return tok, nil
}

// refusal is the error calls get while the token is down.
func (r *Reopening) refusal() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.down == nil {
		return nil
	}
	return refused(r.down)
}

func refused(cause *UnavailableError) error {
	return &UnavailableError{Reason: ReasonDown, Err: fmt.Errorf("since %w", cause)}
}

// fail records a failed call or probe and returns what the caller gets: a
// missing key is the caller's error alone; anything else takes the token
// down (closing tok, or the current token when the call never came back)
// and schedules a probe, unless the failure is one a retry cannot mend.
func (r *Reopening) fail(tok KeyToken, err error, probe bool) error {
	if errors.Is(err, ErrNoKey) {
		return err
	}
	var ue *UnavailableError
	if !errors.As(err, &ue) {
		ue = &UnavailableError{Reason: ReasonError, Err: err}
	}
	if ue.Reason == ReasonDown {
		return ue // refused while down: nothing new
	}
	r.mu.Lock()
	if (r.down != nil && !probe) || (tok != nil && tok != r.tok) {
		r.mu.Unlock()
		return ue // another call took it down already, or this token is gone
	}
	wasUp := r.down == nil
	r.down = ue
	r.failures++
	if tok == nil {
		tok = r.tok
	}
	r.drop(tok)
	if !r.closed && !permanent(ue) {
		wait := r.cfg.Backoff << min(r.failures-1, 16)
		r.probe = time.AfterFunc(min(wait, r.cfg.MaxBackoff), r.runProbe)
	}
	r.mu.Unlock()
	if wasUp && r.cfg.OnChange != nil {
		r.cfg.OnChange(false, ue)
	}
	return ue
}

// permanent: retrying cannot help, and retrying a PIN can lock it.
func permanent(err error) bool { return errors.Is(err, ErrPIN) || errors.Is(err, ErrNoPKCS11) }

// drop forgets tok if it is the current token and closes it in the
// background. r.mu is held.
func (r *Reopening) drop(tok KeyToken) {
	if tok == nil || tok != r.tok {
		return
	}
	r.tok, r.signers = nil, map[string]crypto.Signer{}
	go func() { _ = tok.Close() }()
}

// runProbe tries the token again: open it, find the last key used and
// sign with it. It needs a free slot like any call.
func (r *Reopening) runProbe() {
	r.mu.Lock()
	if r.closed || r.down == nil {
		r.mu.Unlock()
		return
	}
	id, opts := r.probeID, r.probeOpts
	r.mu.Unlock()
	deadline := time.NewTimer(r.cfg.Timeout)
	defer deadline.Stop()
	select {
	case r.slots <- struct{}{}:
	case <-deadline.C:
		_ = r.fail(nil, &UnavailableError{Reason: ReasonBusy, Err: fmt.Errorf("%d calls to the token are still under way", r.cfg.MaxInFlight)}, true)
		return
	}
	var digest []byte
	if opts != nil {
		sum := sha256.Sum256([]byte("ida-operator token probe"))
		digest = sum[:]
	}
	done := make(chan outcome, 1)
	go func() {
		defer func() { <-r.slots }()
		done <- r.run(id, digest, opts, true)
	}()
	select {
	case o := <-done:
		if o.err != nil && !errors.Is(o.err, ErrNoKey) {
			_ = r.fail(o.tok, o.err, true)
			return
		}
		// A key that is gone is not the token's failure: it answers.
		r.recovered()
	case <-deadline.C:
		_ = r.fail(nil, &UnavailableError{Reason: ReasonTimeout, Err: fmt.Errorf("no answer within %s", r.cfg.Timeout)}, true)
	}
}

func (r *Reopening) recovered() {
	r.mu.Lock()
	wasDown := r.down != nil
	r.down, r.failures = nil, 0
	r.mu.Unlock()
	if wasDown && r.cfg.OnChange != nil {
		r.cfg.OnChange(true, nil)
	}
}
