package search

import (
	"context"
	"errors"
	"fmt"
	"regexp"
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

// Fusion sets how Hybrid combines its rankings: relative-score fusion, the default of Weaviate's
// hybrid search too. Each ranking's scores are scaled to [0, 1] (the best hit 1, the last one of
// the depth taken 0) and added with weights Alpha for the vectors and 1-Alpha for BM25.
// Reciprocal-rank fusion was measured and dropped: it throws away how far BM25's first hit leads,
// and on the Galaxy S10 questions it lost 0.16 of Recall@1 to BM25 alone.
type Fusion struct {
	// Alpha is the weight of the vector ranking for Chinese queries; default 0.6.
	Alpha float64
	// AlphaOther is the weight of the vector ranking for other queries. The default model is
	// strong on Chinese and weak on English, so its ranking counts less there; default 0.2.
	AlphaOther float64
	Depth      int // hits taken from each ranking; default 50
	// Exact is added to a section whose heading names an error code or part number of the query;
	// default 0.5, so a section headed by the code outranks nearly any without it.
	Exact float64
}

func (f Fusion) withDefaults() Fusion {
	if f.Alpha == 0 {
		f.Alpha = 0.6
	}
	if f.AlphaOther == 0 {
		f.AlphaOther = 0.2
	}
	if f.Depth <= 0 {
		f.Depth = 50
	}
	if f.Exact == 0 {
		f.Exact = 0.5
	}
	return f
}

// Hybrid is the embedded search index: BM25 text, vectors, or both fused by relative score (see
// Fusion) with a boost for sections headed by the question's error code or part number.
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
// The two run at once: the text index's analysis and writes then hide behind the embedder's work.
// Each index records the document's version only with its own write, so Sync repairs whichever
// one a failure left behind.
func (h *Hybrid) Update(ctx context.Context, doc *fixgraph.Document, sections []*fixgraph.Section, removed []string) error {
	if h.Vectors == nil {
		return h.Text.Update(ctx, doc, sections, removed)
	}
	var textErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		textErr = h.Text.Update(ctx, doc, sections, removed)
	}()
	vecErr := h.Vectors.Update(ctx, doc, sections, removed)
	<-done
	return errors.Join(vecErr, textErr)
}

// Remove deletes a document's sections from both indexes.
func (h *Hybrid) Remove(ctx context.Context, docID string, sections []string) error {
	err := h.Text.Remove(ctx, docID, sections)
	if h.Vectors != nil {
		err = errors.Join(err, h.Vectors.Remove(ctx, docID, sections))
	}
	return err
}

// Holds reports whether both indexes hold the document's current version.
func (h *Hybrid) Holds(doc *fixgraph.Document) (bool, error) {
	want := docStamp(doc)
	if s, err := h.Text.Stamp(doc.ID); err != nil || s != want {
		return false, err
	}
	if h.Vectors != nil {
		if s, err := h.Vectors.Stamp(doc.ID); err != nil || s != want {
			return false, err
		}
	}
	return true, nil
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
	return fuse(ctx, hybridRankings{h}, h.Fusion, q, limit, f)
}

// rankings is what fusion needs of a deployment's indexes: a lexical (BM25) and a vector
// ranking, which product models the index knows, and which sections are headed by a token.
// The embedded indexes and Weaviate each provide them, so both fuse alike.
type rankings interface {
	lexical(ctx context.Context, q string, limit int, f fixgraph.SearchFilter) ([]fixgraph.Hit, error)
	semantic(ctx context.Context, q string, limit int, f fixgraph.SearchFilter) ([]fixgraph.Hit, error)
	knownProducts(ctx context.Context, models []string) ([]string, error)
	headed(ctx context.Context, tokens []string, limit int, f fixgraph.SearchFilter) ([]string, error)
}

type hybridRankings struct{ h *Hybrid }

func (r hybridRankings) lexical(ctx context.Context, q string, limit int, f fixgraph.SearchFilter) ([]fixgraph.Hit, error) {
	return r.h.Text.Search(ctx, q, limit, f)
}

func (r hybridRankings) semantic(ctx context.Context, q string, limit int, f fixgraph.SearchFilter) ([]fixgraph.Hit, error) {
	return r.h.Vectors.Search(ctx, q, limit, f)
}

func (r hybridRankings) knownProducts(ctx context.Context, models []string) ([]string, error) {
	return r.h.Text.knownProducts(ctx, models)
}

func (r hybridRankings) headed(ctx context.Context, tokens []string, limit int, f fixgraph.SearchFilter) ([]string, error) {
	return r.h.Text.headed(ctx, tokens, limit, f)
}

// fuse is hybrid search over any pair of rankings: the question's model scopes the search,
// BM25 and vectors run side by side, and their scores are fused by relative score with the
// boost for sections headed by the question's code.
func fuse(ctx context.Context, r rankings, fu Fusion, q string, limit int, f fixgraph.SearchFilter) ([]fixgraph.Hit, error) {
	if limit <= 0 {
		return nil, nil // as the rankings do; the cut below would panic
	}
	fu = fu.withDefaults()
	depth := max(fu.Depth, limit)
	lexQ := q
	if len(f.Products) == 0 {
		// A question that names a model is about that model: search its sections and the ones
		// that hold for every product. The model's name itself is left out of the BM25 query,
		// where it would only favour the few sections that repeat it (titles, overviews).
		models, err := r.knownProducts(ctx, extract.ProductModels(extract.Normalize(q)))
		if err != nil {
			return nil, err
		}
		if len(models) > 0 {
			f.Products = models
			lexQ = withoutModels(q, models)
		}
	}
	// The two rankings are made side by side: the vector side waits on the embedder most of
	// its time.
	type result struct {
		hits []fixgraph.Hit
		err  error
	}
	lex := make(chan result, 1)
	go func() {
		hits, err := r.lexical(ctx, lexQ, depth, f)
		lex <- result{hits, err}
	}()
	semantic, err := r.semantic(ctx, q, depth, f)
	lr := <-lex
	if err != nil {
		return nil, err
	}
	if lr.err != nil {
		return nil, lr.err
	}
	lexical := lr.hits
	alpha := fu.Alpha
	if extract.DetectLanguage(extract.Normalize(q)) != "zh" {
		alpha = fu.AlphaOther
	}
	score := make(map[string]float64, len(lexical)+len(semantic))
	addScaled(score, lexical, 1-alpha)
	addScaled(score, semantic, alpha)
	if toks := exactTokens(q); len(toks) > 0 {
		ids, err := r.headed(ctx, toks, depth, f)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			score[id] += fu.Exact
		}
	}
	bm25 := make(map[string]float64, len(lexical))
	for _, h := range lexical {
		bm25[h.Section.ID] = h.Score
	}
	hits := make([]fixgraph.Hit, 0, len(score))
	for id, s := range score {
		hits = append(hits, fixgraph.Hit{Section: &fixgraph.Section{ID: id}, Score: s, Lexical: bm25[id]})
	}
	sortHits(hits)
	return hits[:min(limit, len(hits))], nil
}

// addScaled adds w times each hit's score scaled to [0, 1] between the last hit and the first.
func addScaled(score map[string]float64, hits []fixgraph.Hit, w float64) {
	if len(hits) == 0 || w == 0 {
		return
	}
	hi, lo := hits[0].Score, hits[len(hits)-1].Score
	for _, h := range hits {
		s := 1.0
		if hi > lo {
			s = (h.Score - lo) / (hi - lo)
		}
		score[h.Section.ID] += w * s
	}
}

// withoutModels returns q without the mentions of the models, or q when nothing else is left.
func withoutModels(q string, models []string) string {
	out := extract.Normalize(q)
	for _, m := range models {
		out = regexp.MustCompile(`(?i)`+regexp.QuoteMeta(m)).ReplaceAllString(out, " ")
	}
	if strings.TrimSpace(out) == "" {
		return q
	}
	return out
}

// knownProducts returns the models that some indexed section is about.
func (t *Text) knownProducts(ctx context.Context, models []string) ([]string, error) {
	if len(models) == 0 {
		return nil, nil
	}
	ix, err := t.idx.Advanced()
	if err != nil {
		return nil, err
	}
	r, err := ix.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []string
	for _, m := range models {
		df, err := docFreq(ctx, r, "product", m)
		if err != nil {
			return nil, err
		}
		if df > 0 {
			out = append(out, m)
		}
	}
	return out, nil
}

// exactTokens returns the index tokens of the error codes and part numbers in q. Product models
// are left out: nearly every section of a manual is about its model, and the sections that name
// it (titles, overviews) are seldom the answer.
func exactTokens(q string) []string {
	q = extract.JoinCodes(extract.Normalize(q))
	var out []string
	for _, c := range extract.ErrorCodes(q) {
		out = append(out, strings.ToLower(c))
	}
	for _, p := range extract.PartNumbers(q) {
		out = append(out, strings.ToLower(strings.ReplaceAll(p, "-", "_")))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// headed returns the sections whose heading holds one of the tokens as a whole.
func (t *Text) headed(ctx context.Context, tokens []string, limit int, f fixgraph.SearchFilter) ([]string, error) {
	var any []query.Query
	for _, tok := range tokens {
		tq := query.NewTermQuery(tok)
		tq.SetField("heading")
		any = append(any, tq)
	}
	var q query.Query = query.NewDisjunctionQuery(any)
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
