package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/kv"
	"github.com/fixgraph/fixgraph/postgres"
)

// kvState reads every store's buckets and keys through the kv interface, and the next sequence
// number of each bucket.
func kvState(t *testing.T, db *postgres.DB, stores ...string) string {
	t.Helper()
	var out strings.Builder
	for _, s := range stores {
		err := db.KV(s).View(func(tx kv.Tx) error {
			names, err := tx.Buckets()
			if err != nil {
				return err
			}
			for _, name := range names {
				fmt.Fprintf(&out, "%s %q %d keys\n", s, name, tx.Bucket(name).Len())
				err := tx.Bucket(name).ForEach(func(k, v []byte) error {
					fmt.Fprintf(&out, "  %q = %q\n", k, v)
					return nil
				})
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out.String()
}

func mustDump(t *testing.T, db *postgres.DB) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := db.Dump(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestDumpRestore dumps stores holding keys and values of any bytes (tabs, newlines,
// backslashes, a line of COPY's end-of-data marker, 3 MB of zeros), and sequences, into an empty
// schema: the same keys, values and next sequence numbers come back, and dumping the restored
// schema gives the same dump. A restore into a schema that holds data, or of a dump cut short, is
// refused and changes nothing.
func TestDumpRestore(t *testing.T) {
	ctx := context.Background()
	src := open(t)
	stores := []string{"auth", "spool", "editor"}
	big := make([]byte, 3<<20)
	err := src.KV("auth").Update(func(tx kv.Tx) error {
		b := tx.Bucket([]byte("keys"))
		for _, kvp := range [][2]string{{"a\tb", "x\ny"}, {"\\.", "\\.\n"}, {"\x00\xff", "\r\n\\N"}, {"plain", ""}} {
			if err := b.Put([]byte(kvp[0]), []byte(kvp[1])); err != nil {
				return err
			}
		}
		for range 3 {
			if _, err := b.NextSequence(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := src.KV("spool").Update(func(tx kv.Tx) error { return tx.Bucket([]byte("files")).Put([]byte("job-1/0"), big) }); err != nil {
		t.Fatal(err)
	}
	if err := src.KV("editor").Update(func(tx kv.Tx) error {
		return tx.Bucket([]byte("drafts")).Put([]byte("d1"), []byte(`{"title":"门锁"}`))
	}); err != nil {
		t.Fatal(err)
	}
	want := kvState(t, src, stores...)
	dump := mustDump(t, src)
	if !bytes.Contains(dump, []byte(`{"table":"kv","columns":["store","bucket","key","value"]}`)) || !bytes.Contains(dump, []byte(`{"table":"kv_sequence"`)) {
		t.Fatalf("the dump lacks the kv tables:\n%.2000s", dump)
	}
	if bytes.Contains(dump, []byte("goose")) {
		t.Errorf("the dump holds goose's version table")
	}

	if err := src.Restore(ctx, bytes.NewReader(dump)); fixgraph.CodeOf(err) != fixgraph.ECONFLICT {
		t.Errorf("restore into a schema that holds data = %v; want a conflict", err)
	}
	if got := kvState(t, src, stores...); got != want {
		t.Errorf("a refused restore changed the state")
	}

	dst := open(t)
	lines := bytes.SplitAfter(dump, []byte("\n"))
	for name, data := range map[string][]byte{
		"cut in the middle": dump[:len(dump)/2],
		"without its end":   bytes.Join(lines[:len(lines)-2], nil),
		"not a dump":        []byte("{\"dump\":\"other\"}\n"),
		"empty":             nil,
	} {
		if err := dst.Restore(ctx, bytes.NewReader(data)); fixgraph.CodeOf(err) != fixgraph.EUNREADABLE {
			t.Errorf("restore of a dump %s = %v; want it unreadable", name, err)
		}
		if got := kvState(t, dst, stores...); got != "" {
			t.Errorf("a refused restore of a dump %s left %s", name, got)
		}
	}

	if err := dst.Restore(ctx, bytes.NewReader(dump)); err != nil {
		t.Fatal(err)
	}
	if got := kvState(t, dst, stores...); got != want {
		t.Errorf("the restored state differs:\n%.3000s\nwant\n%.3000s", got, want)
	}
	if again := mustDump(t, dst); !bytes.Equal(again, dump) {
		t.Errorf("dumping the restored state gives another dump")
	}
	err = dst.KV("auth").Update(func(tx kv.Tx) error {
		n, err := tx.Bucket([]byte("keys")).NextSequence()
		if err == nil && n != 4 {
			err = fmt.Errorf("the next sequence number after the restore is %d, want 4", n)
		}
		return err
	})
	if err != nil {
		t.Error(err)
	}
}
