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

// HoldLease takes job id's lease as replica owner would, and never renews it: a replica that
// claimed the job and died.
func HoldLease(js *Jobs, id, owner string) error {
	dead := &Jobs{State: js.State, Replica: owner, Lease: js.Lease}
	_, err := dead.claim(id)
	return err
}
