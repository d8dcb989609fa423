package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fixgraph/fixgraph/auth"
)

// TestUsersMFACommands: users require-mfa sets the roles that need a second factor, users list
// shows each account's MFA, failures and lock, users unlock ends a lock, and users reset-mfa
// takes a second factor away; TOTP secrets are sealed with DIR/mfa.key, which only its owner
// may read and which backups of auth.db do not hold.
func TestUsersMFACommands(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("FIXGRAPH_PASSWORD", "correct horse battery")
	MustRun(t, "users", "create", "--data", dir, "--name", "wei", "--role", "editor")
	MustRun(t, "users", "create", "--data", dir, "--name", "kong", "--role", "reviewer")
	out := MustRun(t, "users", "require-mfa", "--data", dir, "--role", "editor, reviewer")
	if !strings.Contains(out, "editor, reviewer") {
		t.Errorf("require-mfa printed %q", out)
	}
	out = MustRun(t, "users", "list", "--data", dir)
	if !strings.Contains(out, "LOCKED UNTIL") || strings.Count(out, "required") != 2 {
		t.Errorf("list before enrolment:\n%s", out)
	}

	// Enrol wei and lock it, through the store as the server would, with the key serve uses.
	key, err := mfaKey(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, mfaKeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mfa.key: %v %v", fi, err)
	}
	s, err := auth.Open(filepath.Join(dir, "auth.db"))
	if err != nil {
		t.Fatal(err)
	}
	s.SecretKey = key
	e, err := s.StartEnrolment("wei")
	if err != nil {
		t.Fatal(err)
	}
	code, _ := auth.TOTPCode(e.Secret, time.Now())
	if _, err := s.ConfirmEnrolment("wei", code); err != nil {
		t.Fatal(err)
	}
	for range auth.LockAfter {
		s.Password("wei", "wrong password")
	}
	var backup bytes.Buffer
	s.Backup(&backup)
	s.Close()
	if bytes.Contains(backup.Bytes(), []byte(e.Secret)) {
		t.Error("auth.db holds the TOTP secret unsealed")
	}

	out = MustRun(t, "users", "list", "--data", dir)
	line := lineOf(out, "wei")
	if !strings.Contains(line, " on ") || !strings.Contains(line, time.Now().UTC().Format("2006-01-02")) {
		t.Errorf("list shows wei as %q; want MFA on and a lock", line)
	}
	if out := MustRun(t, "users", "unlock", "--data", dir, "wei"); !strings.Contains(out, "unlocked") {
		t.Errorf("unlock printed %q", out)
	}
	if line := lineOf(MustRun(t, "users", "list", "--data", dir), "wei"); !strings.HasSuffix(strings.TrimSpace(line), "-") {
		t.Errorf("after unlock: %q; want no lock", line)
	}
	MustRun(t, "users", "reset-mfa", "--data", dir, "wei")
	if line := lineOf(MustRun(t, "users", "list", "--data", dir), "wei"); !strings.Contains(line, "required") {
		t.Errorf("after reset-mfa: %q; want required (not set up)", line)
	}
	MustRun(t, "users", "require-mfa", "--data", dir, "--role", "none")
	s, err = auth.Open(filepath.Join(dir, "auth.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if roles, _ := s.MFARoles(); len(roles) != 0 {
		t.Errorf("roles after --role none: %v", roles)
	}
	if a, err := s.Password("kong", "correct horse battery"); err != nil || a.Challenge != auth.ChallengeNone {
		t.Errorf("kong after the policy is lifted: %+v %v", a, err)
	}
}

// lineOf returns the line of a table that starts with name.
func lineOf(table, name string) string {
	for _, l := range strings.Split(table, "\n") {
		if strings.HasPrefix(l, name+" ") {
			return l
		}
	}
	return ""
}
