package ingest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fixgraph/fixgraph"
)

// TestKindSetSticks sets the kind of a policy PDF to manual and of a FAQ page to manual: each
// later reading of the same source is that kind, saying who set it, until the setting is removed.
func TestKindSetSticks(t *testing.T) {
	st, err := OpenState(filepath.Join(t.TempDir(), "ingest.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p := &Pipeline{Kinds: st}
	policy, err := os.ReadFile("../fixtures/policy/warranty-zh.pdf")
	if err != nil {
		t.Fatal(err)
	}
	page := []byte(`<html><head><title>Help</title></head><body><h1>Help</h1><dl><dt>How do I reset it?</dt><dd>Hold Start for 3 seconds.</dd>
<dt>Why is it loud?</dt><dd>Check the feet are level.</dd><dt>Can I wash wool?</dt><dd>Use the wool programme.</dd></dl></body></html>`)
	read := func(source string, data []byte) *fixgraph.Document {
		t.Helper()
		b, err := p.Parse(context.Background(), source, data)
		if err != nil {
			t.Fatal(err)
		}
		return b.Document
	}
	if d := read("warranty.pdf", policy); d.Kind != fixgraph.KindPolicy {
		t.Fatalf("warranty.pdf read as %s before any setting", d.Kind)
	}
	if d := read("help.html", page); d.Kind != fixgraph.KindFAQ {
		t.Fatalf("help.html read as %s before any setting", d.Kind)
	}
	at := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	if err := st.SetKind(fixgraph.DocumentID("warranty.pdf"), fixgraph.KindManual, "user:lihua", at); err != nil {
		t.Fatal(err)
	}
	if err := st.SetKind(fixgraph.DocumentID("help.html"), fixgraph.KindManual, "user:lihua", at); err != nil {
		t.Fatal(err)
	}
	if d := read("warranty.pdf", policy); d.Kind != fixgraph.KindManual || d.KindReason != "set to manual by user:lihua on 2026-12-04" {
		t.Errorf("warranty.pdf after setting: %s (%s)", d.Kind, d.KindReason)
	}
	if d := read("help.html", page); d.Kind != fixgraph.KindManual {
		t.Errorf("help.html after setting: %s (%s)", d.Kind, d.KindReason)
	}
	if err := st.SetKind(fixgraph.DocumentID("warranty.pdf"), "", "user:lihua", at); err != nil {
		t.Fatal(err)
	}
	if d := read("warranty.pdf", policy); d.Kind != fixgraph.KindPolicy {
		t.Errorf("warranty.pdf after the setting was removed: %s", d.Kind)
	}
	if err := st.SetKind("doc:x", "stock", "user:lihua", at); fixgraph.CodeOf(err) != fixgraph.EINVALID {
		t.Errorf("setting kind stock: %v, want invalid", err)
	}
}
