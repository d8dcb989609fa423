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
	Seq     uint64            `json:"seq"`              // 1, 2, 3… assigned by Append
	Time    time.Time         `json:"time"`             // assigned by Append (UTC)
	Actor   string            `json:"actor"`            // who: "key:ab12cd34 (bot-wechat)", "user:alice", "system", "cli"
	Action  string            `json:"action"`           // e.g. "signin", "key.create", "upload", "publish", "role.change"
	Target  string            `json:"target,omitempty"` // what it acted on: a job id, document id, key id, user name
	Detail  map[string]string `json:"detail,omitempty"`
	Remote  string            `json:"remote,omitempty"`  // client address
	Replica string            `json:"replica,omitempty"` // the process that wrote it, in a chain that several share (package postgres)
	Key     string            `json:"key,omitempty"`     // id (KeyID) of the key that keyed Hash; "" for entries written before the log had a key
	Prev    string            `json:"prev"`              // hash of the previous entry ("" for the first)
	Hash    string            `json:"hash"`              // HMAC-SHA256 (or, unkeyed, SHA-256) hex over prev + the entry's canonical JSON without hash
}

// Head is the newest entry of a log as far as its chain goes: its sequence number and hash. Kept
// outside the log, it shows whether entries were later cut off the end.
type Head struct {
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
}

// Log is an open audit log. Its methods are safe for concurrent use.
type Log struct {
	path   string
	cpPath string           // its checkpoint file
	key    []byte           // the HMAC key
	keyID  string           // KeyID(key)
	newKey bool             // the key file was made by this Open: the log never had a key
	now    func() time.Time // the clock; tests in this package replace it

	mu     sync.Mutex
	f      *os.File
	size   int64 // bytes of whole entries written so far
	head   Head
	last   Entry      // the entry at head (zero for an empty log)
	cp     Checkpoint // the checkpoint last written
	broken error      // set when a failed write could not be undone; appends then fail
}

// Options says how [OpenWith] opens a log.
type Options struct {
	// Key is the HMAC key of the chain. Nil means the key in KeyFile(path), made with a random key
	// the first time.
	Key []byte
}

// Open creates the log at path, or opens it to append to, keyed with the key in the key file
// beside it (made the first time). See [OpenWith].
func Open(path string) (*Log, error) { return OpenWith(path, Options{}) }

// OpenWith creates the log at path, or opens it to append to. It reads the last line to continue
// the chain and refuses a log whose last line is incomplete or does not check out, because
// appending to it would hide the damage; [Verify] finds the first bad line. It also refuses a log
// that its checkpoint (CheckpointPath) shows was cut short or rewritten, a keyed log whose
// checkpoint is gone, and a checkpoint that is not signed with the key.
//
// A log written before logs were keyed (no checkpoint, unkeyed entries) is migrated when it is
// first opened with the key file, which Open then makes: its entries stay as they are, and keying
// starts with the next entry; the checkpoint, written at once, records where. Given a key (or a
// key file that exists already), such a log is refused instead, since deleting the checkpoint and
// rewriting a keyed log as an unkeyed one would look the same; open it once with the key file,
// then move the key elsewhere.
func OpenWith(path string, opt Options) (*Log, error) {
	key, newKey := opt.Key, false
	if key == nil {
		var err error
		if key, newKey, err = loadKey(KeyFile(path), true); err != nil {
			return nil, fmt.Errorf("opening audit log %q: %w", path, err)
		}
	}
	if len(key) < MinKeySize {
		return nil, fmt.Errorf("opening audit log %q: the audit key has %d bytes; it needs at least %d", path, len(key), MinKeySize)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening audit log %q: %w", path, err)
	}
	l := &Log{path: path, cpPath: CheckpointPath(path), key: key, keyID: KeyID(key), newKey: newKey, now: time.Now, f: f}
	for _, step := range []func() error{l.init, l.anchor} {
		if err := step(); err != nil {
			f.Close()
			return nil, fmt.Errorf("opening audit log %q: %w", path, err)
		}
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
	e, reason := decodeLine(line, l.key)
	if reason != "" {
		return &VerifyError{Seq: e.Seq, Reason: "last line: " + reason + " (run Verify to find the first bad line)"}
	}
	l.head, l.last = Head{Seq: e.Seq, Hash: e.Hash}, e
	return nil
}

// anchor reads the checkpoint and holds the log's head against it, or writes the first one.
func (l *Log) anchor() error {
	data, err := os.ReadFile(l.cpPath)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("reading audit checkpoint %q: %w", l.cpPath, err)
	}
	refuse := func(reason string) error {
		return &VerifyError{Seq: l.head.Seq, Reason: reason + " (run Verify for details)"}
	}
	keyedFrom := l.head.Seq + 1 // a new log, or one written before it had a key
	if data != nil {
		cp, err := ParseCheckpoint(data, l.key)
		if err != nil {
			return err
		}
		if err := cp.Check(l.last); err != nil {
			return err
		}
		keyedFrom = cp.KeyedFrom
		if cp.Seq == l.head.Seq {
			l.cp = *cp
			return nil
		}
		// Behind the log: an append's checkpoint did not get written. Catch up.
	} else if l.last.Key != "" {
		return refuse(fmt.Sprintf("the checkpoint %s is missing, though the log is keyed: it was deleted, or not copied with the log", l.cpPath))
	} else if l.head.Seq > 0 && !l.newKey {
		return refuse(fmt.Sprintf("the checkpoint %s is missing, though the log has a key: it was deleted and the log perhaps rewritten; "+
			"or the log was written before logs were keyed, and to start keying it, open it once with the key file (%s) rather than a key given",
			l.cpPath, KeyFile(l.path)))
	}
	cp := Checkpoint{Seq: l.head.Seq, Hash: l.head.Hash, Time: l.now().UTC(), Key: l.keyID, KeyedFrom: keyedFrom}
	if err := writeCheckpoint(l.cpPath, cp.Sign(l.key)); err != nil {
		return err
	}
	l.cp = cp
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
	if err := checkEntry(e); err != nil {
		return Entry{}, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return Entry{}, fmt.Errorf("appending to audit log %q: the log is closed", l.path)
	}
	if l.broken != nil {
		return Entry{}, fmt.Errorf("appending to audit log %q: an earlier write failed and could not be undone: %w", l.path, l.broken)
	}
	e, line, err := Seal(e, l.head, l.now(), l.key)
	if err != nil {
		return Entry{}, err
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
	l.head, l.last = Head{Seq: e.Seq, Hash: e.Hash}, e
	cp := Checkpoint{Seq: e.Seq, Hash: e.Hash, Time: e.Time, Key: l.keyID, KeyedFrom: l.cp.KeyedFrom}
	if err := writeCheckpoint(l.cpPath, cp.Sign(l.key)); err != nil {
		// The entry is written; the checkpoint stays one behind, which Verify accepts.
		return e, fmt.Errorf("audit entry %d is written, but its checkpoint is not: %w", e.Seq, err)
	}
	l.cp = cp
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

// Snapshot writes a consistent copy of the whole log so far to w, for backups, and returns its
// size and the checkpoint of the copy (the file's contents), to keep with it: restored together,
// the two verify as the log does. It holds the append lock while it copies, so the copy ends
// with a whole entry and appends wait until it is done.
func (l *Log) Snapshot(w io.Writer) (n int64, checkpoint []byte, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return 0, nil, fmt.Errorf("copying audit log %q: the log is closed", l.path)
	}
	n, err = io.Copy(w, io.NewSectionReader(l.f, 0, l.size))
	if err != nil {
		return n, nil, fmt.Errorf("copying audit log %q: %w", l.path, err)
	}
	cp := l.cp
	return n, cp.Sign(l.key), nil
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

// Chain is an audit chain that fixgraph appends to and backs up: a [Log] in a file of the data
// directory, or the one chain that replicas sharing their state keep in PostgreSQL (package
// postgres). Both store the lines [Seal] makes, and their snapshots verify with [VerifyReader].
type Chain interface {
	// Append writes e as the next entry and returns it as written (see [Log.Append]).
	Append(e Entry) (Entry, error)
	// Head returns the sequence number and hash of the newest entry.
	Head() Head
	// Snapshot writes a consistent copy of the whole chain to w, one line an entry as a log file
	// holds them, and returns its size and the signed checkpoint of the copy.
	Snapshot(w io.Writer) (n int64, checkpoint []byte, err error)
	Close() error
}

var _ Chain = (*Log)(nil)

// Seal makes e the entry after head in a chain keyed with key, written at now, and returns it with
// its line (without a newline) exactly as a log stores it. It refuses an entry without an actor or
// an action (EINVALID), makes its strings valid UTF-8, ignores the Seq, Time, Prev, Key and Hash
// given, sets them, and keeps Replica. Every storage of a chain seals its entries with it, so
// that their lines verify alike.
func Seal(e Entry, head Head, now time.Time, key []byte) (Entry, []byte, error) {
	if err := checkEntry(e); err != nil {
		return Entry{}, nil, err
	}
	if len(key) < MinKeySize {
		return Entry{}, nil, fmt.Errorf("sealing an audit entry: the key has %d bytes; it needs at least %d", len(key), MinKeySize)
	}
	e.Actor, e.Action = validUTF8(e.Actor), validUTF8(e.Action)
	e.Target, e.Remote, e.Replica = validUTF8(e.Target), validUTF8(e.Remote), validUTF8(e.Replica)
	if len(e.Detail) > 0 {
		d := make(map[string]string, len(e.Detail))
		for k, v := range e.Detail {
			d[validUTF8(k)] = validUTF8(v)
		}
		e.Detail = d
	} else {
		e.Detail = nil
	}
	e.Seq, e.Time, e.Prev, e.Key = head.Seq+1, now.UTC(), head.Hash, KeyID(key)
	e.Hash = ""
	canon, err := json.Marshal(&e)
	if err != nil {
		return Entry{}, nil, fmt.Errorf("encoding audit entry %d: %w", e.Seq, err)
	}
	e.Hash = macOf(key, e.Prev, canon)
	line, err := json.Marshal(&e)
	if err != nil {
		return Entry{}, nil, fmt.Errorf("encoding audit entry %d: %w", e.Seq, err)
	}
	return e, line, nil
}

// checkEntry refuses an entry without an actor or an action.
func checkEntry(e Entry) error {
	if strings.TrimSpace(e.Actor) == "" || strings.TrimSpace(e.Action) == "" {
		return fixgraph.Errorf(fixgraph.EINVALID, "an audit entry needs an actor and an action")
	}
	return nil
}

// CheckLine reads one stored line (without its newline) and checks it on its own: that it is the
// canonical JSON of an entry and that its hash matches its content, keyed with key. Where it
// stands in its chain (seq, prev) is for [VerifyReader] to check. What is wrong is a *VerifyError.
func CheckLine(line, key []byte) (Entry, error) {
	e, reason := decodeLine(line, key)
	if reason != "" {
		return e, &VerifyError{Seq: e.Seq, Reason: reason}
	}
	return e, nil
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
// its hash matches its content: HMAC-SHA256 with key for a keyed entry, SHA-256 for one written
// before the log had a key. It returns what is wrong, or "". The chain (seq, prev) and which
// entries must be keyed are checked by the caller.
func decodeLine(line []byte, key []byte) (Entry, string) {
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
	switch {
	case e.Key == "":
		if want := hashOf(e.Prev, canon); stored != want {
			return e, fmt.Sprintf("hash mismatch: stored %s, content hashes to %s", short(stored), short(want))
		}
	case key == nil:
		return e, fmt.Sprintf("the entry is keyed with key %s, and no key was given to check it", e.Key)
	case e.Key != KeyID(key):
		return e, fmt.Sprintf("the entry is keyed with key %s, not with the key given (%s)", e.Key, KeyID(key))
	default:
		if want := macOf(key, e.Prev, canon); !hmac.Equal([]byte(stored), []byte(want)) {
			return e, fmt.Sprintf("hash mismatch: stored %s, the content and the key give %s (HMAC-SHA256)", short(stored), short(want))
		}
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

// Report is what [Inspect] found of a log.
type Report struct {
	Entries    int         // entries that check out, from the first on
	Head       Head        // the last of them
	Unkeyed    int         // of them, written before the log had a key: chained by SHA-256 alone
	KeyID      string      // the id of the key that keyed the others; "" when none is keyed
	Checkpoint *Checkpoint // the checkpoint the log was held against; nil when it has none
}

// Verify reads the whole log at path and checks it (see [Inspect]) with the key in the key file
// beside it, when there is one. It returns how many entries check out from the start; err, a
// *VerifyError inside, names the first bad line or what is missing.
func Verify(path string) (n int, err error) {
	r, err := Inspect(path, nil)
	return r.Entries, err
}

// Inspect reads the whole log at path and checks every line: that it is canonical JSON, that its
// hash matches its content (HMAC-SHA256 with key for keyed entries), that sequence numbers run
// 1, 2, 3… without gaps and that each entry's Prev is the hash of the entry before; and it holds
// the log against its checkpoint (CheckpointPath): the checkpoint's signature, its head (a log
// that ends before it was cut short; one whose entry there hashes otherwise was rewritten) and
// where keying began (entries from there on must be keyed, the ones before must not). A nil key
// means the key in the key file beside the log; with neither, only an unkeyed log without a
// checkpoint, as logs were before keys, checks out.
//
// The report counts the entries that check out from the start and says how many of them were
// written before the log had a key; err, a *VerifyError inside, names the first bad line or what
// is missing.
func Inspect(path string, key []byte) (Report, error) {
	wrap := func(err error) error { return fmt.Errorf("verifying audit log %q: %w", path, err) }
	if key == nil {
		var err error
		if key, err = LoadKey(KeyFile(path), false); err != nil {
			return Report{}, wrap(err)
		}
	}
	checkpoint, err := os.ReadFile(CheckpointPath(path))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return Report{}, wrap(err)
	}
	f, err := os.Open(path)
	if err != nil {
		return Report{}, wrap(err)
	}
	defer f.Close()
	r, err := VerifyReader(f, checkpoint, key)
	if err != nil {
		return r, wrap(err)
	}
	return r, nil
}

// VerifyReader is [Inspect] for a log read from r and its checkpoint (nil when it has none), such
// as the two a backup holds (see [Log.Snapshot]).
func VerifyReader(r io.Reader, checkpoint []byte, key []byte) (Report, error) {
	var rep Report
	var cp *Checkpoint
	if checkpoint != nil {
		var err error
		if cp, err = ParseCheckpoint(checkpoint, key); err != nil {
			return rep, err
		}
		rep.Checkpoint = cp
	}
	lines := 0
	err := eachLine(r, func(no int, line []byte, complete bool) error {
		lines = no
		e, reason := decodeLine(line, key)
		head := rep.Head
		keyed := e.Key != ""
		switch {
		case !complete:
			return &VerifyError{Line: no, Seq: e.Seq, Reason: incompleteReason(line, key)}
		case reason != "":
			return &VerifyError{Line: no, Seq: e.Seq, Reason: reason}
		case e.Seq != head.Seq+1:
			return &VerifyError{Line: no, Seq: e.Seq, Reason: fmt.Sprintf("seq gap: expected seq %d after seq %d", head.Seq+1, head.Seq)}
		case e.Prev != head.Hash:
			return &VerifyError{Line: no, Seq: e.Seq, Reason: fmt.Sprintf("prev mismatch: prev is %s, the entry before hashes to %s", short(e.Prev), short(head.Hash))}
		case cp != nil && !keyed && e.Seq >= cp.KeyedFrom:
			return &VerifyError{Line: no, Seq: e.Seq, Reason: fmt.Sprintf("not keyed, but the log is keyed from seq %d (its checkpoint says so): rewritten without the key?", cp.KeyedFrom)}
		case cp != nil && keyed && e.Seq < cp.KeyedFrom:
			return &VerifyError{Line: no, Seq: e.Seq, Reason: fmt.Sprintf("keyed, but the log is keyed only from seq %d (its checkpoint says so)", cp.KeyedFrom)}
		case cp == nil && !keyed && rep.KeyID != "":
			return &VerifyError{Line: no, Seq: e.Seq, Reason: "not keyed, after keyed entries"}
		case cp != nil && e.Seq == cp.Seq && e.Hash != cp.Hash:
			return &VerifyError{Line: no, Seq: e.Seq, Reason: fmt.Sprintf("rewritten: hashes to %s, but the checkpoint of %s records %s",
				short(e.Hash), cp.Time.Format(time.RFC3339), short(cp.Hash))}
		}
		if keyed {
			rep.KeyID = e.Key
		} else {
			rep.Unkeyed++
		}
		rep.Head = Head{Seq: e.Seq, Hash: e.Hash}
		rep.Entries++
		return nil
	})
	switch {
	case err != nil:
		return rep, err
	case cp != nil && cp.Seq > rep.Head.Seq:
		return rep, &VerifyError{Line: lines + 1, Seq: rep.Head.Seq + 1, Reason: fmt.Sprintf("truncated: the log ends at seq %d, but its checkpoint of %s records seq %d: %s",
			rep.Head.Seq, cp.Time.Format(time.RFC3339), cp.Seq, missing(rep.Head.Seq, cp))}
	case cp == nil && rep.KeyID != "":
		return rep, &VerifyError{Line: lines + 1, Reason: "the log is keyed, but its checkpoint is missing: it was deleted, or not copied with the log"}
	case cp == nil && key != nil && rep.Entries > 0:
		return rep, &VerifyError{Line: lines + 1, Reason: "the log has a key but no checkpoint: the checkpoint was deleted and the log perhaps rewritten " +
			"(a log written before logs were keyed gets its checkpoint when it is first opened with its key file)"}
	}
	return rep, nil
}

// incompleteReason describes a last line without a newline.
func incompleteReason(line []byte, key []byte) string {
	if _, reason := decodeLine(line, key); reason != "" {
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
	n, err := ExportReader(f, w, since)
	if err != nil {
		return n, fmt.Errorf("exporting audit log %q: %w", path, err)
	}
	return n, nil
}

// ExportReader is [Export] for a log read from r, such as a snapshot of a chain kept elsewhere.
func ExportReader(r io.Reader, w io.Writer, since time.Time) (int, error) {
	bw := bufio.NewWriter(w)
	n := 0
	err := eachLine(r, func(no int, line []byte, complete bool) error {
		var e Entry
		if !complete {
			return &VerifyError{Line: no, Reason: incompleteReason(line, nil)}
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
	return n, err
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
			return &VerifyError{Line: no, Reason: incompleteReason(line, nil)}
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
