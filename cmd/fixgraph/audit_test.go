package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/audit"
	"github.com/fixgraph/fixgraph/internal/servertest"
)

// TestAuditCommand: what the command line does is in the audit log; `audit verify` passes on it
// and exits 1 once a line is edited; `audit export` prints the entries as JSON lines.
func TestAuditCommand(t *testing.T) {
	dir := t.TempDir()
	MustRun(t, "ingest", "--data", dir, "--embedder", "none", "../../fixtures/faq")
	MustRun(t, "keys", "create", "--data", dir, "--name", "wechat bot", "--role", "reader")
	if out := MustRun(t, "audit", "verify", "--data", dir); !strings.Contains(out, "2 entries, chain intact") {
		t.Fatalf("audit verify: %s", out)
	}
	export := MustRun(t, "audit", "export", "--data", dir)
	for _, want := range []string{`"action":"upload"`, `"action":"key.create"`, `"actor":"local (local operator)"`, `"name":"wechat bot"`} {
		if !strings.Contains(export, want) {
			t.Errorf("export has no %s:\n%s", want, export)
		}
	}
	path := filepath.Join(dir, "audit.log")
	log, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, bytes.Replace(log, []byte("wechat bot"), []byte("wechat bat"), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	err = run(context.Background(), []string{"audit", "verify", "--data", dir}, &out, &errOut)
	if exitCode(err) != 1 || !strings.Contains(out.String(), "BROKEN") || !strings.Contains(out.String(), "line 2") {
		t.Errorf("verify of an edited log: %v\n%s", err, out.String())
	}
}

// rechain rewrites audit log lines with edit applied to each entry and the chain recomputed with
// plain SHA-256, as someone without the audit key would rewrite a log so that its chain holds.
// dropKey also takes the key ids out of the entries, as if they had been written before keys.
func rechain(t *testing.T, log []byte, dropKey bool, edit func(e *audit.Entry)) []byte {
	t.Helper()
	keyField := regexp.MustCompile(`"key":"[^"]*",`)
	var out bytes.Buffer
	prev := ""
	for _, line := range bytes.Split(bytes.TrimSuffix(log, []byte("\n")), []byte("\n")) {
		if dropKey {
			line = keyField.ReplaceAll(line, nil)
		}
		var e audit.Entry
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatal(err)
		}
		edit(&e)
		e.Prev, e.Hash = prev, ""
		canon, err := json.Marshal(&e)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(append([]byte(prev), canon...))
		e.Hash = hex.EncodeToString(sum[:])
		b, err := json.Marshal(&e)
		if err != nil {
			t.Fatal(err)
		}
		out.Write(append(b, '\n'))
		prev = e.Hash
	}
	return out.Bytes()
}

// auditVerify runs `fixgraph audit verify` and returns what it printed and its exit status.
func auditVerify(t *testing.T, dir string) (string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"audit", "verify", "--data", dir}, &out, &errOut)
	if err == nil {
		return out.String() + errOut.String(), 0
	}
	return out.String() + errOut.String(), exitCode(err)
}

// TestAuditVerifyCatchesTruncationAndRewrites: the audit log of a data directory is keyed and
// anchored by a checkpoint kept beside it, so `audit verify` exits 1 when entries are cut off its
// end (naming the first missing sequence number), and when the whole log is rewritten with a
// recomputed SHA-256 chain, with or without the key ids; the untouched log passes.
func TestAuditVerifyCatchesTruncationAndRewrites(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"bot a", "bot b", "bot c"} {
		MustRun(t, "keys", "create", "--data", dir, "--name", name, "--role", "reader")
	}
	path := filepath.Join(dir, "audit.log")
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := bytes.Count(orig, []byte("\n"))
	if out, code := auditVerify(t, dir); code != 0 || !strings.Contains(out, fmt.Sprintf("%d entries", n)) {
		t.Fatalf("audit verify of the untouched log: exit %d\n%s", code, out)
	}
	lines := bytes.SplitAfter(orig, []byte("\n"))
	for _, tt := range []struct {
		name string
		log  []byte
		want []string
	}{
		{"last entry cut off", bytes.Join(lines[:n-1], nil), []string{fmt.Sprintf("seq %d", n), "missing"}},
		{"last two entries cut off", bytes.Join(lines[:n-2], nil), []string{fmt.Sprintf("seq %d", n-1), "missing"}},
		{"rewritten whole with plain hashes", rechain(t, orig, false, func(e *audit.Entry) {
			if e.Detail["name"] == "bot b" {
				e.Detail["name"] = "bot x"
			}
		}), []string{"line 1"}},
		{"rewritten whole as an unkeyed log", rechain(t, orig, true, func(e *audit.Entry) {}), []string{"line 1"}},
		{"emptied", nil, []string{"seq 1", "missing"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(path, tt.log, 0o600); err != nil {
				t.Fatal(err)
			}
			out, code := auditVerify(t, dir)
			if code != 1 || !strings.Contains(out, "BROKEN") {
				t.Errorf("audit verify: exit %d, want 1 and BROKEN\n%s", code, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("audit verify does not say %q:\n%s", w, out)
				}
			}
		})
	}
	if err := os.WriteFile(path, orig, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, code := auditVerify(t, dir); code != 0 {
		t.Errorf("audit verify of the log put back: exit %d\n%s", code, out)
	}
}

// TestAuditVerifyAgainstAKeptCheckpoint: a log cut back together with its checkpoint (both put
// back as they were earlier) passes on its own, but not against a checkpoint kept apart: the one
// in a backup taken since, or a checkpoint file.
func TestAuditVerifyAgainstAKeptCheckpoint(t *testing.T) {
	dir := t.TempDir()
	MustRun(t, "ingest", "--data", dir, "--embedder", "none", "../../fixtures/faq")
	path, cpPath := filepath.Join(dir, "audit.log"), filepath.Join(dir, "audit.checkpoint")
	oldLog, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	oldCP, err := os.ReadFile(cpPath)
	if err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(t.TempDir(), "backup.tar.gz")
	MustRun(t, "backup", "--data", dir, "--out", backup)
	MustRun(t, "keys", "create", "--data", dir, "--name", "bot", "--role", "reader")
	kept := filepath.Join(t.TempDir(), "kept.checkpoint")
	cur, err := os.ReadFile(cpPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(kept, cur, 0o600); err != nil {
		t.Fatal(err)
	}
	verifyAgainst := func(cp string) (string, int) {
		var out, errOut bytes.Buffer
		err := run(context.Background(), []string{"audit", "verify", "--data", dir, "--checkpoint", cp}, &out, &errOut)
		if err == nil {
			return out.String(), 0
		}
		return out.String() + errOut.String(), exitCode(err)
	}
	for _, cp := range []string{backup, kept} {
		if out, code := verifyAgainst(cp); code != 0 || !strings.Contains(out, "holds the checkpoint") {
			t.Errorf("verify against %s: exit %d\n%s", cp, code, out)
		}
	}
	// Cut back to before the backup, checkpoint and all.
	if err := os.WriteFile(path, oldLog, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cpPath, oldCP, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, code := auditVerify(t, dir); code != 0 {
		t.Fatalf("a log cut back with its checkpoint verifies on its own (what a kept checkpoint is for); got exit %d\n%s", code, out)
	}
	for _, cp := range []string{backup, kept} {
		if out, code := verifyAgainst(cp); code != 1 || !strings.Contains(out, "missing") {
			t.Errorf("verify of the cut-back log against %s: exit %d\n%s", cp, code, out)
		}
	}
}

// TestAuditKeyFromTheEnvironment: with $FIXGRAPH_AUDIT_KEY set, the log is keyed with it, no key
// file is written and backups hold none; without it, or with another key, the log does not
// verify, since nothing in the data directory can check it.
func TestAuditKeyFromTheEnvironment(t *testing.T) {
	key := strings.Repeat("5a", 32)
	t.Setenv("FIXGRAPH_AUDIT_KEY", key)
	dir := t.TempDir()
	MustRun(t, "ingest", "--data", dir, "--embedder", "none", "../../fixtures/faq")
	MustRun(t, "keys", "create", "--data", dir, "--name", "bot", "--role", "reader")
	if _, err := os.Stat(filepath.Join(dir, "audit.key")); !os.IsNotExist(err) {
		t.Errorf("a key file was written beside the log: %v", err)
	}
	if out, code := auditVerify(t, dir); code != 0 || !strings.Contains(out, "keyed (HMAC-SHA256, key "+audit.KeyID(bytes.Repeat([]byte{0x5a}, 32))) {
		t.Errorf("audit verify with the key: exit %d\n%s", code, out)
	}
	file := filepath.Join(t.TempDir(), "backup.tar")
	MustRun(t, "backup", "--data", dir, "--out", file)
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	m, err := readBackup(f, "")
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if names := partNames(m); strings.Contains(names, "audit.key") || !strings.Contains(names, "audit.checkpoint") {
		t.Errorf("the backup holds %s; want the checkpoint and no key", names)
	}
	for _, tt := range []struct{ env, want string }{
		{"", "no key"},
		{strings.Repeat("a5", 32), "not with the key given"},
	} {
		t.Setenv("FIXGRAPH_AUDIT_KEY", tt.env)
		if out, code := auditVerify(t, dir); code != 1 || !strings.Contains(out, tt.want) {
			t.Errorf("audit verify with FIXGRAPH_AUDIT_KEY=%q: exit %d, want 1 saying %q\n%s", tt.env, code, tt.want, out)
		}
	}
	t.Setenv("FIXGRAPH_AUDIT_KEY", "short")
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"audit", "verify", "--data", dir}, &out, &errOut); err == nil || !strings.Contains(message(err), "FIXGRAPH_AUDIT_KEY") {
		t.Errorf("a short key: %v", err)
	}
}

// TestAuditOnSharedState: with shared state, what two replicas (data directories of their own)
// record goes into one chain in PostgreSQL, each entry naming its replica; `audit verify` and
// `audit export` read that chain whatever the data directory; the key must come from
// $FIXGRAPH_AUDIT_KEY; a server out of reach is said to be unavailable.
func TestAuditOnSharedState(t *testing.T) {
	state := servertest.PostgresURL(t)
	t.Setenv("FIXGRAPH_MFA_KEY", strings.Repeat("3c", 32))
	t.Setenv("FIXGRAPH_AUDIT_KEY", strings.Repeat("5a", 32))
	for _, name := range []string{"alpha", "beta"} {
		MustRun(t, "keys", "create", "--state", state, "--data", t.TempDir(), "--embedder", "none", "--name", name+" bot", "--role", "reader")
	}
	elsewhere := t.TempDir()
	out := MustRun(t, "audit", "verify", "--state", state, "--data", elsewhere)
	if !strings.Contains(out, "2 entries, chain intact") || !strings.Contains(out, "keyed (HMAC-SHA256, key "+audit.KeyID(bytes.Repeat([]byte{0x5a}, 32))) ||
		strings.Contains(out, "dev@") {
		t.Errorf("audit verify on the shared state:\n%s", out)
	}
	export := MustRun(t, "audit", "export", "--state", state, "--data", elsewhere)
	for _, want := range []string{`"name":"alpha bot"`, `"name":"beta bot"`, `"replica":"`} {
		if !strings.Contains(export, want) {
			t.Errorf("export has no %s:\n%s", want, export)
		}
	}
	if _, err := os.Stat(filepath.Join(elsewhere, "audit.log")); !os.IsNotExist(err) {
		t.Errorf("the data directory got an audit log of its own: %v", err)
	}

	// An entry changed in the database fails verification.
	conn, err := pgx.Connect(context.Background(), state)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), `UPDATE audit_entry SET line = convert_to(replace(convert_from(line, 'UTF8'), 'beta bot', 'beta bat'), 'UTF8') WHERE seq = 2`); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	err = run(context.Background(), []string{"audit", "verify", "--state", state}, &stdout, &stderr)
	if exitCode(err) != 1 || !strings.Contains(stdout.String(), "BROKEN after 1 good entries") || !strings.Contains(stdout.String(), "line 2") {
		t.Errorf("verify of an edited chain: %v\n%s", err, stdout.String())
	}

	// Without $FIXGRAPH_AUDIT_KEY neither the commands nor a replica start, and say why.
	t.Setenv("FIXGRAPH_AUDIT_KEY", "")
	for _, args := range [][]string{
		{"audit", "verify", "--state", state},
		{"keys", "create", "--state", state, "--data", t.TempDir(), "--embedder", "none", "--name", "gamma", "--role", "reader"},
	} {
		err := run(context.Background(), args, &stdout, &stderr)
		if err == nil || !strings.Contains(message(err), "FIXGRAPH_AUDIT_KEY") || !strings.Contains(message(err), "every replica") {
			t.Errorf("%s without $FIXGRAPH_AUDIT_KEY: %v", args[0], err)
		}
	}

	// A server out of reach (a closed port) is unavailable, not a hang.
	t.Setenv("FIXGRAPH_AUDIT_KEY", strings.Repeat("5a", 32))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "postgres://fixgraph:x@" + ln.Addr().String() + "/fgdev?sslmode=disable&connect_timeout=5"
	ln.Close()
	start := time.Now()
	err = run(context.Background(), []string{"audit", "verify", "--state", closed}, &stdout, &stderr)
	if fixgraph.CodeOf(err) != fixgraph.EUNAVAILABLE || time.Since(start) > 10*time.Second {
		t.Errorf("audit verify on a closed port: %v after %v; want EUNAVAILABLE", err, time.Since(start))
	}
}
