// Package egress makes the runtime's outbound requests to addresses that
// relying parties name (back-channel logout URIs) safe from server-side
// request forgery: a registered URI cannot make the runtime call its own
// loopback, the cluster's services, the cloud's metadata endpoint or any
// other internal address, unless the platform team allowed that address.
//
// The address is checked when the connection is made, on the IP actually
// dialled (net.Dialer.Control), not on a name resolved beforehand: a name
// that resolves to a public address when checked and to an internal one
// when dialled (DNS rebinding) still gets no connection.
package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"syscall"
	"time"
)

// ErrForbidden is the error of a connection to an address the policy does
// not allow.
var ErrForbidden = errors.New("egress: address not allowed")

// Policy says which internal addresses may be reached; every public one
// may.
type Policy struct {
	// AllowedPrefixes are internal networks that may be reached.
	AllowedPrefixes []netip.Prefix
	// AllowedHosts are host names that may be reached whatever they
	// resolve to, compared without regard to case.
	AllowedHosts []string
}

// internalPrefixes are the ranges that are not the public internet
// besides what netip.Addr's predicates cover: shared address space (RFC
// 6598), "this network" (RFC 791), IETF protocol assignments (RFC 6890),
// benchmarking (RFC 2544), documentation (RFC 5737, RFC 3849), reserved
// (RFC 1112), NAT64 (RFC 6052, which can reach internal IPv4 addresses)
// and discard-only (RFC 6666).
var internalPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("100::/64"),
	netip.MustParsePrefix("2001:db8::/32"),
}

// Internal reports whether ip is not a public internet address: loopback,
// private (RFC 1918, RFC 4193), link-local (which holds cloud metadata
// endpoints), multicast, unspecified, or one of internalPrefixes. IPv4
// addresses written as IPv6 count as IPv4.
func Internal(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsUnspecified() ||
		ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() || ip.IsMulticast() {
		return true
	}
	return slices.ContainsFunc(internalPrefixes, func(p netip.Prefix) bool { return p.Contains(ip) })
}

// Allows reports whether ip may be dialled.
func (p Policy) Allows(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !Internal(ip) {
		return true
	}
	return slices.ContainsFunc(p.AllowedPrefixes, func(pr netip.Prefix) bool { return pr.Contains(ip) })
}

// allowsHost reports whether host is one of AllowedHosts.
func (p Policy) allowsHost(host string) bool {
	return slices.ContainsFunc(p.AllowedHosts, func(h string) bool { return strings.EqualFold(h, host) })
}

// DialContext connects to addr as net.Dialer does, refusing with
// ErrForbidden any address the policy does not allow, checked on the
// address dialled.
func (p Policy) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: 5 * time.Second}
	if host, _, err := net.SplitHostPort(addr); err != nil || !p.allowsHost(host) {
		d.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: %s is not an IP address", ErrForbidden, address)
			}
			if !p.Allows(ap.Addr()) {
				return fmt.Errorf("%w: %s is internal", ErrForbidden, ap.Addr().Unmap())
			}
			return nil
		}
	}
	return d.DialContext(ctx, network, addr)
}

// NewClient is an http.Client that dials through the policy, takes at
// most timeout per request, follows no redirects (a redirect could lead
// anywhere), and uses no proxy (a proxy would dial in its place).
func NewClient(p Policy, timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           p.DialContext,
			TLSHandshakeTimeout:   5 * time.Second,
			ResponseHeaderTimeout: timeout,
			MaxIdleConnsPerHost:   2,
			IdleConnTimeout:       30 * time.Second,
			ForceAttemptHTTP2:     true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
