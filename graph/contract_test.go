package graph

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/internal/servertest"
)

// store is what both graph stores do; the tests in store_test.go and here run against each.
type store interface {
	Apply(ctx context.Context, b *fixgraph.Batch) (fixgraph.ApplyResult, error)
	Remove(ctx context.Context, docID string) (fixgraph.ApplyResult, error)
	History(ctx context.Context, docID string) ([]*fixgraph.Revision, error)
	Owners(ctx context.Context, ids []string) (map[string][]string, error)
	Contributions(ctx context.Context, ids []string) (map[string][]Contribution, error)
	Links(ctx context.Context, ids []string, rel fixgraph.Rel, dir fixgraph.Direction) (map[string][]Link, error)
	SetStock(ctx context.Context, levels []*fixgraph.StockLevel) error
	Node(ctx context.Context, id string) (fixgraph.Node, error)
	Nodes(ctx context.Context, ids []string) ([]fixgraph.Node, error)
	Neighbors(ctx context.Context, ids []string, rel fixgraph.Rel, dir fixgraph.Direction) (map[string][]string, error)
	Scan(ctx context.Context, prefix string, fn func(fixgraph.Node) error) error
	ErrorCodes(ctx context.Context, code string) ([]*fixgraph.ErrorCode, error)
	Generation(ctx context.Context) (uint64, error)
	Close() error
}

var (
	_ store = (*Bolt)(nil)
	_ store = (*Neo4j)(nil)
)

// forEachStore runs test against the embedded store, and against the Bolt server named by
// FIXGRAPH_TEST_NEO4J (bolt://USER:PASSWORD@HOST:PORT). Without it the server run is skipped,
// unless CI is set: there, a missing server fails.
func forEachStore(t *testing.T, test func(*testing.T, store)) {
	t.Run("bolt-file", func(t *testing.T) { test(t, MustOpenBolt(t)) })
	t.Run("neo4j", func(t *testing.T) { test(t, MustOpenNeo4j(t)) })
}

// MustOpenNeo4j connects to the Bolt test server, emptied first (servertest.Neo4jURL).
func MustOpenNeo4j(tb testing.TB) *Neo4j {
	tb.Helper()
	s, err := OpenNeo4j(context.Background(), servertest.Neo4jURL(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestScanAndNodes(t *testing.T) { forEachStore(t, testScanAndNodes) }

func testScanAndNodes(t *testing.T, s store) {
	ctx := context.Background()
	b := manualBatch("m.html", "h1", "不排水")
	if _, err := s.Apply(ctx, b); err != nil {
		t.Fatal(err)
	}
	var secs []string
	err := s.Scan(ctx, fixgraph.PrefixSection+":", func(n fixgraph.Node) error {
		secs = append(secs, n.NodeID())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{b.Sections()[0].ID, b.Sections()[1].ID}
	slices.Sort(want)
	if !slices.Equal(secs, want) {
		t.Errorf("Scan(sec:) = %v, want %v in id order", secs, want)
	}
	// Nodes keeps the order asked for, with nil for what does not exist.
	ids := []string{fixgraph.ProductID("WF-8012D"), "sec:nothing", b.Document.ID}
	ns, err := s.Nodes(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(ns) != 3 || ns[0] == nil || ns[1] != nil || ns[2] == nil || ns[0].NodeID() != ids[0] || ns[2].(*fixgraph.Document).Version != 1 {
		t.Fatalf("Nodes = %v", ns)
	}
	// An edge to a node no document has given data (yet) does not make that node exist.
	if _, err := s.Node(ctx, "sec:nothing"); fixgraph.CodeOf(err) != fixgraph.ENOTFOUND {
		t.Errorf("Node(missing) = %v, want not found", err)
	}
	docs, err := s.Neighbors(ctx, []string{b.Sections()[0].ID}, fixgraph.RelPartOf, fixgraph.Out)
	if err != nil || !slices.Equal(docs[b.Sections()[0].ID], []string{b.Document.ID}) {
		t.Errorf("PART_OF = %v, %v", docs, err)
	}
	if g, err := s.Generation(ctx); err != nil || g == 0 {
		t.Errorf("Generation = %d, %v; want > 0 after a write", g, err)
	}
}

// TestNeo4jUnreachable checks that a configured server that does not answer is a clear
// EUNAVAILABLE error naming it, never a fallback.
func TestNeo4jUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := OpenNeo4j(ctx, "bolt://neo4j:secret@127.0.0.1:1")
	if fixgraph.CodeOf(err) != fixgraph.EUNAVAILABLE {
		t.Fatalf("OpenNeo4j(closed port) = %v, want an unavailable error", err)
	}
	if msg := fixgraph.MessageOf(err); !strings.Contains(msg, "127.0.0.1:1") || strings.Contains(err.Error(), "secret") {
		t.Errorf("message %q should name the server and hide the password", msg)
	}
	if _, err := OpenNeo4j(ctx, "http://example.com"); fixgraph.CodeOf(err) != fixgraph.EINVALID {
		t.Errorf("OpenNeo4j(http URL) = %v, want invalid", err)
	}
}

// editorialBatch is the editor's version of entity, published with status as its editorial
// document: nodes are what the editor says of it, detached the edges it says are wrong. hash
// stands for the content; a write with a new one is a new version.
func editorialBatch(entity, hash string, status fixgraph.Status, detached []fixgraph.Edge, nodes ...fixgraph.Node) *fixgraph.Batch {
	src := fixgraph.EditorialSource(entity)
	doc := &fixgraph.Document{ID: fixgraph.DocumentID(src), Source: src, ContentHash: hash, Status: status, Visibility: fixgraph.VisibilityPublic, Detached: detached}
	b := &fixgraph.Batch{Document: doc}
	b.Add(nodes...)
	return b
}

// guideOf returns the repair guide of a batch.
func guideOf(tb testing.TB, b *fixgraph.Batch) *fixgraph.RepairGuide {
	tb.Helper()
	for _, n := range b.Nodes {
		if g, ok := n.(*fixgraph.RepairGuide); ok {
			return g
		}
	}
	tb.Fatal("the batch has no repair guide")
	return nil
}

func TestEditorialContributionWins(t *testing.T) { forEachStore(t, testEditorialContributionWins) }

// testEditorialContributionWins: the editor's version of a guide replaces the one a manual
// contributed, whether the manual's id sorts before or after the editorial document's, and
// whichever was written last; removing the editorial document brings the manual's back. For an
// error code, the editor's texts win per language and the manual's other languages stay.
func testEditorialContributionWins(t *testing.T, s store) {
	ctx := context.Background()
	var sources []string // one whose document id sorts before the editorial ones, one after
	var before, after bool
	for i := 0; !before || !after; i++ {
		src := fmt.Sprintf("m%d.html", i)
		if id := fixgraph.DocumentID(src); id < fixgraph.EditorialDocPrefix && !before {
			before, sources = true, append(sources, src)
		} else if id > fixgraph.EditorialDocPrefix && !after {
			after, sources = true, append(sources, src)
		}
	}
	edited := []string{"关闭水龙头", "拆下排水泵并清理"}
	for _, src := range sources {
		ingested := manualBatch(src, "h1", "不排水")
		g := guideOf(t, ingested)
		mine := *g
		mine.Steps = edited
		if _, err := s.Apply(ctx, ingested); err != nil {
			t.Fatal(err)
		}
		ed := editorialBatch(g.ID, "e1", fixgraph.StatusPublished, nil, &mine)
		if _, err := s.Apply(ctx, ed); err != nil {
			t.Fatal(err)
		}
		steps := func() []string {
			n, err := s.Node(ctx, g.ID)
			if err != nil {
				t.Fatalf("%s: %v", src, err)
			}
			return n.(*fixgraph.RepairGuide).Steps
		}
		if got := steps(); !slices.Equal(got, edited) {
			t.Errorf("%s (id %s): guide steps = %v, want the editor's %v", src, ingested.Document.ID, got, edited)
		}
		// A new version of the manual, written after the editor's, does not win either.
		if _, err := s.Apply(ctx, manualBatch(src, "h2", "不排水")); err != nil {
			t.Fatal(err)
		}
		if got := steps(); !slices.Equal(got, edited) {
			t.Errorf("%s: guide steps after the manual's new version = %v, want the editor's", src, got)
		}
		if _, err := s.Remove(ctx, ed.Document.ID); err != nil {
			t.Fatal(err)
		}
		if got := steps(); !slices.Equal(got, g.Steps) {
			t.Errorf("%s: guide steps after removing the editorial document = %v, want the manual's %v", src, got, g.Steps)
		}
	}

	code := fixgraph.ErrorCodeID("WF-8012D", "E102")
	en := manualBatch("en.html", "h1", "does not drain")
	for _, n := range en.Nodes {
		if ec, ok := n.(*fixgraph.ErrorCode); ok {
			ec.Symptom = fixgraph.Text{"en": "does not drain"}
		}
	}
	if _, err := s.Apply(ctx, en); err != nil {
		t.Fatal(err)
	}
	ed := editorialBatch(code, "e1", fixgraph.StatusPublished, nil,
		&fixgraph.ErrorCode{ID: code, Code: "E102", Product: "WF-8012D", Symptom: fixgraph.Text{"zh": "排水超时"}})
	if _, err := s.Apply(ctx, ed); err != nil {
		t.Fatal(err)
	}
	ecs, err := s.ErrorCodes(ctx, "E102")
	if err != nil || len(ecs) != 1 {
		t.Fatalf("ErrorCodes = %v, %v", ecs, err)
	}
	if sym := ecs[0].Symptom; sym["zh"] != "排水超时" || sym["en"] != "does not drain" {
		t.Errorf("symptom = %v, want the editor's zh and the manual's en", sym)
	}
}
