package graph

import (
	"context"
	"testing"
	"time"

	"github.com/fixgraph/fixgraph"
)

// statusSetter is what both graph stores do to settle a review.
type statusSetter interface {
	SetStatus(ctx context.Context, docID string, version int, status fixgraph.Status) (*fixgraph.Document, []*fixgraph.Section, error)
}

var (
	_ statusSetter = (*Bolt)(nil)
	_ statusSetter = (*Neo4j)(nil)
)

func TestSetStatusPublishesInPlace(t *testing.T) { forEachStore(t, testSetStatusPublishesInPlace) }

// testSetStatusPublishesInPlace stores a department's manual in review, which a public bot does
// not see in any read, and publishes it: the bot then sees it all, the version is the same, and a
// stale version or a missing document is refused.
func testSetStatusPublishesInPlace(t *testing.T, s store) {
	ctx := context.Background()
	b := deptManual("a/manual.html", "WF-7000", "a", fixgraph.VisibilityPublic, time.Now().UTC(), "REVIEWED", "high")
	b.Document.Status = fixgraph.StatusReview
	res, err := s.Apply(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	g := Guarded{Store: s}
	ids := append(sharedIDs("WF-7000"), b.Document.ID, b.Sections()[0].ID)
	if got := everyRead(t, g, publicBot, ids); len(got) != 0 {
		t.Fatalf("a public bot reads a document in review: %v", got)
	}
	if got := everyRead(t, g, editorOfA, ids); len(got) == 0 {
		t.Fatal("the department's editor does not read its document in review")
	}
	gen, _ := s.Generation(ctx)
	ss := s.(statusSetter)
	if _, _, err := ss.SetStatus(ctx, b.Document.ID, res.Version+1, fixgraph.StatusPublished); fixgraph.CodeOf(err) != fixgraph.ECONFLICT {
		t.Fatalf("SetStatus of a version not stored: %v, want conflict", err)
	}
	if _, _, err := ss.SetStatus(ctx, "doc:nothing", 0, fixgraph.StatusPublished); fixgraph.CodeOf(err) != fixgraph.ENOTFOUND {
		t.Fatalf("SetStatus of a missing document: %v, want not found", err)
	}
	doc, secs, err := ss.SetStatus(ctx, b.Document.ID, res.Version, fixgraph.StatusPublished)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Status != fixgraph.StatusPublished || doc.Version != res.Version || len(secs) != 1 || secs[0].ID != b.Sections()[0].ID {
		t.Fatalf("SetStatus = %+v with %d sections; want published version %d with its section", doc, len(secs), res.Version)
	}
	if g2, _ := s.Generation(ctx); g2 <= gen {
		t.Errorf("generation %d after SetStatus, was %d: caches of the graph would not see it", g2, gen)
	}
	got := everyRead(t, g, publicBot, ids)
	for _, id := range ids {
		if got["Node "+id] == "" || got["Nodes "+id] == "" {
			t.Errorf("after publishing, a public bot does not read %s", id)
		}
	}
	n, err := s.Node(ctx, b.Document.ID)
	if err != nil || n.(*fixgraph.Document).Status != fixgraph.StatusPublished {
		t.Fatalf("stored document = %+v, %v", n, err)
	}
	// The same content written again as published is the same version: nothing changes.
	b2 := deptManual("a/manual.html", "WF-7000", "a", fixgraph.VisibilityPublic, time.Now().UTC(), "REVIEWED", "high")
	if res2, err := s.Apply(ctx, b2); err != nil || !res2.Unchanged {
		t.Fatalf("writing the published content again = %+v, %v; want unchanged", res2, err)
	}
	// Setting the status it has changes nothing and still gives the sections.
	gen, _ = s.Generation(ctx)
	if _, secs, err := ss.SetStatus(ctx, b.Document.ID, 0, fixgraph.StatusPublished); err != nil || len(secs) != 1 {
		t.Fatalf("SetStatus again = %d sections, %v", len(secs), err)
	}
	if g2, _ := s.Generation(ctx); g2 != gen {
		t.Errorf("SetStatus to the status it has wrote (generation %d → %d)", gen, g2)
	}
}
