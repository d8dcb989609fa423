package graph

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fixgraph/fixgraph"
)

// MustOpenBolt opens a store in a temporary directory, closed when the test ends.
func MustOpenBolt(tb testing.TB) *Bolt {
	tb.Helper()
	s, err := OpenBolt(filepath.Join(tb.TempDir(), "graph.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// manualBatch is a small manual: one product, one code with a guide that needs a part, two sections.
func manualBatch(source, hash, symptom string) *fixgraph.Batch {
	doc := &fixgraph.Document{ID: fixgraph.DocumentID(source), Source: source, ContentHash: hash, Kind: fixgraph.KindManual, Status: fixgraph.StatusPublished}
	b := &fixgraph.Batch{Document: doc}
	p := &fixgraph.Product{ID: fixgraph.ProductID("WF-8012D"), Model: "WF-8012D", Name: fixgraph.Text{"zh": "滚筒洗衣机"}}
	ec := &fixgraph.ErrorCode{ID: fixgraph.ErrorCodeID("WF-8012D", "E102"), Code: "E102", Product: "WF-8012D", Symptom: fixgraph.Text{"zh": symptom}}
	sec := &fixgraph.Section{ID: fixgraph.HashID("sec", doc.ID, symptom), DocumentID: doc.ID, Heading: "E102", Text: symptom}
	intro := &fixgraph.Section{ID: fixgraph.HashID("sec", doc.ID, "intro"), DocumentID: doc.ID, Heading: "产品介绍"}
	g := &fixgraph.RepairGuide{ID: fixgraph.HashID("guide", doc.ID, "E102"), Code: "E102", Product: "WF-8012D", Steps: []string{"拔下电源", "清理过滤器"}, SectionID: sec.ID, DocumentID: doc.ID}
	part := &fixgraph.Part{ID: fixgraph.PartID("DC31-00178A"), SKU: "DC31-00178A", Name: fixgraph.Text{"zh": "排水泵"}, Compatible: []string{"WF-8012D"}}
	b.Add(p, ec, sec, intro, g, part)
	b.Link(p.ID, fixgraph.RelHasError, ec.ID)
	b.Link(ec.ID, fixgraph.RelFixedBy, g.ID)
	b.Link(g.ID, fixgraph.RelNeedsPart, part.ID)
	b.Link(sec.ID, fixgraph.RelPartOf, doc.ID)
	b.Link(intro.ID, fixgraph.RelPartOf, doc.ID)
	return b
}

func TestApplyIsIdempotent(t *testing.T) { forEachStore(t, testApplyIsIdempotent) }

func testApplyIsIdempotent(t *testing.T, s store) {
	ctx := context.Background()
	res, err := s.Apply(ctx, manualBatch("m.html", "h1", "不排水"))
	if err != nil || res.Unchanged || res.Version != 1 {
		t.Fatalf("first apply = %+v, %v", res, err)
	}
	gen, _ := s.Generation(ctx)
	res, err = s.Apply(ctx, manualBatch("m.html", "h1", "不排水"))
	if err != nil || !res.Unchanged || res.Version != 1 {
		t.Fatalf("second apply = %+v, %v; want unchanged version 1", res, err)
	}
	if gen2, _ := s.Generation(ctx); gen2 != gen {
		t.Errorf("generation moved from %d to %d on an unchanged apply", gen, gen2)
	}
	ecs, err := s.ErrorCodes(ctx, "e102")
	if err != nil || len(ecs) != 1 || ecs[0].Symptom["zh"] != "不排水" {
		t.Fatalf("ErrorCodes = %+v, %v", ecs, err)
	}
	guides, _ := s.Neighbors(ctx, []string{ecs[0].ID}, fixgraph.RelFixedBy, fixgraph.Out)
	parts, _ := s.Neighbors(ctx, guides[ecs[0].ID], fixgraph.RelNeedsPart, fixgraph.Out)
	if len(guides[ecs[0].ID]) != 1 || len(parts) != 1 {
		t.Fatalf("guides %v, parts %v", guides, parts)
	}
}

func TestApplyNewVersionReplacesOldContribution(t *testing.T) {
	forEachStore(t, testApplyNewVersionReplacesOldContribution)
}

func testApplyNewVersionReplacesOldContribution(t *testing.T, s store) {
	ctx := context.Background()
	if _, err := s.Apply(ctx, manualBatch("m.html", "h1", "不排水")); err != nil {
		t.Fatal(err)
	}
	oldSec := fixgraph.HashID("sec", fixgraph.DocumentID("m.html"), "不排水")
	res, err := s.Apply(ctx, manualBatch("m.html", "h2", "排水慢"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Version != 2 || !slices.Equal(res.RemovedSections, []string{oldSec}) {
		t.Fatalf("apply v2 = %+v; want version 2 removing %s", res, oldSec)
	}
	if _, err := s.Node(ctx, oldSec); fixgraph.CodeOf(err) != fixgraph.ENOTFOUND {
		t.Errorf("old section still there: %v", err)
	}
	n, err := s.Node(ctx, fixgraph.ErrorCodeID("WF-8012D", "E102"))
	if err != nil || n.(*fixgraph.ErrorCode).Symptom["zh"] != "排水慢" {
		t.Fatalf("error code after update = %+v, %v", n, err)
	}
	secs, _ := s.Neighbors(ctx, []string{fixgraph.DocumentID("m.html")}, fixgraph.RelPartOf, fixgraph.In)
	if got := len(secs[fixgraph.DocumentID("m.html")]); got != 2 {
		t.Errorf("document has %d sections, want 2", got)
	}
}

func TestSharedNodesKeepOtherContributions(t *testing.T) {
	forEachStore(t, testSharedNodesKeepOtherContributions)
}

func testSharedNodesKeepOtherContributions(t *testing.T, s store) {
	ctx := context.Background()
	zh := manualBatch("zh.html", "a", "不排水")
	en := manualBatch("en.html", "b", "does not drain")
	for _, n := range en.Nodes {
		switch n := n.(type) {
		case *fixgraph.ErrorCode:
			n.Symptom = fixgraph.Text{"en": "does not drain"}
		case *fixgraph.Part:
			n.Name = fixgraph.Text{"en": "Drain pump"}
			n.Compatible = []string{"WF-9000"}
		}
	}
	for _, b := range []*fixgraph.Batch{zh, en} {
		if _, err := s.Apply(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	n, _ := s.Node(ctx, fixgraph.PartID("DC31-00178A"))
	part := n.(*fixgraph.Part)
	if part.Name["zh"] != "排水泵" || part.Name["en"] != "Drain pump" || !slices.Equal(part.Compatible, []string{"WF-8012D", "WF-9000"}) {
		t.Fatalf("merged part = %+v", part)
	}

	partID := fixgraph.PartID("DC31-00178A")
	owners, err := s.Owners(ctx, []string{partID, fixgraph.DocumentID("zh.html"), "part:NOPE"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{fixgraph.DocumentID("en.html"), fixgraph.DocumentID("zh.html")}; !slices.Equal(slices.Sorted(slices.Values(owners[partID])), slices.Sorted(slices.Values(want))) ||
		!slices.Equal(owners[fixgraph.DocumentID("zh.html")], []string{fixgraph.DocumentID("zh.html")}) || len(owners["part:NOPE"]) != 0 {
		t.Errorf("owners = %v", owners)
	}

	// Removing the English manual takes its contribution away and leaves the Chinese one whole.
	if _, err := s.Remove(ctx, fixgraph.DocumentID("en.html")); err != nil {
		t.Fatal(err)
	}
	n, _ = s.Node(ctx, fixgraph.PartID("DC31-00178A"))
	part = n.(*fixgraph.Part)
	if part.Name["en"] != "" || part.Name["zh"] != "排水泵" || !slices.Equal(part.Compatible, []string{"WF-8012D"}) {
		t.Fatalf("part after removing en = %+v", part)
	}
	ec, _ := s.ErrorCodes(ctx, "E102")
	guides, _ := s.Neighbors(ctx, []string{ec[0].ID}, fixgraph.RelFixedBy, fixgraph.Out)
	if len(guides[ec[0].ID]) != 1 {
		t.Errorf("E102 has %d guides after removing one manual, want 1", len(guides[ec[0].ID]))
	}
	if _, err := s.Node(ctx, fixgraph.DocumentID("en.html")); fixgraph.CodeOf(err) != fixgraph.ENOTFOUND {
		t.Errorf("removed document still there: %v", err)
	}
}

func TestSetStockKeepsNewest(t *testing.T) { forEachStore(t, testSetStockKeepsNewest) }

func testSetStockKeepsNewest(t *testing.T, s store) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	err := s.SetStock(ctx, []*fixgraph.StockLevel{{SKU: "dc31-00178a", Warehouse: "wh-sh01", Quantity: 7, UpdatedAt: t0}})
	if err != nil {
		t.Fatal(err)
	}
	// A feed from a document with an older count does not override the newer push.
	feed := &fixgraph.Batch{Document: &fixgraph.Document{ID: fixgraph.DocumentID("stock.csv"), Source: "stock.csv", ContentHash: "x"}}
	feed.Add(&fixgraph.StockLevel{ID: fixgraph.StockID("DC31-00178A", "WH-SH01"), SKU: "DC31-00178A", Warehouse: "WH-SH01", Quantity: 2, UpdatedAt: t0.Add(-time.Hour)})
	if _, err := s.Apply(ctx, feed); err != nil {
		t.Fatal(err)
	}
	n, err := s.Node(ctx, fixgraph.StockID("DC31-00178A", "WH-SH01"))
	if err != nil || n.(*fixgraph.StockLevel).Quantity != 7 {
		t.Fatalf("stock = %+v, %v; want the newer 7", n, err)
	}
	if _, err := s.Node(ctx, fixgraph.WarehouseID("WH-SH01")); err != nil {
		t.Errorf("push did not create the warehouse: %v", err)
	}
	wh, _ := s.Neighbors(ctx, []string{fixgraph.PartID("DC31-00178A")}, fixgraph.RelStockedAt, fixgraph.Out)
	if !slices.Equal(wh[fixgraph.PartID("DC31-00178A")], []string{fixgraph.WarehouseID("WH-SH01")}) {
		t.Errorf("STOCKED_AT = %v", wh)
	}
}

func TestOpenLockedFileFailsClearly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "graph.db")
	s, err := OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := OpenBolt(path); fixgraph.CodeOf(err) != fixgraph.EUNAVAILABLE {
		t.Fatalf("second open = %v; want an unavailable error", err)
	}
}

func TestApplyRejectsBatchWithoutDocument(t *testing.T) {
	forEachStore(t, testApplyRejectsBatchWithoutDocument)
}

func testApplyRejectsBatchWithoutDocument(t *testing.T, s store) {
	if _, err := s.Apply(context.Background(), &fixgraph.Batch{}); fixgraph.CodeOf(err) != fixgraph.EINVALID {
		t.Fatalf("err = %v", err)
	}
}

func TestHistoryKeepsEndedVersions(t *testing.T) { forEachStore(t, testHistoryKeepsEndedVersions) }

// testHistoryKeepsEndedVersions: a superseded version and a removed one are kept with their
// sections, oldest first, while the graph serves only the current one (or none).
func testHistoryKeepsEndedVersions(t *testing.T, s store) {
	ctx := context.Background()
	doc := fixgraph.DocumentID("m.html")
	if _, err := s.Apply(ctx, manualBatch("m.html", "h1", "不排水")); err != nil {
		t.Fatal(err)
	}
	if h, err := s.History(ctx, doc); err != nil || len(h) != 0 {
		t.Fatalf("history of a first version = %v, %v; want none", h, err)
	}
	if _, err := s.Apply(ctx, manualBatch("m.html", "h2", "排水慢")); err != nil {
		t.Fatal(err)
	}
	res, err := s.Remove(ctx, doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.RemovedSections) != 2 {
		t.Errorf("remove took out sections %v; want 2", res.RemovedSections)
	}
	if _, err := s.Node(ctx, doc); fixgraph.CodeOf(err) != fixgraph.ENOTFOUND {
		t.Errorf("removed document still served: %v", err)
	}
	h, err := s.History(ctx, doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 2 {
		t.Fatalf("history has %d revisions, want 2", len(h))
	}
	if h[0].Document.Version != 1 || h[0].EndReason != fixgraph.Superseded || h[1].Document.Version != 2 || h[1].EndReason != fixgraph.Retired {
		t.Errorf("history = v%d %s, v%d %s; want v1 superseded, v2 removed", h[0].Document.Version, h[0].EndReason, h[1].Document.Version, h[1].EndReason)
	}
	if got := sectionTexts(h[0].Sections); len(h[0].Sections) != 2 || !strings.Contains(got, "不排水") {
		t.Errorf("first revision's sections:\n%s\nwant its two sections, one with 不排水", got)
	}
	if _, err := s.Remove(ctx, doc); fixgraph.CodeOf(err) != fixgraph.ENOTFOUND {
		t.Errorf("removing a removed document: %v; want not found", err)
	}
}

func sectionTexts(secs []*fixgraph.Section) string {
	var b strings.Builder
	for _, s := range secs {
		b.WriteString(s.Heading + " " + s.Text + "\n")
	}
	return b.String()
}
