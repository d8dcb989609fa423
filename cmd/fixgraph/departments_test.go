package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDepartmentsCommand: `departments set qa --review-before-publish=true` makes qa's ingest
// wait in review, and its output says so; another department publishes at once; `departments
// list` shows the setting, and the change is in the audit log.
func TestDepartmentsCommand(t *testing.T) {
	dir := t.TempDir()
	files := t.TempDir()
	page := []byte("<html><head><title>保养</title></head><body><h1>保养</h1><h2>滤网</h2><p>每月清洁 zebrafrost 滤网。</p></body></html>")
	if err := os.WriteFile(filepath.Join(files, "note.html"), page, 0o600); err != nil {
		t.Fatal(err)
	}
	if out := MustRun(t, "departments", "set", "qa", "--review-before-publish=true", "--data", dir, "--embedder", "none"); !strings.Contains(out, "wait in review") {
		t.Fatalf("departments set: %s", out)
	}
	if out := MustRun(t, "departments", "list", "--data", dir, "--embedder", "none"); !strings.Contains(out, "qa") || !strings.Contains(out, "true") {
		t.Fatalf("departments list: %s", out)
	}
	out := MustRun(t, "ingest", "--data", dir, "--embedder", "none", "--department", "qa", files)
	if !strings.Contains(out, "1 documents await review: department qa reviews before publishing") {
		t.Errorf("ingest of qa does not say its documents await review:\n%s", out)
	}
	out = MustRun(t, "ingest", "--data", dir, "--embedder", "none", "--department", "ops", files)
	if strings.Contains(out, "await review") {
		t.Errorf("ingest of ops says it awaits review:\n%s", out)
	}
	if export := MustRun(t, "audit", "export", "--data", dir); !strings.Contains(export, `"action":"department.set"`) {
		t.Errorf("the setting is not in the audit log:\n%s", export)
	}
}
