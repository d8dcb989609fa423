package ingest

import (
	"context"
	"net"
)

// SetDial makes g connect to checked addresses with dial instead of a net.Dialer, so tests can
// see every connection the guard lets through.
func SetDial(g *NetGuard, dial func(ctx context.Context, network, addr string) (net.Conn, error)) {
	g.dial = dial
}

// GuardDialer returns the dialer g connects to checked addresses with, whose Control checks them
// again.
func GuardDialer(g *NetGuard) *net.Dialer { return g.dialer() }
