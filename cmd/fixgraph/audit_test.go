package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
