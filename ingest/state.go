package ingest

import (
	"io"

	"github.com/fixgraph/fixgraph/kv"

	"github.com/fixgraph/fixgraph/bolt"
)

// State is the pipeline's own bookkeeping: background jobs and what crawls have fetched. It is a
// bbolt file in the data directory, apart from the graph, so both deployments have it.
type State struct {
	db kv.DB
}

// OpenState opens or creates the state file at path.
func OpenState(path string) (*State, error) {
	db, err := bolt.Open(path, "ingest state")
	if err != nil {
		return nil, err
	}
	return NewState(db), nil
}

// NewState returns the state kept in db (a bbolt file, or the shared state on PostgreSQL).
func NewState(db kv.DB) *State { return &State{db: db} }

// Close closes the file.
func (s *State) Close() error { return s.db.Close() }

// Backup writes a consistent copy of the state file to w, taken in one read transaction while
// writes go on, and returns the number of bytes written.
func (s *State) Backup(w io.Writer) (int64, error) {
	return kv.Backup(s.db, w)
}

// update runs fn in a write transaction on bucket, created when missing.
func (s *State) update(bucket []byte, fn func(b kv.Bucket) error) error {
	return s.db.Update(func(tx kv.Tx) error {
		return fn(tx.Bucket(bucket))
	})
}

// view runs fn in a read transaction on bucket; a missing bucket reads as empty (fn gets nil).
func (s *State) view(bucket []byte, fn func(b kv.Bucket) error) error {
	return s.db.View(func(tx kv.Tx) error { return fn(tx.Bucket(bucket)) })
}

// DB returns the store the state is kept in, for the spool to share.
func (s *State) DB() kv.DB { return s.db }
