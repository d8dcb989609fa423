// Package kvtest is the contract every kv.DB implementation passes: the embedded bbolt files
// and PostgreSQL run the same tests.
package kvtest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/fixgraph/fixgraph/kv"
)

// Run runs the contract against stores made by open, each empty and of its own.
func Run(t *testing.T, open func(t *testing.T) kv.DB) {
	t.Run("PutGetDelete", func(t *testing.T) { putGetDelete(t, open(t)) })
	t.Run("Order", func(t *testing.T) { order(t, open(t)) })
	t.Run("Rollback", func(t *testing.T) { rollback(t, open(t)) })
	t.Run("Serialised", func(t *testing.T) { serialised(t, open(t)) })
	t.Run("Sequence", func(t *testing.T) { sequence(t, open(t)) })
	t.Run("Buckets", func(t *testing.T) { buckets(t, open(t)) })
	t.Run("Closed", func(t *testing.T) { closed(t, open(t)) })
}

var (
	b1 = []byte("one")
	b2 = []byte("two")
)

func update(t *testing.T, db kv.DB, fn func(kv.Tx) error) {
	t.Helper()
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
}

func view(t *testing.T, db kv.DB, fn func(kv.Tx) error) {
	t.Helper()
	if err := db.View(fn); err != nil {
		t.Fatal(err)
	}
}

func putGetDelete(t *testing.T, db kv.DB) {
	binary := []byte{0, 1, 0xff, 0xfe, 0}
	update(t, db, func(tx kv.Tx) error {
		b := tx.Bucket(b1)
		if v := b.Get([]byte("a")); v != nil {
			t.Errorf("Get on an empty bucket = %q", v)
		}
		for _, kvp := range [][2][]byte{{[]byte("a"), []byte("1")}, {binary, binary}, {[]byte("empty"), {}}} {
			if err := b.Put(kvp[0], kvp[1]); err != nil {
				return err
			}
		}
		if got := b.Get([]byte("a")); string(got) != "1" {
			t.Errorf("Get in the writing transaction = %q, want 1", got)
		}
		if err := b.Put(nil, []byte("x")); err == nil {
			t.Error("Put with an empty key succeeded")
		}
		if err := b.Put([]byte("nil"), nil); err != nil {
			t.Errorf("Put with a nil value: %v", err)
		}
		return tx.Bucket(b2).Put([]byte("a"), []byte("other bucket"))
	})
	view(t, db, func(tx kv.Tx) error {
		b := tx.Bucket(b1)
		if got := b.Get(binary); !bytes.Equal(got, binary) {
			t.Errorf("binary value = %x", got)
		}
		for _, k := range []string{"empty", "nil"} {
			if got := b.Get([]byte(k)); got == nil || len(got) != 0 {
				t.Errorf("%s value = %#v, want a non-nil empty slice", k, got)
			}
		}
		if got := string(tx.Bucket(b2).Get([]byte("a"))); got != "other bucket" {
			t.Errorf("buckets share keys: %q", got)
		}
		if n := b.Len(); n != 4 {
			t.Errorf("Len = %d, want 4", n)
		}
		return nil
	})
	update(t, db, func(tx kv.Tx) error {
		b := tx.Bucket(b1)
		if err := b.Put([]byte("a"), []byte("2")); err != nil {
			return err
		}
		if err := b.Delete(binary); err != nil {
			return err
		}
		return b.Delete([]byte("never there"))
	})
	view(t, db, func(tx kv.Tx) error {
		b := tx.Bucket(b1)
		if got := string(b.Get([]byte("a"))); got != "2" {
			t.Errorf("overwritten value = %q", got)
		}
		if got := b.Get(binary); got != nil {
			t.Errorf("deleted key still = %x", got)
		}
		return nil
	})
}

// order walks more keys than an implementation is likely to fetch at once, both ways.
func order(t *testing.T, db kv.DB) {
	const n = 1100
	key := func(i int) []byte { return []byte(fmt.Sprintf("k%05d", i)) }
	update(t, db, func(tx kv.Tx) error {
		b := tx.Bucket(b1)
		for i := n - 1; i >= 0; i-- { // written out of order
			if err := b.Put(key(i), []byte{byte(i)}); err != nil {
				return err
			}
		}
		return tx.Bucket(b2).Put([]byte("k00000x"), []byte("x"))
	})
	view(t, db, func(tx kv.Tx) error {
		c := tx.Bucket(b1).Cursor()
		i := 0
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if !bytes.Equal(k, key(i)) || v[0] != byte(i) {
				t.Fatalf("forward walk: key %d is %q", i, k)
			}
			i++
		}
		if i != n {
			t.Errorf("forward walk saw %d keys, want %d", i, n)
		}
		for k, _ := c.Last(); k != nil; k, _ = c.Prev() {
			i--
			if !bytes.Equal(k, key(i)) {
				t.Fatalf("backward walk: key %d is %q", i, k)
			}
		}
		if i != 0 {
			t.Errorf("backward walk stopped at %d", i)
		}
		if k, _ := c.Seek([]byte("k00500x")); !bytes.Equal(k, key(501)) {
			t.Errorf("Seek between keys landed on %q", k)
		}
		if k, _ := c.Prev(); !bytes.Equal(k, key(500)) {
			t.Errorf("Prev after Seek = %q", k)
		}
		if k, _ := c.Next(); !bytes.Equal(k, key(501)) {
			t.Errorf("Next after Prev = %q", k)
		}
		if k, _ := c.Seek([]byte("z")); k != nil {
			t.Errorf("Seek past the end = %q", k)
		}
		if k, _ := c.Seek(nil); !bytes.Equal(k, key(0)) {
			t.Errorf("Seek(nil) = %q", k)
		}
		seen := 0
		err := tx.Bucket(b1).ForEach(func(k, v []byte) error {
			if seen == 700 {
				return errors.New("stop")
			}
			if !bytes.Equal(k, key(seen)) {
				t.Fatalf("ForEach: key %d is %q", seen, k)
			}
			seen++
			return nil
		})
		if err == nil || err.Error() != "stop" || seen != 700 {
			t.Errorf("ForEach stopped with %v after %d keys", err, seen)
		}
		return nil
	})
	// A cursor in a writing transaction sees that transaction's writes.
	update(t, db, func(tx kv.Tx) error {
		b := tx.Bucket(b1)
		if err := b.Put([]byte("k00500a"), []byte("new")); err != nil {
			return err
		}
		if err := b.Delete(key(501)); err != nil {
			return err
		}
		c := b.Cursor()
		k, v := c.Seek([]byte("k00500\x00"))
		if string(k) != "k00500a" || string(v) != "new" {
			t.Errorf("cursor in the writing transaction: %q=%q", k, v)
		}
		if k, _ := c.Next(); !bytes.Equal(k, key(502)) {
			t.Errorf("cursor saw a key deleted in its transaction: %q", k)
		}
		return nil
	})
}

func rollback(t *testing.T, db kv.DB) {
	update(t, db, func(tx kv.Tx) error { return tx.Bucket(b1).Put([]byte("kept"), []byte("1")) })
	boom := errors.New("boom")
	err := db.Update(func(tx kv.Tx) error {
		b := tx.Bucket(b1)
		b.Put([]byte("kept"), []byte("2"))
		b.Put([]byte("lost"), []byte("1"))
		if _, err := b.NextSequence(); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update returned %v, want fn's error", err)
	}
	view(t, db, func(tx kv.Tx) error {
		b := tx.Bucket(b1)
		if got := string(b.Get([]byte("kept"))); got != "1" {
			t.Errorf("a failed Update changed a value: %q", got)
		}
		if got := b.Get([]byte("lost")); got != nil {
			t.Errorf("a failed Update wrote a key: %q", got)
		}
		return nil
	})
	err = db.View(func(tx kv.Tx) error { return tx.Bucket(b1).Put([]byte("x"), []byte("y")) })
	if err == nil {
		t.Error("a Put in View succeeded")
	}
}

// serialised increments one counter from many goroutines: each Update must see the one before.
func serialised(t *testing.T, db kv.DB) {
	const workers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				err := db.Update(func(tx kv.Tx) error {
					b := tx.Bucket(b1)
					n := 0
					if v := b.Get([]byte("n")); v != nil {
						fmt.Sscan(string(v), &n)
					}
					return b.Put([]byte("n"), []byte(fmt.Sprint(n+1)))
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	view(t, db, func(tx kv.Tx) error {
		if got, want := string(tx.Bucket(b1).Get([]byte("n"))), fmt.Sprint(workers*each); got != want {
			t.Errorf("counter = %s after %s serialised increments", got, want)
		}
		return nil
	})
}

func sequence(t *testing.T, db kv.DB) {
	var mu sync.Mutex
	seen := map[uint64]bool{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				var n uint64
				err := db.Update(func(tx kv.Tx) error {
					var err error
					n, err = tx.Bucket(b1).NextSequence()
					return err
				})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if seen[n] {
					t.Errorf("sequence %d given twice", n)
				}
				seen[n] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for i := uint64(1); i <= 40; i++ {
		if !seen[i] {
			t.Errorf("sequence skipped %d: %v", i, seen)
			break
		}
	}
	var other uint64
	update(t, db, func(tx kv.Tx) error {
		var err error
		other, err = tx.Bucket(b2).NextSequence()
		return err
	})
	if other != 1 {
		t.Errorf("another bucket's first sequence = %d, want 1", other)
	}
}

func buckets(t *testing.T, db kv.DB) {
	update(t, db, func(tx kv.Tx) error {
		if err := tx.Bucket(b2).Put([]byte("a"), []byte("1")); err != nil {
			return err
		}
		tx.Bucket([]byte("unused"))
		return tx.Bucket(b1).Put([]byte("a"), []byte("1"))
	})
	view(t, db, func(tx kv.Tx) error {
		names, err := tx.Buckets()
		if err != nil {
			return err
		}
		if len(names) != 2 || string(names[0]) != "one" || string(names[1]) != "two" {
			t.Errorf("Buckets = %q, want [one two]", names)
		}
		if n := tx.Bucket([]byte("never named")).Len(); n != 0 {
			t.Errorf("an unnamed bucket has %d keys", n)
		}
		return nil
	})
}

func closed(t *testing.T, db kv.DB) {
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.View(func(kv.Tx) error { return nil }); !errors.Is(err, kv.ErrClosed) {
		t.Errorf("View after Close = %v, want kv.ErrClosed", err)
	}
	if err := db.Update(func(kv.Tx) error { return nil }); !errors.Is(err, kv.ErrClosed) {
		t.Errorf("Update after Close = %v, want kv.ErrClosed", err)
	}
}
