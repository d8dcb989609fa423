// Package bolt keeps fixgraph's state in bbolt files under the data directory, one file per
// store: the one-binary default. It implements kv.DB over a file, opened the same way for every
// store: the directory is created, a file another process holds is waited on for one second and
// then refused with an EUNAVAILABLE error that names it.
package bolt

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/kv"
)

// DB is a kv.DB in one bbolt file.
type DB struct {
	db *bbolt.DB
}

var _ kv.DB = (*DB)(nil)

// Open opens or creates the bbolt file at path with the named buckets; what names the store in
// errors ("auth store").
func Open(path, what string, buckets ...[]byte) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("creating the directory of the %s: %w", what, err)
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		if errors.Is(err, bbolt.ErrTimeout) {
			return nil, fixgraph.Errorf(fixgraph.EUNAVAILABLE, "%s %s is locked by another fixgraph process", what, path)
		}
		return nil, fmt.Errorf("opening %s %q: %w", what, path, err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
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
	return &DB{db: db}, nil
}

// View implements kv.DB.
func (d *DB) View(fn func(kv.Tx) error) error {
	err := d.db.View(func(tx *bbolt.Tx) error { return fn(&txn{tx: tx}) })
	return closed(err)
}

// Update implements kv.DB.
func (d *DB) Update(fn func(kv.Tx) error) error {
	err := d.db.Update(func(tx *bbolt.Tx) error { return fn(&txn{tx: tx, write: true}) })
	return closed(err)
}

// Close implements kv.DB.
func (d *DB) Close() error { return d.db.Close() }

// Backup writes a consistent copy of the file to w, taken in one read transaction while writes
// go on, and returns the number of bytes written.
func (d *DB) Backup(w io.Writer) (int64, error) {
	var n int64
	err := d.db.View(func(tx *bbolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}

func closed(err error) error {
	if errors.Is(err, bbolt.ErrDatabaseNotOpen) {
		return kv.ErrClosed
	}
	return err
}

type txn struct {
	tx    *bbolt.Tx
	write bool
}

func (t *txn) Bucket(name []byte) kv.Bucket {
	if b := t.tx.Bucket(name); b != nil {
		return bucket{b}
	}
	if t.write {
		if b, err := t.tx.CreateBucket(name); err == nil {
			return bucket{b}
		}
	}
	return empty{}
}

func (t *txn) Buckets() ([][]byte, error) {
	var names [][]byte
	err := t.tx.ForEach(func(name []byte, b *bbolt.Bucket) error {
		if b.Stats().KeyN > 0 {
			names = append(names, append([]byte(nil), name...))
		}
		return nil
	})
	return names, err
}

type bucket struct{ b *bbolt.Bucket }

func (b bucket) Get(key []byte) []byte { return b.b.Get(key) }

func (b bucket) Put(key, value []byte) error {
	if err := kv.Validate(key); err != nil {
		return err
	}
	if value == nil {
		value = []byte{}
	}
	return b.b.Put(key, value)
}

func (b bucket) Delete(key []byte) error                  { return b.b.Delete(key) }
func (b bucket) Cursor() kv.Cursor                        { return b.b.Cursor() }
func (b bucket) ForEach(fn func(k, v []byte) error) error { return b.b.ForEach(fn) }
func (b bucket) NextSequence() (uint64, error)            { return b.b.NextSequence() }
func (b bucket) Len() int                                 { return b.b.Stats().KeyN }

// empty stands for a bucket a read-only transaction names before any write made it.
type empty struct{}

func (empty) Get([]byte) []byte                     { return nil }
func (empty) Put([]byte, []byte) error              { return bbolt.ErrTxNotWritable }
func (empty) Delete([]byte) error                   { return bbolt.ErrTxNotWritable }
func (empty) Cursor() kv.Cursor                     { return emptyCursor{} }
func (empty) ForEach(func(k, v []byte) error) error { return nil }
func (empty) NextSequence() (uint64, error)         { return 0, bbolt.ErrTxNotWritable }
func (empty) Len() int                              { return 0 }

type emptyCursor struct{}

func (emptyCursor) First() ([]byte, []byte)      { return nil, nil }
func (emptyCursor) Last() ([]byte, []byte)       { return nil, nil }
func (emptyCursor) Seek([]byte) ([]byte, []byte) { return nil, nil }
func (emptyCursor) Next() ([]byte, []byte)       { return nil, nil }
func (emptyCursor) Prev() ([]byte, []byte)       { return nil, nil }
