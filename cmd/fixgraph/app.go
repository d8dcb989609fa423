package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/answer"
	"github.com/fixgraph/fixgraph/fixtures"
	"github.com/fixgraph/fixgraph/gql"
	"github.com/fixgraph/fixgraph/graph"
	"github.com/fixgraph/fixgraph/ingest"
	"github.com/fixgraph/fixgraph/search"
)

// app is fixgraph wired on the embedded stores in one data directory.
type app struct {
	dir      string
	graph    *graph.Bolt
	text     *search.Text
	answers  *answer.Service
	pipeline *ingest.Pipeline
	log      *slog.Logger
}

// openApp opens the stores in dir, creating them when missing, and brings the derived index in
// line with the graph.
func openApp(ctx context.Context, dir string, log *slog.Logger) (*app, error) {
	if dir == "" {
		return nil, fixgraph.Errorf(fixgraph.EINVALID, "no data directory: pass --data DIR or set FIXGRAPH_DATA")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating data directory %q: %w", dir, err)
	}
	g, err := graph.OpenBolt(filepath.Join(dir, "graph.db"))
	if err != nil {
		return nil, err
	}
	t, err := search.OpenText(filepath.Join(dir, "index"))
	if err != nil {
		g.Close()
		return nil, err
	}
	st, err := t.Sync(ctx, g)
	if err != nil {
		t.Close()
		g.Close()
		return nil, fmt.Errorf("syncing the search index with the graph: %w", err)
	}
	if st.Reindexed > 0 || st.Dropped > 0 {
		log.Info("search index brought up to date", "documents", st.Documents, "reindexed", st.Reindexed, "dropped", st.Dropped)
	}
	return &app{
		dir:      dir,
		graph:    g,
		text:     t,
		answers:  &answer.Service{Graph: g, Index: t},
		pipeline: &ingest.Pipeline{Graph: g, Index: t},
		log:      log,
	}, nil
}

func (a *app) Close() error {
	return errors.Join(a.text.Close(), a.graph.Close())
}

func (a *app) resolver() *gql.Resolver {
	return &gql.Resolver{Answers: a.answers, Graph: a.graph, Stock: a.graph}
}

// empty reports whether the graph holds no document yet.
func (a *app) empty(ctx context.Context) (bool, error) {
	found := false
	err := a.graph.Scan(ctx, fixgraph.PrefixDocument+":", func(fixgraph.Node) error {
		found = true
		return errStop
	})
	if errors.Is(err, errStop) {
		err = nil
	}
	return !found, err
}

var errStop = errors.New("stop")

// loadFixtures ingests the demo corpus built into the binary.
func (a *app) loadFixtures(ctx context.Context) ([]ingest.FileResult, error) {
	return a.pipeline.IngestFS(ctx, fixtures.Corpus, ".")
}
