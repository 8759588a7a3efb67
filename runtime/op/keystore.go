package op

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/cryptosigner"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/idaop/ida-operator/runtime/config"
	"github.com/idaop/ida-operator/runtime/hsm"
)

// Signing keys live in the key Secret (the private JWK in the snapshot)
// or in a PKCS#11 token (the snapshot holds the public half; the token
// finds the private one by the kid). The token is reached through one
// hsm.Reopening per token configuration: opened at first use, so the
// runtime starts and serves discovery and JWKS with the HSM away; every
// call bounded by a deadline; refused at once while the token is down.
// A JWT that cannot be signed because the token is unavailable is
// answered temporarily_unavailable (503), never a 500 or a hung request.

// Stores a key can be in, the metric's label values.
const (
	storeSecret = "secret"
	storePKCS11 = "pkcs11"
)

// keystore holds the Reopening of the token the configuration names,
// across snapshots; a changed token configuration replaces it.
type keystore struct {
	open func(hsm.Config) (hsm.KeyToken, error)
	log  *slog.Logger

	mu  sync.Mutex
	cfg config.PKCS11
	tok *hsm.Reopening

	signatures *prometheus.CounterVec
	failures   *prometheus.CounterVec
}

// openToken is hsm.Open as a KeyToken.
func openToken(cfg hsm.Config) (hsm.KeyToken, error) {
	t, err := hsm.Open(cfg)
	if err != nil {
		return nil, err
	}
	return t, nil
}

func newKeystore(open func(hsm.Config) (hsm.KeyToken, error), log *slog.Logger, reg prometheus.Registerer) (*keystore, error) {
	if open == nil {
		open = openToken
	}
	ks := &keystore{open: open, log: log}
	if reg == nil {
		return ks, nil
	}
	ks.signatures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "ida", Subsystem: "op", Name: "keystore_signatures_total",
		Help: "JWTs signed, by where the key is: secret (the key Secret) or pkcs11 (a PKCS#11 token).",
	}, []string{"store"})
	ks.failures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "ida", Subsystem: "op", Name: "keystore_failures_total",
		Help: "Calls to the PKCS#11 token that failed, by reason: timeout, busy (calls stuck in the token), open, pin, error (the token answered an error), down (refused at once after a failure), no_key.",
	}, []string{"reason"})
	up := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: "ida", Subsystem: "op", Name: "keystore_up",
		Help: "1 when the signing keys can be used: always with keys in the key Secret; with a PKCS#11 token, 0 from a failed call until the token answers a probe.",
	}, func() float64 {
		if ks.up() {
			return 1
		}
		return 0
	})
	for _, s := range []string{storeSecret, storePKCS11} {
		ks.signatures.WithLabelValues(s)
	}
	for _, r := range []string{hsm.ReasonTimeout, hsm.ReasonBusy, hsm.ReasonOpen, hsm.ReasonPIN, hsm.ReasonError, hsm.ReasonDown, reasonNoKey} {
		ks.failures.WithLabelValues(r)
	}
	for _, c := range []prometheus.Collector{ks.signatures, ks.failures, up} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return ks, nil
}

// reasonNoKey: the token does not hold the key the kid names.
const reasonNoKey = "no_key"

func (ks *keystore) up() bool {
	ks.mu.Lock()
	tok := ks.tok
	ks.mu.Unlock()
	return tok == nil || tok.Up()
}

// token is the Reopening for cfg (nil for none), made anew when cfg
// differs from the last one; the old one is closed.
func (ks *keystore) token(cfg *config.PKCS11) *hsm.Reopening {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	switch {
	case cfg == nil:
		if ks.tok != nil {
			ks.tok.Close()
		}
		ks.tok, ks.cfg = nil, config.PKCS11{}
		return nil
	case ks.tok != nil && *cfg == ks.cfg:
		return ks.tok
	}
	if ks.tok != nil {
		ks.tok.Close()
	}
	label := cfg.TokenLabel
	ks.cfg = *cfg
	ks.tok = hsm.NewReopening(hsm.ReopeningConfig{
		Open:    ks.opener(*cfg),
		Timeout: cfg.Timeout.Duration,
		OnChange: func(up bool, err error) {
			if up {
				ks.log.Info("the PKCS#11 token answers again; signing resumes", slog.String("token", label))
				return
			}
			ks.log.Error("the PKCS#11 token is unavailable; token requests are answered temporarily_unavailable until it answers",
				slog.String("token", label), slog.Any("error", err))
		},
	})
	if os.Getenv(config.PKCS11PINEnv) == "" {
		ks.log.Error("the provider's signing keys are in a PKCS#11 token, but its PIN is not set; nothing can be signed",
			slog.String("token", label), slog.String("env", config.PKCS11PINEnv))
	}
	return ks.tok
}

// opener opens the token with the PIN from the environment, read at each
// open so nothing holds it longer than the module does.
func (ks *keystore) opener(cfg config.PKCS11) func() (hsm.KeyToken, error) {
	return func() (hsm.KeyToken, error) {
		pin := os.Getenv(config.PKCS11PINEnv)
		if pin == "" {
			return nil, fmt.Errorf("%w: %s is not set", hsm.ErrPIN, config.PKCS11PINEnv)
		}
		return ks.open(hsm.Config{Module: cfg.Module, TokenLabel: cfg.TokenLabel, PIN: pin})
	}
}

// warm opens the token and finds the active keys in the background, so
// the first token request does not wait for the login and a token that
// is away shows at once in ida_op_keystore_up and the log.
func (ks *keystore) warm(tok *hsm.Reopening, keys *config.KeySet, now time.Time) {
	if tok == nil {
		return
	}
	for _, k := range keys.Active(now) {
		if k.InToken() {
			go func() { _ = tok.Check(k.ID) }()
		}
	}
}

// signingKey is what go-jose signs with for k: its private JWK, or the
// token's signer for its kid, whose JWS header carries the kid.
func (sv *served) signingKey(k *config.SigningKey) (jose.JSONWebKey, string, error) {
	if !k.InToken() {
		jwk, err := k.JWK()
		jwk.KeyID = k.ID
		return jwk, storeSecret, err
	}
	if sv.token == nil {
		return jose.JSONWebKey{}, "", errors.New("its private half is in a PKCS#11 token and the provider names none")
	}
	pub, err := k.PublicKey()
	if err != nil {
		return jose.JSONWebKey{}, "", err
	}
	s := cryptosigner.Opaque(sv.token.Signer(k.ID, pub.Key))
	return jose.JSONWebKey{Key: s, KeyID: k.ID, Algorithm: k.Algorithm}, storePKCS11, nil
}

// countedSigner counts what a signer signs, and its token's failures.
type countedSigner struct {
	jose.Signer
	ks     *keystore
	signed prometheus.Counter // nil without metrics
}

// counted wraps s, whose key is in store, to be counted.
func (ks *keystore) counted(s jose.Signer, store string) countedSigner {
	c := countedSigner{Signer: s, ks: ks}
	if ks != nil && ks.signatures != nil {
		c.signed = ks.signatures.WithLabelValues(store)
	}
	return c
}

func (c countedSigner) Sign(payload []byte) (*jose.JSONWebSignature, error) {
	jws, err := c.Signer.Sign(payload)
	if err != nil {
		c.ks.failed(err)
		return nil, err
	}
	if c.signed != nil {
		c.signed.Inc()
	}
	return jws, nil
}

// failed counts a failed call to the token by its reason.
func (ks *keystore) failed(err error) {
	if ks == nil || ks.failures == nil {
		return
	}
	var ue *hsm.UnavailableError
	switch {
	case errors.As(err, &ue):
		ks.failures.WithLabelValues(ue.Reason).Inc()
	case errors.Is(err, hsm.ErrNoKey):
		ks.failures.WithLabelValues(reasonNoKey).Inc()
	}
}

// checkSigningKeys makes sure the keys for algs can sign now, before a
// request spends what a failed signature would waste (an authorization
// code, a refresh token, a release record): while the token is down it is
// refused at once, and a code stays usable for the client's retry.
func (p *Provider) checkSigningKeys(sv *served, now time.Time, algs ...string) *oauthError {
	if sv.token == nil {
		return nil
	}
	for _, alg := range algs {
		k, ok := sv.snap.Keys.Signer(alg, now)
		if !ok || !k.InToken() {
			continue // no key is answered where the signature fails
		}
		if err := sv.token.Check(k.ID); err != nil {
			p.keys.failed(err)
			return p.signingFailed("the response", "", err)
		}
	}
	return nil
}

// signingFailed is the answer to a JWT the provider could not sign: with
// the token unavailable, temporarily_unavailable (503), which a client
// may retry; anything else is the provider's fault, server_error. A
// refusal while the token is down is not logged again: the change was.
func (p *Provider) signingFailed(what, clientID string, err error) *oauthError {
	var ue *hsm.UnavailableError
	unavailable := errors.As(err, &ue)
	if !unavailable || ue.Reason != hsm.ReasonDown {
		p.log.Error("signing "+what+" failed", slog.String("client_id", clientID), slog.Any("error", err))
	}
	if unavailable {
		return errUnavailable("the signing keys are unavailable; try again shortly")
	}
	return errServer("signing " + what + " failed")
}
