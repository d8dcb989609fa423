package search

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/blevesearch/bleve/v2"
	_ "github.com/blevesearch/bleve/v2/analysis/analyzer/custom" // registers the custom analyzer type
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/lang/cjk"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/token/porter"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/extract"
)

// AnalyzerName is the analyzer for mixed Chinese and English text: Unicode word segmentation,
// full-width folding, lower case, English stop words and stemming, then CJK bigrams that keep the
// single characters too, so a one-character query still finds something.
const AnalyzerName = "fixgraph"

// Text is the embedded BM25 full-text index of sections, a bleve index under the data directory.
// It records the version of every document it holds, so Sync can tell what is stale.
type Text struct {
	idx bleve.Index
}

// indexed is the bleve document for a section.
type indexed struct {
	Doc        string `json:"doc"`
	Kind       string `json:"kind"`
	Lang       string `json:"lang"`
	Status     string `json:"status"`
	Visibility string `json:"visibility"`
	Heading    string `json:"heading"`
	Path       string `json:"path"`
	Body       string `json:"body"`
}

func newMapping() (*mapping.IndexMappingImpl, error) {
	m := bleve.NewIndexMapping()
	m.ScoringModel = index.BM25Scoring
	err := m.AddCustomTokenFilter("fixgraph_bigram", map[string]any{"type": cjk.BigramName, "output_unigram": true})
	if err != nil {
		return nil, err
	}
	err = m.AddCustomAnalyzer(AnalyzerName, map[string]any{
		"type":      "custom",
		"tokenizer": unicode.Name,
		"token_filters": []string{
			cjk.WidthName,
			lowercase.Name,
			en.StopName,
			porter.Name,
			"fixgraph_bigram",
		},
	})
	if err != nil {
		return nil, err
	}
	text := bleve.NewTextFieldMapping()
	text.Analyzer = AnalyzerName
	text.Store = false
	text.IncludeTermVectors = false
	kw := bleve.NewKeywordFieldMapping()
	kw.Store = false
	kw.Analyzer = keyword.Name
	dm := bleve.NewDocumentStaticMapping()
	for _, f := range []string{"heading", "path", "body"} {
		dm.AddFieldMappingsAt(f, text)
	}
	for _, f := range []string{"doc", "kind", "lang", "status", "visibility"} {
		dm.AddFieldMappingsAt(f, kw)
	}
	m.DefaultMapping = dm
	m.DefaultAnalyzer = AnalyzerName
	return m, nil
}

// OpenText opens the text index in dir, creating it when missing. An index that cannot be opened
// (a crash left it broken) is deleted and created empty: it is derived, and Sync refills it.
func OpenText(dir string) (*Text, error) {
	path := filepath.Join(dir, "text.bleve")
	idx, err := bleve.Open(path)
	if err == nil {
		return &Text{idx: idx}, nil
	}
	if !errors.Is(err, bleve.ErrorIndexPathDoesNotExist) {
		if rmErr := os.RemoveAll(path); rmErr != nil {
			return nil, fmt.Errorf("removing broken text index %q: %w", path, rmErr)
		}
	}
	m, err := newMapping()
	if err != nil {
		return nil, fmt.Errorf("building index mapping: %w", err)
	}
	idx, err = bleve.New(path, m)
	if err != nil {
		return nil, fmt.Errorf("creating text index %q: %w", path, err)
	}
	return &Text{idx: idx}, nil
}

// Close closes the index.
func (t *Text) Close() error { return t.idx.Close() }

func docKey(id string) []byte { return []byte("doc\x00" + id) }

func docStamp(d *fixgraph.Document) string {
	return fmt.Sprintf("%d|%s|%s|%s", d.Version, d.ContentHash, d.Status, d.Visibility)
}

// Update replaces a document's sections in one batch: the removed ones go, the given ones are
// (re)indexed, and the document's version is recorded. Sections without text are not indexed.
func (t *Text) Update(ctx context.Context, doc *fixgraph.Document, sections []*fixgraph.Section, removed []string) error {
	b := t.idx.NewBatch()
	for _, id := range removed {
		b.Delete(id)
	}
	for _, s := range sections {
		if strings.TrimSpace(s.Text) == "" {
			// A heading with nothing under it but subsections: its subsections are the answers.
			b.Delete(s.ID)
			continue
		}
		if err := b.Index(s.ID, indexed{
			Doc:        doc.ID,
			Kind:       string(doc.Kind),
			Lang:       s.Language,
			Status:     string(doc.Status),
			Visibility: string(doc.Visibility),
			Heading:    prepare(s.Heading),
			Path:       prepare(strings.Join(s.HeadingPath[:max(len(s.HeadingPath)-1, 0)], " / ")),
			Body:       prepare(s.Text),
		}); err != nil {
			return fmt.Errorf("indexing section %q: %w", s.ID, err)
		}
	}
	b.SetInternal(docKey(doc.ID), []byte(docStamp(doc)))
	if err := t.idx.Batch(b); err != nil {
		return fmt.Errorf("writing index batch for %q: %w", doc.Source, err)
	}
	return nil
}

// Remove deletes a document's sections and its record.
func (t *Text) Remove(ctx context.Context, docID string, sections []string) error {
	b := t.idx.NewBatch()
	for _, id := range sections {
		b.Delete(id)
	}
	b.DeleteInternal(docKey(docID))
	return t.idx.Batch(b)
}

// Stamp returns what the index recorded of a document's version, or "" if it has none.
func (t *Text) Stamp(docID string) (string, error) {
	v, err := t.idx.GetInternal(docKey(docID))
	return string(v), err
}

// prepare normalises text the same way for indexing and for queries, and adds the whole-token
// forms of codes, part numbers and models.
func prepare(s string) string {
	s = extract.JoinCodes(extract.Normalize(s))
	if toks := extract.Tokens(s); len(toks) > 0 {
		s += " " + strings.Join(toks, " ")
	}
	return s
}

// Search runs a BM25 query over headings, heading paths and text. Hits carry only the section id
// and the score; the caller loads the sections from the graph, the source of truth.
func (t *Text) Search(ctx context.Context, q string, limit int, f fixgraph.SearchFilter) ([]fixgraph.Hit, error) {
	q = prepare(q)
	if strings.TrimSpace(q) == "" {
		return nil, nil
	}
	var should []query.Query
	for field, boost := range map[string]float64{"heading": 2.0, "body": 1.0, "path": 0.5} {
		m := query.NewMatchQuery(q)
		m.SetField(field)
		m.Analyzer = AnalyzerName
		m.SetBoost(boost)
		should = append(should, m)
	}
	var qry query.Query = query.NewDisjunctionQuery(should)
	if filters := filterQueries(f); len(filters) > 0 {
		qry = query.NewConjunctionQuery(append(filters, qry))
	}
	req := bleve.NewSearchRequestOptions(qry, limit, 0, false)
	res, err := t.idx.SearchInContext(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("text search: %w", err)
	}
	hits := make([]fixgraph.Hit, 0, len(res.Hits))
	for _, h := range res.Hits {
		hits = append(hits, fixgraph.Hit{Section: &fixgraph.Section{ID: h.ID}, Score: h.Score})
	}
	return hits, nil
}

func filterQueries(f fixgraph.SearchFilter) []query.Query {
	var out []query.Query
	add := func(field string, values []string) {
		if len(values) == 0 {
			return
		}
		var any []query.Query
		for _, v := range values {
			tq := query.NewTermQuery(v)
			tq.SetField(field)
			any = append(any, tq)
		}
		out = append(out, query.NewDisjunctionQuery(any))
	}
	add("kind", strs(f.Kinds))
	add("lang", f.Languages)
	add("status", strs(f.Statuses))
	add("visibility", strs(f.Visibility))
	return out
}

func strs[T ~string](in []T) []string {
	out := make([]string, len(in))
	for i, v := range in {
		out[i] = string(v)
	}
	return out
}

// Analyze returns the tokens the index makes of s.
func (t *Text) Analyze(s string) []string {
	a := t.idx.Mapping().AnalyzerNamed(AnalyzerName)
	var out []string
	for _, tok := range a.Analyze([]byte(prepare(s))) {
		out = append(out, string(tok.Term))
	}
	return out
}
