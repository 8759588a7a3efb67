package egress

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"testing"
	"time"
)

func TestInternal(t *testing.T) {
	for _, c := range []struct {
		ip       string
		internal bool
	}{
		{"127.0.0.1", true},
		{"::1", true},
		{"10.1.2.3", true},
		{"172.16.0.1", true},
		{"192.168.1.1", true},
		{"169.254.169.254", true}, // cloud metadata
		{"fe80::1", true},
		{"fd00::1", true},
		{"0.0.0.0", true},
		{"::", true},
		{"100.64.0.1", true},
		{"224.0.0.1", true},
		{"::ffff:127.0.0.1", true}, // IPv4 written as IPv6
		{"::ffff:10.0.0.1", true},
		{"64:ff9b::a00:1", true}, // NAT64 of 10.0.0.1
		{"255.255.255.255", true},
		{"8.8.8.8", false},
		{"93.184.216.34", false},
		{"2606:4700::1111", false},
		{"::ffff:8.8.8.8", false},
	} {
		if got := Internal(netip.MustParseAddr(c.ip)); got != c.internal {
			t.Errorf("Internal(%s) = %v", c.ip, got)
		}
	}
	p := Policy{AllowedPrefixes: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	if !p.Allows(netip.MustParseAddr("10.9.9.9")) || !p.Allows(netip.MustParseAddr("::ffff:10.9.9.9")) || p.Allows(netip.MustParseAddr("192.168.0.1")) || !p.Allows(netip.MustParseAddr("8.8.8.8")) {
		t.Error("allowed prefixes not applied")
	}
}

// TestClientChecksTheDialledAddress: loopback is refused by address and
// by a name that resolves to it (what DNS rebinding relies on), and
// reached once allowed by prefix or by name.
func TestClientChecksTheDialledAddress(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	byName := "http://localhost:" + u.Port() + "/"
	get := func(p Policy, target string) (*http.Response, error) {
		resp, err := NewClient(p, 2*time.Second).Get(target)
		if err == nil {
			resp.Body.Close()
		}
		return resp, err
	}
	for _, target := range []string{srv.URL, byName} {
		if _, err := get(Policy{}, target); !errors.Is(err, ErrForbidden) {
			t.Errorf("%s reached without an allow list: %v", target, err)
		}
	}
	if _, err := get(Policy{AllowedPrefixes: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}, srv.URL); !errors.Is(err, ErrForbidden) {
		t.Errorf("loopback reached with another prefix allowed: %v", err)
	}
	loopback := Policy{AllowedPrefixes: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}}
	for _, c := range []struct {
		p      Policy
		target string
	}{
		{loopback, srv.URL},
		{loopback, byName},
		{Policy{AllowedHosts: []string{"LocalHost"}}, byName},
	} {
		if resp, err := get(c.p, c.target); err != nil || resp.StatusCode != http.StatusNoContent {
			t.Errorf("%s with %+v: %v", c.target, c.p, err)
		}
	}
	// A redirect is answered, not followed.
	if resp, err := get(loopback, srv.URL+"/redirect"); err != nil || resp.StatusCode != http.StatusFound {
		t.Errorf("redirect: %v %v", resp, err)
	}
}
