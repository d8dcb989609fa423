package postgres_test

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	"github.com/fixgraph/fixgraph/kv"
	"github.com/fixgraph/fixgraph/kv/kvtest"
	"github.com/fixgraph/fixgraph/postgres"
)

// open connects to the server FIXGRAPH_TEST_POSTGRES names (scripts/servers.sh starts one), or
// skips the test.
func open(t *testing.T) *postgres.DB {
	t.Helper()
	url := os.Getenv("FIXGRAPH_TEST_POSTGRES")
	if url == "" {
		t.Skip("FIXGRAPH_TEST_POSTGRES is not set (scripts/servers.sh start)")
	}
	db, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

var stores atomic.Int64

// fresh returns a store of a name no other test or run has used.
func fresh(t *testing.T, db *postgres.DB) kv.DB {
	name := fmt.Sprintf("test-%d-%d", os.Getpid(), stores.Add(1))
	s := db.KV(name)
	t.Cleanup(func() {
		if err := db.KV(name).Wipe(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func TestContract(t *testing.T) {
	db := open(t)
	kvtest.Run(t, func(t *testing.T) kv.DB { return fresh(t, db) })
}
