// Package boltfile opens the bbolt files that fixgraph keeps in a data directory, the same way
// for every store: the directory is created, a file another process holds is waited on for one
// second and then refused with an EUNAVAILABLE error that names it (bbolt waits forever by
// default), and the store's buckets are made.
package boltfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/fixgraph/fixgraph"
)

// Open opens or creates the bbolt file at path, with buckets; what names the store in errors
// ("graph store", "auth store").
func Open(path, what string, buckets ...[]byte) (*bolt.DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("creating the directory of the %s: %w", what, err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fixgraph.Errorf(fixgraph.EUNAVAILABLE, "%s %s is locked by another fixgraph process", what, path)
		}
		return nil, fmt.Errorf("opening %s %q: %w", what, path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range buckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("initialising %s %q: %w", what, path, err)
	}
	return db, nil
}

// Backup writes a consistent copy of db to w, taken in one read transaction while writes go on,
// and returns the number of bytes written.
func Backup(db *bolt.DB, w io.Writer) (int64, error) {
	var n int64
	err := db.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}
