package main

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/answer"
	"github.com/fixgraph/fixgraph/ingest"
	"github.com/fixgraph/fixgraph/internal/servertest"
)

// TestNeo4jDeployment ingests the fixtures once into the embedded graph and once into the Bolt
// server, and checks that both deployments give the same top answer to every fixture question
// and the same troubleshooting answer; a second ingest into the server changes nothing.
func TestNeo4jDeployment(t *testing.T) {
	url := servertest.Neo4jURL(t)
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	open := func(graph string) *app {
		a, err := openApp(ctx, config{data: t.TempDir(), graph: graph, embedder: "none"}, quiet)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close() })
		return a
	}
	embedded, server := open(""), open(url)
	for _, a := range []*app{embedded, server} {
		results, err := a.loadFixtures(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range results {
			if r.Err != nil && !strings.Contains(r.Source, "type3") {
				t.Fatalf("%s: %v", r.Source, r.Err)
			}
		}
	}
	count := func(a *app) int {
		n := 0
		if err := a.graph.Scan(ctx, fixgraph.PrefixSection+":", func(fixgraph.Node) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if e, s := count(embedded), count(server); e == 0 || e != s {
		t.Fatalf("sections: embedded %d, server %d", e, s)
	}
	// Ingesting again into the server is a no-op: nothing duplicated, every file unchanged.
	before := count(server)
	results, err := server.loadFixtures(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Err == nil && r.Outcome != ingest.Unchanged {
			t.Errorf("re-ingest of %s: %s, want unchanged", r.Source, r.Outcome)
		}
	}
	if after := count(server); after != before {
		t.Errorf("re-ingest changed the section count from %d to %d", before, after)
	}

	questions, err := fixtureQuestions()
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range questions {
		e, err1 := embedded.answers.Search(ctx, q, 1, answer.Published)
		s, err2 := server.answers.Search(ctx, q, 1, answer.Published)
		if err1 != nil || err2 != nil {
			t.Fatalf("%q: %v, %v", q, err1, err2)
		}
		if len(e) != len(s) || len(e) > 0 && e[0].Section.ID != s[0].Section.ID {
			t.Errorf("%q: embedded top %v, server top %v", q, ids(e), ids(s))
		}
	}
	ea, err1 := embedded.answers.Ask(ctx, "我的洗衣机显示E102怎么办")
	sa, err2 := server.answers.Ask(ctx, "我的洗衣机显示E102怎么办")
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if sa.Kind != fixgraph.AnswerTroubleshoot || sa.Guide == nil || ea.Guide == nil ||
		strings.Join(sa.Guide.Steps, "|") != strings.Join(ea.Guide.Steps, "|") || sa.ErrorCode.ID != ea.ErrorCode.ID || len(sa.Citations) != len(ea.Citations) {
		t.Errorf("E102 answers differ:\nembedded %+v\nserver   %+v", ea, sa)
	}
}

func ids(hits []fixgraph.Hit) []string {
	var out []string
	for _, h := range hits {
		out = append(out, h.Section.ID)
	}
	return out
}
