package audit

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// sealChain builds a chain of n entries with Seal alone, as a storage other than a file does, and
// returns its lines and its signed checkpoint.
func sealChain(t *testing.T, key []byte, n int) ([]string, []byte) {
	t.Helper()
	var lines []string
	var head Head
	for i := range n {
		e := Entry{Actor: "user:alice", Action: "edit", Target: fmt.Sprint(i), Replica: fmt.Sprintf("host-%d/1", i%2)}
		e, line, err := Seal(e, head, t0.Add(time.Duration(i)*time.Second), key)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, string(line)+"\n")
		head = Head{Seq: e.Seq, Hash: e.Hash}
	}
	cp := Checkpoint{Seq: head.Seq, Hash: head.Hash, Time: t0, Key: KeyID(key), KeyedFrom: 1}
	return lines, cp.Sign(key)
}

func TestSealedLinesVerifyAsALog(t *testing.T) {
	key := bytes.Repeat([]byte{9}, 32)
	lines, cp := sealChain(t, key, 4)
	if !strings.Contains(lines[1], `"replica":"host-1/1"`) {
		t.Errorf("line %s does not name its replica", lines[1])
	}
	rep, err := VerifyReader(strings.NewReader(strings.Join(lines, "")), cp, key)
	if err != nil || rep.Entries != 4 || rep.Unkeyed != 0 {
		t.Fatalf("VerifyReader = %+v, %v", rep, err)
	}
	last, err := CheckLine([]byte(strings.TrimSuffix(lines[3], "\n")), key)
	if err != nil || last.Seq != 4 || last.Replica != "host-1/1" {
		t.Errorf("CheckLine = %+v, %v", last, err)
	}
	c, err := ParseCheckpoint(cp, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Check(last); err != nil {
		t.Errorf("Check(head) = %v", err)
	}

	// The replica is covered by the hash: naming another one is caught.
	forged := strings.Replace(lines[2], `"replica":"host-0/1"`, `"replica":"host-9/1"`, 1)
	if forged == lines[2] {
		t.Fatal("nothing replaced")
	}
	_, err = VerifyReader(strings.NewReader(lines[0]+lines[1]+forged+lines[3]), cp, key)
	var ve *VerifyError
	if !errors.As(err, &ve) || ve.Line != 3 || !strings.Contains(err.Error(), "hash mismatch") {
		t.Errorf("VerifyReader of a changed replica = %v; want a hash mismatch on line 3", err)
	}
	if _, err := CheckLine([]byte(strings.TrimSuffix(forged, "\n")), key); err == nil {
		t.Error("CheckLine accepted a changed replica")
	}

	// Check refuses a head behind the checkpoint, or other than it.
	third, _ := CheckLine([]byte(strings.TrimSuffix(lines[2], "\n")), key)
	if err := c.Check(third); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("Check(seq 3) against a checkpoint at seq 4 = %v; want truncated", err)
	}
	other := last
	other.Hash = strings.Repeat("0", 64)
	if err := c.Check(other); err == nil || !strings.Contains(err.Error(), "rewritten") {
		t.Errorf("Check(another seq 4) = %v; want rewritten", err)
	}
}

func TestSealRefuses(t *testing.T) {
	for _, tt := range []struct {
		name string
		e    Entry
		key  []byte
	}{
		{"no actor", Entry{Action: "signin"}, bytes.Repeat([]byte{1}, 32)},
		{"short key", Entry{Actor: "cli", Action: "backup"}, []byte("short")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := Seal(tt.e, Head{}, t0, tt.key); err == nil {
				t.Error("Seal succeeded")
			}
		})
	}
}
