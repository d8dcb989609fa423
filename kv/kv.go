// Package kv is the ordered key-value store that fixgraph's state lives in: accounts and keys,
// editor drafts, jobs and crawl state, conversations and analytics. Each store is a set of
// named buckets of byte keys in byte order, read and written in transactions. Two
// implementations pass the same contract suite (kv/kvtest): a bbolt file per store for the
// one-binary default (package bolt) and tables in PostgreSQL shared by every replica (package
// postgres).
//
// The interface follows bbolt's, which the stores were first written against: writes are
// serialised per store, a read sees one consistent snapshot. Reads on a server can fail where a
// file cannot; such an error is kept by the transaction (Get and the cursor then return nil) and
// returned by View or Update, and an Update that saw one writes nothing.
package kv

import (
	"errors"
	"io"
)

// DB is one store: its buckets and the transactions over them.
type DB interface {
	// View runs fn in a read-only transaction that sees one consistent snapshot.
	View(fn func(Tx) error) error
	// Update runs fn in a read-write transaction; writes are serialised with every other
	// Update of the store (on every replica), so fn sees the result of all earlier ones. fn's
	// error, or the transaction's own, rolls everything back. fn runs once.
	Update(fn func(Tx) error) error
	// Close releases the store. Transactions after Close fail.
	Close() error
}

// Tx is a transaction.
type Tx interface {
	// Bucket returns the named bucket; a bucket exists as soon as it is named.
	Bucket(name []byte) Bucket
	// Buckets lists the names of the buckets that hold keys, in byte order.
	Buckets() ([][]byte, error)
}

// Bucket is a sorted map of byte keys to byte values. Values returned by Get and cursors are
// valid only until the transaction ends; keep a copy to use them later.
type Bucket interface {
	// Get returns the value at key, or nil when there is none.
	Get(key []byte) []byte
	// Put sets key to value; the key is not empty, a nil value is stored as an empty one.
	Put(key, value []byte) error
	// Delete removes key; deleting a missing key is no error.
	Delete(key []byte) error
	// Cursor walks the bucket in key order.
	Cursor() Cursor
	// ForEach calls fn for every key in order until fn returns an error.
	ForEach(fn func(k, v []byte) error) error
	// NextSequence returns the bucket's next integer (1, 2, …), unique across replicas.
	NextSequence() (uint64, error)
	// Len counts the bucket's keys.
	Len() int
}

// Cursor moves over a bucket in key order. Each method returns the key and value it lands on,
// or nil, nil past either end.
type Cursor interface {
	First() (k, v []byte)
	Last() (k, v []byte)
	// Seek lands on the first key at or after seek.
	Seek(seek []byte) (k, v []byte)
	Next() (k, v []byte)
	Prev() (k, v []byte)
}

// ErrClosed is returned by transactions on a closed store.
var ErrClosed = errors.New("kv: store is closed")

// Validate checks a key before a Put, the same way in every implementation.
func Validate(key []byte) error {
	if len(key) == 0 {
		return errors.New("kv: empty key")
	}
	if len(key) > MaxKeySize {
		return errors.New("kv: key too large")
	}
	return nil
}

// MaxKeySize bounds keys (bbolt's own limit is 32 KiB; an index entry is far below this).
const MaxKeySize = 4096

// Backup writes a consistent copy of db to w when db is a file that can copy itself (package
// bolt's), and returns the bytes written. A store on a server is backed up with the server's
// whole state instead (Dump).
func Backup(db DB, w io.Writer) (int64, error) {
	f, ok := db.(interface {
		Backup(io.Writer) (int64, error)
	})
	if !ok {
		return 0, errors.New("kv: this store is kept on a server; back up the shared state instead")
	}
	return f.Backup(w)
}
