package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
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
// It records the version of every document it holds, so Sync can tell what is stale, and the
// token counts of its fields, which BM25 needs and bleve does not keep (see bm25.go).
type Text struct {
	idx      bleve.Index
	analyzer analysis.Analyzer

	mu      sync.RWMutex
	lengths map[string]fieldLengths // by document id
	total   fieldLengths            // sum over lengths
	closed  bool

	fixMu sync.Mutex
	fixes map[string]string // typo corrections made since the last write (bm25.go)

	cache *postingCache
}

// textFields are the analysed fields of a section.
var textFields = []string{"heading", "path", "all"}

// fieldLengths counts a document's indexed sections and the tokens of each of their fields.
type fieldLengths struct {
	Sections int            `json:"sections"`
	Tokens   map[string]int `json:"tokens"`
}

func (l *fieldLengths) add(o fieldLengths, sign int) {
	if l.Tokens == nil {
		l.Tokens = map[string]int{}
	}
	l.Sections += sign * o.Sections
	for f, n := range o.Tokens {
		l.Tokens[f] += sign * n
	}
}

// textFormat names the layout of the index; an index written in another layout is rebuilt.
const textFormat = "2"

// noProduct is the product term of sections tied to no product.
const noProduct = "-"

func productTerms(models []string) []string {
	if len(models) == 0 {
		return []string{noProduct}
	}
	return models
}

// productFilter is the filter's products and noProduct, or nil when it does not filter by product.
func productFilter(f fixgraph.SearchFilter) []string {
	if len(f.Products) == 0 {
		return nil
	}
	return append(slices.Clip(f.Products), noProduct)
}

var formatKey = []byte("format")

func lengthsKey(docID string) []byte { return []byte("len\x00" + docID) }

// indexed is the bleve document for a section.
type indexed struct {
	Doc        string   `json:"doc"`
	Kind       string   `json:"kind"`
	Lang       string   `json:"lang"`
	Status     string   `json:"status"`
	Visibility string   `json:"visibility"`
	Products   []string `json:"product"` // noProduct when it holds for every product
	Heading    string   `json:"heading"`
	Path       string   `json:"path"`
	All        string   `json:"all"` // heading and text
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
	for _, f := range textFields {
		dm.AddFieldMappingsAt(f, text)
	}
	for _, f := range []string{"doc", "kind", "lang", "status", "visibility", "product"} {
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
		t, err := loadText(idx)
		if err == nil {
			return t, nil
		}
		idx.Close()
	}
	if err != nil && !errors.Is(err, bleve.ErrorIndexPathDoesNotExist) {
		if rmErr := os.RemoveAll(path); rmErr != nil {
			return nil, fmt.Errorf("removing broken or outdated text index %q: %w", path, rmErr)
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
	if err := idx.SetInternal(formatKey, []byte(textFormat)); err != nil {
		idx.Close()
		return nil, fmt.Errorf("creating text index %q: %w", path, err)
	}
	return loadText(idx)
}

// errOutdated says an index was written in an older layout.
var errOutdated = errors.New("text index layout is outdated")

// loadText reads the field lengths of an open index.
func loadText(idx bleve.Index) (*Text, error) {
	format, err := idx.GetInternal(formatKey)
	if err != nil {
		return nil, err
	}
	if string(format) != textFormat {
		return nil, errOutdated
	}
	t := &Text{idx: idx, analyzer: idx.Mapping().AnalyzerNamed(AnalyzerName), lengths: map[string]fieldLengths{}, fixes: map[string]string{}, cache: newPostingCache()}
	docs, err := t.documents(context.Background())
	if err != nil {
		return nil, err
	}
	for _, id := range docs {
		raw, err := idx.GetInternal(lengthsKey(id))
		if err != nil {
			return nil, err
		}
		var l fieldLengths
		if err := json.Unmarshal(raw, &l); err != nil {
			return nil, fmt.Errorf("reading field lengths of %q: %w", id, err)
		}
		t.lengths[id] = l
		t.total.add(l, 1)
	}
	return t, nil
}

// commit writes a batch together with a document's new field lengths (nil: the document is gone).
func (t *Text) commit(b *bleve.Batch, docID string, l *fieldLengths) error {
	if l != nil {
		raw, err := json.Marshal(l)
		if err != nil {
			return err
		}
		b.SetInternal(lengthsKey(docID), raw)
	} else {
		b.DeleteInternal(lengthsKey(docID))
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.idx.Batch(b); err != nil {
		return fmt.Errorf("writing text index batch for %q: %w", docID, err)
	}
	t.fixMu.Lock()
	clear(t.fixes) // new terms may be nearer
	t.fixMu.Unlock()
	t.total.add(t.lengths[docID], -1)
	delete(t.lengths, docID)
	if l != nil {
		t.total.add(*l, 1)
		t.lengths[docID] = *l
	}
	return nil
}

// tokens returns how many tokens the analyzer makes of a prepared text.
func (t *Text) tokens(prepared string) int { return len(t.analyzer.Analyze([]byte(prepared))) }

// Close closes the index; closing it again does nothing.
func (t *Text) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil
	}
	t.closed = true
	return t.idx.Close()
}

func docKey(id string) []byte { return []byte("doc\x00" + id) }

func docStamp(d *fixgraph.Document) string {
	return fmt.Sprintf("%d|%s|%s|%s", d.Version, d.ContentHash, d.Status, fixgraph.Audience(d))
}

// Update replaces a document's sections in one batch: the removed ones go, the given ones are
// (re)indexed, and the document's version is recorded. Sections without text are not indexed.
func (t *Text) Update(ctx context.Context, doc *fixgraph.Document, sections []*fixgraph.Section, removed []string) error {
	b := t.idx.NewBatch()
	for _, id := range removed {
		b.Delete(id)
	}
	lengths := &fieldLengths{Tokens: map[string]int{}}
	for _, s := range sections {
		if strings.TrimSpace(s.Text) == "" {
			// A heading with nothing under it but subsections: its subsections are the answers.
			b.Delete(s.ID)
			continue
		}
		d := indexed{
			Doc:        doc.ID,
			Kind:       string(doc.Kind),
			Lang:       s.Language,
			Status:     string(doc.Status),
			Visibility: string(fixgraph.Audience(doc)),
			Products:   productTerms(s.Products),
			Heading:    prepare(s.Heading),
			Path:       prepare(strings.Join(s.HeadingPath[:max(len(s.HeadingPath)-1, 0)], " / ")),
			All:        prepare(s.Heading + "\n" + s.Text),
		}
		if err := b.Index(s.ID, d); err != nil {
			return fmt.Errorf("indexing section %q: %w", s.ID, err)
		}
		lengths.Sections++
		lengths.Tokens["heading"] += t.tokens(d.Heading)
		lengths.Tokens["path"] += t.tokens(d.Path)
		lengths.Tokens["all"] += t.tokens(d.All)
	}
	b.SetInternal(docKey(doc.ID), []byte(docStamp(doc)))
	return t.commit(b, doc.ID, lengths)
}

// Remove deletes a document's sections and its record.
func (t *Text) Remove(ctx context.Context, docID string, sections []string) error {
	b := t.idx.NewBatch()
	for _, id := range sections {
		b.Delete(id)
	}
	b.DeleteInternal(docKey(docID))
	return t.commit(b, docID, nil)
}

// Stamp returns what the index recorded of a document's version, or "" if it has none.
func (t *Text) Stamp(docID string) (string, error) {
	v, err := t.idx.GetInternal(docKey(docID))
	return string(v), err
}

// prepare normalises text the same way for indexing and for queries — width, case of codes,
// Traditional Chinese to Simplified — and adds the whole-token forms of codes, part numbers and
// models.
func prepare(s string) string {
	s = extract.Simplified(extract.JoinCodes(extract.Normalize(s)))
	if toks := extract.Tokens(s); len(toks) > 0 {
		s += " " + strings.Join(toks, " ")
	}
	return s
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
	add("product", productFilter(f))
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
func (t *Text) Analyze(s string) []string { return (&Analyzer{t.analyzer}).Analyze(s) }

// Analyzer is the analyzer of the text index on its own, for indexes that take fixgraph's tokens
// ready-made (Weaviate).
type Analyzer struct{ a analysis.Analyzer }

// NewAnalyzer returns the analyzer the text index uses.
func NewAnalyzer() (*Analyzer, error) {
	m, err := newMapping()
	if err != nil {
		return nil, err
	}
	a := m.AnalyzerNamed(AnalyzerName)
	if a == nil {
		return nil, fmt.Errorf("analyzer %q is not registered", AnalyzerName)
	}
	return &Analyzer{a}, nil
}

// Analyze returns the tokens of s, as Text.Analyze does.
func (a *Analyzer) Analyze(s string) []string {
	var out []string
	for _, tok := range a.a.Analyze([]byte(prepare(s))) {
		out = append(out, string(tok.Term))
	}
	return out
}
