package op

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idaop/ida-operator/runtime/egress"
	"github.com/idaop/ida-operator/runtime/grants"
)

// Back-channel logout (OIDC Back-Channel Logout 1.0): when a session
// ends, every client it signed in to that registered a
// backchannel_logout_uri gets a logout token, POSTed from the runtime in
// the background. The page that ended the session waits for the first
// tries at most backchannelWait; retries go on without it. A failure
// ends as a log event and a metric (ida_op_backchannel_logout_total):
// the runtime writes nothing to the Kubernetes API, so its "events" are
// those, not Kubernetes Events.

const (
	// logoutTokenLifetime: a logout token is used at once; RPs reject it
	// after this (Back-Channel Logout 1.0 §2.6 leaves the bound to the
	// OP; the standard's examples use two minutes).
	logoutTokenLifetime = 2 * time.Minute
	// backchannelTimeout bounds one try.
	backchannelTimeout = 3 * time.Second
	// backchannelTries are the tries of one delivery, backchannelBackoff
	// the wait before the second, doubling before each further one.
	backchannelTries   = 3
	backchannelBackoff = 500 * time.Millisecond
	// backchannelWait is the most a page waits for first tries.
	backchannelWait = 1500 * time.Millisecond
	// maxBackchannelInFlight bounds deliveries under way; more are dropped
	// and counted, rather than piling up goroutines behind a dead RP.
	maxBackchannelInFlight = 256
	// backchannelEvent is the event of a logout token (§2.4).
	backchannelEvent = "http://schemas.openid.net/event/backchannel-logout"
)

// Outcomes of a delivery, the metric's label values.
const (
	bclDelivered = "delivered"
	bclFailed    = "failed"
	bclForbidden = "forbidden"
	bclDropped   = "dropped"
)

// backchannel sends logout tokens.
type backchannel struct {
	inFlight chan struct{}
	outcomes *prometheus.CounterVec
	// wg tracks deliveries, so tests can wait for retries to end.
	wg sync.WaitGroup
}

func newBackchannel(reg prometheus.Registerer) (*backchannel, error) {
	b := &backchannel{inFlight: make(chan struct{}, maxBackchannelInFlight)}
	if reg != nil {
		b.outcomes = prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "ida", Subsystem: "op", Name: "backchannel_logout_total",
			Help: "Back-channel logout deliveries by outcome: delivered, failed (after every try), forbidden (the URI's address is not allowed by spec.egress), dropped (too many under way).",
		}, []string{"outcome"})
		// Every outcome starts at zero, so rates and alerts
		// (config/prometheus) see it before the first logout.
		for _, o := range []string{bclDelivered, bclFailed, bclForbidden, bclDropped} {
			b.outcomes.WithLabelValues(o)
		}
		if err := reg.Register(b.outcomes); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func (b *backchannel) count(outcome string) {
	if b.outcomes != nil {
		b.outcomes.WithLabelValues(outcome).Inc()
	}
}

// logoutDelivery is one logout token for one client.
type logoutDelivery struct {
	client *client
	sub    string
	sid    string
}

// logoutTokenClaims is the logout token (Back-Channel Logout 1.0 §2.4):
// iss, aud (the client), iat, a short exp, a unique jti, events with the
// back-channel logout event, sub as the client received it and the
// session's sid. Never a nonce (§2.4), so that it cannot pass as an ID
// token. The one place this rule lives.
func logoutTokenClaims(issuer, clientID, sub, sid, jti string, now time.Time) map[string]json.RawMessage {
	claims := map[string]json.RawMessage{
		"iss":    jsonString(issuer),
		"aud":    jsonString(clientID),
		"iat":    jsonInt(now.Unix()),
		"exp":    jsonInt(now.Add(logoutTokenLifetime).Unix()),
		"jti":    jsonString(jti),
		"events": json.RawMessage(`{"` + backchannelEvent + `":{}}`),
	}
	if sub != "" {
		claims["sub"] = jsonString(sub)
	}
	if sid != "" {
		claims["sid"] = jsonString(sid)
	}
	return claims
}

// sessionsEnded tells the clients the ended sessions signed in to, and
// waits for the first tries at most backchannelWait.
func (p *Provider) sessionsEnded(sv *served, ended ...grants.UserSession) {
	var jobs []logoutDelivery
	for _, us := range ended {
		for _, c := range us.Clients {
			if cl := sv.clients[c.ClientID]; cl != nil && cl.BackchannelLogoutURI != "" {
				jobs = append(jobs, logoutDelivery{client: cl, sub: c.Subject, sid: us.SID})
			}
		}
	}
	if len(jobs) == 0 {
		return
	}
	firstTry := make(chan struct{}, len(jobs))
	for _, j := range jobs {
		select {
		case p.backchannel.inFlight <- struct{}{}:
		default:
			p.backchannel.count(bclDropped)
			p.log.Warn("back-channel logout dropped", slog.String("client_id", j.client.ClientID), slog.String("reason", "too many under way"))
			firstTry <- struct{}{}
			continue
		}
		p.backchannel.wg.Add(1)
		go func() {
			defer func() { <-p.backchannel.inFlight; p.backchannel.wg.Done() }()
			p.deliverLogout(sv, j, firstTry)
		}()
	}
	wait := time.NewTimer(backchannelWait)
	defer wait.Stop()
	for range jobs {
		select {
		case <-firstTry:
		case <-wait.C:
			return
		}
	}
}

// deliverLogout signs one logout token and POSTs it, trying again after
// a network failure or a 5xx; it signals firstTry after the first try.
func (p *Provider) deliverLogout(sv *served, j logoutDelivery, firstTry chan<- struct{}) {
	signaled := false
	signal := func() {
		if !signaled {
			signaled = true
			firstTry <- struct{}{}
		}
	}
	defer signal()
	now := p.now()
	token, err := signClaims(sv, sv.sec.DefaultSigningAlgorithm(), "logout+jwt",
		logoutTokenClaims(sv.issuer, j.client.ClientID, j.sub, j.sid, grants.NewSecret(), now), now)
	if err != nil {
		p.backchannel.count(bclFailed)
		p.log.Error("signing a logout token failed", slog.String("client_id", j.client.ClientID), slog.Any("error", err))
		return
	}
	body := url.Values{"logout_token": {token}}.Encode()
	backoff := backchannelBackoff
	for try := 1; ; try++ {
		err := postLogoutToken(sv.egress, j.client.BackchannelLogoutURI, body)
		signal()
		outcome := ""
		switch {
		case err == nil:
			p.backchannel.count(bclDelivered)
			return
		case errors.Is(err, egress.ErrForbidden):
			outcome = bclForbidden
		case errors.Is(err, errPermanent), try == backchannelTries:
			outcome = bclFailed
		}
		if outcome != "" {
			p.backchannel.count(outcome)
			// The client and the error, never the person or the token.
			p.log.Warn("back-channel logout failed", slog.String("client_id", j.client.ClientID),
				slog.String("outcome", outcome), slog.Int("tries", try), slog.String("error", err.Error()))
			return
		}
		time.Sleep(backoff)
		backoff *= 2
	}
}

// errPermanent: the relying party refused the token (4xx); trying again
// would not help.
var errPermanent = errors.New("refused")

// postLogoutToken makes one try (Back-Channel Logout 1.0 §2.5): the token
// form-encoded; 200 or 204 means received.
func postLogoutToken(hc *http.Client, uri, body string) error {
	ctx, cancel := context.WithTimeout(context.Background(), backchannelTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, uri, strings.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: %v", errPermanent, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cache-Control", "no-store")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK, resp.StatusCode == http.StatusNoContent:
		return nil
	case resp.StatusCode >= 400 && resp.StatusCode < 500:
		return fmt.Errorf("%w: status %d", errPermanent, resp.StatusCode)
	}
	return fmt.Errorf("status %d", resp.StatusCode)
}

// endSessionsOf ends every session of a person (the local subject) and
// tells the clients they signed in to: for a withdrawal of consent or an
// account the bank closed.
func (p *Provider) endSessionsOf(ctx context.Context, sv *served, subject string) error {
	ended, err := p.grants.EndSessions(ctx, subject)
	p.sessionsEnded(sv, ended...)
	return err
}
