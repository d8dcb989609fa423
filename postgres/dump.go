package postgres

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"io"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/fixgraph/fixgraph"
)

// A dump of the shared state is every table of the schema but goose's, each in PostgreSQL's COPY
// text format (one row a line, tabs between columns, backslash escapes, bytea as \x hex) between
// a JSON line naming the table and its columns and PostgreSQL's end-of-data line, followed by a
// JSON line counting its rows:
//
//	{"dump":"fixgraph-postgres","version":1,"schema":2}
//	{"table":"kv","columns":["store","bucket","key","value"]}
//	auth	\x6b657973	\x…	\x…
//	\.
//	{"table":"kv","rows":1}
//	…
//	{"end":{"tables":3}}

const (
	dumpName    = "fixgraph-postgres"
	dumpVersion = 1
	// gooseTable is where goose records the schema's version; Open's migrations make it, so
	// neither Dump nor Restore touches it.
	gooseTable = "goose_db_version"
	endOfData  = "\\.\n"
)

type dumpHeader struct {
	Dump    string `json:"dump"`
	Version int    `json:"version"`
	Schema  int64  `json:"schema"`
}

type dumpTable struct {
	Table   string   `json:"table,omitempty"`
	Columns []string `json:"columns,omitempty"`
	Rows    *int64   `json:"rows,omitempty"`
	End     *struct {
		Tables int `json:"tables"`
	} `json:"end,omitempty"`
}

// Server returns the host, port and database of the shared state, for messages and backup
// manifests.
func (d *DB) Server() string { return d.where }

// Dump writes every table of the shared state to w (see above), read in one REPEATABLE READ,
// read-only transaction: one state of the database, while replicas go on writing.
func (d *DB) Dump(ctx context.Context, w io.Writer) error {
	version, err := d.Version(ctx)
	if err != nil {
		return d.fail(err, "reading the schema version")
	}
	tx, err := d.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return d.fail(err, "starting the dump")
	}
	defer tx.Rollback(context.Background())
	tables, err := schemaTables(ctx, tx)
	if err != nil {
		return d.fail(err, "listing the tables")
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	enc := json.NewEncoder(bw)
	if err := enc.Encode(dumpHeader{Dump: dumpName, Version: dumpVersion, Schema: version}); err != nil {
		return err
	}
	for _, t := range tables {
		cols, err := tableColumns(ctx, tx, t)
		if err != nil {
			return d.fail(err, "listing the columns of "+t)
		}
		if err := enc.Encode(dumpTable{Table: t, Columns: cols}); err != nil {
			return err
		}
		tag, err := tx.Conn().PgConn().CopyTo(ctx, bw, "COPY "+pgx.Identifier{t}.Sanitize()+" ("+columnList(cols)+") TO STDOUT")
		if err != nil {
			return d.fail(err, "dumping "+t)
		}
		if _, err := bw.WriteString(endOfData); err != nil {
			return err
		}
		rows := tag.RowsAffected()
		if err := enc.Encode(dumpTable{Table: t, Rows: &rows}); err != nil {
			return err
		}
	}
	end := dumpTable{End: &struct {
		Tables int `json:"tables"`
	}{len(tables)}}
	if err := enc.Encode(end); err != nil {
		return err
	}
	return bw.Flush()
}

// Restore reads a dump (see Dump) into the shared state, whose tables must all be empty: a
// database that holds any row is refused with an ECONFLICT error and left as it is. Every table
// is restored in one transaction that locks them all first, so a restore is whole or not at all.
// A dump cut short or malformed is an EUNREADABLE error, one from a newer schema than this
// fixgraph's an EUNSUPPORTED one.
func (d *DB) Restore(ctx context.Context, r io.Reader) error {
	version, err := d.Version(ctx)
	if err != nil {
		return d.fail(err, "reading the schema version")
	}
	br := bufio.NewReaderSize(r, 1<<20)
	var h dumpHeader
	if err := readJSONLine(br, &h); err != nil {
		return fixgraph.WrapError(fixgraph.EUNREADABLE, err, "the state dump has no header")
	}
	if h.Dump != dumpName || h.Version != dumpVersion {
		return fixgraph.Errorf(fixgraph.EUNREADABLE, "not a fixgraph state dump of version %d (header %q version %d)", dumpVersion, h.Dump, h.Version)
	}
	if h.Schema > version {
		return fixgraph.Errorf(fixgraph.EUNSUPPORTED, "the state dump is of schema version %d; this fixgraph's is %d: restore it with a newer fixgraph", h.Schema, version)
	}
	tx, err := d.pool.Begin(ctx)
	if err != nil {
		return d.fail(err, "starting the restore")
	}
	defer tx.Rollback(context.Background())
	tables, err := schemaTables(ctx, tx)
	if err != nil {
		return d.fail(err, "listing the tables")
	}
	for _, t := range tables {
		if _, err := tx.Exec(ctx, "LOCK TABLE "+pgx.Identifier{t}.Sanitize()+" IN EXCLUSIVE MODE"); err != nil {
			return d.fail(err, "locking "+t)
		}
	}
	full, err := firstNonEmpty(ctx, tx, tables)
	if err != nil {
		return d.fail(err, "reading the tables")
	}
	if full != "" {
		return fixgraph.Errorf(fixgraph.ECONFLICT, "shared state %s already holds data (table %s is not empty): restore into an empty database or schema", d.where, full)
	}
	restored := 0
	for {
		var dt dumpTable
		if err := readJSONLine(br, &dt); err != nil {
			return fixgraph.WrapError(fixgraph.EUNREADABLE, err, "the state dump is truncated after %d tables", restored)
		}
		if dt.End != nil {
			if dt.End.Tables != restored {
				return fixgraph.Errorf(fixgraph.EUNREADABLE, "the state dump holds %d tables; its end says %d", restored, dt.End.Tables)
			}
			break
		}
		if dt.Table == "" || len(dt.Columns) == 0 || dt.Rows != nil {
			return fixgraph.Errorf(fixgraph.EUNREADABLE, "the state dump is malformed after %d tables", restored)
		}
		if !slices.Contains(tables, dt.Table) {
			return fixgraph.Errorf(fixgraph.EUNSUPPORTED, "the state dump has a table %q that this fixgraph's schema lacks", dt.Table)
		}
		data := &copyData{br: br, atStart: true}
		tag, err := tx.Conn().PgConn().CopyFrom(ctx, data, "COPY "+pgx.Identifier{dt.Table}.Sanitize()+" ("+columnList(dt.Columns)+") FROM STDIN")
		if data.err != nil {
			return fixgraph.WrapError(fixgraph.EUNREADABLE, data.err, "the state dump is truncated in table %s", dt.Table)
		}
		if err != nil {
			return d.fail(err, "restoring "+dt.Table)
		}
		var end dumpTable
		if err := readJSONLine(br, &end); err != nil || end.Table != dt.Table || end.Rows == nil {
			return fixgraph.WrapError(fixgraph.EUNREADABLE, cmp.Or(err, errors.New("no row count")), "the state dump is truncated after table %s", dt.Table)
		}
		if *end.Rows != tag.RowsAffected() {
			return fixgraph.Errorf(fixgraph.EUNREADABLE, "the state dump's table %s holds %d rows; its count says %d", dt.Table, tag.RowsAffected(), *end.Rows)
		}
		restored++
	}
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		return fixgraph.Errorf(fixgraph.EUNREADABLE, "the state dump goes on after its end")
	}
	if err := tx.Commit(ctx); err != nil {
		return d.fail(err, "committing the restore")
	}
	return nil
}

// Holds returns the name of a table of the shared state that holds a row, or "" when every one
// is empty (goose's aside): Restore needs an empty state.
func (d *DB) Holds(ctx context.Context) (string, error) {
	tx, err := d.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return "", d.fail(err, "reading the tables")
	}
	defer tx.Rollback(context.Background())
	tables, err := schemaTables(ctx, tx)
	if err == nil {
		var full string
		if full, err = firstNonEmpty(ctx, tx, tables); err == nil {
			return full, nil
		}
	}
	return "", d.fail(err, "reading the tables")
}

func firstNonEmpty(ctx context.Context, tx pgx.Tx, tables []string) (string, error) {
	for _, t := range tables {
		var found bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+pgx.Identifier{t}.Sanitize()+")").Scan(&found); err != nil {
			return "", err
		}
		if found {
			return t, nil
		}
	}
	return "", nil
}

// schemaTables lists the tables of the current schema (the first of the search path), but goose's.
func schemaTables(ctx context.Context, tx pgx.Tx) ([]string, error) {
	rows, err := tx.Query(ctx, `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND c.relname <> $1 ORDER BY c.relname`, gooseTable)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// tableColumns lists a table's stored columns in their order.
func tableColumns(ctx context.Context, tx pgx.Tx, table string) ([]string, error) {
	rows, err := tx.Query(ctx, `SELECT a.attname FROM pg_attribute a
		WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
		ORDER BY a.attnum`, pgx.Identifier{table}.Sanitize())
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

func columnList(cols []string) string {
	s := ""
	for i, c := range cols {
		if i > 0 {
			s += ", "
		}
		s += pgx.Identifier{c}.Sanitize()
	}
	return s
}

// readJSONLine reads one line of br into v.
func readJSONLine(br *bufio.Reader, v any) error {
	line, err := br.ReadBytes('\n')
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	return json.Unmarshal(line, v)
}

// copyData reads one table's COPY data from a dump, up to and without its end-of-data line; a
// dump that ends before it is an error, kept in err.
type copyData struct {
	br      *bufio.Reader
	pending []byte
	atStart bool // at the start of a line
	done    bool
	err     error
}

func (c *copyData) Read(p []byte) (int, error) {
	if len(c.pending) == 0 {
		if c.done {
			return 0, io.EOF
		}
		if c.atStart {
			if b, _ := c.br.Peek(len(endOfData)); string(b) == endOfData {
				c.br.Discard(len(endOfData))
				c.done = true
				return 0, io.EOF
			}
		}
		line, err := c.br.ReadSlice('\n')
		switch {
		case err == nil:
			c.atStart = true
		case errors.Is(err, bufio.ErrBufferFull):
			c.atStart = false
		default:
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			c.err = err
			return 0, err
		}
		c.pending = line
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}
