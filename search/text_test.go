package search_test

import (
	"context"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/graph"
	"github.com/fixgraph/fixgraph/search"
)

func mustText(tb testing.TB, dir string) *search.Text {
	tb.Helper()
	t, err := search.OpenText(dir)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { t.Close() })
	return t
}

func doc(source string, version int) *fixgraph.Document {
	return &fixgraph.Document{ID: fixgraph.DocumentID(source), Source: source, Kind: fixgraph.KindManual, Version: version, ContentHash: source, Status: fixgraph.StatusPublished, Visibility: fixgraph.VisibilityPublic}
}

func section(d *fixgraph.Document, heading, text string) *fixgraph.Section {
	return &fixgraph.Section{ID: fixgraph.HashID("sec", d.ID, heading), DocumentID: d.ID, Heading: heading, HeadingPath: []string{"手册", heading}, Text: text}
}

func ids(hits []fixgraph.Hit) []string {
	var out []string
	for _, h := range hits {
		out = append(out, h.Section.ID)
	}
	return out
}

func TestAnalyzerMixedChineseEnglishAndCodes(t *testing.T) {
	ctx := context.Background()
	ix := mustText(t, t.TempDir())
	d := doc("washer.html", 1)
	drain := section(d, "E-102 排水泵堵塞", "洗涤结束后不排水。Clean the drain pump filter DC31-00178A.")
	door := section(d, "门锁故障", "The door lock does not engage; 显示 E104。")
	if err := ix.Update(ctx, d, []*fixgraph.Section{drain, door}, nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		q    string
		want string
	}{
		{"E102", drain.ID},
		{"e-102", drain.ID},
		{"ＥＲＲ E１０２", drain.ID}, // full width
		{"排水", drain.ID},
		{"泵", drain.ID}, // one character
		{"dc31-00178a", drain.ID},
		{"cleaning filters", drain.ID}, // stemming
		{"门锁", door.ID},
		{"locked door", door.ID},
	}
	for _, tt := range tests {
		hits, err := ix.Search(ctx, tt.q, 5, fixgraph.SearchFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) == 0 || hits[0].Section.ID != tt.want {
			t.Errorf("Search(%q) = %v; want %s first", tt.q, ids(hits), tt.want)
		}
	}
	if toks := ix.Analyze("E-102 DC31-00178A"); !slices.Contains(toks, "e102") || !slices.Contains(toks, "dc31_00178a") {
		t.Errorf("Analyze kept codes apart: %q", toks)
	}
}

func TestFilters(t *testing.T) {
	ctx := context.Background()
	ix := mustText(t, t.TempDir())
	pub := doc("faq.html", 1)
	pub.Kind = fixgraph.KindFAQ
	draft := doc("draft.html", 1)
	draft.Status = fixgraph.StatusDraft
	a, b := section(pub, "发票", "电子发票怎么开"), section(draft, "发票草稿", "电子发票草稿")
	for _, u := range []struct {
		d *fixgraph.Document
		s *fixgraph.Section
	}{{pub, a}, {draft, b}} {
		if err := ix.Update(ctx, u.d, []*fixgraph.Section{u.s}, nil); err != nil {
			t.Fatal(err)
		}
	}
	published := fixgraph.SearchFilter{Statuses: []fixgraph.Status{fixgraph.StatusPublished}}
	if hits, _ := ix.Search(ctx, "发票", 10, published); !slices.Equal(ids(hits), []string{a.ID}) {
		t.Errorf("published filter = %v", ids(hits))
	}
	manuals := fixgraph.SearchFilter{Kinds: []fixgraph.DocKind{fixgraph.KindManual}}
	if hits, _ := ix.Search(ctx, "发票", 10, manuals); !slices.Equal(ids(hits), []string{b.ID}) {
		t.Errorf("kind filter = %v", ids(hits))
	}
}

// TestFilterAfterDeletes checks the filter short cut (a condition every section meets is not
// walked) and the posting cache against deleted postings: a published section that was removed
// must not make the published sections look like all of them, nor be found again.
func TestFilterAfterDeletes(t *testing.T) {
	ctx := context.Background()
	ix := mustText(t, t.TempDir())
	pub, draft := doc("faq.html", 1), doc("draft.html", 1)
	draft.Status = fixgraph.StatusDraft
	p1, p2 := section(pub, "发票一", "电子发票怎么开"), section(pub, "发票二", "电子发票抬头")
	d1 := section(draft, "发票草稿", "电子发票草稿")
	if err := ix.Update(ctx, pub, []*fixgraph.Section{p1, p2}, nil); err != nil {
		t.Fatal(err)
	}
	if err := ix.Update(ctx, draft, []*fixgraph.Section{d1}, nil); err != nil {
		t.Fatal(err)
	}
	published := fixgraph.SearchFilter{Statuses: []fixgraph.Status{fixgraph.StatusPublished}}
	// Searched before and after the change, so that remembered postings must be let go.
	if hits, _ := ix.Search(ctx, "发票", 10, published); len(hits) != 2 {
		t.Errorf("published before the delete = %v, want two sections", ids(hits))
	}
	pub.Version = 2
	if err := ix.Update(ctx, pub, []*fixgraph.Section{p1}, []string{p2.ID}); err != nil {
		t.Fatal(err)
	}
	if hits, _ := ix.Search(ctx, "发票", 10, published); !slices.Equal(ids(hits), []string{p1.ID}) {
		t.Errorf("published after a delete = %v, want only %s", ids(hits), p1.ID)
	}
	// The draft is published: now every section passes, and all are found.
	draft.Status, draft.Version = fixgraph.StatusPublished, 2
	if err := ix.Update(ctx, draft, []*fixgraph.Section{d1}, nil); err != nil {
		t.Fatal(err)
	}
	if hits, _ := ix.Search(ctx, "发票", 10, published); len(hits) != 2 {
		t.Errorf("all published = %v, want both sections", ids(hits))
	}
	both := fixgraph.SearchFilter{Statuses: []fixgraph.Status{fixgraph.StatusPublished, fixgraph.StatusDraft}, Visibility: []fixgraph.Visibility{fixgraph.VisibilityInternal}}
	if hits, _ := ix.Search(ctx, "发票", 10, both); len(hits) != 0 {
		t.Errorf("internal only = %v, want none", ids(hits))
	}
}

// TestSyncRepairsIndex checks that an index that missed writes, or that was lost, is brought back
// in line with the graph by Sync alone.
func TestSyncRepairsIndex(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	g, err := graph.OpenBolt(filepath.Join(dir, "graph.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	ix := mustText(t, filepath.Join(dir, "index"))

	write := func(d *fixgraph.Document, secs ...*fixgraph.Section) {
		b := &fixgraph.Batch{Document: d}
		for _, s := range secs {
			b.Add(s)
			b.Link(s.ID, fixgraph.RelPartOf, d.ID)
		}
		if _, err := g.Apply(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	keep, gone := doc("keep.html", 0), doc("gone.html", 0)
	write(keep, section(keep, "安装", "进水管安装步骤"))
	// The index saw a document the graph has since lost (a crash after the index write).
	if err := ix.Update(ctx, gone, []*fixgraph.Section{section(gone, "旧章节", "进水管旧内容")}, nil); err != nil {
		t.Fatal(err)
	}

	st, err := ix.Sync(ctx, g)
	if err != nil {
		t.Fatal(err)
	}
	if st.Documents != 1 || st.Reindexed != 1 || st.Dropped != 1 {
		t.Errorf("sync = %+v; want 1 document, 1 reindexed, 1 dropped", st)
	}
	hits, _ := ix.Search(ctx, "进水管", 10, fixgraph.SearchFilter{})
	if !slices.Equal(ids(hits), []string{section(keep, "安装", "").ID}) {
		t.Errorf("after sync, hits = %v", ids(hits))
	}
	if st, _ := ix.Sync(ctx, g); st.Reindexed != 0 || st.Dropped != 0 {
		t.Errorf("second sync did work: %+v", st)
	}

	// A new version written to the graph only is picked up.
	keep2 := doc("keep.html", 0)
	keep2.ContentHash = "v2"
	write(keep2, section(keep2, "安装", "drain pump 安装步骤"))
	if st, _ := ix.Sync(ctx, g); st.Reindexed != 1 {
		t.Errorf("sync after a graph-only write = %+v", st)
	}
	if hits, _ := ix.Search(ctx, "drain pump", 10, fixgraph.SearchFilter{}); len(hits) != 1 {
		t.Errorf("new version not searchable: %v", ids(hits))
	}
	if hits, _ := ix.Search(ctx, "进水管", 10, fixgraph.SearchFilter{}); len(hits) != 0 {
		t.Errorf("old text still searchable: %v", ids(hits))
	}
}

// TestBM25Scores checks the scores against BM25 computed by hand (k1 1.2, b 0.4) on a corpus
// small enough to count: bleve's own BM25 differs (see bm25.go) and would fail this.
func TestBM25Scores(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ix := mustText(t, dir)
	d := doc("m.html", 1)
	one := &fixgraph.Section{ID: "s1", DocumentID: d.ID, Heading: "pump", Text: "pump"}               // all: pump pump (2)
	two := &fixgraph.Section{ID: "s2", DocumentID: d.ID, Heading: "filter", Text: "pump filter hose"} // all: filter pump filter hose (4)
	three := &fixgraph.Section{ID: "s3", DocumentID: d.ID, Heading: "door", Text: "door seal gasket"} // all: door door seal gasket (4)
	if err := ix.Update(ctx, d, []*fixgraph.Section{one, two, three}, nil); err != nil {
		t.Fatal(err)
	}
	bm25 := func(tf, length, avg, n, df float64) float64 {
		idf := math.Log(1 + (n-df+0.5)/(df+0.5))
		return idf * tf * 2.2 / (tf + 1.2*(0.6+0.4*length/avg))
	}
	// "pump": field all (weight 1, avg 10/3) and field heading (weight 0.5, avg 1); no path.
	want := map[string]float64{
		"s1": bm25(2, 2, 10.0/3, 3, 2) + 0.5*bm25(1, 1, 1, 3, 1),
		"s2": bm25(1, 4, 10.0/3, 3, 2),
	}
	check := func(ix *search.Text) {
		t.Helper()
		hits, err := ix.Search(ctx, "pump", 10, fixgraph.SearchFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) != 2 {
			t.Fatalf("hits = %v; want s1 and s2", ids(hits))
		}
		for _, h := range hits {
			// Bleve keeps field lengths as float32 norms, hence the tolerance.
			if math.Abs(h.Score-want[h.Section.ID]) > 1e-4 {
				t.Errorf("score of %s = %.5f; want %.5f", h.Section.ID, h.Score, want[h.Section.ID])
			}
		}
	}
	check(ix)
	// The average lengths survive a restart.
	ix.Close()
	check(mustText(t, dir))
}

func TestProductFilter(t *testing.T) {
	ctx := context.Background()
	ix := mustText(t, t.TempDir())
	d := doc("m.html", 1)
	washer := section(d, "Warranty washer", "warranty two years")
	washer.Products = []string{"WF-8012D"}
	dish := section(d, "Warranty dishwasher", "warranty two years")
	dish.Products = []string{"DW-6035"}
	general := section(d, "Warranty terms", "warranty claims need the invoice")
	if err := ix.Update(ctx, d, []*fixgraph.Section{washer, dish, general}, nil); err != nil {
		t.Fatal(err)
	}
	hits, err := ix.Search(ctx, "warranty", 10, fixgraph.SearchFilter{Products: []string{"WF-8012D"}})
	if err != nil {
		t.Fatal(err)
	}
	got := ids(hits)
	slices.Sort(got)
	want := []string{washer.ID, general.ID}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("product filter = %v; want the washer's section and the general one", got)
	}
}

func TestTypoCorrection(t *testing.T) {
	ctx := context.Background()
	ix := mustText(t, t.TempDir())
	d := doc("m.html", 1)
	warranty := section(d, "Warranty", "The warranty covers the motor for ten years.")
	heater := section(d, "Heating time", "The heater takes 70 minutes to heat a full tank.")
	hose := section(d, "Drain hose", "Hook the hose over the sink.")
	house := section(d, "Moving house", "Keep the transit bolts for moving house; a house move needs them.")
	if err := ix.Update(ctx, d, []*fixgraph.Section{warranty, heater, hose, house}, nil); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]string{
		"warrenty for the motor":       warranty.ID,
		"how long does the heter take": heater.ID,
	} {
		hits, err := ix.Search(ctx, q, 3, fixgraph.SearchFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) == 0 || hits[0].Section.ID != want {
			t.Errorf("Search(%q) = %v; want %s first", q, ids(hits), want)
		}
	}
	// A word the index holds is taken as written, not "corrected" to a neighbour.
	if hits, _ := ix.Search(ctx, "hose", 3, fixgraph.SearchFilter{}); len(hits) != 1 || hits[0].Section.ID != hose.ID {
		t.Errorf("Search(hose) = %v; want only %s", ids(hits), hose.ID)
	}
}
