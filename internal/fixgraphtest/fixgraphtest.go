// Package fixgraphtest opens the real embedded stores for tests, in a temporary directory, and
// loads the fixture corpus into them.
package fixgraphtest

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fixgraph/fixgraph/answer"
	"github.com/fixgraph/fixgraph/fixtures"
	"github.com/fixgraph/fixgraph/graph"
	"github.com/fixgraph/fixgraph/ingest"
	"github.com/fixgraph/fixgraph/search"
)

// Stores are the embedded graph and text index with the pipeline that writes to both.
type Stores struct {
	Graph    *graph.Bolt
	Text     *search.Text
	Pipeline *ingest.Pipeline
}

// MustOpen opens empty stores in a temporary directory, closed when the test ends.
func MustOpen(tb testing.TB) *Stores {
	tb.Helper()
	dir := tb.TempDir()
	g, err := graph.OpenBolt(filepath.Join(dir, "graph.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { g.Close() })
	t, err := search.OpenText(filepath.Join(dir, "index"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { t.Close() })
	return &Stores{Graph: g, Text: t, Pipeline: &ingest.Pipeline{Graph: g, Index: t}}
}

// MustLoadFixtures ingests the fixture corpus. Without pdftotext only the Type 3 PDF may fail;
// any other failure fails the test.
func (s *Stores) MustLoadFixtures(tb testing.TB) {
	tb.Helper()
	results, err := s.Pipeline.IngestFS(context.Background(), fixtures.Corpus, ".")
	if err != nil {
		tb.Fatal(err)
	}
	for _, r := range results {
		if r.Err != nil && !strings.Contains(r.Source, "type3") {
			tb.Fatalf("%s: %v", r.Source, r.Err)
		}
	}
}

// Answers returns the answer service over the stores.
func (s *Stores) Answers() *answer.Service {
	return &answer.Service{Graph: s.Graph, Index: s.Text}
}
