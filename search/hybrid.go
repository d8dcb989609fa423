package search

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/extract"
)

// Mode says which rankings a search uses.
type Mode string

// Modes.
const (
	ModeBM25   Mode = "bm25"
	ModeVector Mode = "vector"
	ModeHybrid Mode = "hybrid"
)

// ParseMode returns the mode named s.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(strings.ToLower(s)); m {
	case ModeBM25, ModeVector, ModeHybrid:
		return m, nil
	}
	return "", fixgraph.Errorf(fixgraph.EINVALID, "unknown search mode %q (bm25, vector or hybrid)", s)
}

// Fusion sets how Hybrid combines its rankings.
type Fusion struct {
	BM25   float64 // weight of the BM25 ranking; default 1
	Vector float64 // weight of the vector ranking for Chinese queries; default 1
	// VectorOther is the weight of the vector ranking for other queries. The default model is
	// strong on Chinese and weak on English, so its ranking counts less there; default 0.3.
	VectorOther float64
	K           float64 // reciprocal-rank constant; default 60
	Depth       int     // hits taken from each ranking; default 50
	// Exact is added to a section for each error code, part number or model of the query that it
	// contains as a whole token; default 1/60, as much as a first rank.
	Exact float64
}

func (f Fusion) withDefaults() Fusion {
	if f.BM25 == 0 && f.Vector == 0 {
		f.BM25, f.Vector = 1, 1
	}
	if f.VectorOther == 0 {
		f.VectorOther = 0.3
	}
	if f.K <= 0 {
		f.K = 60
	}
	if f.Depth <= 0 {
		f.Depth = 50
	}
	if f.Exact == 0 {
		f.Exact = 1 / f.K
	}
	return f
}

// Hybrid is the embedded search index: BM25 text, vectors, or both fused by weighted
// reciprocal-rank fusion with exact-match boosts for codes, part numbers and models.
type Hybrid struct {
	Text    *Text
	Vectors *Vectors // nil: text only
	Mode    Mode     // "" means hybrid when there are vectors, else bm25
	Fusion  Fusion
}

func (h *Hybrid) mode() Mode {
	if h.Mode != "" {
		return h.Mode
	}
	if h.Vectors != nil {
		return ModeHybrid
	}
	return ModeBM25
}

// WithMode returns a copy of h that searches in mode m.
func (h *Hybrid) WithMode(m Mode) (*Hybrid, error) {
	if m != ModeBM25 && h.Vectors == nil {
		return nil, fixgraph.Errorf(fixgraph.EUNSUPPORTED, "search mode %s needs the vector index, which is not configured", m)
	}
	c := *h
	c.Mode = m
	return &c, nil
}

// Update writes a document's sections to the text index and, when configured, the vector index.
func (h *Hybrid) Update(ctx context.Context, doc *fixgraph.Document, sections []*fixgraph.Section, removed []string) error {
	if h.Vectors != nil {
		if err := h.Vectors.Update(ctx, doc, sections, removed); err != nil {
			return err
		}
	}
	return h.Text.Update(ctx, doc, sections, removed)
}

// Sync brings both indexes in line with the graph.
func (h *Hybrid) Sync(ctx context.Context, src Source) (SyncStats, error) {
	st, err := h.Text.Sync(ctx, src)
	if err != nil || h.Vectors == nil {
		return st, err
	}
	vst, err := h.Vectors.Sync(ctx, src)
	st.Reindexed += vst.Reindexed
	st.Dropped += vst.Dropped
	return st, err
}

// Close closes both indexes.
func (h *Hybrid) Close() error {
	var errs []error
	if h.Vectors != nil {
		errs = append(errs, h.Vectors.Close())
	}
	return errors.Join(append(errs, h.Text.Close())...)
}

// Analyze returns the text index's tokens of s.
func (h *Hybrid) Analyze(s string) []string { return h.Text.Analyze(s) }

// Search returns up to limit sections for q, best first.
func (h *Hybrid) Search(ctx context.Context, q string, limit int, f fixgraph.SearchFilter) ([]fixgraph.Hit, error) {
	switch h.mode() {
	case ModeBM25:
		return h.Text.Search(ctx, q, limit, f)
	case ModeVector:
		return h.Vectors.Search(ctx, q, limit, f)
	}
	fu := h.Fusion.withDefaults()
	depth := max(fu.Depth, limit)
	lexical, err := h.Text.Search(ctx, q, depth, f)
	if err != nil {
		return nil, err
	}
	semantic, err := h.Vectors.Search(ctx, q, depth, f)
	if err != nil {
		return nil, err
	}
	score := make(map[string]float64, len(lexical)+len(semantic))
	for i, hit := range lexical {
		score[hit.Section.ID] += fu.BM25 / (fu.K + float64(i+1))
	}
	wv := fu.Vector
	if extract.DetectLanguage(extract.Normalize(q)) != "zh" {
		wv = fu.VectorOther
	}
	for i, hit := range semantic {
		score[hit.Section.ID] += wv / (fu.K + float64(i+1))
	}
	for _, tok := range exactTokens(q) {
		ids, err := h.Text.containing(ctx, tok, depth, f)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			score[id] += fu.Exact
		}
	}
	hits := make([]fixgraph.Hit, 0, len(score))
	for id, s := range score {
		hits = append(hits, fixgraph.Hit{Section: &fixgraph.Section{ID: id}, Score: s})
	}
	sortHits(hits)
	return hits[:min(limit, len(hits))], nil
}

// exactTokens returns the index tokens of the codes, part numbers and models in q.
func exactTokens(q string) []string {
	var out []string
	for _, t := range extract.Tokens(extract.JoinCodes(extract.Normalize(q))) {
		out = append(out, strings.ToLower(t))
	}
	return slices.Compact(out)
}

// containing returns the sections whose heading or text holds the token as a whole.
func (t *Text) containing(ctx context.Context, token string, limit int, f fixgraph.SearchFilter) ([]string, error) {
	var fields []query.Query
	for _, field := range []string{"heading", "body"} {
		tq := query.NewTermQuery(token)
		tq.SetField(field)
		fields = append(fields, tq)
	}
	var q query.Query = query.NewDisjunctionQuery(fields)
	if filters := filterQueries(f); len(filters) > 0 {
		q = query.NewConjunctionQuery(append(filters, q))
	}
	res, err := t.idx.SearchInContext(ctx, bleve.NewSearchRequestOptions(q, limit, 0, false))
	if err != nil {
		return nil, fmt.Errorf("exact-match search: %w", err)
	}
	out := make([]string, len(res.Hits))
	for i, h := range res.Hits {
		out[i] = h.ID
	}
	return out, nil
}
