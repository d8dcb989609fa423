package auth

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Proxies are the reverse proxies (load balancers, ingress controllers) whose X-Forwarded-For
// header the server believes. The header is whatever the client wants it to be unless a proxy
// the operator runs wrote it, so with no proxies configured it is ignored and the client is the
// address the connection comes from.
type Proxies []netip.Prefix

// ParseProxies reads a comma-separated list of addresses and CIDR ranges ("10.0.0.0/8,
// 192.0.2.1"), as serve's --trusted-proxies gives it.
func ParseProxies(s string) (Proxies, error) {
	var ps Proxies
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if strings.Contains(f, "/") {
			p, err := netip.ParsePrefix(f)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q: %w", f, err)
			}
			ps = append(ps, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: %w", f, err)
		}
		a = a.Unmap()
		ps = append(ps, netip.PrefixFrom(a, a.BitLen()))
	}
	return ps, nil
}

// Contains reports whether a is one of the proxies.
func (ps Proxies) Contains(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Client returns the address of the client that sent r. It is the address the connection comes
// from, unless that is a trusted proxy: then it is the rightmost address of X-Forwarded-For
// that is not a trusted proxy, each proxy having appended the address it was reached from.
// What a client writes into the header itself stays to the left of that and is never believed.
// An entry that is not an address ends the walk at the last hop known.
func (ps Proxies) Client(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	client, err := netip.ParseAddr(host)
	if err != nil || !ps.Contains(client) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHop(hops[i])
		if !ok {
			break
		}
		client = a
		if !ps.Contains(a) {
			break
		}
	}
	return client.Unmap().String()
}

// parseHop reads one address of X-Forwarded-For, with or without a port.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a, true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr(), true
	}
	return netip.Addr{}, false
}

type clientKey struct{}

// Wrap returns h with each request's client address worked out once and kept in its context,
// where ClientAddr finds it.
func (ps Proxies) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clientKey{}, ps.Client(r))))
	})
}

// ClientAddr returns the address of the client that sent r, as Proxies.Wrap worked it out, or
// the address the connection comes from when r did not pass through it.
func ClientAddr(r *http.Request) string {
	if s, ok := r.Context().Value(clientKey{}).(string); ok {
		return s
	}
	return Proxies(nil).Client(r)
}
