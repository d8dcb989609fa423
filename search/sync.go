package search

import (
	"context"
	"fmt"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/fixgraph/fixgraph"
)

// Source is the graph that the index is derived from.
type Source interface {
	Scan(ctx context.Context, prefix string, fn func(fixgraph.Node) error) error
	Neighbors(ctx context.Context, ids []string, rel fixgraph.Rel, dir fixgraph.Direction) (map[string][]string, error)
	Nodes(ctx context.Context, ids []string) ([]fixgraph.Node, error)
}

// SyncStats says what Sync did.
type SyncStats struct {
	Documents int // documents in the graph
	Reindexed int // documents whose sections were indexed again
	Dropped   int // documents in the index that the graph no longer has
}

// derived is an index derived from the graph, which Sync can bring up to date.
type derived interface {
	Stamp(docID string) (string, error)
	Update(ctx context.Context, doc *fixgraph.Document, sections []*fixgraph.Section, removed []string) error
	Remove(ctx context.Context, docID string, sections []string) error
	// indexed returns the documents the index holds, with their section ids.
	indexed(ctx context.Context) (map[string][]string, error)
}

// Sync brings the text index in line with the graph: documents whose recorded version differs are
// indexed again, and documents the graph no longer has are dropped. After a crash between a graph
// write and its index write, this is all the repair needed.
func (t *Text) Sync(ctx context.Context, src Source) (SyncStats, error) {
	return syncIndex(ctx, src, t)
}

// Sync brings the vector index in line with the graph, as Text.Sync does; stale documents are
// embedded again.
func (v *Vectors) Sync(ctx context.Context, src Source) (SyncStats, error) {
	return syncIndex(ctx, src, v)
}

func syncIndex(ctx context.Context, src Source, ix derived) (SyncStats, error) {
	var st SyncStats
	inGraph := make(map[string]bool)
	var stale []*fixgraph.Document
	err := src.Scan(ctx, fixgraph.PrefixDocument+":", func(n fixgraph.Node) error {
		d, ok := n.(*fixgraph.Document)
		if !ok {
			return nil
		}
		st.Documents++
		inGraph[d.ID] = true
		stamp, err := ix.Stamp(d.ID)
		if err != nil {
			return err
		}
		if stamp != docStamp(d) {
			stale = append(stale, d)
		}
		return nil
	})
	if err != nil {
		return st, fmt.Errorf("scanning graph documents: %w", err)
	}
	held, err := ix.indexed(ctx)
	if err != nil {
		return st, err
	}
	for id, secs := range held {
		if inGraph[id] {
			continue
		}
		if err := ix.Remove(ctx, id, secs); err != nil {
			return st, err
		}
		st.Dropped++
	}
	for _, d := range stale {
		ids, err := src.Neighbors(ctx, []string{d.ID}, fixgraph.RelPartOf, fixgraph.In)
		if err != nil {
			return st, err
		}
		nodes, err := src.Nodes(ctx, ids[d.ID])
		if err != nil {
			return st, err
		}
		var secs []*fixgraph.Section
		for _, n := range nodes {
			if s, ok := n.(*fixgraph.Section); ok {
				secs = append(secs, s)
			}
		}
		if err := ix.Update(ctx, d, secs, held[d.ID]); err != nil {
			return st, err
		}
		st.Reindexed++
	}
	return st, nil
}

func (v *Vectors) indexed(context.Context) (map[string][]string, error) { return v.documents(), nil }

func (t *Text) indexed(ctx context.Context) (map[string][]string, error) {
	docs, err := t.documents(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]string, len(docs))
	for _, id := range docs {
		if out[id], err = t.sectionsOf(ctx, id); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// documents returns the ids of the documents that have sections in the index.
func (t *Text) documents(ctx context.Context) ([]string, error) {
	req := bleve.NewSearchRequestOptions(query.NewMatchAllQuery(), 0, 0, false)
	req.AddFacet("doc", bleve.NewFacetRequest("doc", 1<<20))
	res, err := t.idx.SearchInContext(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("listing indexed documents: %w", err)
	}
	var out []string
	if f := res.Facets["doc"]; f != nil && f.Terms != nil {
		for _, term := range f.Terms.Terms() {
			out = append(out, term.Term)
		}
	}
	return out, nil
}

// sectionsOf returns the ids of a document's indexed sections.
func (t *Text) sectionsOf(ctx context.Context, docID string) ([]string, error) {
	tq := query.NewTermQuery(docID)
	tq.SetField("doc")
	var out []string
	for from := 0; ; from += 1000 {
		res, err := t.idx.SearchInContext(ctx, bleve.NewSearchRequestOptions(tq, 1000, from, false))
		if err != nil {
			return nil, fmt.Errorf("listing sections of %q: %w", docID, err)
		}
		for _, h := range res.Hits {
			out = append(out, h.ID)
		}
		if len(res.Hits) < 1000 {
			return out, nil
		}
	}
}
