package ingest

import (
	"io"

	bolt "go.etcd.io/bbolt"

	"github.com/fixgraph/fixgraph/internal/boltfile"
)

// State is the pipeline's own bookkeeping: background jobs and what crawls have fetched. It is a
// bbolt file in the data directory, apart from the graph, so both deployments have it.
type State struct {
	db *bolt.DB
}

// OpenState opens or creates the state file at path.
func OpenState(path string) (*State, error) {
	db, err := boltfile.Open(path, "ingest state")
	if err != nil {
		return nil, err
	}
	return &State{db: db}, nil
}

// Close closes the file.
func (s *State) Close() error { return s.db.Close() }

// Backup writes a consistent copy of the state file to w, taken in one read transaction while
// writes go on, and returns the number of bytes written.
func (s *State) Backup(w io.Writer) (int64, error) {
	return boltfile.Backup(s.db, w)
}

// update runs fn in a write transaction on bucket, created when missing.
func (s *State) update(bucket []byte, fn func(b *bolt.Bucket) error) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucket)
		if err != nil {
			return err
		}
		return fn(b)
	})
}

// view runs fn in a read transaction on bucket; a missing bucket reads as empty (fn gets nil).
func (s *State) view(bucket []byte, fn func(b *bolt.Bucket) error) error {
	return s.db.View(func(tx *bolt.Tx) error { return fn(tx.Bucket(bucket)) })
}
