package audit

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock returns a clock that starts at start and advances a minute each time it is read.
func fakeClock(start time.Time) func() time.Time {
	var mu sync.Mutex
	t := start
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Minute)
		return t
	}
}

var t0 = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

// mustOpen opens a log at path with a fake clock and closes it when the test ends.
func mustOpen(tb testing.TB, path string) *Log {
	tb.Helper()
	l, err := Open(path)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	l.now = fakeClock(t0)
	tb.Cleanup(func() { l.Close() })
	return l
}

// mustKey returns the key of the log at path, from the key file beside it.
func mustKey(tb testing.TB, path string) []byte {
	tb.Helper()
	key, err := LoadKey(KeyFile(path), false)
	if err != nil || key == nil {
		tb.Fatalf("the key of %s: %v, %v", path, key, err)
	}
	return key
}

// hmacHex returns hex(HMAC-SHA256(key, prev || canonical)), computed here from the rule the package
// documents.
func hmacHex(key []byte, prev string, canonical []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(prev))
	m.Write(canonical)
	return hex.EncodeToString(m.Sum(nil))
}

// mustAppendN appends n entries and returns them.
func mustAppendN(tb testing.TB, l *Log, n int) []Entry {
	tb.Helper()
	var out []Entry
	for i := range n {
		e, err := l.Append(Entry{
			Actor:  "user:alice",
			Action: "edit",
			Target: fmt.Sprintf("doc:%d", i),
			Detail: map[string]string{"field": "title", "from": "旧标题", "to": "新标题 <b>&"},
			Remote: "203.0.113.7",
		})
		if err != nil {
			tb.Fatalf("Append %d: %v", i, err)
		}
		out = append(out, e)
	}
	return out
}

func readLines(tb testing.TB, path string) []string {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return strings.SplitAfter(string(data), "\n")
}

func writeLines(tb testing.TB, path string, lines []string) {
	tb.Helper()
	if err := os.WriteFile(path, []byte(strings.Join(lines, "")), 0o600); err != nil {
		tb.Fatal(err)
	}
}

func TestAppendVerifyRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l := mustOpen(t, path)
	got := mustAppendN(t, l, 5)
	for i, e := range got {
		if e.Seq != uint64(i+1) {
			t.Errorf("entry %d: seq %d", i, e.Seq)
		}
		if e.Time.Location() != time.UTC || e.Time.IsZero() {
			t.Errorf("entry %d: time %v, want UTC", i, e.Time)
		}
		if i == 0 && e.Prev != "" {
			t.Errorf("first entry: prev %q, want empty", e.Prev)
		}
		if i > 0 && e.Prev != got[i-1].Hash {
			t.Errorf("entry %d: prev %q, want %q", i, e.Prev, got[i-1].Hash)
		}
		if len(e.Hash) != 64 {
			t.Errorf("entry %d: hash %q", i, e.Hash)
		}
	}
	if h := l.Head(); h.Seq != 5 || h.Hash != got[4].Hash {
		t.Errorf("Head = %+v", h)
	}
	n, err := Verify(path)
	if err != nil || n != 5 {
		t.Fatalf("Verify = %d, %v; want 5, nil", n, err)
	}
	stored, err := Entries(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		a, _ := json.Marshal(got[i])
		b, _ := json.Marshal(stored[i])
		if !bytes.Equal(a, b) {
			t.Errorf("entry %d: returned %s, stored %s", i, a, b)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestHashCoversCanonicalJSON(t *testing.T) {
	// The documented rule, recomputed independently: HMAC-SHA256 hex, with the log's key, of prev
	// followed by the JSON of the entry with hash "" (and the key's id).
	path := filepath.Join(t.TempDir(), "audit.log")
	l := mustOpen(t, path)
	es := mustAppendN(t, l, 2)
	key := mustKey(t, path)
	for _, e := range es {
		if e.Key != KeyID(key) {
			t.Errorf("seq %d: key id %q, want %q", e.Seq, e.Key, KeyID(key))
		}
		want := e.Hash
		e.Hash = ""
		canon, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(canon, []byte(`"hash":""`)) {
			t.Errorf("canonical form %s lacks the empty hash field", canon)
		}
		if got := hmacHex(key, e.Prev, canon); got != want {
			t.Errorf("seq %d: hash %s, recomputed %s", e.Seq, want, got)
		}
	}
}

func TestAppendRejectsEntriesWithoutActorOrAction(t *testing.T) {
	l := mustOpen(t, filepath.Join(t.TempDir(), "audit.log"))
	tests := []struct {
		name string
		e    Entry
	}{
		{"no actor", Entry{Action: "signin"}},
		{"no action", Entry{Actor: "user:alice"}},
		{"blank", Entry{Actor: " ", Action: "\t"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := l.Append(tt.e); err == nil {
				t.Error("Append succeeded")
			}
		})
	}
	if h := l.Head(); h.Seq != 0 {
		t.Errorf("rejected entries advanced the head to %+v", h)
	}
}

func TestAppendIgnoresCallerChainFields(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l := mustOpen(t, path)
	e, err := l.Append(Entry{Seq: 42, Prev: "forged", Hash: "forged", Time: time.Unix(0, 0), Actor: "cli", Action: "backup"})
	if err != nil {
		t.Fatal(err)
	}
	if e.Seq != 1 || e.Prev != "" || e.Hash == "forged" || e.Time.Equal(time.Unix(0, 0)) {
		t.Errorf("Append kept caller fields: %+v", e)
	}
	if _, err := Verify(path); err != nil {
		t.Error(err)
	}
}

func TestInvalidUTF8IsHashedAsStored(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l := mustOpen(t, path)
	if _, err := l.Append(Entry{Actor: "user:\xff\xfe", Action: "signin.failed", Detail: map[string]string{"name\xc3": "x\xed\xa0\x80"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(path); err != nil {
		t.Errorf("Verify: %v", err)
	}
}

func TestConcurrentAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l := mustOpen(t, path)
	const workers, each = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				_, err := l.Append(Entry{Actor: fmt.Sprintf("key:%08x", w), Action: "key.use", Target: fmt.Sprint(i)})
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	// A snapshot taken during the appends is a valid log on its own.
	var snap bytes.Buffer
	_, cp, err := l.Snapshot(&snap)
	if err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	n, err := Verify(path)
	if err != nil || n != workers*each {
		t.Fatalf("Verify = %d, %v; want %d, nil", n, err, workers*each)
	}
	entries, err := Entries(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range entries {
		if e.Seq != uint64(i+1) {
			t.Fatalf("line %d has seq %d", i+1, e.Seq)
		}
	}
	if _, err := VerifyReader(&snap, cp, mustKey(t, path)); err != nil {
		t.Errorf("snapshot taken during appends: %v", err)
	}
}

func TestSnapshotIsTheWholeLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l := mustOpen(t, path)
	mustAppendN(t, l, 3)
	var buf bytes.Buffer
	n, cp, err := l.Snapshot(&buf)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(data)) || !bytes.Equal(buf.Bytes(), data) {
		t.Errorf("snapshot of %d bytes differs from the %d-byte file", n, len(data))
	}
	rep, err := VerifyReader(&buf, cp, mustKey(t, path))
	if err != nil || rep.Head != l.Head() || rep.Checkpoint.Seq != 3 {
		t.Errorf("VerifyReader(snapshot) = %+v, %v; want head %+v", rep, err, l.Head())
	}
}

func TestReopenContinuesTheChain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l := mustOpen(t, path)
	first := mustAppendN(t, l, 3)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(Entry{Actor: "cli", Action: "backup"}); err == nil {
		t.Error("Append after Close succeeded")
	}
	l2 := mustOpen(t, path)
	if h := l2.Head(); h.Seq != 3 || h.Hash != first[2].Hash {
		t.Fatalf("reopened head %+v, want seq 3 hash %s", h, first[2].Hash)
	}
	e, err := l2.Append(Entry{Actor: "system", Action: "restore"})
	if err != nil {
		t.Fatal(err)
	}
	if e.Seq != 4 || e.Prev != first[2].Hash {
		t.Errorf("after reopening: seq %d prev %s", e.Seq, e.Prev)
	}
	if n, err := Verify(path); err != nil || n != 4 {
		t.Errorf("Verify = %d, %v; want 4, nil", n, err)
	}
}

// tamper changes a log of five entries.
type tamper func(t *testing.T, lines []string) []string

// tamperKey is the key of the log a tamper changes.
var tamperKey []byte

// rehash rewrites line i with a change and its hash recomputed: with the log's key, or with plain
// SHA-256 as someone without the key would.
func rehash(i int, edit func(e *Entry), keyed bool) tamper {
	return editField(i, func(e *Entry) {
		edit(e)
		e.Hash = ""
		canon, _ := json.Marshal(e)
		if keyed {
			e.Hash = hmacHex(tamperKey, e.Prev, canon)
		} else {
			sum := sha256.Sum256(append([]byte(e.Prev), canon...))
			e.Hash = hex.EncodeToString(sum[:])
		}
	})
}

// editField rewrites line i (0-based) with a change to one field, leaving its hash as it was.
func editField(i int, edit func(e *Entry)) tamper {
	return func(t *testing.T, lines []string) []string {
		var e Entry
		if err := json.Unmarshal([]byte(lines[i]), &e); err != nil {
			t.Fatal(err)
		}
		edit(&e)
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		lines[i] = string(b) + "\n"
		return lines
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	tests := []struct {
		name     string
		tamper   tamper
		line     int    // the line Verify must name
		reason   string // a phrase of its reason
		verified int    // entries that check out before it
	}{
		{"edit a field of a middle entry", editField(2, func(e *Entry) { e.Actor = "user:mallory" }), 3, "hash mismatch", 2},
		{"edit a detail value", editField(1, func(e *Entry) { e.Detail["to"] = "别的标题" }), 2, "hash mismatch", 1},
		{"backdate an entry", editField(3, func(e *Entry) { e.Time = e.Time.Add(-time.Hour) }), 4, "hash mismatch", 3},
		{"rehash an edited entry with the key", rehash(2, func(e *Entry) { e.Action = "publish" }, true), 4, "prev mismatch", 3},
		{"rehash an edited entry with the key and renumber nothing else", rehash(0, func(e *Entry) { e.Remote = "198.51.100.1" }, true), 2, "prev mismatch", 1},
		{"rehash an edited entry with plain SHA-256", rehash(2, func(e *Entry) { e.Action = "publish" }, false), 3, "hash mismatch", 2},
		{"rehash an edited entry as unkeyed", rehash(2, func(e *Entry) { e.Action = "publish"; e.Key = "" }, false), 3, "not keyed", 2},
		{"delete a middle line", func(t *testing.T, lines []string) []string {
			return append(lines[:2:2], lines[3:]...)
		}, 3, "seq gap", 2},
		{"delete the first line", func(t *testing.T, lines []string) []string {
			return lines[1:]
		}, 1, "seq gap", 0},
		{"reorder two lines", func(t *testing.T, lines []string) []string {
			lines[1], lines[2] = lines[2], lines[1]
			return lines
		}, 2, "seq gap", 1},
		{"duplicate a line", func(t *testing.T, lines []string) []string {
			return append(lines[:3:3], lines[2:]...)
		}, 4, "seq gap", 3},
		{"truncate the last line half way", func(t *testing.T, lines []string) []string {
			last := len(lines) - 2 // SplitAfter leaves "" after the final newline
			lines[last] = lines[last][:len(lines[last])/2]
			return lines
		}, 5, "incomplete", 4},
		{"add a field", func(t *testing.T, lines []string) []string {
			lines[2] = strings.Replace(lines[2], `{"seq"`, `{"note":"x","seq"`, 1)
			return lines
		}, 3, "canonical", 2},
		{"add a space", func(t *testing.T, lines []string) []string {
			lines[2] = strings.Replace(lines[2], `"seq":`, `"seq": `, 1)
			return lines
		}, 3, "canonical", 2},
		{"garble JSON", func(t *testing.T, lines []string) []string {
			lines[1] = "{not json\n"
			return lines
		}, 2, "bad JSON", 1},
		{"insert an empty line", func(t *testing.T, lines []string) []string {
			return append(lines[:2:2], append([]string{"\n"}, lines[2:]...)...)
		}, 3, "bad JSON", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "audit.log")
			l := mustOpen(t, path)
			mustAppendN(t, l, 5)
			l.Close()
			tamperKey = mustKey(t, path)
			writeLines(t, path, tt.tamper(t, readLines(t, path)))

			n, err := Verify(path)
			if err == nil {
				t.Fatal("Verify found nothing wrong")
			}
			var ve *VerifyError
			if !errors.As(err, &ve) {
				t.Fatalf("Verify error %v is not a *VerifyError", err)
			}
			if ve.Line != tt.line {
				t.Errorf("Verify named line %d, want %d: %v", ve.Line, tt.line, err)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("line %d", tt.line)) || !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("Verify error %q does not name line %d and %q", err, tt.line, tt.reason)
			}
			if n != tt.verified {
				t.Errorf("Verify counted %d good entries, want %d", n, tt.verified)
			}
		})
	}
}

func TestOpenRefusesACorruptLastLine(t *testing.T) {
	tests := []struct {
		name   string
		tamper tamper
		reason string
	}{
		{"truncated half way", func(t *testing.T, lines []string) []string {
			lines[2] = lines[2][:len(lines[2])/2]
			return lines[:3]
		}, "incomplete"},
		{"missing newline", func(t *testing.T, lines []string) []string {
			lines[2] = strings.TrimSuffix(lines[2], "\n")
			return lines[:3]
		}, "incomplete"},
		{"edited", editField(2, func(e *Entry) { e.Target = "doc:other" }), "hash mismatch"},
		{"garbled", func(t *testing.T, lines []string) []string {
			lines[2] = "garbage\n"
			return lines
		}, "bad JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "audit.log")
			l := mustOpen(t, path)
			mustAppendN(t, l, 3)
			l.Close()
			writeLines(t, path, tt.tamper(t, readLines(t, path)))
			l2, err := Open(path)
			if err == nil {
				l2.Close()
				t.Fatal("Open accepted a corrupt last line")
			}
			if !strings.Contains(err.Error(), tt.reason) || !strings.Contains(err.Error(), "Verify") {
				t.Errorf("Open error %q does not say %q and point to Verify", err, tt.reason)
			}
		})
	}
}

func TestOpenTightensPermissions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	l := mustOpen(t, path)
	mustAppendN(t, l, 1)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestExportSince(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l := mustOpen(t, path)
	es := mustAppendN(t, l, 6) // the fake clock puts them a minute apart
	tests := []struct {
		name  string
		since time.Time
		want  []uint64
	}{
		{"zero since: everything", time.Time{}, []uint64{1, 2, 3, 4, 5, 6}},
		{"at an entry's time: inclusive", es[3].Time, []uint64{4, 5, 6}},
		{"between entries", es[3].Time.Add(time.Second), []uint64{5, 6}},
		{"another time zone", es[4].Time.In(time.FixedZone("CST", 8*3600)), []uint64{5, 6}},
		{"after the last", es[5].Time.Add(time.Hour), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			n, err := Export(path, &buf, tt.since)
			if err != nil {
				t.Fatal(err)
			}
			var got []uint64
			sc := bufio.NewScanner(&buf)
			for sc.Scan() {
				var e Entry
				if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
					t.Fatalf("exported line %q: %v", sc.Text(), err)
				}
				// Exported lines are the stored lines: each still hashes to its own hash.
				if _, reason := decodeLine(sc.Bytes(), mustKey(t, path)); reason != "" {
					t.Errorf("exported seq %d: %s", e.Seq, reason)
				}
				got = append(got, e.Seq)
			}
			if n != len(tt.want) || fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("Export = %d entries %v, want %v", n, got, tt.want)
			}
		})
	}
}

func TestExportNamesABadLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l := mustOpen(t, path)
	mustAppendN(t, l, 3)
	l.Close()
	lines := readLines(t, path)
	lines[1] = "{oops\n"
	writeLines(t, path, lines)
	_, err := Export(path, &bytes.Buffer{}, time.Time{})
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("Export error %v does not name line 2", err)
	}
}

func TestVerifyEmptyLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l := mustOpen(t, path)
	l.Close()
	if n, err := Verify(path); n != 0 || err != nil {
		t.Errorf("Verify(empty) = %d, %v", n, err)
	}
}
