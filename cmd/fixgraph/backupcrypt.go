package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"
	"filippo.io/age/armor"

	"github.com/fixgraph/fixgraph"
)

// A backup can be encrypted with age (age-encryption.org/v1) to one or more recipients' public
// keys: the whole archive stream, compressed first when it is compressed, goes through age's
// writer, and the file's name ends in .age. Only the holder of a recipient's secret key (an
// identity) can restore it. age's payload is a STREAM of authenticated chunks, the last one
// marked as last, so an altered byte, a cut-off end or trailing bytes fail authentication;
// restore reads and authenticates the whole file, and checks every part's checksum, before it
// puts anything in place.

const (
	// ageSuffix ends the name of an encrypted backup.
	ageSuffix = ".age"
	// ageIntro starts every age file in binary form.
	ageIntro = "age-encryption.org/v1\n"
)

// recipientFlags name whom a backup is encrypted to: public keys given one by one, and files of
// them, one a line with # comments, as age's command line takes them (-r, -R).
type recipientFlags struct {
	keys  *listFlag
	files *listFlag
}

// addRecipientFlags adds the flags --PREFIXrecipient and --PREFIXrecipients-file to fs, with
// their defaults from $FIXGRAPH_BACKUP_RECIPIENTS and $FIXGRAPH_BACKUP_RECIPIENTS_FILE, which
// the backup command and serve's scheduled backups share.
func addRecipientFlags(fs *flag.FlagSet, prefix string) recipientFlags {
	f := recipientFlags{keys: new(listFlag), files: new(listFlag)}
	f.keys.Set(os.Getenv("FIXGRAPH_BACKUP_RECIPIENTS"))
	f.files.Set(os.Getenv("FIXGRAPH_BACKUP_RECIPIENTS_FILE"))
	fs.Var(f.keys, prefix+"recipient", "encrypt the backup with age to this public key (age1…); repeated or comma-separated for several ($FIXGRAPH_BACKUP_RECIPIENTS)")
	fs.Var(f.files, prefix+"recipients-file", "encrypt the backup with age to the public keys in this file, one a line, # for comments ($FIXGRAPH_BACKUP_RECIPIENTS_FILE)")
	return f
}

// parse returns the recipients the flags name, none when they name none. The flag's prefix is
// only for the error messages.
func (f recipientFlags) parse(prefix string) ([]age.Recipient, error) {
	var out []age.Recipient
	for _, k := range *f.keys {
		if strings.HasPrefix(strings.ToUpper(k), "AGE-SECRET-KEY-") {
			// Not echoed: it is a secret.
			return nil, fixgraph.Errorf(fixgraph.EINVALID, "--%srecipient was given a secret key (an identity); give its public key (age1…), which `age-keygen -y FILE` prints, and keep the secret key away from the server", prefix)
		}
		rs, err := age.ParseRecipients(strings.NewReader(k))
		if err != nil {
			return nil, fixgraph.WrapError(fixgraph.EINVALID, err, "bad --%srecipient %q: not an age public key (age1…)", prefix, k)
		}
		out = append(out, rs...)
	}
	for _, file := range *f.files {
		rf, err := os.Open(file)
		if err != nil {
			return nil, fixgraph.WrapError(fixgraph.EINVALID, err, "cannot open --%srecipients-file %s", prefix, file)
		}
		rs, err := age.ParseRecipients(rf)
		rf.Close()
		if err != nil {
			return nil, fixgraph.WrapError(fixgraph.EINVALID, err, "bad --%srecipients-file %s: want age public keys (age1…), one a line", prefix, file)
		}
		out = append(out, rs...)
	}
	return out, nil
}

// encryptedName returns the name an archive written to out gets: out itself, with .age added
// when it is encrypted and does not end in .age yet.
func encryptedName(out string, encrypted bool) string {
	if encrypted && !strings.HasSuffix(out, ageSuffix) {
		return out + ageSuffix
	}
	return out
}

// writeArchive writes a backup archive to out with fill, atomically: into a temporary file
// beside out, which is checked and then renamed to out, so out is either the old file or a
// complete new one. The tar stream fill writes is gzip-compressed when out ends in .gz (before
// any .age), then encrypted with age when there are recipients. The check reads the archive
// back from the file; an encrypted one cannot be read back without a secret key, so its tar
// stream is checked on its way into the encrypter instead.
func writeArchive(ctx context.Context, out string, recipients []age.Recipient, fill func(io.Writer) error) (*backupManifest, error) {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*")
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", out, err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()

	var w io.Writer = tmp
	var enc io.WriteCloser
	var check *streamCheck
	if len(recipients) > 0 {
		if enc, err = age.Encrypt(tmp, recipients...); err != nil {
			return nil, fmt.Errorf("encrypting the backup: %w", err)
		}
		check = newStreamCheck()
		w = io.MultiWriter(enc, check.w)
	}
	var zw *gzip.Writer
	if strings.HasSuffix(strings.TrimSuffix(out, ageSuffix), ".gz") {
		zw = gzip.NewWriter(w)
		w = zw
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	err = fill(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil && zw != nil {
		err = zw.Close()
	}
	var m *backupManifest
	if check != nil {
		var cerr error
		m, cerr = check.wait(err)
		if err == nil && cerr != nil {
			err = fmt.Errorf("checking the backup just written: %w", cerr)
		}
		if err == nil {
			err = enc.Close()
		}
	}
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := tmp.Sync(); err != nil {
		return nil, err
	}
	if check == nil {
		// Read the archive back before calling it a backup.
		if _, err := tmp.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		if m, err = readBackup(tmp, ""); err != nil {
			return nil, fmt.Errorf("checking the backup just written: %w", err)
		}
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return nil, err
	}
	return m, nil
}

// streamCheck reads a backup's archive stream as it is written, with readBackup, in a goroutine:
// every part against the manifest's size and checksum.
type streamCheck struct {
	w    *io.PipeWriter
	done chan struct{}
	m    *backupManifest
	err  error
}

func newStreamCheck() *streamCheck {
	pr, pw := io.Pipe()
	c := &streamCheck{w: pw, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		c.m, c.err = readBackup(pr, "")
		if c.err == nil {
			_, c.err = io.Copy(io.Discard, pr) // the end-of-archive blocks and gzip's trailer
		}
		if c.err != nil {
			pr.CloseWithError(c.err) // the writer's next write fails too
		}
	}()
	return c
}

// wait ends the stream (with writeErr when writing it failed) and returns what the check found.
func (c *streamCheck) wait(writeErr error) (*backupManifest, error) {
	if writeErr != nil {
		c.w.CloseWithError(writeErr)
	} else {
		c.w.Close()
	}
	<-c.done
	return c.m, c.err
}

// archiveReader is the archive stream of a backup file: the file as it is, or the plaintext of
// one encrypted with age.
type archiveReader struct {
	io.Reader
	encrypted bool
}

// openArchive returns the archive stream of the backup read from r (named file). An encrypted
// backup is decrypted with the identities in idFile; without one, or when none of them opens
// it, the error says so. Reading the stream authenticates it as it goes; finish authenticates
// what the archive reader left unread.
func openArchive(r io.Reader, file, idFile string) (*archiveReader, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	head, _ := br.Peek(len(armor.Header))
	armored := strings.HasPrefix(string(head), armor.Header)
	if !armored && !strings.HasPrefix(string(head), ageIntro) {
		return &archiveReader{Reader: br}, nil
	}
	if idFile == "" {
		return nil, fixgraph.Errorf(fixgraph.EINVALID, "%s is encrypted (age): pass --identity FILE, a file holding the secret key (AGE-SECRET-KEY-1…) of one of its recipients", file)
	}
	ids, err := readIdentities(idFile)
	if err != nil {
		return nil, err
	}
	var src io.Reader = br
	if armored {
		src = armor.NewReader(br)
	}
	plain, err := age.Decrypt(src, ids...)
	var nomatch *age.NoIdentityMatchError
	switch {
	case errors.As(err, &nomatch):
		return nil, fixgraph.WrapError(fixgraph.EUNAUTHORIZED, err, "the identity in %s cannot decrypt %s: it was encrypted to other recipients (or its header was altered)", idFile, file)
	case err != nil:
		return nil, fixgraph.WrapError(fixgraph.EUNREADABLE, err, "%s is not a readable age file: its header is damaged, altered or cut off", file)
	}
	return &archiveReader{Reader: &authReader{r: plain, file: file}, encrypted: true}, nil
}

// finish reads the rest of an encrypted stream, so that its last chunk is authenticated and
// nothing follows it. A backup that is not encrypted has nothing to finish.
func (a *archiveReader) finish() error {
	if !a.encrypted {
		return nil
	}
	_, err := io.Copy(io.Discard, a.Reader)
	return err
}

// readIdentities reads an age identity file: secret keys (AGE-SECRET-KEY-1…), one a line.
func readIdentities(file string) ([]age.Identity, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fixgraph.WrapError(fixgraph.EINVALID, err, "cannot open the identity file %s", file)
	}
	defer f.Close()
	ids, err := age.ParseIdentities(f)
	if err != nil {
		return nil, fixgraph.WrapError(fixgraph.EINVALID, err, "%s is not an age identity file (secret keys AGE-SECRET-KEY-1…, one a line)", file)
	}
	return ids, nil
}

// authReader is age's plaintext reader with its errors made application errors: a chunk that
// fails authentication is an altered or damaged backup, a missing last chunk a cut-off one.
type authReader struct {
	r    io.Reader
	file string
	n    int64
}

func (a *authReader) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	a.n += int64(n)
	switch {
	case err == nil || err == io.EOF:
		return n, err
	case errors.Is(err, io.ErrUnexpectedEOF):
		return n, fixgraph.WrapError(fixgraph.EUNREADABLE, err, "the encrypted backup %s is truncated after %d bytes of its archive", a.file, a.n)
	}
	return n, fixgraph.WrapError(fixgraph.EUNREADABLE, err, "the encrypted backup %s fails authentication after %d bytes of its archive: it was altered or damaged after it was written", a.file, a.n)
}
