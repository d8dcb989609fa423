package postgres

import (
	"context"
	"errors"
	"hash/fnv"

	"github.com/jackc/pgx/v5"

	"github.com/fixgraph/fixgraph/kv"
)

// KV is one state store ("auth", "editor"…) as a kv.DB on the kv table. Updates of a store are
// serialised across replicas by a transaction-scoped advisory lock named after the store, so an
// Update reads what every earlier one wrote, as with bbolt's single writer; a View reads one
// snapshot (REPEATABLE READ, read only).
type KV struct {
	d     *DB
	store string
	lock  int64
}

var _ kv.DB = (*KV)(nil)

// KV returns the store named store.
func (d *DB) KV(store string) *KV {
	h := fnv.New64a()
	h.Write([]byte("fixgraph kv " + store))
	return &KV{d: d, store: store, lock: int64(h.Sum64())}
}

// errReadOnly is a write in a View.
var errReadOnly = errors.New("kv: write in a read-only transaction")

// View implements kv.DB.
func (s *KV) View(fn func(kv.Tx) error) error {
	return s.run(false, fn)
}

// Update implements kv.DB.
func (s *KV) Update(fn func(kv.Tx) error) error {
	return s.run(true, fn)
}

// Close implements kv.DB; the pool is the DB's and stays open for other stores, but this store
// refuses transactions from now on.
func (s *KV) Close() error {
	s.d = nil
	return nil
}

// Wipe deletes every key and sequence of the store, as one write: a restore starts from it.
func (s *KV) Wipe() error {
	return s.Update(func(tx kv.Tx) error {
		t := tx.(*txn)
		if _, err := t.tx.Exec(t.ctx, "DELETE FROM kv WHERE store = $1", s.store); err != nil {
			return err
		}
		_, err := t.tx.Exec(t.ctx, "DELETE FROM kv_sequence WHERE store = $1", s.store)
		return err
	})
}

func (s *KV) run(write bool, fn func(kv.Tx) error) error {
	d := s.d
	if d == nil || d.closed.Load() {
		return kv.ErrClosed
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	opts := pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
	doing := "reading " + s.store
	if write {
		opts = pgx.TxOptions{IsoLevel: pgx.ReadCommitted}
		doing = "writing " + s.store
	}
	ptx, err := d.pool.BeginTx(ctx, opts)
	if err != nil {
		return d.fail(err, doing)
	}
	defer ptx.Rollback(context.Background())
	if write {
		if _, err := ptx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", s.lock); err != nil {
			return d.fail(err, doing)
		}
	}
	t := &txn{ctx: ctx, tx: ptx, store: s.store, write: write}
	err = fn(t)
	if t.err != nil {
		// What fn made of a failed read (a key "not found", say) is a consequence, not the cause.
		return d.fail(t.err, doing)
	}
	if err != nil {
		return err
	}
	if err := ptx.Commit(ctx); err != nil {
		return d.fail(err, doing)
	}
	return nil
}

// txn is one transaction. Its first error is kept: Get and cursors return nil after it, and
// View or Update return it.
type txn struct {
	ctx    context.Context
	tx     pgx.Tx
	store  string
	write  bool
	err    error
	writes int // counts Puts and Deletes, so that cursors refetch after one
}

func (t *txn) keep(err error) {
	if t.err == nil {
		t.err = err
	}
}

func (t *txn) Bucket(name []byte) kv.Bucket {
	return &bucket{t: t, name: append([]byte(nil), name...)}
}

func (t *txn) Buckets() ([][]byte, error) {
	if t.err != nil {
		return nil, t.err
	}
	rows, err := t.tx.Query(t.ctx, "SELECT DISTINCT bucket FROM kv WHERE store = $1 ORDER BY bucket", t.store)
	if err != nil {
		return nil, err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, err
	}
	return names, nil
}

type bucket struct {
	t    *txn
	name []byte
}

func (b *bucket) Get(key []byte) []byte {
	t := b.t
	if t.err != nil {
		return nil
	}
	var v []byte
	err := t.tx.QueryRow(t.ctx, "SELECT value FROM kv WHERE store = $1 AND bucket = $2 AND key = $3", t.store, b.name, key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		t.keep(err)
		return nil
	}
	if v == nil {
		v = []byte{}
	}
	return v
}

func (b *bucket) Put(key, value []byte) error {
	t := b.t
	if err := kv.Validate(key); err != nil {
		return err
	}
	if value == nil {
		value = []byte{}
	}
	if !t.write {
		return errReadOnly
	}
	if t.err != nil {
		return t.err
	}
	t.writes++
	_, err := t.tx.Exec(t.ctx, `INSERT INTO kv (store, bucket, key, value) VALUES ($1, $2, $3, $4)
		ON CONFLICT (store, bucket, key) DO UPDATE SET value = excluded.value`, t.store, b.name, key, value)
	t.keep(err)
	return err
}

func (b *bucket) Delete(key []byte) error {
	t := b.t
	if !t.write {
		return errReadOnly
	}
	if t.err != nil {
		return t.err
	}
	t.writes++
	_, err := t.tx.Exec(t.ctx, "DELETE FROM kv WHERE store = $1 AND bucket = $2 AND key = $3", t.store, b.name, key)
	t.keep(err)
	return err
}

func (b *bucket) NextSequence() (uint64, error) {
	t := b.t
	if !t.write {
		return 0, errReadOnly
	}
	if t.err != nil {
		return 0, t.err
	}
	var n int64
	err := t.tx.QueryRow(t.ctx, `INSERT INTO kv_sequence (store, bucket, n) VALUES ($1, $2, 1)
		ON CONFLICT (store, bucket) DO UPDATE SET n = kv_sequence.n + 1 RETURNING n`, t.store, b.name).Scan(&n)
	if err != nil {
		t.keep(err)
		return 0, err
	}
	return uint64(n), nil
}

func (b *bucket) Len() int {
	t := b.t
	if t.err != nil {
		return 0
	}
	var n int
	err := t.tx.QueryRow(t.ctx, "SELECT count(*) FROM kv WHERE store = $1 AND bucket = $2", t.store, b.name).Scan(&n)
	t.keep(err)
	return n
}

func (b *bucket) ForEach(fn func(k, v []byte) error) error {
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return b.t.err
}

func (b *bucket) Cursor() kv.Cursor { return &cursor{b: b} }

// page is how many rows a cursor fetches at a time.
const page = 256

type row struct{ k, v []byte }

// cursor walks a bucket a page of rows at a time. It stands on cur; buf holds the rows that
// follow it in direction dir, fetched while the transaction had made writes writes.
type cursor struct {
	b      *bucket
	cur    []byte
	buf    []row
	dir    int  // +1 ascending, -1 descending
	end    bool // buf runs to the end of the bucket in dir
	writes int
}

func (c *cursor) First() ([]byte, []byte)        { return c.fetch(+1, "", nil) }
func (c *cursor) Last() ([]byte, []byte)         { return c.fetch(-1, "", nil) }
func (c *cursor) Seek(k []byte) ([]byte, []byte) { return c.fetch(+1, ">=", k) }

func (c *cursor) Next() ([]byte, []byte) { return c.step(+1) }
func (c *cursor) Prev() ([]byte, []byte) { return c.step(-1) }

func (c *cursor) step(dir int) ([]byte, []byte) {
	if c.cur == nil {
		return nil, nil
	}
	if c.dir == dir && c.writes == c.b.t.writes {
		if len(c.buf) > 0 {
			return c.pop()
		}
		if c.end {
			c.cur = nil
			return nil, nil
		}
	}
	if dir > 0 {
		return c.fetch(+1, ">", c.cur)
	}
	return c.fetch(-1, "<", c.cur)
}

func (c *cursor) pop() ([]byte, []byte) {
	if len(c.buf) == 0 {
		c.cur = nil
		return nil, nil
	}
	r := c.buf[0]
	c.buf = c.buf[1:]
	c.cur = r.k
	return r.k, r.v
}

// fetch loads the next page in direction dir from the key from (op says how it compares; ""
// starts at the end the direction begins from) and lands on its first row.
func (c *cursor) fetch(dir int, op string, from []byte) ([]byte, []byte) {
	t := c.b.t
	c.dir, c.buf, c.end, c.writes, c.cur = dir, nil, true, t.writes, nil
	if t.err != nil {
		return nil, nil
	}
	q := "SELECT key, value FROM kv WHERE store = $1 AND bucket = $2"
	args := []any{t.store, c.b.name}
	if op == ">=" && len(from) == 0 {
		op = "" // every key is at or after the empty one
	}
	if op != "" {
		q += " AND key " + op + " $3"
		args = append(args, from)
	}
	if dir > 0 {
		q += " ORDER BY key"
	} else {
		q += " ORDER BY key DESC"
	}
	q += " LIMIT 256"
	rows, err := t.tx.Query(t.ctx, q, args...)
	if err != nil {
		t.keep(err)
		return nil, nil
	}
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.k, &r.v); err != nil {
			rows.Close()
			t.keep(err)
			return nil, nil
		}
		if r.v == nil {
			r.v = []byte{}
		}
		c.buf = append(c.buf, r)
	}
	if err := rows.Err(); err != nil {
		t.keep(err)
		c.buf = nil
		return nil, nil
	}
	c.end = len(c.buf) < page
	return c.pop()
}
