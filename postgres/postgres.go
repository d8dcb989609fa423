// Package postgres keeps fixgraph's shared state in PostgreSQL, so that any number of stateless
// fixgraph replicas agree on accounts, keys, drafts, jobs, conversations and the audit log. It
// opens one connection pool, brings the schema up to date with versioned migrations (goose, the
// SQL files under migrations/, applied under a lock so that replicas starting together migrate
// once), and serves each state store as a kv.DB on the kv table.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/fixgraph/fixgraph"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is the shared-state database.
type DB struct {
	pool   *pgxpool.Pool
	where  string // host:port/database, for messages
	closed atomic.Bool
	live   atomic.Int64 // replicas live at the last heartbeat
	// Replica names this process in what it writes for others to read (audit entries, job
	// leases): the host name and process id unless set.
	Replica string
}

// timeout bounds one transaction or statement.
const timeout = 30 * time.Second

// Open connects to the database at rawURL (postgres://USER:PASSWORD@HOST:PORT/DB?…), checks that
// it answers and migrates its schema. A server that cannot be reached is an EUNAVAILABLE error.
func Open(ctx context.Context, rawURL string) (*DB, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
		return nil, fixgraph.Errorf(fixgraph.EINVALID, "shared state address %q: want postgres://USER:PASSWORD@HOST:PORT/DATABASE", Redact(rawURL))
	}
	cfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		return nil, fixgraph.Errorf(fixgraph.EINVALID, "shared state address %s: %v", Redact(rawURL), err)
	}
	if u.Query().Get("pool_max_conns") == "" {
		cfg.MaxConns = 16
	}
	where := u.Host + u.Path
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fixgraph.WrapError(fixgraph.EINVALID, err, "shared state %s", where)
	}
	d := &DB{pool: pool, where: where, Replica: defaultReplica()}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, d.fail(err, "connecting")
	}
	if err := d.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return d, nil
}

func defaultReplica() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d", host, os.Getpid())
}

// migrate applies the migrations the database lacks, under a session lock that one replica
// holds at a time.
func (d *DB) migrate(ctx context.Context) error {
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return err
	}
	db := stdlib.OpenDBFromPool(d.pool)
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, mustSub(migrations, "migrations"),
		goose.WithSessionLocker(locker))
	if err != nil {
		return fmt.Errorf("shared state %s: reading migrations: %w", d.where, err)
	}
	if _, err := p.Up(ctx); err != nil {
		return d.fail(err, "migrating the schema")
	}
	return nil
}

// Version returns the schema version the database is at.
func (d *DB) Version(ctx context.Context) (int64, error) {
	db := stdlib.OpenDBFromPool(d.pool)
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, mustSub(migrations, "migrations"))
	if err != nil {
		return 0, err
	}
	return p.GetDBVersion(ctx)
}

// Close closes the pool.
func (d *DB) Close() {
	d.closed.Store(true)
	d.pool.Close()
}

// fail turns a driver error into fixgraph's: a server that cannot be reached or is shutting
// down is EUNAVAILABLE; anything else keeps its message under what was being done.
func (d *DB) fail(err error, doing string) error {
	if err == nil {
		return nil
	}
	if unavailable(err) {
		return fixgraph.WrapError(fixgraph.EUNAVAILABLE, err, "shared state %s is unavailable (%s)", d.where, doing)
	}
	return fmt.Errorf("shared state %s: %s: %w", d.where, doing, err)
}

// unavailable reports whether err means the server is down or going down rather than that a
// statement was wrong.
func unavailable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// Class 08: connection exception; 57P01-57P03: admin shutdown, crash shutdown, cannot
		// connect now.
		return len(pe.Code) == 5 && (pe.Code[:2] == "08" || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03")
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) || pgconn.SafeToRetry(err) || errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	return pgconn.Timeout(err) || isNetError(err)
}

// Redact hides the password in a database address.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable address)"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

func isNetError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED)
}

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err)
	}
	return sub
}
