package e2e

import (
	"fmt"
	"sync"
	"time"

	"github.com/idaop/ida-operator/test/internal/rptest"
)

// issued is one verified ID token.
type issued struct {
	kid string
	iat int64
	at  time.Time
}

// load keeps a relying party busy: refresh grants and new codes through
// the session cookie, every ID token verified against the JWKS the
// verifier fetches again on an unknown kid.
type load struct {
	mu       sync.Mutex
	tokens   []issued
	failures []string
	first    map[string]time.Time
	refresh  string
	done     chan struct{}
	stopped  chan struct{}
}

func startLoad(c *rptest.Client, v *rptest.Verifier, clientID, refresh string) *load {
	l := &load{first: map[string]time.Time{}, refresh: refresh, done: make(chan struct{}), stopped: make(chan struct{})}
	go func() {
		defer close(l.stopped)
		for i := 0; ; i++ {
			select {
			case <-l.done:
				return
			default:
			}
			var tr *rptest.Tokens
			var err error
			how := "refresh grant"
			if i%2 == 0 {
				tr, err = c.Refresh(l.refresh)
			} else {
				how = "code with the session cookie"
				var code string
				var p *rptest.AuthRequest
				if code, p, err = c.CodeWithSession(); err == nil {
					tr, err = c.Exchange(code, p)
				}
			}
			now := time.Now()
			if err == nil && tr.RefreshToken != "" {
				// Rotated: the old one is spent, whatever the ID token holds.
				l.mu.Lock()
				l.refresh = tr.RefreshToken
				l.mu.Unlock()
			}
			if err == nil {
				var idt *rptest.IDToken
				if idt, err = v.Verify(tr.IDToken, clientID); err == nil {
					iat, _ := idt.Claims["iat"].(float64)
					l.mu.Lock()
					l.tokens = append(l.tokens, issued{kid: idt.KID, iat: int64(iat), at: now})
					if _, ok := l.first[idt.KID]; !ok {
						l.first[idt.KID] = now
					}
					l.mu.Unlock()
				}
			}
			if err != nil {
				l.mu.Lock()
				l.failures = append(l.failures, fmt.Sprintf("%s at %s: %v", how, now.Format("15:04:05.000"), err))
				l.mu.Unlock()
			}
			time.Sleep(25 * time.Millisecond)
		}
	}()
	return l
}

func (l *load) firstSeen(kid string) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.first[kid]
}

// stop ends the load and returns every verified token.
func (l *load) stop() []issued {
	select {
	case <-l.done:
	default:
		close(l.done)
	}
	<-l.stopped
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.tokens
}
