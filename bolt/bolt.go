// Package bolt keeps fixgraph's state in bbolt files under the data directory, one file per
// store: the one-binary default. It implements kv.DB over a file opened as every bbolt file of
// fixgraph is (internal/boltfile).
package bolt

import (
	"errors"
	"io"

	bbolt "go.etcd.io/bbolt"

	"github.com/fixgraph/fixgraph/internal/boltfile"
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
	db, err := boltfile.Open(path, what, buckets...)
	if err != nil {
		return nil, err
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
func (d *DB) Backup(w io.Writer) (int64, error) { return boltfile.Backup(d.db, w) }

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
