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

// Sync brings the index in line with the graph: documents whose recorded version differs are
// indexed again, and documents the graph no longer has are dropped. After a crash between a graph
// write and its index write, this is all the repair needed.
func (t *Text) Sync(ctx context.Context, src Source) (SyncStats, error) {
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
		stamp, err := t.Stamp(d.ID)
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
	indexedDocs, err := t.documents(ctx)
	if err != nil {
		return st, err
	}
	for _, id := range indexedDocs {
		if inGraph[id] {
			continue
		}
		old, err := t.sectionsOf(ctx, id)
		if err != nil {
			return st, err
		}
		if err := t.Remove(ctx, id, old); err != nil {
			return st, err
		}
		st.Dropped++
	}
	for _, d := range stale {
		old, err := t.sectionsOf(ctx, d.ID)
		if err != nil {
			return st, err
		}
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
		if err := t.Update(ctx, d, secs, old); err != nil {
			return st, err
		}
		st.Reindexed++
	}
	return st, nil
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
