package search_test

import (
	"context"
	"math"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/fixtures"
	"github.com/fixgraph/fixgraph/graph"
	"github.com/fixgraph/fixgraph/ingest"
	"github.com/fixgraph/fixgraph/search"
)

// fuzzIndex is the demo corpus in a real embedded index (BM25 and vectors from hashEmbedder) in
// a temporary directory, with the ids of the sections the graph holds.
type fuzzIndex struct {
	text     *search.Text
	hybrid   *search.Hybrid
	analyzer *search.Analyzer
	sections map[string]bool
}

func newFuzzIndex(f *testing.F) *fuzzIndex {
	f.Helper()
	ctx := context.Background()
	dir := f.TempDir()
	g, err := graph.OpenBolt(dir + "/graph.db")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { g.Close() })
	text, err := search.OpenText(dir + "/index")
	if err != nil {
		f.Fatal(err)
	}
	vecs, err := search.OpenVectors(dir+"/index", hashEmbedder{64})
	if err != nil {
		f.Fatal(err)
	}
	h := &search.Hybrid{Text: text, Vectors: vecs}
	f.Cleanup(func() { h.Close() })
	p := &ingest.Pipeline{Graph: g, Index: h, PDF: ingest.PDFOptions{Pdftotext: "-"}}
	if _, err := p.IngestFS(ctx, fixtures.Corpus, "."); err != nil {
		f.Fatal(err)
	}
	ix := &fuzzIndex{text: text, hybrid: h, sections: map[string]bool{}}
	err = g.Scan(ctx, fixgraph.PrefixSection+":", func(n fixgraph.Node) error {
		ix.sections[n.NodeID()] = true
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}
	if len(ix.sections) < 100 {
		f.Fatalf("the demo corpus made only %d sections", len(ix.sections))
	}
	if ix.analyzer, err = search.NewAnalyzer(); err != nil {
		f.Fatal(err)
	}
	return ix
}

// fuzzFilter makes a search filter from the bits of b.
func fuzzFilter(b byte) fixgraph.SearchFilter {
	var f fixgraph.SearchFilter
	if b&1 != 0 {
		f.Kinds = []fixgraph.DocKind{fixgraph.KindManual}
	}
	if b&2 != 0 {
		f.Kinds = append(f.Kinds, fixgraph.KindFAQ, fixgraph.KindPolicy)
	}
	if b&4 != 0 {
		f.Languages = []string{"zh"}
	}
	if b&8 != 0 {
		f.Languages = append(f.Languages, "en")
	}
	if b&16 != 0 {
		f.Products = []string{"WF-8012D"}
	}
	if b&32 != 0 {
		f.Statuses = []fixgraph.Status{fixgraph.StatusPublished}
	}
	if b&64 != 0 {
		f.Visibility = []fixgraph.Visibility{fixgraph.VisibilityPublic}
	}
	return f
}

// FuzzSearch runs arbitrary queries, limits and filters through the search path of the embedded
// deployment (BM25 alone, and fused with vectors) over the demo corpus, and checks that a query
// never fails on text, that hits are bounded by the limit, ranked, unique and name sections the
// graph holds, and that the analyzer is the same on its own as in the index.
//
//	go test ./search -run '^$' -fuzz '^FuzzSearch$' -fuzztime 3m
func FuzzSearch(f *testing.F) {
	ix := newFuzzIndex(f)
	for _, q := range []string{
		"我的洗衣机显示E102怎么办", "My dishwasher shows F21", "排水泵过滤器", "保修期限", "warrenty period",
		"ＥＲＲ E１０２", "WF-8012D E-102", "DC31-00178A", "泵", "", " ", "*", `"e102" AND -f21~2 +x:y`,
		"the and of", "wh-5020 热水器 不加热", "\x00", "\xff\xfe", "a\u0301 ﬁ ⽔", "E1 E2 E3 F1 F2 F21 H1 C0",
	} {
		f.Add(q, 10, byte(0))
		f.Add(q, 3, byte(0x5d))
	}
	f.Fuzz(func(t *testing.T, q string, limit int, filter byte) {
		ctx := context.Background()
		limit %= 200
		fl := fuzzFilter(filter)
		toks := ix.text.Analyze(q)
		if alone := ix.analyzer.Analyze(q); !slices.Equal(toks, alone) {
			t.Fatalf("Analyze(%q): index %q, analyzer alone %q", q, toks, alone)
		}
		for _, tok := range toks {
			if tok == "" || utf8.ValidString(q) && !utf8.ValidString(tok) {
				t.Fatalf("Analyze(%q) gave the token %q", q, tok)
			}
		}
		for _, s := range []struct {
			name   string
			search func(context.Context, string, int, fixgraph.SearchFilter) ([]fixgraph.Hit, error)
		}{{"text", ix.text.Search}, {"hybrid", ix.hybrid.Search}} {
			hits, err := s.search(ctx, q, limit, fl)
			if err != nil {
				if !utf8.ValidString(q) && fixgraph.CodeOf(err) == fixgraph.EINVALID {
					continue
				}
				t.Fatalf("%s search %q (limit %d, filter %+v): %v", s.name, q, limit, fl, err)
			}
			if len(hits) > max(limit, 0) {
				t.Fatalf("%s search %q: %d hits for limit %d", s.name, q, len(hits), limit)
			}
			seen := make(map[string]bool)
			for i, h := range hits {
				if h.Section == nil || !ix.sections[h.Section.ID] {
					t.Fatalf("%s search %q: hit %d is no section of the graph: %+v", s.name, q, i, h.Section)
				}
				if seen[h.Section.ID] {
					t.Fatalf("%s search %q: section %s twice", s.name, q, h.Section.ID)
				}
				seen[h.Section.ID] = true
				// BM25 scores are positive; fused ones are ≥ 0 (the last hit of the vector
				// ranking scales to 0, and with no BM25 hits nothing lifts it).
				if math.IsNaN(h.Score) || math.IsInf(h.Score, 0) || h.Score < 0 || h.Score == 0 && s.name == "text" {
					t.Fatalf("%s search %q: hit %d has score %v", s.name, q, i, h.Score)
				}
				if i > 0 && h.Score > hits[i-1].Score {
					t.Fatalf("%s search %q: hit %d scores %v, above the hit before it (%v)", s.name, q, i, h.Score, hits[i-1].Score)
				}
			}
		}
	})
}
