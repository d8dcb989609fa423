package bolt_test

import (
	"path/filepath"
	"testing"

	"github.com/fixgraph/fixgraph/bolt"
	"github.com/fixgraph/fixgraph/kv"
	"github.com/fixgraph/fixgraph/kv/kvtest"
)

func TestContract(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kv.DB {
		db, err := bolt.Open(filepath.Join(t.TempDir(), "s.db"), "test store")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}
