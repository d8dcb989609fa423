package ingest

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/fixgraph/fixgraph"
)

// State is the pipeline's own bookkeeping: background jobs and what crawls have fetched. It is a
// bbolt file in the data directory, apart from the graph, so both deployments have it.
type State struct {
	db *bolt.DB
}

// OpenState opens or creates the state file at path.
func OpenState(path string) (*State, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("creating state directory: %w", err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		if err == bolt.ErrTimeout {
			return nil, fixgraph.Errorf(fixgraph.EUNAVAILABLE, "ingest state %s is locked by another fixgraph process", path)
		}
		return nil, fmt.Errorf("opening ingest state %q: %w", path, err)
	}
	return &State{db: db}, nil
}

// Close closes the file.
func (s *State) Close() error { return s.db.Close() }

// Backup writes a consistent copy of the state file to w, taken in one read transaction while
// writes go on, and returns the number of bytes written.
func (s *State) Backup(w io.Writer) (int64, error) {
	var n int64
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
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
