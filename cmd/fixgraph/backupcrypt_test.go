package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/fixgraph/fixgraph"
)

// mustIdentity generates an age X25519 identity and writes it to an identity file, as
// age-keygen does.
func mustIdentity(tb testing.TB) (*age.X25519Identity, string) {
	tb.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		tb.Fatal(err)
	}
	file := filepath.Join(tb.TempDir(), "key.txt")
	key := "# created: for a test\n# public key: " + id.Recipient().String() + "\n" + id.String() + "\n"
	if err := os.WriteFile(file, []byte(key), 0o600); err != nil {
		tb.Fatal(err)
	}
	return id, file
}

// restoreErr runs restore and returns its error.
func restoreErr(args ...string) error {
	var stdout, stderr bytes.Buffer
	return run(context.Background(), append([]string{"restore"}, args...), &stdout, &stderr)
}

// TestEncryptedBackup backs up the demo corpus encrypted with age to a generated X25519 key,
// restores it with the key's identity file and asks the 90 fixture questions there: every answer
// is the original's, and the audit checkpoint inside the encrypted backup still anchors the log.
// The file holds nothing readable. Restores without an identity, with another one, or of a file
// with one byte changed (header, middle, last byte), cut short or with bytes added fail with a
// clear error, and leave the target directory as it was and nothing beside it.
func TestEncryptedBackup(t *testing.T) {
	ctx := context.Background()
	orig := filepath.Join(t.TempDir(), "data")
	a := mustOpenApp(t, orig)
	if _, err := a.loadFixtures(ctx); err != nil {
		t.Fatal(err)
	}
	want := fixtureAnswers(t, a)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	id, idFile := mustIdentity(t)
	other, otherFile := mustIdentity(t)
	tmp := t.TempDir()

	// --out without .age gets it; the archive inside is compressed as the name says.
	out := MustRun(t, "backup", "--data", orig, "--out", filepath.Join(tmp, "b.tar.gz"), "--recipient", id.Recipient().String())
	file := filepath.Join(tmp, "b.tar.gz.age")
	if !strings.Contains(out, "encrypted with age to 1 recipient") || !strings.Contains(out, file) {
		t.Errorf("backup printed %q", out)
	}
	if _, err := os.Stat(filepath.Join(tmp, "b.tar.gz")); err == nil {
		t.Errorf("an encrypted backup was also written without .age")
	}

	t.Run("restore", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "restored")
		out := MustRun(t, "restore", "--data", dir, "--identity", idFile, file)
		if !strings.Contains(out, "text index was rebuilt") {
			t.Errorf("restore printed %q", out)
		}
		r := mustOpenApp(t, dir)
		defer r.Close()
		checkIndexed(t, r)
		sameAnswers(t, "restored encrypted backup", fixtureAnswers(t, r), want)
	})

	t.Run("audit checkpoint", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		err := run(ctx, []string{"audit", "verify", "--data", orig, "--checkpoint", file, "--identity", idFile}, &stdout, &stderr)
		if err != nil || !strings.Contains(stdout.String(), "holds the checkpoint in "+file) {
			t.Errorf("audit verify against the encrypted backup's checkpoint = %v\n%s%s", err, stdout.String(), stderr.String())
		}
		stdout.Reset()
		err = run(ctx, []string{"audit", "verify", "--data", orig, "--checkpoint", file}, &stdout, &stderr)
		if fixgraph.CodeOf(err) != fixgraph.EINVALID || !strings.Contains(message(err), "--identity") {
			t.Errorf("audit verify against an encrypted backup without an identity = %v", err)
		}
	})

	// A recipients file names several keys, as age's -R does: either identity restores. The
	// plain tar holds its parts' names and text; the encrypted one holds neither.
	recipients := filepath.Join(tmp, "recipients.txt")
	list := "# the backup keys\n" + other.Recipient().String() + "\n\n" + id.Recipient().String() + "\n"
	if err := os.WriteFile(recipients, []byte(list), 0o600); err != nil {
		t.Fatal(err)
	}
	plainTar := filepath.Join(tmp, "multi.tar.age")
	if out := MustRun(t, "backup", "--data", orig, "--out", plainTar, "--recipients-file", recipients); !strings.Contains(out, "to 2 recipient") {
		t.Errorf("backup to a recipients file printed %q", out)
	}
	raw, err := os.ReadFile(plainTar)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(raw, []byte(ageIntro)) {
		t.Errorf("the encrypted backup starts %q, not age's intro", raw[:min(40, len(raw))])
	}
	for _, leak := range []string{"manifest.json", "graph.db", "E102", "WF-8012D"} {
		if bytes.Contains(raw, []byte(leak)) {
			t.Errorf("the encrypted backup holds %q in the clear", leak)
		}
	}
	for _, key := range []string{idFile, otherFile} {
		MustRun(t, "restore", "--data", filepath.Join(t.TempDir(), "r"), "--identity", key, plainTar)
	}

	// Damaged copies of the uncompressed one: any change to the archive is caught.
	header := bytes.Index(raw, []byte("\n--- ")) + 8 // inside the header's MAC
	// The payload is a 16-byte nonce and chunks of 64 KiB and a 16-byte tag, the last one
	// shorter and marked last; lastChunk is where it starts.
	const chunk = 64<<10 + 16
	payload := header + bytes.IndexByte(raw[header:], '\n') + 1 + 16
	lastChunk := payload + (len(raw)-payload-1)/chunk*chunk
	if lastChunk == payload {
		t.Fatalf("the backup is %d bytes, one chunk; the test wants more", len(raw))
	}
	flip := func(at int) []byte {
		b := bytes.Clone(raw)
		b[at] ^= 0x01
		return b
	}
	for _, tt := range []struct {
		name     string
		data     []byte // nil: the good file
		identity string
		code     string
		want     string
	}{
		{"no identity", nil, "", fixgraph.EINVALID, "is encrypted (age): pass --identity"},
		{"wrong identity", nil, mustIdentityFile(t), fixgraph.EUNAUTHORIZED, "cannot decrypt"},
		{"flipped in the header", flip(header), idFile, fixgraph.EUNREADABLE, "header is damaged"},
		{"flipped in the middle", flip(len(raw) / 2), idFile, fixgraph.EUNREADABLE, "fails authentication"},
		{"flipped in the last byte", flip(len(raw) - 1), idFile, fixgraph.EUNREADABLE, "fails authentication"},
		{"cut short", raw[:len(raw)-300], idFile, fixgraph.EUNREADABLE, "the encrypted backup"},
		{"cut before the last chunk", raw[:lastChunk], idFile, fixgraph.EUNREADABLE, "is truncated"},
		{"bytes added", append(bytes.Clone(raw), 0), idFile, fixgraph.EUNREADABLE, "fails authentication"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			bad := plainTar
			if tt.data != nil {
				bad = filepath.Join(t.TempDir(), "bad.tar.age")
				if err := os.WriteFile(bad, tt.data, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			parent := t.TempDir()
			dir := filepath.Join(parent, "restored")
			if err := os.Mkdir(dir, 0o755); err != nil { // an empty target is allowed
				t.Fatal(err)
			}
			args := []string{"--data", dir, bad}
			if tt.identity != "" {
				args = append([]string{"--identity", tt.identity}, args...)
			}
			err := restoreErr(args...)
			if fixgraph.CodeOf(err) != tt.code || !strings.Contains(message(err), tt.want) {
				t.Fatalf("restore = %v (%s); want %s saying %q", err, fixgraph.CodeOf(err), tt.code, tt.want)
			}
			if entries, _ := os.ReadDir(parent); len(entries) != 1 || entries[0].Name() != "restored" {
				t.Errorf("a refused restore left %v beside the target", entries)
			}
			if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
				t.Errorf("a refused restore changed the target: %v %v", entries, err)
			}
		})
	}
}

// TestEncryptedBackupAuthenticatedToTheEnd: an encrypted archive whose tar ends chunks before
// the file does (tar's record padding, as GNU tar writes it) restores, but not once a byte of
// its last chunk is changed, although the archive reader never needs that chunk.
func TestEncryptedBackupAuthenticatedToTheEnd(t *testing.T) {
	orig := filepath.Join(t.TempDir(), "data")
	MustRun(t, "ingest", "--data", orig, "--embedder", "none", "../../fixtures/faq")
	plain := filepath.Join(t.TempDir(), "plain.tar")
	MustRun(t, "backup", "--data", orig, "--out", plain)
	archive, err := os.ReadFile(plain)
	if err != nil {
		t.Fatal(err)
	}
	archive = append(archive, make([]byte, 200<<10)...)
	id, idFile := mustIdentity(t)
	var enc bytes.Buffer
	w, err := age.Encrypt(&enc, id.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	w.Write(archive)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(t.TempDir(), "padded.tar.age")
	if err := os.WriteFile(good, enc.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	MustRun(t, "restore", "--data", filepath.Join(t.TempDir(), "r"), "--identity", idFile, good)

	altered := bytes.Clone(enc.Bytes())
	altered[len(altered)-1] ^= 0x01
	bad := filepath.Join(t.TempDir(), "altered.tar.age")
	if err := os.WriteFile(bad, altered, 0o600); err != nil {
		t.Fatal(err)
	}
	parent := t.TempDir()
	err = restoreErr("--data", filepath.Join(parent, "r"), "--identity", idFile, bad)
	if fixgraph.CodeOf(err) != fixgraph.EUNREADABLE || !strings.Contains(message(err), "fails authentication") {
		t.Fatalf("restore of a padded backup with its last chunk altered = %v", err)
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 0 {
		t.Errorf("a refused restore left %v", entries)
	}
}

// mustIdentityFile returns the file of a new identity that no backup is encrypted to.
func mustIdentityFile(tb testing.TB) string {
	tb.Helper()
	_, file := mustIdentity(tb)
	return file
}

// TestBackupRecipientFlags refuses recipients that are not age public keys before anything is
// written, a secret key without echoing it.
func TestBackupRecipientFlags(t *testing.T) {
	orig := filepath.Join(t.TempDir(), "data")
	MustRun(t, "ingest", "--data", orig, "--embedder", "none", "../../fixtures/faq")
	id, idFile := mustIdentity(t)
	out := t.TempDir()
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"secret key", []string{"--recipient", id.String()}, "secret key"},
		{"not a key", []string{"--recipient", "age1notakey"}, "not an age public key"},
		{"missing file", []string{"--recipients-file", filepath.Join(out, "none.txt")}, "cannot open --recipients-file"},
		{"identity file as recipients", []string{"--recipients-file", idFile}, "want age public keys"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append([]string{"backup", "--data", orig, "--out", filepath.Join(out, "b.tar")}, tt.args...)
			err := run(context.Background(), args, &stdout, &stderr)
			if fixgraph.CodeOf(err) != fixgraph.EINVALID || !strings.Contains(message(err), tt.want) {
				t.Errorf("backup %v = %v; want invalid, saying %q", tt.args, err, tt.want)
			}
			if strings.Contains(message(err), id.String()) {
				t.Errorf("the error shows the secret key: %v", err)
			}
		})
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("refused backups left %v", entries)
	}
	// An identity given for a backup that is not encrypted is not needed, and not in the way.
	plain := filepath.Join(out, "plain.tar")
	MustRun(t, "backup", "--data", orig, "--out", plain)
	MustRun(t, "restore", "--data", filepath.Join(t.TempDir(), "r"), "--identity", idFile, plain)
}
