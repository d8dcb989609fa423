package postgres_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

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
