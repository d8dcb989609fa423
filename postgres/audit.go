package postgres

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/audit"
)

// Audit is the one audit chain that every replica sharing the database appends to: the lines of
// package audit's format, one row each in audit_entry, and the signed checkpoint of the head in
// audit_checkpoint, updated in the same transaction. Appends are serialised across replicas by a
// transaction-scoped advisory lock, so entries written at once by several replicas still make one
// unbroken chain; each names the replica that wrote it (audit.Entry.Replica, from DB.Replica).
// Its methods are safe for concurrent use.
type Audit struct {
	d     *DB
	key   []byte
	keyID string
	now   func() time.Time

	mu     sync.Mutex
	head   audit.Head // as of the last append or read
	closed bool
}

var _ audit.Chain = (*Audit)(nil)

// auditLock names the advisory lock that appends to the audit chain take.
var auditLock = func() int64 {
	h := fnv.New64a()
	h.Write([]byte("fixgraph audit chain"))
	return int64(h.Sum64())
}()

// snapshotTimeout bounds copying the whole chain (a backup, verify, export).
const snapshotTimeout = 30 * time.Minute

// Audit opens the audit chain keyed with key, which every replica must share, to append to. Like
// a log file, it refuses a chain whose newest entry does not check out with the key or disagrees
// with its checkpoint (cut short, rewritten), and a chain with entries whose checkpoint is gone;
// a checkpoint signed with another key is refused too. An empty chain gets its first checkpoint.
func (d *DB) Audit(key []byte) (*Audit, error) {
	if len(key) < audit.MinKeySize {
		return nil, fixgraph.Errorf(fixgraph.EINVALID, "the audit key has %d bytes; it needs at least %d", len(key), audit.MinKeySize)
	}
	a := &Audit{d: d, key: key, keyID: audit.KeyID(key), now: time.Now}
	err := a.write("opening the audit chain", func(ctx context.Context, tx pgx.Tx) error {
		last, cp, err := a.state(ctx, tx)
		if err != nil {
			return err
		}
		if cp == nil {
			if last.Seq > 0 {
				return &audit.VerifyError{Seq: last.Seq, Reason: "the checkpoint (table audit_checkpoint) is missing, though the chain has entries: it was deleted, and the chain perhaps rewritten"}
			}
			first := audit.Checkpoint{Time: a.now().UTC(), Key: a.keyID, KeyedFrom: 1}
			if _, err := tx.Exec(ctx, "INSERT INTO audit_checkpoint (seq, checkpoint) VALUES (0, $1)", first.Sign(a.key)); err != nil {
				return err
			}
		}
		a.head = audit.Head{Seq: last.Seq, Hash: last.Hash}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// Append implements audit.Chain: in one transaction, under the chain's lock, it reads the head
// and holds it against the checkpoint, seals e as the next entry naming this replica, inserts it
// and moves the checkpoint to it. The entry is committed when Append returns.
func (a *Audit) Append(e audit.Entry) (audit.Entry, error) {
	a.mu.Lock()
	closed := a.closed
	a.mu.Unlock()
	if closed || a.d.closed.Load() {
		return audit.Entry{}, errors.New("appending to the audit chain: it is closed")
	}
	e.Replica = a.d.Replica
	var out audit.Entry
	err := a.write("appending to the audit chain", func(ctx context.Context, tx pgx.Tx) error {
		last, cp, err := a.state(ctx, tx)
		if err != nil {
			return err
		}
		if cp == nil {
			return &audit.VerifyError{Seq: last.Seq, Reason: "the checkpoint (table audit_checkpoint) is missing: it was deleted, and the chain perhaps rewritten"}
		}
		sealed, line, err := audit.Seal(e, audit.Head{Seq: last.Seq, Hash: last.Hash}, a.now(), a.key)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "INSERT INTO audit_entry (seq, line, replica, time) VALUES ($1, $2, $3, $4)",
			int64(sealed.Seq), line, sealed.Replica, sealed.Time); err != nil {
			return err
		}
		next := audit.Checkpoint{Seq: sealed.Seq, Hash: sealed.Hash, Time: sealed.Time, Key: a.keyID, KeyedFrom: cp.KeyedFrom}
		if _, err := tx.Exec(ctx, "UPDATE audit_checkpoint SET seq = $1, checkpoint = $2", int64(next.Seq), next.Sign(a.key)); err != nil {
			return err
		}
		out = sealed
		return nil
	})
	if err != nil {
		return audit.Entry{}, err
	}
	a.setHead(audit.Head{Seq: out.Seq, Hash: out.Hash})
	return out, nil
}

// Head implements audit.Chain: the head its checkpoint records, or, when the database cannot say,
// the newest this process has seen.
func (a *Audit) Head() audit.Head {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var data []byte
	if err := a.d.pool.QueryRow(ctx, "SELECT checkpoint FROM audit_checkpoint").Scan(&data); err == nil {
		if cp, err := audit.ParseCheckpoint(data, a.key); err == nil {
			a.setHead(audit.Head{Seq: cp.Seq, Hash: cp.Hash})
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.head
}

func (a *Audit) setHead(h audit.Head) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if h.Seq >= a.head.Seq {
		a.head = h
	}
}

// Snapshot implements audit.Chain: it writes every line of the chain in order to w, as a log file
// holds them, with the checkpoint stored with them, both read in one snapshot of the database.
func (a *Audit) Snapshot(w io.Writer) (n int64, checkpoint []byte, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), snapshotTimeout)
	defer cancel()
	err = a.d.ReadAudit(ctx, func(cp []byte, lines io.Reader) error {
		checkpoint = cp
		var err error
		n, err = io.Copy(w, lines)
		return err
	})
	if err != nil {
		return n, nil, fmt.Errorf("copying the audit chain: %w", err)
	}
	return n, checkpoint, nil
}

// Close implements audit.Chain; the pool is the DB's and stays open, but appends fail from now on.
func (a *Audit) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.closed = true
	return nil
}

// write runs fn in a transaction that holds the chain's lock. Errors of the database are
// fixgraph's (see DB.fail); those fn makes of its own (a refused entry, a damaged chain) are
// returned as they are.
func (a *Audit) write(doing string, fn func(ctx context.Context, tx pgx.Tx) error) error {
	d := a.d
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	tx, err := d.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return d.fail(err, doing)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", auditLock); err != nil {
		return d.fail(err, doing)
	}
	if err := fn(ctx, tx); err != nil {
		var ve *audit.VerifyError
		if errors.As(err, &ve) {
			return fmt.Errorf("%s (shared state %s): %w", doing, d.where, err)
		}
		if fixgraph.CodeOf(err) != fixgraph.EINTERNAL {
			return err
		}
		return d.fail(err, doing)
	}
	return d.fail(tx.Commit(ctx), doing)
}

// state reads the newest entry of the chain, checked on its own with the key (zero when the chain
// is empty), and the checkpoint (nil when there is none), and holds the one against the other.
func (a *Audit) state(ctx context.Context, tx pgx.Tx) (audit.Entry, *audit.Checkpoint, error) {
	var last audit.Entry
	var seq int64
	var line []byte
	err := tx.QueryRow(ctx, "SELECT seq, line FROM audit_entry ORDER BY seq DESC LIMIT 1").Scan(&seq, &line)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return last, nil, err
	default:
		if last, err = audit.CheckLine(line, a.key); err != nil {
			return last, nil, fmt.Errorf("the newest entry: %w", err)
		}
		if last.Seq != uint64(seq) {
			return last, nil, &audit.VerifyError{Seq: last.Seq, Reason: fmt.Sprintf("the newest entry is stored as seq %d: rows were renumbered", seq)}
		}
	}
	var data []byte
	err = tx.QueryRow(ctx, "SELECT checkpoint FROM audit_checkpoint").Scan(&data)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return last, nil, nil
	case err != nil:
		return last, nil, err
	}
	cp, err := audit.ParseCheckpoint(data, a.key)
	if err != nil {
		return last, nil, err
	}
	if err := cp.Check(last); err != nil {
		return last, nil, err
	}
	return last, cp, nil
}

// errStopped ends the copy of a chain whose reader stopped reading.
var errStopped = errors.New("the reader stopped")

// ReadAudit calls fn with the checkpoint of the audit chain (nil when it has none) and a reader of
// its lines in order, each ending in a newline, as a log file holds them; both come from one
// snapshot of the database (REPEATABLE READ), so they agree however many replicas append
// meanwhile. audit.VerifyReader checks what it reads; audit.ExportReader filters it by time.
func (d *DB) ReadAudit(ctx context.Context, fn func(checkpoint []byte, lines io.Reader) error) error {
	const doing = "reading the audit chain"
	bctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tx, err := d.pool.BeginTx(bctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return d.fail(err, doing)
	}
	defer tx.Rollback(context.Background())
	var checkpoint []byte
	if err := tx.QueryRow(bctx, "SELECT checkpoint FROM audit_checkpoint").Scan(&checkpoint); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return d.fail(err, doing)
	}
	pr, pw := io.Pipe()
	copied := make(chan error, 1)
	go func() {
		err := copyLines(ctx, tx, pw)
		if err != nil && !errors.Is(err, errStopped) {
			err = d.fail(err, doing)
		}
		pw.CloseWithError(err)
		copied <- err
	}()
	ferr := fn(checkpoint, pr)
	pr.CloseWithError(errStopped)
	cerr := <-copied
	switch {
	case ferr != nil:
		return ferr
	case cerr != nil && !errors.Is(cerr, errStopped):
		return cerr
	}
	return d.fail(tx.Commit(ctx), doing)
}

// copyLines writes the lines of the chain in order to w, a newline after each.
func copyLines(ctx context.Context, tx pgx.Tx, w io.Writer) error {
	rows, err := tx.Query(ctx, "SELECT line FROM audit_entry ORDER BY seq")
	if err != nil {
		return err
	}
	defer rows.Close()
	bw := bufio.NewWriterSize(w, 64<<10)
	var line []byte
	for rows.Next() {
		if err := rows.Scan(&line); err != nil {
			return err
		}
		bw.Write(line)
		if err := bw.WriteByte('\n'); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return bw.Flush()
}
