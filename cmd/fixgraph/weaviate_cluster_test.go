package main

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/answer"
	"github.com/fixgraph/fixgraph/internal/servertest"
	"github.com/fixgraph/fixgraph/search"
)

// TestSearchSurvivesAWeaviateNode runs fixgraph on the two-node Weaviate test cluster with
// replicas=2 and stops node2: searches and asks give the same top answers as with both nodes, a
// document ingested meanwhile is taken, and once node2 is back it finds that document too.
func TestSearchSurvivesAWeaviateNode(t *testing.T) {
	graph := servertest.Neo4jURL(t)
	node1, node2 := servertest.WeaviateClusterURLs(t, search.WeaviateClasses...)
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := openApp(ctx, config{data: t.TempDir(), graph: graph, vectors: node1 + "&replicas=2", embedder: "none"}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	results, err := a.loadFixtures(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Err != nil && !strings.Contains(r.Source, "type3") {
			t.Fatalf("%s: %v", r.Source, r.Err)
		}
	}
	questions, err := fixtureQuestions()
	if err != nil {
		t.Fatal(err)
	}
	top := func(q string) string {
		t.Helper()
		hits, err := a.answers.Search(ctx, q, 1, answer.Published)
		if err != nil {
			t.Fatalf("search %q: %v", q, err)
		}
		if len(hits) == 0 {
			return ""
		}
		return hits[0].Section.ID
	}
	want := make(map[string]string, len(questions))
	for _, q := range questions {
		want[q] = top(q)
	}
	const e102 = "我的洗衣机显示E102怎么办"
	before, err := a.answers.Ask(ctx, e102)
	if err != nil || before.Kind != fixgraph.AnswerTroubleshoot || before.Guide == nil {
		t.Fatalf("ask %q with both nodes: %+v, %v", e102, before, err)
	}

	t.Cleanup(func() { servers(t, "resume", "weaviate2") }) // for the tests after this one
	servers(t, "pause", "weaviate2")
	start := time.Now()
	for _, q := range questions {
		if got := top(q); got != want[q] {
			t.Errorf("%q with node2 down: top %s, want %s", q, got, want[q])
		}
	}
	during, err := a.answers.Ask(ctx, e102)
	if err != nil || during.Kind != fixgraph.AnswerTroubleshoot || during.Guide == nil ||
		strings.Join(during.Guide.Steps, "|") != strings.Join(before.Guide.Steps, "|") {
		t.Errorf("ask %q with node2 down: %+v, %v; want the guide %q", e102, during, err, before.Guide.Steps)
	}
	t.Logf("%d searches and an ask with node2 down in %v", len(questions), time.Since(start).Round(time.Millisecond))
	// A write with node2 away is taken by node1 alone.
	const doc = "outage/quiet-dryer.md"
	text := "# Dryer hums but drum stays still\n\nWhen the dryer hums and the drum stays still, the drive belt has slipped off the idler pulley. Unplug the dryer and seat the belt on the pulley again.\n"
	if r := a.pipeline.IngestFile(ctx, doc, []byte(text)); r.Err != nil {
		t.Fatalf("ingesting %s with node2 down: %v", doc, r.Err)
	}
	id := top("dryer hums drum stays still")
	if id == "" {
		t.Fatalf("the document ingested with node2 down is not found through node1")
	}
	servers(t, "resume", "weaviate2")

	// Through node2, with node2 answering for itself: async replication brings it the write
	// it missed.
	w2, err := search.OpenWeaviate(ctx, node2+"&replicas=2", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	start = time.Now()
	for {
		hits, err := w2.Search(ctx, "dryer hums drum stays still", 5, fixgraph.SearchFilter{})
		if err == nil && len(hits) > 0 && hits[0].Section.ID == id {
			break
		}
		if time.Since(start) > 2*time.Minute {
			t.Fatalf("through node2 after it is back: %v, %v; want %s first", ids(hits), err, id)
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("node2 answered with the write it missed %v after it was back", time.Since(start).Round(time.Millisecond))
	// And the documents from before the outage are all still there.
	for _, q := range questions {
		if got := top(q); got != want[q] {
			t.Errorf("%q after node2 is back: top %s, want %s", q, got, want[q])
		}
	}
}
