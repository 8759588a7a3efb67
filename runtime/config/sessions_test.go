package config

import (
	"strings"
	"testing"
	"time"
)

func TestSessions(t *testing.T) {
	d := func(x time.Duration) Duration { return Duration{Duration: x} }
	var zero Sessions
	if zero.Idle() != 30*time.Minute || zero.Absolute() != 12*time.Hour || zero.PerUser() != 16 {
		t.Errorf("defaults: %v %v %d", zero.Idle(), zero.Absolute(), zero.PerUser())
	}
	if s := (Sessions{AbsoluteLifetime: d(10 * time.Minute)}); s.Idle() != 10*time.Minute {
		t.Errorf("the default idle timeout outlives a short absolute lifetime: %v", s.Idle())
	}
	for _, c := range []struct {
		s    Sessions
		want string
	}{
		{Sessions{IdleTimeout: d(time.Hour), AbsoluteLifetime: d(time.Hour)}, ""},
		{Sessions{IdleTimeout: d(13 * time.Hour)}, "sessions.idle_timeout"},
		{Sessions{IdleTimeout: d(-time.Second)}, "sessions.idle_timeout"},
		{Sessions{MaxPerUser: 101}, "sessions.max_per_user"},
	} {
		p := testProvider()
		p.Sessions = c.s
		got := p.Validate().ToAggregate()
		switch {
		case c.want == "" && got != nil:
			t.Errorf("%+v refused: %v", c.s, got)
		case c.want != "" && (got == nil || !strings.Contains(got.Error(), c.want)):
			t.Errorf("%+v: want an error at %s, got %v", c.s, c.want, got)
		}
	}
	p := testProvider()
	p.Egress = Egress{AllowedCIDRs: []string{"10.0.0.0/8", "127.0.0.1"}}
	if got := p.Validate().ToAggregate(); got == nil || !strings.Contains(got.Error(), "egress.allowed_cidrs[1]") {
		t.Errorf("a bare address as a CIDR: %v", got)
	}
}

func TestLogoutURIs(t *testing.T) {
	for _, c := range []struct {
		uri string
		ok  bool
	}{
		{"https://rp.example/bc?tenant=a", true},
		{"http://127.0.0.1:8080/bc", true},
		{"http://rp.example/bc", false},
		{"https://rp.example/bc#f", false},
		{"rp.example/bc", false},
		{"ftp://rp.example/bc", false},
	} {
		if err := ValidateBackchannelLogoutURI(c.uri); (err == nil) != c.ok {
			t.Errorf("%s: %v", c.uri, err)
		}
	}
	cl := testClient()
	cl.PostLogoutRedirectURIs = []string{"https://rp.example/bye", "http://rp.example/bye"}
	if got := cl.Validate().ToAggregate(); got == nil || !strings.Contains(got.Error(), "post_logout_redirect_uris[1]") {
		t.Errorf("http post-logout URI on a public host: %v", got)
	}
}
