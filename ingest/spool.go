package ingest

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/kv"
)

// Spool keeps uploaded files until their job is done: a directory on this machine (DirSpool), or
// the shared state (KVSpool), from which any replica can finish any job. Files are numbered
// within their job.
type Spool interface {
	// Create starts file seq of job.
	Create(job string, seq int) (SpoolWriter, error)
	// Open returns file seq of job, or an error wrapping os.ErrNotExist when it is gone.
	Open(job string, seq int) (SpooledFile, error)
	// Remove deletes every file of job.
	Remove(job string) error
}

// SpoolWriter writes a file into the spool: Close keeps it, Abort drops what was written.
type SpoolWriter interface {
	io.Writer
	Close() error
	Abort()
}

// SpooledFile is a spooled file open for reading.
type SpooledFile interface {
	io.ReaderAt
	Size() int64
	Close() error
}

// DirSpool spools files in a directory, one subdirectory per job.
type DirSpool string

func (d DirSpool) path(job string, seq int) string {
	return filepath.Join(string(d), job, strconv.Itoa(seq))
}

// Create implements Spool.
func (d DirSpool) Create(job string, seq int) (SpoolWriter, error) {
	if err := os.MkdirAll(filepath.Join(string(d), job), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(d.path(job, seq), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	return dirSpoolWriter{f}, nil
}

type dirSpoolWriter struct{ *os.File }

func (w dirSpoolWriter) Close() error {
	if err := w.File.Close(); err != nil {
		os.Remove(w.Name())
		return err
	}
	return nil
}

func (w dirSpoolWriter) Abort() {
	w.File.Close()
	os.Remove(w.Name())
}

// Open implements Spool.
func (d DirSpool) Open(job string, seq int) (SpooledFile, error) {
	f, err := os.Open(d.path(job, seq))
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return sizedFile{f, st.Size()}, nil
}

// Remove implements Spool.
func (d DirSpool) Remove(job string) error { return os.RemoveAll(filepath.Join(string(d), job)) }

type sizedFile struct {
	*os.File
	size int64
}

func (f sizedFile) Size() int64 { return f.size }

// KVSpool spools files in a kv store, in chunks of SpoolChunk bytes, each chunk written in a
// transaction of its own so that a large upload never makes one large transaction.
type KVSpool struct{ DB kv.DB }

// SpoolChunk is the size of the chunks KVSpool stores.
const SpoolChunk = 1 << 20

var (
	bucketSpool     = []byte("spool")     // job \x00 seq (4) chunk (4) → bytes
	bucketSpoolSize = []byte("spoolsize") // job \x00 seq (4) → size (8), once the file is whole
)

func spoolKey(job string, seq int) []byte {
	return binary.BigEndian.AppendUint32([]byte(job+"\x00"), uint32(seq))
}

// Create implements Spool.
func (s KVSpool) Create(job string, seq int) (SpoolWriter, error) {
	return &kvSpoolWriter{s: s, key: spoolKey(job, seq)}, nil
}

type kvSpoolWriter struct {
	s     KVSpool
	key   []byte
	buf   []byte
	chunk uint32
	size  int64
	err   error
}

func (w *kvSpoolWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	n := len(p)
	for len(p) > 0 {
		k := min(len(p), SpoolChunk-len(w.buf))
		w.buf = append(w.buf, p[:k]...)
		p = p[k:]
		if len(w.buf) == SpoolChunk {
			if w.err = w.flush(); w.err != nil {
				return 0, w.err
			}
		}
	}
	return n, nil
}

func (w *kvSpoolWriter) flush() error {
	key := binary.BigEndian.AppendUint32(append([]byte(nil), w.key...), w.chunk)
	buf := w.buf
	err := w.s.DB.Update(func(tx kv.Tx) error { return tx.Bucket(bucketSpool).Put(key, buf) })
	if err != nil {
		return fmt.Errorf("spooling: %w", err)
	}
	w.size += int64(len(buf))
	w.chunk++
	w.buf = w.buf[:0]
	return nil
}

func (w *kvSpoolWriter) Close() error {
	if w.err != nil {
		return w.err
	}
	if len(w.buf) > 0 {
		if err := w.flush(); err != nil {
			return err
		}
	}
	size := binary.BigEndian.AppendUint64(nil, uint64(w.size))
	return w.s.DB.Update(func(tx kv.Tx) error { return tx.Bucket(bucketSpoolSize).Put(w.key, size) })
}

func (w *kvSpoolWriter) Abort() {
	if w.chunk > 0 {
		w.s.removePrefix(bucketSpool, w.key)
	}
	w.err = errors.New("spool: file aborted")
}

// Open implements Spool.
func (s KVSpool) Open(job string, seq int) (SpooledFile, error) {
	key := spoolKey(job, seq)
	var size int64 = -1
	err := s.DB.View(func(tx kv.Tx) error {
		if v := tx.Bucket(bucketSpoolSize).Get(key); len(v) == 8 {
			size = int64(binary.BigEndian.Uint64(v))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if size < 0 {
		return nil, fmt.Errorf("spooled file %d of %s: %w", seq, job, os.ErrNotExist)
	}
	return &kvSpoolFile{s: s, key: key, size: size}, nil
}

type kvSpoolFile struct {
	s    KVSpool
	key  []byte
	size int64
}

func (f *kvSpoolFile) Size() int64  { return f.size }
func (f *kvSpoolFile) Close() error { return nil }

// ReadAt reads the chunks p covers in one read transaction.
func (f *kvSpoolFile) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("spool: negative offset")
	}
	if off >= f.size {
		return 0, io.EOF
	}
	want := min(int64(len(p)), f.size-off)
	n := 0
	err := f.s.DB.View(func(tx kv.Tx) error {
		b := tx.Bucket(bucketSpool)
		for int64(n) < want {
			pos := off + int64(n)
			key := binary.BigEndian.AppendUint32(append([]byte(nil), f.key...), uint32(pos/SpoolChunk))
			chunk := b.Get(key)
			in := pos % SpoolChunk
			if int64(len(chunk)) <= in {
				return fmt.Errorf("spool: chunk %d of a file is missing", pos/SpoolChunk)
			}
			n += copy(p[n:want], chunk[in:])
		}
		return nil
	})
	if err != nil {
		return n, err
	}
	if int64(n) < int64(len(p)) {
		return n, io.EOF
	}
	return n, nil
}

// Remove implements Spool.
func (s KVSpool) Remove(job string) error {
	prefix := []byte(job + "\x00")
	return errors.Join(s.removePrefix(bucketSpoolSize, prefix), s.removePrefix(bucketSpool, prefix))
}

// removePrefix deletes the keys of bucket name that start with prefix, 64 to a transaction so
// that a large file is removed in small writes.
func (s KVSpool) removePrefix(name, prefix []byte) error {
	for {
		more := false
		err := s.DB.Update(func(tx kv.Tx) error {
			b := tx.Bucket(name)
			var keys [][]byte
			c := b.Cursor()
			for k, _ := c.Seek(prefix); k != nil && len(keys) < 64 && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
				keys = append(keys, append([]byte(nil), k...))
			}
			more = len(keys) == 64
			for _, k := range keys {
				if err := b.Delete(k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
	}
}

// spool returns where uploaded files wait for their job.
func (js *Jobs) spool() Spool {
	if js.Spooled != nil {
		return js.Spooled
	}
	return DirSpool(js.Spool)
}

func (js *Jobs) removeSpooled(id string) {
	if err := js.spool().Remove(id); err != nil {
		js.Log.Warn("removing the spooled files of a job", "job", id, "err", err)
	}
}

// Upload collects the files of one upload in the spool before it becomes a job.
type Upload struct {
	js  *Jobs
	job *fixgraph.Job
}

// NewUpload starts an upload.
func (js *Jobs) NewUpload(spec fixgraph.JobSpec) (*Upload, error) {
	js.mu.Lock()
	js.init()
	js.mu.Unlock()
	j := &fixgraph.Job{ID: js.newID(), Kind: fixgraph.JobUpload, Department: spec.Department, Visibility: spec.Visibility}
	return &Upload{js: js, job: j}, nil
}

// ErrTooLarge is returned by Upload.Add when a file passed its limit: the rest of r was not read.
var ErrTooLarge = fixgraph.Errorf(fixgraph.ETOOLARGE, "file over the size limit")

// Add copies one file into the spool. A file over its limit (the pipeline's MaxFileSize, or
// MaxUploadSize for a zip archive) is recorded as refused, with the limit in its error, and
// Add returns ErrTooLarge having read one byte past the limit; other files are unaffected.
func (u *Upload) Add(name string, r io.Reader) error {
	name = path.Base(strings.ReplaceAll(name, "\\", "/"))
	if name == "." || name == "/" || name == "" {
		name = "unnamed"
	}
	in := fixgraph.JobInput{Name: name, Spooled: true}
	seq := len(u.job.Inputs)
	limit := int64(cmp.Or(u.js.Pipeline.MaxFileSize, DefaultMaxFileSize))
	if IsZip(name, nil) {
		limit = cmp.Or(u.js.MaxUploadSize, DefaultMaxUploadSize)
	}
	w, err := u.js.spool().Create(u.job.ID, seq)
	if err != nil {
		return fmt.Errorf("spooling %q: %w", name, err)
	}
	n, err := io.Copy(w, io.LimitReader(r, limit+1))
	if err != nil || n > limit {
		w.Abort()
	} else {
		err = w.Close()
	}
	in.Size = n
	if err != nil {
		return fmt.Errorf("receiving %q: %w", name, err)
	}
	if n > limit {
		e := fixgraph.Errorf(fixgraph.ETOOLARGE, "file is over the limit of %d bytes", limit)
		in.Spooled, in.Error, in.Code = false, e.Message, e.Code
		u.job.Inputs = append(u.job.Inputs, in)
		return ErrTooLarge
	}
	u.job.Inputs = append(u.job.Inputs, in)
	return nil
}

// Files returns the number of files added so far.
func (u *Upload) Files() int { return len(u.job.Inputs) }

// Submit queues the upload as a job.
func (u *Upload) Submit() (*fixgraph.Job, error) {
	if len(u.job.Inputs) == 0 {
		u.Discard()
		return nil, fixgraph.Errorf(fixgraph.EINVALID, "the upload has no files")
	}
	return u.js.submit(u.job)
}

// Discard drops an upload that will not be submitted.
func (u *Upload) Discard() { u.js.removeSpooled(u.job.ID) }
