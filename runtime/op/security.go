package op

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
)

// Security events: what a bank's monitoring watches for. Each is one
// audit log line (event, client_id, reason) and a count in
// ida_op_security_events_total; none carries a secret, a token, a username
// or anything else about the person.
const (
	// eventLoginFailed: a sign-in with a wrong username or password.
	eventLoginFailed = "login_failed"
	// eventClientAuthFailed: a client failed to authenticate at the
	// token, PAR or revocation endpoint.
	eventClientAuthFailed = "client_authentication_failed"
	// eventReplay: a code, refresh token, client assertion or DPoP proof
	// came back after it was used.
	eventReplay = "replay_detected"
	// eventLoginLocked: failed sign-ins locked an account or a source
	// address for a while.
	eventLoginLocked = "login_locked"
)

// securityEvent records one security event. clientID may come from the
// request; it is shortened and made printable.
func (p *Provider) securityEvent(event, clientID, reason string) {
	p.metrics.securityEvent(event)
	p.audit.Warn("security event",
		slog.String("event", event),
		slog.String("client_id", sanitize(clientID)),
		slog.String("reason", reason),
	)
}

func newSecurityEventsCounter() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "ida", Subsystem: "op", Name: "security_events_total",
		Help: "Security events by kind (login_failed, login_locked, client_authentication_failed, replay_detected).",
	}, []string{"event"})
}

func (m *metrics) securityEvent(event string) {
	if m == nil {
		return
	}
	m.security.WithLabelValues(event).Inc()
}
