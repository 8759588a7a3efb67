package users

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/idaop/ida-operator/runtime/config"
)

// Defaults of the HTTP source.
const (
	// DefaultTimeout bounds one HTTP attempt when users.http.timeout is
	// zero.
	DefaultTimeout = 5 * time.Second
	// MaxResponseBytes bounds a KYC response; a larger one is refused.
	MaxResponseBytes = 1 << 20

	lookupRetries    = 2                      // extra attempts for GET, never for POST
	retryBase        = 100 * time.Millisecond // first backoff; doubled, then jittered
	breakerThreshold = 5                      // consecutive failures that open the breaker
	breakerCooldown  = 10 * time.Second       // how long it stays open before a probe
)

// HTTP looks users up in the provider's existing KYC system. The contract
// (runtime/users/docs/users.md says the same for the KYC team):
//
//	POST <url>/authenticate
//	  {"username": "...", "password": "..."}
//	  200 {"subject": "..."}        the credentials are right
//	  401                           they are not
//	GET <url>/users/{subject}       subject path-escaped
//	  200 {"username": "...", "claims": {...}, "verified_claims": <object|array>}
//	  404                           no such subject
//
// and, with users.http.factors, the factor calls of factors.go.
//
// Both carry "Authorization: Bearer <token>" when a token is configured,
// and "Accept: application/json". claims holds standard OpenID claims;
// verified_claims follows OpenID Connect for Identity Assurance; both are
// optional. Unknown members are ignored.
//
// Each attempt is bounded by the configured timeout (DefaultTimeout when
// zero). GETs are retried twice with jittered exponential backoff on
// network errors, timeouts and 5xx; the POST is never retried, because it
// is not idempotent (a KYC system may count failed attempts). A circuit
// breaker opens after 5 consecutive failures and refuses calls for 10 s,
// then lets one probe through. Redirects are not followed, and responses
// over MaxResponseBytes are refused. Every failure wraps ErrUnavailable;
// error texts never include the token, the password, the subject or
// response bodies.
type HTTP struct {
	base    string
	token   string
	client  *http.Client
	timeout time.Duration
	breaker *breaker
	maxBody int64
	retries int
	// factors: users.http.factors, the factor calls (factors.go).
	factors bool
	// sleep waits between retries; tests replace it.
	sleep func(ctx context.Context, d time.Duration) error
}

var _ Source = (*HTTP)(nil)

// NewHTTP returns the HTTP source for cfg, which config.Provider.Validate
// has checked. bearerToken is the value of cfg.CredentialsSecret (empty
// for none); client nil means a default client.
func NewHTTP(cfg config.HTTPUsers, bearerToken string, client *http.Client) *HTTP {
	c := &http.Client{}
	if client != nil {
		cp := *client // a copy, so the caller's client keeps its redirect policy
		c = &cp
	}
	// A redirect would replay the password to wherever it points.
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	timeout := cfg.Timeout.Duration
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &HTTP{
		base:    strings.TrimRight(cfg.URL, "/"),
		token:   bearerToken,
		client:  c,
		timeout: timeout,
		breaker: newBreaker(breakerThreshold, breakerCooldown, time.Now),
		maxBody: MaxResponseBytes,
		retries: lookupRetries,
		factors: cfg.Factors,
		sleep:   sleepCtx,
	}
}

// Authenticate asks the KYC system to check the credentials, then looks
// the subject up.
func (h *HTTP) Authenticate(ctx context.Context, username, password string) (*User, error) {
	if username == "" || password == "" {
		return nil, ErrInvalidCredentials
	}
	body, err := json.Marshal(map[string]string{"username": username, "password": password})
	if err != nil {
		return nil, fmt.Errorf("%w: encoding request: %v", ErrUnavailable, err)
	}
	const op = "POST /authenticate"
	res, _, err := h.call(ctx, op, http.MethodPost, h.base+"/authenticate", body)
	if err != nil {
		return nil, err
	}
	switch res.status {
	case http.StatusOK:
	case http.StatusUnauthorized:
		return nil, ErrInvalidCredentials
	default:
		return nil, unexpectedStatus(op, res.status)
	}
	var ok struct {
		Subject string `json:"subject"`
	}
	if err := json.Unmarshal(res.body, &ok); err != nil || ok.Subject == "" {
		return nil, fmt.Errorf("%w: %s: response has no subject", ErrUnavailable, op)
	}
	u, err := h.Lookup(ctx, ok.Subject)
	if errors.Is(err, ErrNotFound) {
		// The KYC system contradicts itself; the person did nothing wrong.
		return nil, fmt.Errorf("%w: GET /users/{subject}: authenticated subject not found", ErrUnavailable)
	}
	return u, err
}

// Lookup fetches a user's claims and verified claims.
func (h *HTTP) Lookup(ctx context.Context, subject string) (*User, error) {
	if subject == "" {
		return nil, ErrNotFound
	}
	const op = "GET /users/{subject}"
	target := h.base + "/users/" + url.PathEscape(subject)
	var (
		res *response
		err error
	)
	for attempt := 0; ; attempt++ {
		var retry bool
		res, retry, err = h.call(ctx, op, http.MethodGet, target, nil)
		if !retry || attempt >= h.retries {
			break
		}
		if serr := h.sleep(ctx, backoff(attempt)); serr != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrUnavailable, op, serr)
		}
	}
	if err != nil {
		return nil, err
	}
	switch res.status {
	case http.StatusOK:
	case http.StatusNotFound:
		return nil, ErrNotFound
	default:
		return nil, unexpectedStatus(op, res.status)
	}
	var rec struct {
		Subject        *string         `json:"subject"`
		Username       string          `json:"username"`
		Claims         json.RawMessage `json:"claims"`
		VerifiedClaims json.RawMessage `json:"verified_claims"`
		ExternalClaims json.RawMessage `json:"external_claims"`
	}
	if !isObject(res.body) {
		return nil, fmt.Errorf("%w: %s: response is not a JSON object", ErrUnavailable, op)
	}
	if err := json.Unmarshal(res.body, &rec); err != nil {
		return nil, fmt.Errorf("%w: %s: malformed response: %v", ErrUnavailable, op, err)
	}
	if rec.Subject != nil && *rec.Subject != subject {
		return nil, fmt.Errorf("%w: %s: response is for another subject", ErrUnavailable, op)
	}
	claims, data, err := userData("response", rec.Claims, rec.VerifiedClaims)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrUnavailable, op, err)
	}
	external, err := parseExternal("response.external_claims", rec.ExternalClaims)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrUnavailable, op, err)
	}
	return &User{Subject: subject, Username: rec.Username, Claims: claims, Dataset: data, External: external}, nil
}

type response struct {
	status int
	body   []byte
}

// call makes one attempt through the breaker. retry reports a failure
// worth another attempt (network error, timeout, 5xx) while the caller is
// still waiting.
func (h *HTTP) call(ctx context.Context, op, method, target string, body []byte) (res *response, retry bool, err error) {
	if !h.breaker.allow() {
		httpCalls.WithLabelValues(callRefused).Inc()
		return nil, false, fmt.Errorf("%w: %s: circuit open after repeated failures", ErrUnavailable, op)
	}
	res, o, err := h.attempt(ctx, op, method, target, body)
	if o == outcomeFailure && ctx.Err() != nil {
		o = outcomeNeutral // the caller gave up; that says nothing about the service
	}
	h.breaker.record(o)
	countCall(o)
	return res, o == outcomeFailure, err
}

func (h *HTTP) attempt(ctx context.Context, op, method, target string, body []byte) (*response, outcome, error) {
	actx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(actx, method, target, rd)
	if err != nil {
		// url errors quote the URL, which may hold the subject.
		return nil, outcomeNeutral, fmt.Errorf("%w: %s: cannot build request", ErrUnavailable, op)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "ida-operator-runtime")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if h.token != "" {
		req.Header.Set("Authorization", "Bearer "+h.token)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return nil, outcomeFailure, h.transportError(ctx, actx, op, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, h.maxBody+1))
	if err != nil {
		return nil, outcomeFailure, h.transportError(ctx, actx, op, err)
	}
	if resp.StatusCode >= 500 {
		return nil, outcomeFailure, unexpectedStatus(op, resp.StatusCode)
	}
	if int64(len(data)) > h.maxBody {
		// The service answered, so the breaker counts a success; this
		// answer is refused all the same.
		return nil, outcomeSuccess, fmt.Errorf("%w: %s: response larger than %d bytes", ErrUnavailable, op, h.maxBody)
	}
	return &response{status: resp.StatusCode, body: data}, outcomeSuccess, nil
}

// transportError describes a failed exchange without the URL (it may hold
// the subject).
func (h *HTTP) transportError(ctx, actx context.Context, op string, err error) error {
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("%w: %s: %w", ErrUnavailable, op, ctx.Err())
	case errors.Is(actx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("%w: %s: no answer within %s", ErrUnavailable, op, h.timeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("%w: %s: %v", ErrUnavailable, op, err)
}

func unexpectedStatus(op string, status int) error {
	return fmt.Errorf("%w: %s: unexpected status %d", ErrUnavailable, op, status)
}

// backoff is exponential with jitter in [d/2, d), so retries from many
// replicas do not arrive together.
func backoff(attempt int) time.Duration {
	d := retryBase << attempt
	return d/2 + rand.N(d/2)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
