package audit

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// MinKeySize is the fewest bytes an audit key may have.
const MinKeySize = 16

// KeyFile returns the file beside the log at path that holds its key when none is given:
// audit.key for audit.log.
func KeyFile(path string) string { return strings.TrimSuffix(path, ".log") + ".key" }

// CheckpointPath returns the file beside the log at path that holds its checkpoint:
// audit.checkpoint for audit.log.
func CheckpointPath(path string) string { return strings.TrimSuffix(path, ".log") + ".checkpoint" }

// LoadKey reads the key in file, written as hex. When the file does not exist it returns nil, or,
// when create is set, makes the file (mode 0600) with a new random 32-byte key and returns that.
func LoadKey(file string, create bool) ([]byte, error) {
	key, _, err := loadKey(file, create)
	return key, err
}

// ParseKey reads a key written as hex, as in a key file, of at least MinKeySize bytes.
func ParseKey(s string) ([]byte, error) {
	key, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(key) < MinKeySize {
		return nil, fmt.Errorf("not a key of at least %d bytes written as hex", MinKeySize)
	}
	return key, nil
}

// loadKey is LoadKey, and says whether it made the file.
func loadKey(file string, create bool) (key []byte, created bool, err error) {
	data, err := os.ReadFile(file)
	switch {
	case err == nil:
		key, err := ParseKey(string(data))
		if err != nil {
			return nil, false, fmt.Errorf("audit key file %q: %w", file, err)
		}
		return key, false, nil
	case !errors.Is(err, os.ErrNotExist):
		return nil, false, fmt.Errorf("reading audit key file %q: %w", file, err)
	case !create:
		return nil, false, nil
	}
	key = make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, false, err
	}
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return loadKey(file, false) // made by another process just now
	}
	if err != nil {
		return nil, false, fmt.Errorf("creating audit key file %q: %w", file, err)
	}
	_, err = f.WriteString(hex.EncodeToString(key) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(file)
		return nil, false, fmt.Errorf("writing audit key file %q: %w", file, err)
	}
	syncDir(filepath.Dir(file))
	return key, true, nil
}

// KeyID returns a short public name of key, written into the entries and checkpoints it keys, so
// a log checked with the wrong key says so rather than reporting every entry as altered. It
// reveals nothing of the key.
func KeyID(key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("fixgraph audit key id"))
	return hex.EncodeToString(m.Sum(nil))[:16]
}

// macOf returns hex(HMAC-SHA256(key, prev || canonical)), the hash of a keyed entry.
func macOf(key []byte, prev string, canonical []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(prev))
	m.Write(canonical)
	return hex.EncodeToString(m.Sum(nil))
}

// Checkpoint is a signed record of a log's head, kept in a file of its own beside the log
// (CheckpointPath) and in backups. A log whose last entry is older than its checkpoint's head was
// cut short; one whose entry at the checkpoint's sequence number has another hash was rewritten.
type Checkpoint struct {
	Seq       uint64    `json:"seq"`       // the head's sequence number (0 for an empty log)
	Hash      string    `json:"hash"`      // the head's hash
	Time      time.Time `json:"time"`      // when the checkpoint was written (UTC)
	Key       string    `json:"key"`       // the id (KeyID) of the key that signed it
	KeyedFrom uint64    `json:"keyedFrom"` // the first keyed entry; those before were written before the log had a key
	MAC       string    `json:"mac"`       // hex(HMAC-SHA256(key, the checkpoint's JSON with mac ""))
}

// Sign fills in c.MAC, signing the checkpoint with key, and returns its line (with a newline) as a
// checkpoint file holds it.
func (c *Checkpoint) Sign(key []byte) []byte {
	c.MAC = ""
	canon, _ := json.Marshal(c)
	m := hmac.New(sha256.New, key)
	m.Write(canon)
	c.MAC = hex.EncodeToString(m.Sum(nil))
	line, _ := json.Marshal(c)
	return append(line, '\n')
}

// ParseCheckpoint reads a checkpoint and checks its signature with key. What is wrong is a
// *VerifyError.
func ParseCheckpoint(data, key []byte) (*Checkpoint, error) {
	var c Checkpoint
	if err := json.Unmarshal(bytes.TrimSpace(data), &c); err != nil {
		return nil, &VerifyError{Reason: "checkpoint: bad JSON: " + err.Error()}
	}
	if key == nil {
		return nil, &VerifyError{Reason: fmt.Sprintf("the log has a checkpoint signed with key %s, and no key was given to check it", c.Key)}
	}
	if id := KeyID(key); c.Key != id {
		return nil, &VerifyError{Reason: fmt.Sprintf("checkpoint: signed with key %s, not with the key given (%s)", c.Key, id)}
	}
	stored := c.MAC
	c.Sign(key)
	if !hmac.Equal([]byte(stored), []byte(c.MAC)) {
		return nil, &VerifyError{Reason: "checkpoint: signature mismatch: it was altered or forged"}
	}
	return &c, nil
}

// writeCheckpoint replaces the checkpoint file at path with line, atomically and durably.
func writeCheckpoint(path string, line []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(line)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing audit checkpoint %q: %w", path, err)
	}
	syncDir(filepath.Dir(path))
	return nil
}

// syncDir makes the directory's entries durable (a new or renamed file in it).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// Check holds last, the newest entry of a log, against the checkpoint, as opening a log does: a
// log that ends before the checkpoint's head was cut short; one whose entry at the head hashes
// otherwise was rewritten; an unkeyed newest entry where the checkpoint says the log is keyed
// was written without the key. A checkpoint behind the log is accepted (the entry was written,
// its checkpoint not). What is wrong is a *VerifyError; last itself is checked by [CheckLine].
func (c *Checkpoint) Check(last Entry) error {
	refuse := func(reason string) error {
		return &VerifyError{Seq: last.Seq, Reason: reason + " (run Verify for details)"}
	}
	switch {
	case c.Seq > last.Seq:
		return refuse(fmt.Sprintf("truncated: the log ends at seq %d, but its checkpoint of %s records seq %d: %s",
			last.Seq, c.Time.Format(time.RFC3339), c.Seq, missing(last.Seq, c)))
	case c.Seq == last.Seq && c.Hash != last.Hash:
		return refuse(fmt.Sprintf("rewritten: seq %d hashes to %s, but its checkpoint records %s", c.Seq, short(last.Hash), short(c.Hash)))
	case last.Seq > 0 && last.Seq >= c.KeyedFrom && last.Key == "":
		return refuse(fmt.Sprintf("rewritten: seq %d is not keyed, but the log is keyed from seq %d", last.Seq, c.KeyedFrom))
	}
	return nil
}

// missing says which sequence numbers a log cut short at head lacks, up to the checkpoint's.
func missing(head uint64, cp *Checkpoint) string {
	if cp.Seq == head+1 {
		return fmt.Sprintf("seq %d is missing", cp.Seq)
	}
	return fmt.Sprintf("seq %d–%d are missing", head+1, cp.Seq)
}
