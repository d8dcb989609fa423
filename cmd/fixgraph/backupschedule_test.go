package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/fixgraph/fixgraph"
)

// attempt is one scheduled backup tried: its file and outcome.
type attempt struct {
	file string
	err  error
}

// dirNames lists the names in dir.
func dirNames(tb testing.TB, dir string) []string {
	tb.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestScheduledBackups drives serve's backup loop at 200 ms: each backup is encrypted and
// restores; a failure is logged and the next is made on time; the directory keeps exactly the
// newest 3 of the schedule's backups, and the files it did not make (an operator's own backup,
// notes) stay. At an interval of an hour, a backup is made at once when the newest is years old,
// and none while the newest is a moment old; stopping the loop mid-backup leaves no temporary
// file and no half-made backup.
func TestScheduledBackups(t *testing.T) {
	orig := filepath.Join(t.TempDir(), "data")
	MustRun(t, "ingest", "--data", orig, "--embedder", "none", "../../fixtures/faq")
	a := mustOpenApp(t, orig)
	defer a.Close()
	var logs syncBuffer
	a.log = slog.New(slog.NewTextHandler(&logs, nil))
	id, idFile := mustIdentity(t)

	dir := t.TempDir()
	old := "fixgraph-backup-20200101T000000.000Z.tar.gz"
	mine := []string{"fixgraph-backup-manual.tar.gz", "notes.txt", "fixgraph-backup-20200101T000000.000Z.tar.gz.bak"}
	for _, name := range append([]string{old}, mine...) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("not the schedule's"), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	const every, keep, tries = 200 * time.Millisecond, 3, 6
	made := make(chan attempt, 100)
	calls := 0
	fault := errors.New("injected fault")
	s := &backupSchedule{dir: dir, every: every, keep: keep, recipients: []age.Recipient{id.Recipient()},
		parts: func() ([]backupPart, error) {
			if calls++; calls == 2 {
				return nil, fault
			}
			return a.backupParts()
		},
		made: func(file string, err error) { made <- attempt{file, err} },
	}
	start := time.Now()
	stop := a.startBackups(context.Background(), s)
	var got []attempt
	for len(got) < tries {
		select {
		case at := <-made:
			got = append(got, at)
		case <-time.After(30 * time.Second):
			stop()
			t.Fatalf("%d backups in 30 s at an interval of %s: %v", len(got), every, got)
		}
	}
	stop()
	elapsed := time.Since(start)

	var good []string
	for i, at := range got {
		switch {
		case i == 1:
			if !errors.Is(at.err, fault) {
				t.Errorf("backup %d = %v; want the injected fault", i, at.err)
			}
		case at.err != nil:
			t.Errorf("backup %d: %v", i, at.err)
		default:
			good = append(good, filepath.Base(at.file))
		}
		if !strings.HasSuffix(at.file, ".tar.gz.age") || !scheduledBackupName.MatchString(filepath.Base(at.file)) {
			t.Errorf("backup %d is named %s", i, at.file)
		}
	}
	// Backups are an interval apart, the failed one included, so 6 take at least 5 intervals.
	if elapsed < (tries-1)*every {
		t.Errorf("%d backups in %s at an interval of %s", tries, elapsed, every)
	}
	if !strings.Contains(logs.String(), "scheduled backup failed") || !strings.Contains(logs.String(), "injected fault") {
		t.Errorf("the failure was not logged:\n%s", logs.String())
	}

	names := dirNames(t, dir)
	kept, err := scheduledBackups(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := good[len(good)-keep:]; !slices.Equal(kept, want) {
		t.Errorf("the directory keeps %v; want the newest %d, %v (all: %v)", kept, keep, want, names)
	}
	for _, name := range mine {
		if !slices.Contains(names, name) {
			t.Errorf("%s, not made by the schedule, was deleted", name)
		}
	}
	if slices.Contains(names, old) {
		t.Errorf("the schedule's oldest backup %s was kept", old)
	}
	if len(names) != keep+len(mine) {
		t.Errorf("the directory holds %v", names)
	}
	newest := filepath.Join(dir, kept[len(kept)-1])
	if out := MustRun(t, "restore", "--data", filepath.Join(t.TempDir(), "r"), "--identity", idFile, newest); !strings.Contains(out, "restored ") {
		t.Errorf("restore of %s printed %q", newest, out)
	}

	t.Run("stopped mid-backup", func(t *testing.T) {
		started, release := make(chan struct{}), make(chan struct{})
		s := &backupSchedule{dir: dir, every: time.Hour, keep: keep, parts: func() ([]backupPart, error) {
			parts, err := a.backupParts()
			slow := backupPart{name: "slow.db", write: func(w io.Writer) (int64, error) {
				close(started)
				<-release
				return 0, errSkipPart
			}}
			return append([]backupPart{slow}, parts...), err
		}}
		// The newest backup is under an hour old: nothing would be due for an hour. Leave
		// only one years old, so the backup is due at once.
		if err := os.WriteFile(filepath.Join(dir, "fixgraph-backup-20210101T000000.000Z.tar.gz"), []byte("old"), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, name := range kept {
			os.Remove(filepath.Join(dir, name))
		}
		before := dirNames(t, dir)
		stop := a.startBackups(context.Background(), s)
		select {
		case <-started:
		case <-time.After(10 * time.Second):
			stop()
			t.Fatal("no backup started although the newest is years old")
		}
		stopped := make(chan struct{})
		go func() { stop(); close(stopped) }()
		time.Sleep(50 * time.Millisecond)
		close(release)
		select {
		case <-stopped:
		case <-time.After(10 * time.Second):
			t.Fatal("the schedule did not stop")
		}
		if after := dirNames(t, dir); !slices.Equal(after, before) {
			t.Errorf("a backup stopped midway left %v; before it %v", after, before)
		}
		for _, name := range dirNames(t, orig) {
			if strings.HasPrefix(name, ".backup-") {
				t.Errorf("a backup stopped midway left its spool %s in the data directory", name)
			}
		}
	})

	t.Run("not due yet", func(t *testing.T) {
		d := t.TempDir()
		recent := "fixgraph-backup-" + time.Now().UTC().Format(backupStampLayout) + ".tar.gz"
		if err := os.WriteFile(filepath.Join(d, recent), []byte("recent"), 0o600); err != nil {
			t.Fatal(err)
		}
		made := make(chan attempt, 1)
		stop := a.startBackups(context.Background(), &backupSchedule{dir: d, every: time.Hour, keep: 1, made: func(f string, err error) { made <- attempt{f, err} }})
		select {
		case at := <-made:
			t.Errorf("a backup (%s) was made although the newest is a moment old and the interval an hour", at.file)
		case <-time.After(500 * time.Millisecond):
		}
		stop()
	})
}

// TestServeBackupFlags refuses scheduled backups that are too frequent, keep nothing, or are
// half configured, before the data directory is touched.
func TestServeBackupFlags(t *testing.T) {
	id, _ := mustIdentity(t)
	for _, tt := range []struct {
		name string
		args []string
		env  string // FIXGRAPH_BACKUP_EVERY
		want string
	}{
		{"too often", []string{"--backup-every", "30s"}, "", "--backup-every 30s is too short"},
		{"keep none", []string{"--backup-every", "24h", "--backup-keep", "0"}, "", "--backup-keep 0: keep at least 1"},
		{"keep without every", []string{"--backup-keep", "3"}, "", "--backup-keep is for scheduled backups: give --backup-every too"},
		{"recipient without every", []string{"--backup-recipient", id.Recipient().String()}, "", "give --backup-every too"},
		{"secret key", []string{"--backup-every", "24h", "--backup-recipient", id.String()}, "", "secret key"},
		{"bad env", nil, "daily", "bad FIXGRAPH_BACKUP_EVERY"},
		{"env too often", nil, "10s", "is too short"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.env != "" {
				t.Setenv("FIXGRAPH_BACKUP_EVERY", tt.env)
			}
			data := filepath.Join(t.TempDir(), "data")
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), append([]string{"serve", "--data", data, "--addr", "127.0.0.1:0", "--embedder", "none"}, tt.args...), &stdout, &stderr)
			if fixgraph.CodeOf(err) != fixgraph.EINVALID || !strings.Contains(message(err), tt.want) {
				t.Fatalf("serve %v = %v; want invalid, saying %q", tt.args, err, tt.want)
			}
			if strings.Contains(message(err), id.String()) {
				t.Errorf("the error shows the secret key")
			}
			if _, err := os.Stat(data); err == nil {
				t.Errorf("a refused serve created %s", data)
			}
		})
	}
}

// TestServeMakesScheduledBackups runs serve with --backup-every and an empty backup directory:
// the first backup is made at start, encrypted to the recipient, and restores.
func TestServeMakesScheduledBackups(t *testing.T) {
	orig := filepath.Join(t.TempDir(), "data")
	MustRun(t, "ingest", "--data", orig, "--embedder", "none", "../../fixtures/faq")
	id, idFile := mustIdentity(t)
	dir := filepath.Join(t.TempDir(), "backups")
	stop := startServe(t, orig, "--backup-every", "1m", "--backup-keep", "2", "--backup-dir", dir, "--backup-recipient", id.Recipient().String())
	var kept []string
	for deadline := time.Now().Add(30 * time.Second); len(kept) == 0; {
		if time.Now().After(deadline) {
			stop()
			t.Fatal("serve made no backup in 30 s")
		}
		time.Sleep(50 * time.Millisecond)
		kept, _ = scheduledBackups(dir)
	}
	stop()
	if !strings.HasSuffix(kept[0], ".tar.gz.age") {
		t.Errorf("serve's backup is named %s", kept[0])
	}
	MustRun(t, "restore", "--data", filepath.Join(t.TempDir(), "r"), "--identity", idFile, filepath.Join(dir, kept[0]))
}
