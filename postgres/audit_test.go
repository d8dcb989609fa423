package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/audit"
	"github.com/fixgraph/fixgraph/internal/servertest"
	"github.com/fixgraph/fixgraph/postgres"
)

var auditKey = bytes.Repeat([]byte{0x42}, 32)

// replica opens the database at addr as the replica called name.
func replica(t *testing.T, addr, name string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	db.Replica = name
	t.Cleanup(db.Close)
	return db
}

// mustAudit opens the audit chain of db.
func mustAudit(t *testing.T, db *postgres.DB) *postgres.Audit {
	t.Helper()
	a, err := db.Audit(auditKey)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// verify reads the whole chain of db and checks it as a log file is checked.
func verify(t *testing.T, db *postgres.DB) (audit.Report, []byte, error) {
	t.Helper()
	var rep audit.Report
	var lines bytes.Buffer
	err := db.ReadAudit(context.Background(), func(cp []byte, r io.Reader) error {
		var err error
		rep, err = audit.VerifyReader(io.TeeReader(r, &lines), cp, auditKey)
		return err
	})
	return rep, lines.Bytes(), err
}

// TestAuditTwoReplicas: two replicas appending at once from many goroutines make one chain that
// verifies, with every entry in it once and both replicas named.
func TestAuditTwoReplicas(t *testing.T) {
	addr := servertest.PostgresURL(t)
	dbs := []*postgres.DB{replica(t, addr, "replica-a"), replica(t, addr, "replica-b")}
	chains := []*postgres.Audit{mustAudit(t, dbs[0]), mustAudit(t, dbs[1])}
	const workers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, 2*workers*each)
	for r, c := range chains {
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					if _, err := c.Append(audit.Entry{Actor: "user:alice", Action: "edit", Target: fmt.Sprintf("%d/%d/%d", r, w, i)}); err != nil {
						errs <- err
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	const total = 2 * workers * each
	rep, lines, err := verify(t, dbs[0])
	if err != nil || rep.Entries != total || rep.Checkpoint == nil || rep.Checkpoint.Seq != total {
		t.Fatalf("VerifyReader = %+v, %v; want %d entries and a checkpoint at the head", rep, err, total)
	}
	seen := map[string]int{}
	replicas := map[string]int{}
	for i, line := range bytes.Split(bytes.TrimSuffix(lines, []byte("\n")), []byte("\n")) {
		e, err := audit.CheckLine(line, auditKey)
		if err != nil || e.Seq != uint64(i+1) {
			t.Fatalf("line %d: seq %d, %v", i+1, e.Seq, err)
		}
		seen[e.Target]++
		replicas[e.Replica]++
	}
	if len(seen) != total {
		t.Errorf("%d distinct entries, want %d", len(seen), total)
	}
	for target, n := range seen {
		if n != 1 {
			t.Errorf("entry %s is in the chain %d times", target, n)
		}
	}
	if replicas["replica-a"] != total/2 || replicas["replica-b"] != total/2 {
		t.Errorf("entries by replica: %v; want %d of each", replicas, total/2)
	}
	for _, c := range chains {
		if h := c.Head(); h != rep.Head {
			t.Errorf("Head = %+v, want %+v", h, rep.Head)
		}
	}
}

func TestAuditSnapshotVerifies(t *testing.T) {
	db := replica(t, servertest.PostgresURL(t), "replica-a")
	c := mustAudit(t, db)
	var want []audit.Entry
	for i := range 5 {
		e, err := c.Append(audit.Entry{Actor: "cli", Action: "backup", Target: fmt.Sprint(i), Detail: map[string]string{"名": "值 <&>"}})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, e)
	}
	var buf bytes.Buffer
	n, cp, err := c.Snapshot(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) || strings.Count(buf.String(), "\n") != 5 {
		t.Errorf("Snapshot = %d bytes, %d lines", n, strings.Count(buf.String(), "\n"))
	}
	rep, err := audit.VerifyReader(bytes.NewReader(buf.Bytes()), cp, auditKey)
	if err != nil || rep.Entries != 5 || rep.Head.Hash != want[4].Hash || rep.Checkpoint.Seq != 5 {
		t.Errorf("VerifyReader(snapshot) = %+v, %v", rep, err)
	}
	// The snapshot and its checkpoint are a log file as package audit keeps one: restored into a
	// data directory, it verifies and goes on.
	path := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(audit.CheckpointPath(path), cp, 0o600); err != nil {
		t.Fatal(err)
	}
	file, err := audit.OpenWith(path, audit.Options{Key: auditKey})
	if err != nil {
		t.Fatal(err)
	}
	if e, err := file.Append(audit.Entry{Actor: "system", Action: "restore"}); err != nil || e.Seq != 6 || e.Prev != want[4].Hash {
		t.Errorf("appending to the restored log: %+v, %v", e, err)
	}
	file.Close()
	if rep, err := audit.Inspect(path, auditKey); rep.Entries != 6 || err != nil {
		t.Errorf("Inspect(restored log) = %+v, %v", rep, err)
	}

	var exported bytes.Buffer
	err = db.ReadAudit(context.Background(), func(_ []byte, r io.Reader) error {
		_, err := audit.ExportReader(r, &exported, want[3].Time)
		return err
	})
	if err != nil || strings.Count(exported.String(), "\n") != 2 {
		t.Errorf("ExportReader since seq 4 = %q, %v", exported.String(), err)
	}

	// Reopened (another process), the chain goes on from its head.
	again := mustAudit(t, db)
	if h := again.Head(); h.Seq != 5 || h.Hash != want[4].Hash {
		t.Errorf("reopened head %+v", h)
	}
	e, err := again.Append(audit.Entry{Actor: "system", Action: "restore"})
	if err != nil || e.Seq != 6 || e.Prev != want[4].Hash || e.Replica != "replica-a" {
		t.Errorf("after reopening: %+v, %v", e, err)
	}
}

// TestAuditTamperingIsCaught: rows changed behind fixgraph's back fail verification, and opening
// the chain refuses a head that disagrees with its checkpoint.
func TestAuditTamperingIsCaught(t *testing.T) {
	for _, tt := range []struct {
		name       string
		sql        string
		verify     string // what verifying says
		refuseOpen bool   // whether opening the chain refuses it too
	}{
		{"actor of a middle entry edited",
			`UPDATE audit_entry SET line = convert_to(replace(convert_from(line, 'UTF8'), 'user:alice', 'user:eve'), 'UTF8') WHERE seq = 2`,
			"line 2 (seq 2): hash mismatch", false},
		{"replica of the newest entry edited",
			`UPDATE audit_entry SET line = convert_to(replace(convert_from(line, 'UTF8'), '"replica":"replica-a"', '"replica":"replica-z"'), 'UTF8') WHERE seq = 4`,
			"line 4 (seq 4): hash mismatch", true},
		{"middle entry deleted", `DELETE FROM audit_entry WHERE seq = 3`, "seq gap", false},
		{"newest entry deleted", `DELETE FROM audit_entry WHERE seq = 4`, "truncated", true},
		{"checkpoint deleted", `DELETE FROM audit_checkpoint`, "checkpoint is missing", true},
		{"checkpoint edited", `UPDATE audit_checkpoint SET checkpoint = convert_to(replace(convert_from(checkpoint, 'UTF8'), '"seq":4', '"seq":3'), 'UTF8')`,
			"signature mismatch", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			addr := servertest.PostgresURL(t)
			db := replica(t, addr, "replica-a")
			c := mustAudit(t, db)
			for i := range 4 {
				if _, err := c.Append(audit.Entry{Actor: "user:alice", Action: "edit", Target: fmt.Sprint(i)}); err != nil {
					t.Fatal(err)
				}
			}
			conn, err := pgx.Connect(context.Background(), addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(context.Background())
			if tag, err := conn.Exec(context.Background(), tt.sql); err != nil || tag.RowsAffected() != 1 {
				t.Fatalf("%s: %v, %v", tt.sql, tag, err)
			}
			_, _, err = verify(t, db)
			var ve *audit.VerifyError
			if !errors.As(err, &ve) || !strings.Contains(err.Error(), tt.verify) {
				t.Errorf("verify = %v; want a *VerifyError saying %q", err, tt.verify)
			}
			_, err = db.Audit(auditKey)
			if tt.refuseOpen && err == nil {
				t.Error("Audit opened the damaged chain")
			}
			if !tt.refuseOpen && err != nil {
				t.Errorf("Audit refused a chain whose head and checkpoint agree: %v", err)
			}
			if tt.refuseOpen {
				if _, err := c.Append(audit.Entry{Actor: "cli", Action: "backup"}); err == nil {
					t.Error("Append went on from a damaged head")
				}
			}
		})
	}
}

func TestAuditRefusesAnotherKey(t *testing.T) {
	db := replica(t, servertest.PostgresURL(t), "replica-a")
	c := mustAudit(t, db)
	if _, err := c.Append(audit.Entry{Actor: "cli", Action: "backup"}); err != nil {
		t.Fatal(err)
	}
	_, err := db.Audit(bytes.Repeat([]byte{0x17}, 32))
	if err == nil || !strings.Contains(err.Error(), "not with the key given") {
		t.Errorf("Audit with another key = %v", err)
	}
	if _, err := db.Audit([]byte("short")); fixgraph.CodeOf(err) != fixgraph.EINVALID {
		t.Errorf("Audit with a short key = %v; want EINVALID", err)
	}
}

// TestAuditUnavailable: with the server out of reach, appends and reads fail soon with
// EUNAVAILABLE rather than hang.
func TestAuditUnavailable(t *testing.T) {
	addr := servertest.PostgresURL(t)
	u, err := url.Parse(addr)
	if err != nil {
		t.Fatal(err)
	}
	proxy := forward(t, u.Host)
	u.Host = proxy.addr
	db := replica(t, u.String(), "replica-a")
	c := mustAudit(t, db)
	if _, err := c.Append(audit.Entry{Actor: "cli", Action: "backup"}); err != nil {
		t.Fatal(err)
	}
	proxy.cut() // the port is closed from now on
	start := time.Now()
	_, err = c.Append(audit.Entry{Actor: "cli", Action: "backup"})
	if fixgraph.CodeOf(err) != fixgraph.EUNAVAILABLE {
		t.Errorf("Append = %v; want EUNAVAILABLE", err)
	}
	_, _, err = c.Snapshot(io.Discard)
	if fixgraph.CodeOf(err) != fixgraph.EUNAVAILABLE {
		t.Errorf("Snapshot = %v; want EUNAVAILABLE", err)
	}
	if _, err := db.Audit(auditKey); fixgraph.CodeOf(err) != fixgraph.EUNAVAILABLE {
		t.Errorf("Audit = %v; want EUNAVAILABLE", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the calls took %v", d)
	}
}

// forwarder passes TCP connections on to a server until it is cut.
type forwarder struct {
	addr string
	ln   net.Listener
	mu   sync.Mutex
	open []net.Conn
}

// forward starts a forwarder to target on a port of its own.
func forward(t *testing.T, target string) *forwarder {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &forwarder{addr: ln.Addr().String(), ln: ln}
	t.Cleanup(f.cut)
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			f.mu.Lock()
			f.open = append(f.open, in, out)
			f.mu.Unlock()
			go func() { io.Copy(out, in); out.Close() }()
			go func() { io.Copy(in, out); in.Close() }()
		}
	}()
	return f
}

// cut closes the port and every connection through it.
func (f *forwarder) cut() {
	f.ln.Close()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.open {
		c.Close()
	}
	f.open = nil
}
