package ingest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/fixgraph/fixgraph"
)

// NetGuard decides which addresses the crawler may connect to. Its DialContext resolves the host,
// checks every address the name resolves to and then dials an address it checked, on every
// connection: each redirect hop and each new connection of a kept-alive pool is checked again, so
// a name that resolves to a public address once and to a private one later (DNS rebinding) is
// refused the second time. The dialer's Control function checks the address once more just before
// the connect system call. The zero value, and a nil *NetGuard, refuse every non-public address
// and exempt nothing.
type NetGuard struct {
	// AllowPrivate turns the check off: every address may be crawled.
	AllowPrivate bool
	// Resolver looks host names up; nil means net.DefaultResolver.
	Resolver Resolver

	hosts map[string]bool // host names exempt from the check, lower case
	nets  []netip.Prefix  // address ranges exempt from the check
	dial  func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Resolver looks up the addresses of a host name; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

var _ Resolver = (*net.Resolver)(nil)

// NewNetGuard returns a guard that refuses non-public addresses unless allowPrivate is set,
// exempting the targets in allow: host names (matched exactly, case-insensitively), IP addresses
// and CIDR ranges.
func NewNetGuard(allowPrivate bool, allow []string) (*NetGuard, error) {
	g := &NetGuard{AllowPrivate: allowPrivate, hosts: make(map[string]bool)}
	for _, a := range allow {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		if p, err := netip.ParsePrefix(a); err == nil {
			g.nets = append(g.nets, p.Masked())
			continue
		}
		if ip, err := netip.ParseAddr(strings.Trim(a, "[]")); err == nil {
			ip = ip.Unmap().WithZone("")
			g.nets = append(g.nets, netip.PrefixFrom(ip, ip.BitLen()))
			continue
		}
		h := strings.TrimSuffix(strings.ToLower(a), ".")
		if !validHostName(h) {
			return nil, fixgraph.Errorf(fixgraph.EINVALID, "allowed host %q is neither a host name, an IP address nor a CIDR range", a)
		}
		g.hosts[h] = true
	}
	return g, nil
}

// validHostName reports whether h is a DNS name: dot-separated labels of letters, digits,
// hyphens and underscores.
func validHostName(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

// AddressError is a connection the guard refused because the address is not public.
type AddressError struct {
	Host string     // as the URL names it
	Addr netip.Addr // the address it resolved to
	Kind string     // what the address is: "loopback", "private", "link-local", …
}

// Error says which address was refused, why, and how an operator allows it.
func (e *AddressError) Error() string {
	of := ""
	if h := strings.Trim(e.Host, "[]"); h != e.Addr.String() && h != e.Addr.Unmap().String() {
		of = " of host " + e.Host
	}
	return fmt.Sprintf("address %s%s is %s; crawling non-public addresses is off (--allow-private-addresses, or --allow-hosts for this host)", e.Addr, of, e.Kind)
}

// Check returns an *AddressError when ip, an address of host, may not be crawled.
func (g *NetGuard) Check(host string, ip netip.Addr) error {
	if g != nil && (g.AllowPrivate || g.hostExempt(host)) {
		return nil
	}
	if kind := nonPublic(ip); kind != "" && !g.addrExempt(ip) {
		return &AddressError{Host: host, Addr: ip, Kind: kind}
	}
	return nil
}

func (g *NetGuard) hostExempt(host string) bool {
	return g != nil && g.hosts[strings.TrimSuffix(strings.ToLower(host), ".")]
}

func (g *NetGuard) addrExempt(ip netip.Addr) bool {
	if g == nil {
		return false
	}
	ip = ip.Unmap().WithZone("")
	for _, p := range g.nets {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// exemptKey marks a dial's context as exempt by host name, for the Control check, which sees
// only the address.
type exemptKey struct{}

// DialContext connects to addr ("host:port") after checking every address host resolves to; it
// refuses them all when one is not public, so a mix of public and private answers cannot be used
// to reach the private one.
func (g *NetGuard) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("bad port in %q", addr)
	}
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{ip}
	} else {
		var r Resolver = net.DefaultResolver
		if g != nil && g.Resolver != nil {
			r = g.Resolver
		}
		lookup := "ip"
		switch network {
		case "tcp4":
			lookup = "ip4"
		case "tcp6":
			lookup = "ip6"
		}
		ips, err = r.LookupNetIP(ctx, lookup, host)
		if err != nil {
			return nil, err
		}
		if len(ips) == 0 {
			return nil, &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
		}
	}
	for _, ip := range ips {
		if err := g.Check(host, ip); err != nil {
			return nil, err
		}
	}
	if g.hostExempt(host) {
		ctx = context.WithValue(ctx, exemptKey{}, true)
	}
	dial := g.dialer().DialContext
	if g != nil && g.dial != nil {
		dial = g.dial
	}
	var errs []error
	for _, ip := range ips {
		conn, err := dial(ctx, network, netip.AddrPortFrom(ip, uint16(port)).String())
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

// dialer returns the dialer of checked addresses. Its Control refuses a non-public address again
// just before the connect system call: the last gate, should an address reach it unchecked.
func (g *NetGuard) dialer() *net.Dialer {
	return &net.Dialer{
		Timeout:   crawlTimeout,
		KeepAlive: 30 * time.Second,
		ControlContext: func(ctx context.Context, network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("dialing %q: not an address", address)
			}
			if exempt, _ := ctx.Value(exemptKey{}).(bool); exempt {
				return nil
			}
			return g.Check(ap.Addr().String(), ap.Addr())
		},
	}
}

// Transport returns an HTTP transport that connects through the guard. It uses no proxy: a proxy
// would connect on the crawler's behalf, to addresses the guard never sees.
func (g *NetGuard) Transport() *http.Transport {
	t := &http.Transport{ForceAttemptHTTP2: true, MaxIdleConns: 100, IdleConnTimeout: 90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second, ExpectContinueTimeout: time.Second}
	if d, ok := http.DefaultTransport.(*http.Transport); ok {
		t = d.Clone()
	}
	t.Proxy = nil
	t.DialContext = g.DialContext
	t.DialTLSContext = nil
	return t
}

// Address ranges that are not public besides those netip.Addr names (loopback, private,
// link-local, multicast, unspecified).
var (
	thisNetwork  = netip.MustParsePrefix("0.0.0.0/8")
	sharedCGNAT  = netip.MustParsePrefix("100.64.0.0/10")
	reserved4    = netip.MustParsePrefix("240.0.0.0/4")
	broadcast4   = netip.MustParseAddr("255.255.255.255")
	siteLocal6   = netip.MustParsePrefix("fec0::/10")
	nat64        = netip.MustParsePrefix("64:ff9b::/96")
	nat64Local   = netip.MustParsePrefix("64:ff9b:1::/48")
	sixToFour    = netip.MustParsePrefix("2002::/16")
	v4Compatible = netip.MustParsePrefix("::/96")
)

// nonPublic says what kind of non-public address ip is ("loopback", "private", …), or "" for a
// public one. IPv6 forms that carry an IPv4 address (IPv4-mapped, IPv4-compatible, NAT64, 6to4)
// are judged by the IPv4 address they carry.
func nonPublic(ip netip.Addr) string {
	ip = ip.WithZone("").Unmap()
	switch {
	case !ip.IsValid():
		return "not an address"
	case ip.IsUnspecified():
		return "unspecified"
	case ip.IsLoopback():
		return "loopback"
	case ip.IsPrivate():
		return "private"
	case ip.IsLinkLocalUnicast():
		return "link-local"
	case ip.IsMulticast():
		return "multicast"
	case ip == broadcast4:
		return "broadcast"
	case thisNetwork.Contains(ip):
		return "in 0.0.0.0/8 (this network)"
	case sharedCGNAT.Contains(ip):
		return "carrier-grade NAT (100.64.0.0/10)"
	case reserved4.Contains(ip):
		return "reserved (240.0.0.0/4)"
	case siteLocal6.Contains(ip):
		return "site-local"
	case nat64Local.Contains(ip):
		return "private (local-use NAT64)"
	}
	var inner netip.Addr
	b := ip.As16()
	switch {
	case !ip.Is6():
		return ""
	case nat64.Contains(ip), v4Compatible.Contains(ip):
		inner = netip.AddrFrom4([4]byte(b[12:16]))
	case sixToFour.Contains(ip):
		inner = netip.AddrFrom4([4]byte(b[2:6]))
	default:
		return ""
	}
	if kind := nonPublic(inner); kind != "" {
		return kind + " (it carries " + inner.String() + ")"
	}
	return ""
}
