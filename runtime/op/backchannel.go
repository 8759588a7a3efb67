package op

import "github.com/idaop/ida-operator/runtime/grants"

// sessionsEnded tells the clients the ended sessions signed in to.
func (p *Provider) sessionsEnded(sv *served, subject string, ended ...grants.UserSession) {
}
