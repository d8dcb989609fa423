package audit

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fixgraph/fixgraph"
)

// Entry is one audited event.
type Entry struct {
	Seq    uint64            `json:"seq"`              // 1, 2, 3… assigned by Append
	Time   time.Time         `json:"time"`             // assigned by Append (UTC)
	Actor  string            `json:"actor"`            // who: "key:ab12cd34 (bot-wechat)", "user:alice", "system", "cli"
	Action string            `json:"action"`           // e.g. "signin", "key.create", "upload", "publish", "role.change"
	Target string            `json:"target,omitempty"` // what it acted on: a job id, document id, key id, user name
	Detail map[string]string `json:"detail,omitempty"`
	Remote string            `json:"remote,omitempty"` // client address
	Prev   string            `json:"prev"`             // hash of the previous entry ("" for the first)
	Hash   string            `json:"hash"`             // sha256 hex over prev + the entry's canonical JSON without hash
}

// Head is the newest entry of a log as far as its chain goes: its sequence number and hash. Kept
// outside the log, it shows whether entries were later cut off the end.
type Head struct {
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
}

// Log is an open audit log. Its methods are safe for concurrent use.
type Log struct {
	path string
	now  func() time.Time // the clock; tests in this package replace it

	mu     sync.Mutex
	f      *os.File
	size   int64 // bytes of whole entries written so far
	head   Head
	broken error // set when a failed write could not be undone; appends then fail
}

// Open creates the log at path, or opens it to append to. It reads the last line to continue the
// chain and refuses a log whose last line is incomplete or does not check out, because appending
// to it would hide the damage; [Verify] finds the first bad line.
func Open(path string) (*Log, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening audit log %q: %w", path, err)
	}
	l := &Log{path: path, now: time.Now, f: f}
	if err := l.init(); err != nil {
		f.Close()
		return nil, fmt.Errorf("opening audit log %q: %w", path, err)
	}
	return l, nil
}

func (l *Log) init() error {
	fi, err := l.f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("not a regular file")
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := l.f.Chmod(0o600); err != nil {
			return fmt.Errorf("restricting permissions to 0600: %w", err)
		}
	}
	l.size = fi.Size()
	if l.size == 0 {
		// A new file: make its directory entry durable too.
		if d, err := os.Open(filepath.Dir(l.path)); err == nil {
			d.Sync()
			d.Close()
		}
		return nil
	}
	line, err := lastLine(l.f, l.size)
	if err != nil {
		return err
	}
	e, reason := decodeLine(line)
	if reason != "" {
		return &VerifyError{Seq: e.Seq, Reason: "last line: " + reason + " (run Verify to find the first bad line)"}
	}
	l.head = Head{Seq: e.Seq, Hash: e.Hash}
	return nil
}

// lastLine returns the last line of a file of size bytes without its newline. A file that does not
// end in a newline was cut off in the middle of a line.
func lastLine(f *os.File, size int64) ([]byte, error) {
	const chunk = 4096
	var tail []byte
	for off := size; off > 0; {
		n := min(int64(chunk), off)
		off -= n
		buf := make([]byte, n)
		if _, err := f.ReadAt(buf, off); err != nil {
			return nil, fmt.Errorf("reading the end of the log: %w", err)
		}
		tail = append(buf, tail...)
		if len(tail) > 0 && tail[len(tail)-1] != '\n' {
			return nil, &VerifyError{Reason: "the last line is incomplete: the file does not end in a newline (run Verify to find the first bad line)"}
		}
		if i := bytes.LastIndexByte(tail[:len(tail)-1], '\n'); i >= 0 {
			return tail[i+1 : len(tail)-1], nil
		}
	}
	return tail[:len(tail)-1], nil
}

// Append writes e as the next entry and returns it as written: with its sequence number, time, the
// previous entry's hash and its own. Seq, Time, Prev and Hash given by the caller are ignored.
// The entry is on disk (fsynced) when Append returns.
func (l *Log) Append(e Entry) (Entry, error) {
	if strings.TrimSpace(e.Actor) == "" || strings.TrimSpace(e.Action) == "" {
		return Entry{}, fixgraph.Errorf(fixgraph.EINVALID, "an audit entry needs an actor and an action")
	}
	e.Actor, e.Action = validUTF8(e.Actor), validUTF8(e.Action)
	e.Target, e.Remote = validUTF8(e.Target), validUTF8(e.Remote)
	if len(e.Detail) > 0 {
		d := make(map[string]string, len(e.Detail))
		for k, v := range e.Detail {
			d[validUTF8(k)] = validUTF8(v)
		}
		e.Detail = d
	} else {
		e.Detail = nil
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return Entry{}, fmt.Errorf("appending to audit log %q: the log is closed", l.path)
	}
	if l.broken != nil {
		return Entry{}, fmt.Errorf("appending to audit log %q: an earlier write failed and could not be undone: %w", l.path, l.broken)
	}
	e.Seq = l.head.Seq + 1
	e.Time = l.now().UTC()
	e.Prev = l.head.Hash
	line, err := seal(&e)
	if err != nil {
		return Entry{}, fmt.Errorf("encoding audit entry %d: %w", e.Seq, err)
	}
	line = append(line, '\n')
	if _, err := l.f.Write(line); err != nil {
		l.undo(err)
		return Entry{}, fmt.Errorf("writing audit entry %d: %w", e.Seq, err)
	}
	if err := l.f.Sync(); err != nil {
		// The entry may or may not be on disk; taking it back keeps the chain honest.
		l.undo(err)
		return Entry{}, fmt.Errorf("syncing audit entry %d: %w", e.Seq, err)
	}
	l.size += int64(len(line))
	l.head = Head{Seq: e.Seq, Hash: e.Hash}
	return e, nil
}

// undo cuts the file back to its last whole entry after a failed write. If that fails too, the log
// refuses further appends rather than chain onto a broken line.
func (l *Log) undo(cause error) {
	if err := l.f.Truncate(l.size); err != nil {
		l.broken = errors.Join(cause, err)
		return
	}
	if err := l.f.Sync(); err != nil {
		l.broken = errors.Join(cause, err)
	}
}

// Head returns the sequence number and hash of the newest entry; both are zero for an empty log.
func (l *Log) Head() Head {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.head
}

// Snapshot writes a consistent copy of the whole log so far to w, for backups. It holds the append
// lock while it copies, so the copy ends with a whole entry and appends wait until it is done.
func (l *Log) Snapshot(w io.Writer) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return 0, fmt.Errorf("copying audit log %q: the log is closed", l.path)
	}
	n, err := io.Copy(w, io.NewSectionReader(l.f, 0, l.size))
	if err != nil {
		return n, fmt.Errorf("copying audit log %q: %w", l.path, err)
	}
	return n, nil
}

// Close closes the log. Appends after Close fail.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	if err != nil {
		return fmt.Errorf("closing audit log %q: %w", l.path, err)
	}
	return nil
}

// seal fills in e.Hash and returns the entry's line without its newline.
func seal(e *Entry) ([]byte, error) {
	e.Hash = ""
	canon, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	e.Hash = hashOf(e.Prev, canon)
	return json.Marshal(e)
}

// hashOf returns hex(sha256(prev || canonical)).
func hashOf(prev string, canonical []byte) string {
	h := sha256.New()
	h.Write([]byte(prev))
	h.Write(canonical)
	return hex.EncodeToString(h.Sum(nil))
}

func validUTF8(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

// decodeLine parses one line (without its newline) and checks that it is in canonical form and that
// its hash matches its content. It returns what is wrong, or "". The chain (seq, prev) is checked by
// the caller.
func decodeLine(line []byte) (Entry, string) {
	var e Entry
	if len(bytes.TrimSpace(line)) == 0 {
		return e, "bad JSON: empty line"
	}
	if err := json.Unmarshal(line, &e); err != nil {
		return Entry{}, "bad JSON: " + err.Error()
	}
	stored := e.Hash
	e.Hash = ""
	canon, err := json.Marshal(&e)
	if err != nil {
		return e, "cannot re-encode entry: " + err.Error()
	}
	e.Hash = stored
	if want := hashOf(e.Prev, canon); stored != want {
		return e, fmt.Sprintf("hash mismatch: stored %s, content hashes to %s", short(stored), short(want))
	}
	full, err := json.Marshal(&e)
	if err != nil {
		return e, "cannot re-encode entry: " + err.Error()
	}
	if !bytes.Equal(full, line) {
		return e, "line is not in canonical form (extra fields, duplicate keys, spacing or escaping changed)"
	}
	if e.Seq == 0 {
		return e, "seq 0: sequence numbers start at 1"
	}
	return e, ""
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12] + "…"
	}
	if h == "" {
		return `""`
	}
	return h
}

// VerifyError says which line of a log is the first bad one and what is wrong with it.
type VerifyError struct {
	Line   int    // 1-based line number; 0 when not known (Open reads only the last line)
	Seq    uint64 // the sequence number the line claims; 0 when it cannot be read
	Reason string // bad JSON, seq gap, prev mismatch, hash mismatch, …
}

// Error returns "line N (seq S): reason".
func (e *VerifyError) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d", e.Line)
	}
	if e.Seq > 0 {
		if b.Len() > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "(seq %d)", e.Seq)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(e.Reason)
	return b.String()
}

// Verify reads the whole log at path and checks every line: that it is canonical JSON, that its
// hash matches its content, that sequence numbers run 1, 2, 3… without gaps and that each entry's
// Prev is the hash of the entry before. It returns how many entries check out from the start; err,
// a *VerifyError inside, names the first bad line. A file of whole, chained entries verifies even
// if newer entries were cut off at a line boundary: compare with a [Head] kept elsewhere for that.
func Verify(path string) (n int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("verifying audit log %q: %w", path, err)
	}
	defer f.Close()
	head, err := VerifyReader(f)
	if err != nil {
		return int(head.Seq), fmt.Errorf("verifying audit log %q: %w", path, err)
	}
	return int(head.Seq), nil
}

// VerifyReader is [Verify] for a log read from r, such as a backup made by [Log.Snapshot]. It
// returns the head of the chain up to the first bad line.
func VerifyReader(r io.Reader) (Head, error) {
	var head Head
	err := eachLine(r, func(no int, line []byte, complete bool) error {
		e, reason := decodeLine(line)
		switch {
		case !complete:
			return &VerifyError{Line: no, Seq: e.Seq, Reason: incompleteReason(line)}
		case reason != "":
			return &VerifyError{Line: no, Seq: e.Seq, Reason: reason}
		case e.Seq != head.Seq+1:
			return &VerifyError{Line: no, Seq: e.Seq, Reason: fmt.Sprintf("seq gap: expected seq %d after seq %d", head.Seq+1, head.Seq)}
		case e.Prev != head.Hash:
			return &VerifyError{Line: no, Seq: e.Seq, Reason: fmt.Sprintf("prev mismatch: prev is %s, the entry before hashes to %s", short(e.Prev), short(head.Hash))}
		}
		head = Head{Seq: e.Seq, Hash: e.Hash}
		return nil
	})
	return head, err
}

// incompleteReason describes a last line without a newline.
func incompleteReason(line []byte) string {
	if _, reason := decodeLine(line); reason != "" {
		return "the last line is incomplete (truncated?): " + reason
	}
	return "the last line is incomplete (truncated?): no newline at the end"
}

// eachLine calls fn with each line of r, numbered from 1, without its newline. complete is false
// for a last line that does not end in a newline. It stops at the first error fn returns.
func eachLine(r io.Reader, fn func(no int, line []byte, complete bool) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	for no := 1; ; no++ {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			complete := line[len(line)-1] == '\n'
			if complete {
				line = line[:len(line)-1]
			}
			if ferr := fn(no, line, complete); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading line %d: %w", no, err)
		}
	}
}

// Export copies to w the entries of the log at path whose time is at or after since, as they are
// stored (JSON lines, so a copy of whole entries keeps their hashes), and returns how many it
// copied. A zero since copies every entry. Export reads lines as JSON but does not check the chain;
// run [Verify] for that. A line that is not JSON stops it with an error that names the line.
func Export(path string, w io.Writer, since time.Time) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("exporting audit log %q: %w", path, err)
	}
	defer f.Close()
	bw := bufio.NewWriter(w)
	n := 0
	err = eachLine(f, func(no int, line []byte, complete bool) error {
		var e Entry
		if !complete {
			return &VerifyError{Line: no, Reason: incompleteReason(line)}
		}
		if err := json.Unmarshal(line, &e); err != nil {
			return &VerifyError{Line: no, Reason: "bad JSON: " + err.Error()}
		}
		if e.Time.Before(since) {
			return nil
		}
		if _, err := bw.Write(line); err != nil {
			return err
		}
		if err := bw.WriteByte('\n'); err != nil {
			return err
		}
		n++
		return nil
	})
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return n, fmt.Errorf("exporting audit log %q: %w", path, err)
	}
	return n, nil
}

// Entries reads the entries of the log at path, for display and tests. It does not check the
// chain; run [Verify] for that.
func Entries(path string) ([]Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading audit log %q: %w", path, err)
	}
	defer f.Close()
	var out []Entry
	err = eachLine(f, func(no int, line []byte, complete bool) error {
		var e Entry
		if !complete {
			return &VerifyError{Line: no, Reason: incompleteReason(line)}
		}
		if err := json.Unmarshal(line, &e); err != nil {
			return &VerifyError{Line: no, Reason: "bad JSON: " + err.Error()}
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("reading audit log %q: %w", path, err)
	}
	return out, nil
}
