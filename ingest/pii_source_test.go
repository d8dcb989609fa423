package ingest_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/ingest"
)

// TestFileNamesAreMaskedWhereShown: a file uploaded under a name holding a phone number and an
// e-mail address is stored, listed and cited under the masked name, and keeps the id made from the
// name as uploaded, so uploading it again finds the same document (unchanged) rather than adding
// a second one.
func TestFileNamesAreMaskedWhereShown(t *testing.T) {
	ctx := context.Background()
	s := mustStores(t)
	const (
		src    = "upload:support/张三_13812345678_li.lei@example.com_保修单.html"
		masked = "upload:support/张三_138****5678_l***@example.com_保修单.html"
	)
	data := fixture(t, "faq/faq-general-zh.html")
	r := s.p.IngestFile(ctx, src, data)
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	if r.DocumentID != fixgraph.DocumentID(src) {
		t.Errorf("document id %q, want the id of the source as uploaded, %q", r.DocumentID, fixgraph.DocumentID(src))
	}
	n, err := s.Graph.Node(ctx, r.DocumentID)
	if err != nil {
		t.Fatal(err)
	}
	if doc := n.(*fixgraph.Document); doc.Source != masked {
		t.Errorf("stored source %q, want %q", doc.Source, masked)
	}
	if again := s.p.IngestFile(ctx, src, data); again.Outcome != ingest.Unchanged || again.DocumentID != r.DocumentID {
		t.Errorf("uploading the file again: %s as %q; want unchanged, as %q", again.Outcome, again.DocumentID, r.DocumentID)
	}
	docs := 0
	if err := s.Graph.Scan(ctx, fixgraph.PrefixDocument+":", func(fixgraph.Node) error { docs++; return nil }); err != nil {
		t.Fatal(err)
	}
	if docs != 1 {
		t.Errorf("%d documents after uploading one file twice", docs)
	}
	ans, err := s.Answers().Ask(ctx, "下单后多久可以发货？")
	if err != nil {
		t.Fatal(err)
	}
	if len(ans.Citations) == 0 {
		t.Fatalf("the answer cites nothing: %+v", ans)
	}
	for _, c := range ans.Citations {
		if c.Source != masked || !strings.HasPrefix(c.URL, masked) {
			t.Errorf("citation source %q, URL %q; want the masked name %q", c.Source, c.URL, masked)
		}
	}
	out, _ := json.Marshal(ans)
	if strings.Contains(string(out), "13812345678") || strings.Contains(string(out), "li.lei@") {
		t.Errorf("the answer shows personal data: %s", out)
	}
}
