package ingest_test

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/fixgraph/fixgraph/bolt"
	"github.com/fixgraph/fixgraph/ingest"
)

// TestSpools: both spools keep a file whole across chunk boundaries, read it back at any
// offset, drop an aborted file and remove a job's files.
func TestSpools(t *testing.T) {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "spool.db"), "spool")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for name, sp := range map[string]ingest.Spool{"dir": ingest.DirSpool(t.TempDir()), "kv": ingest.KVSpool{DB: db}} {
		t.Run(name, func(t *testing.T) {
			data := make([]byte, 2*ingest.SpoolChunk+12345)
			r := rand.New(rand.NewPCG(1, 2))
			for i := range data {
				data[i] = byte(r.Uint32())
			}
			w, err := sp.Create("job-1", 0)
			if err != nil {
				t.Fatal(err)
			}
			for rest := data; len(rest) > 0; {
				n := min(len(rest), 70000)
				if _, err := w.Write(rest[:n]); err != nil {
					t.Fatal(err)
				}
				rest = rest[n:]
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			aborted, _ := sp.Create("job-1", 1)
			aborted.Write([]byte("half a file"))
			aborted.Abort()
			if _, err := sp.Open("job-1", 1); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("an aborted file opens: %v", err)
			}
			f, err := sp.Open("job-1", 0)
			if err != nil {
				t.Fatal(err)
			}
			if f.Size() != int64(len(data)) {
				t.Fatalf("size %d, want %d", f.Size(), len(data))
			}
			got, err := io.ReadAll(io.NewSectionReader(f, 0, f.Size()))
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("read back %d bytes (%v), not the %d written", len(got), err, len(data))
			}
			buf := make([]byte, 100)
			off := int64(ingest.SpoolChunk - 50)
			if n, err := f.ReadAt(buf, off); n != 100 || err != nil || !bytes.Equal(buf, data[off:off+100]) {
				t.Errorf("ReadAt across a chunk boundary: %d, %v", n, err)
			}
			if n, err := f.ReadAt(buf, int64(len(data))-10); n != 10 || err != io.EOF {
				t.Errorf("ReadAt at the end: %d, %v; want 10, EOF", n, err)
			}
			f.Close()
			if err := sp.Remove("job-1"); err != nil {
				t.Fatal(err)
			}
			if _, err := sp.Open("job-1", 0); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a removed file opens: %v", err)
			}
		})
	}
}
