package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeUnkeyed writes a log of n entries as fixgraph wrote them before logs were keyed: SHA-256
// chained, no key ids, no checkpoint.
func writeUnkeyed(tb testing.TB, path string, n int) {
	tb.Helper()
	var buf bytes.Buffer
	prev := ""
	for i := range n {
		e := Entry{Seq: uint64(i + 1), Time: t0.Add(time.Duration(i) * time.Minute), Actor: "user:alice", Action: "edit",
			Target: fmt.Sprintf("doc:%d", i), Prev: prev}
		canon, err := json.Marshal(&e)
		if err != nil {
			tb.Fatal(err)
		}
		sum := sha256.Sum256(append([]byte(prev), canon...))
		e.Hash = hex.EncodeToString(sum[:])
		line, _ := json.Marshal(&e)
		buf.Write(append(line, '\n'))
		prev = e.Hash
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		tb.Fatal(err)
	}
}

// rechainPlain rewrites every line with edit applied and the chain recomputed with SHA-256, as
// someone who has the log but not its key would rewrite it so that its chain holds.
func rechainPlain(t *testing.T, lines []string, edit func(e *Entry)) []string {
	prev := ""
	var out []string
	for _, line := range lines {
		if line == "" {
			continue
		}
		var e Entry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatal(err)
		}
		edit(&e)
		e.Prev, e.Hash = prev, ""
		canon, _ := json.Marshal(&e)
		sum := sha256.Sum256(append([]byte(prev), canon...))
		e.Hash = hex.EncodeToString(sum[:])
		b, _ := json.Marshal(&e)
		out = append(out, string(b)+"\n")
		prev = e.Hash
	}
	return out
}

// wantBroken checks that Verify refuses the log at path, saying every one of want, and that Open,
// which reads only the last line and the checkpoint, refuses it too when the damage is there.
func wantBroken(t *testing.T, path string, want ...string) *VerifyError {
	t.Helper()
	ve := verifyBroken(t, path, want...)
	if l, err := Open(path); err == nil {
		l.Close()
		t.Errorf("Open accepted the log Verify refuses (%v)", ve)
	}
	return ve
}

// verifyBroken checks that Verify refuses the log at path, saying every one of want.
func verifyBroken(t *testing.T, path string, want ...string) *VerifyError {
	t.Helper()
	_, err := Verify(path)
	var ve *VerifyError
	if !errors.As(err, &ve) {
		t.Fatalf("Verify = %v; want a *VerifyError", err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("Verify error %q does not say %q", err, w)
		}
	}
	return ve
}

func TestTruncatedTailIsCaught(t *testing.T) {
	for _, tt := range []struct {
		name    string
		keep    int // lines kept of 5
		missing uint64
		want    string
	}{
		{"last entry cut off", 4, 5, "seq 5 is missing"},
		{"last three cut off", 2, 3, "seq 3–5 are missing"},
		{"emptied", 0, 1, "seq 1–5 are missing"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "audit.log")
			l := mustOpen(t, path)
			mustAppendN(t, l, 5)
			l.Close()
			writeLines(t, path, readLines(t, path)[:tt.keep])
			ve := wantBroken(t, path, "truncated", tt.want)
			if ve.Seq != tt.missing || ve.Line != tt.keep+1 {
				t.Errorf("Verify names line %d, seq %d; want line %d, seq %d", ve.Line, ve.Seq, tt.keep+1, tt.missing)
			}
			if n, _ := Verify(path); n != tt.keep {
				t.Errorf("Verify counts %d good entries, want %d", n, tt.keep)
			}
		})
	}
}

func TestWholesaleRewriteIsCaught(t *testing.T) {
	other := bytes.Repeat([]byte{7}, 32)
	for _, tt := range []struct {
		name   string
		change func(t *testing.T, path string)
		want   []string
	}{
		{"plain SHA-256 chain, key ids kept", func(t *testing.T, path string) {
			writeLines(t, path, rechainPlain(t, readLines(t, path), func(e *Entry) { e.Actor = "user:mallory" }))
		}, []string{"line 1", "hash mismatch"}},
		{"plain SHA-256 chain, as an unkeyed log", func(t *testing.T, path string) {
			writeLines(t, path, rechainPlain(t, readLines(t, path), func(e *Entry) { e.Key = "" }))
		}, []string{"line 1", "not keyed"}},
		{"unkeyed, checkpoint deleted", func(t *testing.T, path string) {
			writeLines(t, path, rechainPlain(t, readLines(t, path), func(e *Entry) { e.Key = "" }))
			os.Remove(CheckpointPath(path))
		}, []string{"no checkpoint"}},

		{"keyed with another key, with its own checkpoint", func(t *testing.T, path string) {
			os.Remove(CheckpointPath(path))
			os.Rename(path, path+".old")
			l, err := OpenWith(path, Options{Key: other})
			if err != nil {
				t.Fatal(err)
			}
			mustAppendN(t, l, 5)
			l.Close()
		}, []string{"checkpoint", "not with the key given"}},
		{"checkpoint deleted", func(t *testing.T, path string) {
			os.Remove(CheckpointPath(path))
		}, []string{"checkpoint is missing"}},
		{"checkpoint edited to a shorter log", func(t *testing.T, path string) {
			lines := readLines(t, path)
			writeLines(t, path, lines[:3])
			var e Entry
			json.Unmarshal([]byte(lines[2]), &e)
			var cp Checkpoint
			data, _ := os.ReadFile(CheckpointPath(path))
			json.Unmarshal(data, &cp)
			cp.Seq, cp.Hash = e.Seq, e.Hash
			b, _ := json.Marshal(&cp)
			os.WriteFile(CheckpointPath(path), b, 0o600)
		}, []string{"signature mismatch"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "audit.log")
			l := mustOpen(t, path)
			mustAppendN(t, l, 5)
			l.Close()
			tt.change(t, path)
			wantBroken(t, path, tt.want...)
		})
	}
}

func TestUntouchedKeyedLogPasses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l := mustOpen(t, path)
	es := mustAppendN(t, l, 5)
	rep, err := Inspect(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	key := mustKey(t, path)
	if rep.Entries != 5 || rep.Unkeyed != 0 || rep.KeyID != KeyID(key) || rep.Head.Hash != es[4].Hash ||
		rep.Checkpoint == nil || rep.Checkpoint.Seq != 5 || rep.Checkpoint.KeyedFrom != 1 {
		t.Errorf("Inspect = %+v (checkpoint %+v)", rep, rep.Checkpoint)
	}
	for _, f := range []string{path, KeyFile(path), CheckpointPath(path)} {
		if fi, err := os.Stat(f); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, %v; want mode 0600", f, fi.Mode(), err)
		}
	}
	if n, err := Verify(path); n != 5 || err != nil {
		t.Errorf("Verify = %d, %v", n, err)
	}
}

// TestCheckpointOnEveryAppend: each append leaves the checkpoint at the new head, signed; a
// checkpoint left one behind (the process died between the entry and its checkpoint) is not
// taken for damage, and Open brings it up to the head.
func TestCheckpointOnEveryAppend(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l := mustOpen(t, path)
	key := mustKey(t, path)
	var before []byte
	for i := range 3 {
		e := mustAppendN(t, l, 1)[0]
		data, err := os.ReadFile(CheckpointPath(path))
		if err != nil {
			t.Fatal(err)
		}
		cp, err := ParseCheckpoint(data, key)
		if err != nil || cp.Seq != e.Seq || cp.Hash != e.Hash || cp.Key != KeyID(key) || cp.Time.IsZero() {
			t.Errorf("after append %d the checkpoint is %+v, %v", i+1, cp, err)
		}
		before = data
	}
	mustAppendN(t, l, 1)
	l.Close()
	if err := os.WriteFile(CheckpointPath(path), before, 0o600); err != nil {
		t.Fatal(err)
	}
	if rep, err := Inspect(path, nil); err != nil || rep.Entries != 4 || rep.Checkpoint.Seq != 3 {
		t.Fatalf("Inspect with a checkpoint one behind = %+v, %v", rep, err)
	}
	l2 := mustOpen(t, path)
	if h := l2.Head(); h.Seq != 4 {
		t.Fatalf("head %+v", h)
	}
	if rep, err := Inspect(path, nil); err != nil || rep.Checkpoint.Seq != 4 {
		t.Errorf("after Open the checkpoint is at %+v, %v; want seq 4", rep.Checkpoint, err)
	}
}

// TestUnkeyedLogMigrates: a log written before logs were keyed verifies as it is; opened, it keeps
// its entries and keys the ones after them, and Inspect says where keying began. Rewriting its
// unkeyed part, or turning its keyed entries back into unkeyed ones, is caught.
func TestUnkeyedLogMigrates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	writeUnkeyed(t, path, 3)
	rep, err := Inspect(path, nil)
	if err != nil || rep.Entries != 3 || rep.Unkeyed != 3 || rep.KeyID != "" || rep.Checkpoint != nil {
		t.Fatalf("Inspect of an unkeyed log = %+v, %v", rep, err)
	}
	l := mustOpen(t, path)
	added := mustAppendN(t, l, 2)
	l.Close()
	if added[0].Seq != 4 || added[0].Key == "" {
		t.Fatalf("the first entry after migrating: %+v", added[0])
	}
	rep, err = Inspect(path, nil)
	if err != nil || rep.Entries != 5 || rep.Unkeyed != 3 || rep.KeyID != KeyID(mustKey(t, path)) || rep.Checkpoint.KeyedFrom != 4 {
		t.Fatalf("Inspect of the migrated log = %+v, %v", rep, err)
	}
	orig := readLines(t, path)

	t.Run("unkeyed part rewritten", func(t *testing.T) {
		lines := slicesClone(orig)
		head := rechainPlain(t, lines[:3], func(e *Entry) {
			if e.Seq == 2 {
				e.Actor = "user:mallory"
			}
		})
		writeLines(t, path, append(head, lines[3:]...))
		verifyBroken(t, path, "line 4")
	})
	t.Run("keyed part turned unkeyed", func(t *testing.T) {
		writeLines(t, path, rechainPlain(t, slicesClone(orig), func(e *Entry) { e.Key = "" }))
		wantBroken(t, path, "line 4", "not keyed", "keyed from seq 4")
	})
	t.Run("without the key", func(t *testing.T) {
		writeLines(t, path, orig)
		key := mustKey(t, path)
		os.Rename(KeyFile(path), KeyFile(path)+".away")
		defer os.Rename(KeyFile(path)+".away", KeyFile(path))
		if _, err := Verify(path); err == nil || !strings.Contains(err.Error(), "no key") {
			t.Errorf("Verify without the key = %v", err)
		}
		if rep, err := Inspect(path, key); err != nil || rep.Entries != 5 {
			t.Errorf("Inspect with the key given = %+v, %v", rep, err)
		}
		if _, err := Inspect(path, bytes.Repeat([]byte{1}, 32)); err == nil || !strings.Contains(err.Error(), "not with the key given") {
			t.Errorf("Inspect with another key = %v", err)
		}
	})
}

func slicesClone(s []string) []string { return append([]string(nil), s...) }

func TestOpenWithAGivenKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	key := []byte("a key kept away from the log, 32B")
	l, err := OpenWith(path, Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	l.now = fakeClock(t0)
	mustAppendN(t, l, 2)
	l.Close()
	if _, err := os.Stat(KeyFile(path)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("OpenWith a key made a key file: %v", err)
	}
	if rep, err := Inspect(path, key); err != nil || rep.Entries != 2 || rep.KeyID != KeyID(key) {
		t.Errorf("Inspect = %+v, %v", rep, err)
	}
	if _, err := OpenWith(path, Options{Key: []byte("short")}); err == nil {
		t.Error("OpenWith accepted a 5-byte key")
	}
}

// TestGivenKeyRefusesAMissingCheckpoint: with the key kept away from the data directory, someone
// who deletes the checkpoint and the key file and rewrites the log as one written before keys
// gets it neither verified nor opened; nor is a log written before keys migrated with a key
// given, since it looks the same.
func TestGivenKeyRefusesAMissingCheckpoint(t *testing.T) {
	key := []byte("a key kept away from the log, 32B")
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	l, err := OpenWith(path, Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	l.now = fakeClock(t0)
	mustAppendN(t, l, 5)
	l.Close()
	writeLines(t, path, rechainPlain(t, readLines(t, path), func(e *Entry) { e.Key = "" }))
	os.Remove(CheckpointPath(path))
	if _, err := Inspect(path, key); err == nil || !strings.Contains(err.Error(), "no checkpoint") {
		t.Errorf("Inspect = %v; want no checkpoint", err)
	}
	if l, err := OpenWith(path, Options{Key: key}); err == nil || !strings.Contains(err.Error(), "checkpoint") {
		if l != nil {
			l.Close()
		}
		t.Errorf("OpenWith = %v; want the missing checkpoint refused", err)
	}

	old := filepath.Join(dir, "old.log")
	writeUnkeyed(t, old, 3)
	if l, err := OpenWith(old, Options{Key: key}); err == nil || !strings.Contains(err.Error(), "key file") {
		if l != nil {
			l.Close()
		}
		t.Errorf("OpenWith of a log written before keys = %v; want it refused, pointing to the key file", err)
	}
}
