package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/internal/servertest"
	"github.com/fixgraph/fixgraph/kv"
	"github.com/fixgraph/fixgraph/kv/kvtest"
	"github.com/fixgraph/fixgraph/postgres"
)

// open connects to the test server in a schema of the test's own.
func open(t *testing.T) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), servertest.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

var stores atomic.Int64

// fresh returns a store of a name no other test has used.
func fresh(t *testing.T, db *postgres.DB) kv.DB {
	return db.KV(fmt.Sprintf("test-%d", stores.Add(1)))
}

func TestContract(t *testing.T) {
	db := open(t)
	kvtest.Run(t, func(t *testing.T) kv.DB { return fresh(t, db) })
}

// TestUnreachable: a server that does not answer is an EUNAVAILABLE error naming it, at once.
func TestUnreachable(t *testing.T) {
	_, err := postgres.Open(context.Background(), "postgres://fixgraph:secret@127.0.0.1:1/nowhere?sslmode=disable")
	if fixgraph.CodeOf(err) != fixgraph.EUNAVAILABLE || !strings.Contains(err.Error(), "127.0.0.1:1") || strings.Contains(err.Error(), "secret") {
		t.Errorf("opening an unreachable server: %v; want unavailable, naming it, without the password", err)
	}
	if _, err := postgres.Open(context.Background(), "mysql://x"); fixgraph.CodeOf(err) != fixgraph.EINVALID {
		t.Errorf("a bad address: %v; want invalid", err)
	}
}
