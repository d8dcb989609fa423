package ingest_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/ingest"
)

// TestNetGuardRefusesNonPublicAddresses: every kind of non-public address is refused, IPv4-mapped
// and other IPv6 forms of them included, with a message naming the address, the host and what the
// address is; public addresses pass. Nothing is dialled: Check only looks.
func TestNetGuardRefusesNonPublicAddresses(t *testing.T) {
	var g *ingest.NetGuard // nil: the default, refusing every non-public address
	tests := []struct {
		addr, kind string // kind "" = public
	}{
		{"127.0.0.1", "loopback"},
		{"127.8.9.10", "loopback"},
		{"::1", "loopback"},
		{"10.0.0.5", "private"},
		{"172.16.0.1", "private"},
		{"172.31.255.254", "private"},
		{"192.168.1.1", "private"},
		{"fc00::1", "private"},
		{"fd12:3456::1", "private"},
		{"169.254.169.254", "link-local"},
		{"169.254.0.1", "link-local"},
		{"fe80::1", "link-local"},
		{"0.0.0.0", "unspecified"},
		{"::", "unspecified"},
		{"224.0.0.1", "multicast"},
		{"239.255.255.250", "multicast"},
		{"ff02::1", "multicast"},
		{"100.64.0.1", "carrier-grade NAT"},
		{"100.127.255.254", "carrier-grade NAT"},
		{"0.1.2.3", "0.0.0.0/8"},
		{"255.255.255.255", "broadcast"},
		{"240.0.0.1", "reserved"},
		{"::ffff:10.0.0.5", "private"},
		{"::ffff:127.0.0.1", "loopback"},
		{"::ffff:169.254.169.254", "link-local"},
		{"::ffff:100.64.0.1", "carrier-grade NAT"},
		{"64:ff9b::a9fe:a9fe", "link-local (it carries 169.254.169.254)"},
		{"2002:7f00:1::1", "loopback (it carries 127.0.0.1)"},
		{"fec0::1", "site-local"},
		{"8.8.8.8", ""},
		{"93.184.216.34", ""},
		{"172.32.0.1", ""},
		{"100.128.0.1", ""},
		{"2606:4700:4700::1111", ""},
		{"::ffff:8.8.8.8", ""},
		{"64:ff9b::808:808", ""},
	}
	for _, tt := range tests {
		err := g.Check("site.test", netip.MustParseAddr(tt.addr))
		if tt.kind == "" {
			if err != nil {
				t.Errorf("%s: %v; want allowed", tt.addr, err)
			}
			continue
		}
		var ae *ingest.AddressError
		if !errors.As(err, &ae) || !strings.Contains(ae.Kind, tt.kind) {
			t.Errorf("%s: %v; want refused as %s", tt.addr, err, tt.kind)
			continue
		}
		want := "address " + tt.addr + " of host site.test is "
		if !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "crawling non-public addresses is off (--allow-private-addresses") {
			t.Errorf("%s: message %q; want it to start %q and name the flag", tt.addr, err, want)
		}
	}
	allowing, err := ingest.NewNetGuard(true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := allowing.Check("site.test", netip.MustParseAddr("10.0.0.5")); err != nil {
		t.Errorf("with private addresses allowed: %v", err)
	}
}

// TestNetGuardAllowHosts: host names, addresses and ranges given to NewNetGuard are exempt, and
// nothing else is; an entry that is none of those is refused.
func TestNetGuardAllowHosts(t *testing.T) {
	g, err := ingest.NewNetGuard(false, []string{"Intranet.Example.", " 10.1.0.0/16", "192.168.7.7", "[fd00::7]"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		host, addr string
		ok         bool
	}{
		{"intranet.example", "10.9.9.9", true},
		{"INTRANET.example", "127.0.0.1", true},
		{"other.example", "10.9.9.9", false},
		{"other.example", "10.1.2.3", true},
		{"other.example", "::ffff:10.1.2.3", true},
		{"192.168.7.7", "192.168.7.7", true},
		{"192.168.7.8", "192.168.7.8", false},
		{"fd00::7", "fd00::7", true},
		{"fd00::8", "fd00::8", false},
	}
	for _, tt := range tests {
		if err := g.Check(tt.host, netip.MustParseAddr(tt.addr)); (err == nil) != tt.ok {
			t.Errorf("%s at %s: %v; want allowed %v", tt.host, tt.addr, err, tt.ok)
		}
	}
	for _, bad := range []string{"http://example.com/", "10.0.0.0/33", "exa mple.com", "*.example.com"} {
		if _, err := ingest.NewNetGuard(false, []string{bad}); fixgraph.CodeOf(err) != fixgraph.EINVALID {
			t.Errorf("allowed host %q: %v; want invalid", bad, err)
		}
	}
}

// stubResolver answers lookups from a table; each name may answer differently on each lookup.
type stubResolver struct {
	mu      sync.Mutex
	answers map[string][][]string
	lookups map[string]int
}

func (r *stubResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.lookups == nil {
		r.lookups = make(map[string]int)
	}
	seq, ok := r.answers[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	i := min(r.lookups[host], len(seq)-1)
	r.lookups[host]++
	var out []netip.Addr
	for _, a := range seq[i] {
		out = append(out, netip.MustParseAddr(a))
	}
	return out, nil
}

// loopbackListener accepts connections on 127.0.0.1 and counts them.
func loopbackListener(t *testing.T) (net.Listener, *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var accepted atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	return ln, &accepted
}

// recordingDial dials only loopback addresses, recording each; any other address fails the
// test and is not dialled, so a guard that let one through sends nothing anywhere.
func recordingDial(t *testing.T, dialled *[]string, mu *sync.Mutex) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		mu.Lock()
		*dialled = append(*dialled, addr)
		mu.Unlock()
		ap, err := netip.ParseAddrPort(addr)
		if err != nil || !ap.Addr().IsLoopback() {
			t.Errorf("the guard let a connection to %s through", addr)
			return nil, errors.New("test: not dialled")
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
}

// TestNetGuardDial: the guard's DialContext refuses a loopback address, a name that resolves to
// the metadata address, and a name whose answers mix a public and a private address, before any
// connection is made; a name that resolves to an allowed address once and to a private one later
// (DNS rebinding) connects the first time only; the dialer's Control function refuses a
// non-public address on its own, before the connect system call.
func TestNetGuardDial(t *testing.T) {
	ctx := context.Background()
	ln, accepted := loopbackListener(t)
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	res := &stubResolver{answers: map[string][][]string{
		"metadata.test": {{"169.254.169.254"}},
		"mixed.test":    {{"93.184.216.34", "10.0.0.5"}},
		"rebind.test":   {{"127.0.0.1"}, {"10.0.0.5"}},
		"inside.test":   {{"127.0.0.1"}},
	}}
	var mu sync.Mutex
	var dialled []string

	g, err := ingest.NewNetGuard(false, nil)
	if err != nil {
		t.Fatal(err)
	}
	g.Resolver = res
	ingest.SetDial(g, recordingDial(t, &dialled, &mu))
	for _, tt := range []struct{ addr, msg string }{
		{ln.Addr().String(), "address 127.0.0.1 is loopback; crawling non-public addresses is off"},
		{"10.0.0.5:80", "address 10.0.0.5 is private"},
		{"[::ffff:169.254.169.254]:80", "address ::ffff:169.254.169.254 is link-local"},
		{"metadata.test:80", "address 169.254.169.254 of host metadata.test is link-local"},
		{"mixed.test:80", "address 10.0.0.5 of host mixed.test is private"},
		{"inside.test:" + port, "address 127.0.0.1 of host inside.test is loopback"},
	} {
		conn, err := g.DialContext(ctx, "tcp", tt.addr)
		if err == nil {
			conn.Close()
		}
		var ae *ingest.AddressError
		if !errors.As(err, &ae) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("dialling %s: %v; want refused with %q", tt.addr, err, tt.msg)
		}
	}
	if len(dialled) != 0 || accepted.Load() != 0 {
		t.Errorf("refused dials still connected: dialled %q, %d accepted", dialled, accepted.Load())
	}

	// Rebinding: loopback is allowed here (as --allow-hosts 127.0.0.0/8 would), 10.0.0.0/8 is not.
	g, err = ingest.NewNetGuard(false, []string{"127.0.0.0/8"})
	if err != nil {
		t.Fatal(err)
	}
	g.Resolver = res
	ingest.SetDial(g, recordingDial(t, &dialled, &mu))
	conn, err := g.DialContext(ctx, "tcp", "rebind.test:"+port)
	if err != nil {
		t.Fatalf("first dial of rebind.test (127.0.0.1, allowed): %v", err)
	}
	conn.Close()
	if _, err := g.DialContext(ctx, "tcp", "rebind.test:"+port); err == nil || !strings.Contains(err.Error(), "address 10.0.0.5 of host rebind.test is private") {
		t.Errorf("second dial of rebind.test, now 10.0.0.5: %v; want refused", err)
	}
	if want := []string{"127.0.0.1:" + port}; strings.Join(dialled, " ") != strings.Join(want, " ") {
		t.Errorf("dialled %q; want only %q", dialled, want)
	}

	// The Control function, alone: a dialer given a loopback address refuses it before connecting.
	before := accepted.Load()
	d := ingest.GuardDialer(&ingest.NetGuard{})
	if conn, err := d.DialContext(ctx, "tcp", ln.Addr().String()); err == nil {
		conn.Close()
		t.Error("the guard's dialer connected to a loopback address")
	} else if !strings.Contains(err.Error(), "address 127.0.0.1 is loopback") {
		t.Errorf("the guard's dialer: %v; want refused as loopback", err)
	}
	if n := accepted.Load() - before; n != 0 {
		t.Errorf("%d connections accepted after the Control function refused", n)
	}
}
