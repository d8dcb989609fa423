// Package fixgraphtest opens the real embedded stores for tests, in a temporary directory, and
// loads the fixture corpus into them.
package fixgraphtest

import (
	"context"
	"os"
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
	Index    *search.Hybrid // Text alone, or with vectors (MustOpenHybrid)
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
	ix := &search.Hybrid{Text: t}
	return &Stores{Graph: g, Text: t, Index: ix, Pipeline: &ingest.Pipeline{Graph: g, Index: ix}}
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

// Answers returns the answer service over the stores, reading the graph as the principal of each
// call's context may see it (as serve does).
func (s *Stores) Answers() *answer.Service {
	return &answer.Service{Graph: graph.Guarded{Store: s.Graph}, Index: s.Index}
}

// ModelsDir returns where scripts/fetch-model.sh puts ONNX Runtime and the model: $FIXGRAPH_MODELS
// (relative to the repository root, as make sees it) or .cache/models under the repository root.
func ModelsDir(tb testing.TB) string {
	tb.Helper()
	models := os.Getenv("FIXGRAPH_MODELS")
	if models == "" {
		models = filepath.Join(".cache", "models")
	}
	if filepath.IsAbs(models) {
		return models
	}
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, models)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// NeedModel returns the path of name under ModelsDir. When it is missing, the test is skipped
// locally and fails in CI, where make test has run scripts/fetch-model.sh.
func NeedModel(tb testing.TB, name string) string {
	tb.Helper()
	p := filepath.Join(ModelsDir(tb), name)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("%s is missing in CI: make test runs scripts/fetch-model.sh first: %v", p, err)
		}
		tb.Skipf("%s is missing (run make models): %v", p, err)
	}
	return p
}

// MustEmbedder opens the default ONNX embedder, closed when the test ends.
func MustEmbedder(tb testing.TB) *search.ONNX {
	tb.Helper()
	e, err := search.OpenONNX(NeedModel(tb, "bge-small-zh-v1.5"), NeedModel(tb, "onnxruntime/libonnxruntime.so.1"), search.ONNXOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { e.Close() })
	return e
}

// MustOpenHybrid opens empty stores whose index has vectors from the real embedder.
func MustOpenHybrid(tb testing.TB) *Stores {
	tb.Helper()
	s := MustOpen(tb)
	v, err := search.OpenVectors(filepath.Join(tb.TempDir(), "vectors"), MustEmbedder(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { v.Close() })
	s.Index.Vectors = v
	return s
}

// EManualDir returns the directory of the E-Manual corpus ($FIXGRAPH_EMANUAL, or
// shared/corpus/emanual in the working directory or one of its parents), or skips the test when
// it is not on this machine.
func EManualDir(tb testing.TB) string {
	tb.Helper()
	if d := os.Getenv("FIXGRAPH_EMANUAL"); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		d := filepath.Join(dir, "shared", "corpus", "emanual")
		if _, err := os.Stat(d); err == nil {
			return d
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Skip("the E-Manual corpus is not on this machine: set FIXGRAPH_EMANUAL to its directory")
		}
		dir = parent
	}
}
