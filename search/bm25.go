package search

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"sync"

	index "github.com/blevesearch/bleve_index_api"

	"github.com/fixgraph/fixgraph"
)

// BM25 is scored here rather than by bleve. Bleve 2.6's BM25 takes the square root of the term
// frequency, multiplies each term's score by its idf a second time (the query weight of its
// tf-idf model), scales by the share of query terms matched, and divides field lengths by the
// number of distinct terms per document instead of the average length, which over-rewards
// short sections. On the Galaxy S10 questions that cost 0.12 of Recall@1 against a plain BM25
// over the same sections. Bleve still stores the postings, field lengths (norms), analysis and
// filters; Text keeps the average lengths.
//
// Length normalisation is weaker than the textbook's b = 0.75: sections run from a one-line FAQ
// answer or table row to a page of steps, and full normalisation lets the short ones win on a
// single shared word. On the fixture questions every b from 0.3 to 0.4 (at k1 from 0.6 to 2)
// gave hybrid Recall@1 0.856 against 0.844 at 0.75, paraphrases 0.688 against 0.656; with
// b = 0.4 fixed there, the Galaxy S10 questions went from 0.780/0.940 to 0.780/0.960
// (Recall@1/@5) in bm25 mode and from 0.780/0.900 to 0.780/0.960 in hybrid mode.
const (
	bm25K1 = 1.2
	bm25B  = 0.4
)

// fieldWeights are the fields a query is scored on, and how much each counts. "all" holds the
// heading and the text; the heading counts a little more on its own, the path of parent headings less.
var fieldWeights = []struct {
	field  string
	weight float64
}{
	{"all", 1},
	{"heading", 0.5},
	{"path", 0.2},
}

// Search returns up to limit sections for q, best first, by BM25 over their heading, text and
// parent headings. Hits carry only the section id and the score; the caller loads the sections
// from the graph, the source of truth.
func (t *Text) Search(ctx context.Context, q string, limit int, f fixgraph.SearchFilter) ([]fixgraph.Hit, error) {
	terms := slices.Compact(slices.Sorted(slices.Values(t.Analyze(q))))
	if len(terms) == 0 || limit <= 0 {
		return nil, nil
	}
	ix, err := t.idx.Advanced()
	if err != nil {
		return nil, fmt.Errorf("text search: %w", err)
	}
	r, err := ix.Reader()
	if err != nil {
		return nil, fmt.Errorf("text search: %w", err)
	}
	defer r.Close()
	terms, err = t.corrected(ctx, r, terms, newSpellBudget())
	if err != nil {
		return nil, fmt.Errorf("text search: %w", err)
	}
	allowed, err := allowedDocs(ctx, r, f)
	if err != nil {
		return nil, fmt.Errorf("text search filters: %w", err)
	}
	n, err := r.DocCount()
	if err != nil || n == 0 {
		return nil, err
	}
	t.mu.RLock()
	avgs := make(map[string]float64, len(fieldWeights))
	for _, fw := range fieldWeights {
		if t.total.Sections > 0 {
			avgs[fw.field] = float64(t.total.Tokens[fw.field]) / float64(t.total.Sections)
		}
	}
	t.mu.RUnlock()

	scores := newDenseScores() // by internal document number
	defer scores.release()
	for _, fw := range fieldWeights {
		avg := avgs[fw.field]
		if avg <= 0 {
			continue
		}
		for _, term := range terms {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			p, err := t.cache.get(ctx, r, fw.field, term)
			if err != nil {
				return nil, fmt.Errorf("text search: %w", err)
			}
			if len(p.nums) == 0 {
				continue
			}
			idf := fw.weight * math.Log(1+(float64(n)-float64(p.df)+0.5)/(float64(p.df)+0.5))
			for k, num := range p.nums {
				if allowed != nil && !allowed.has(uint64(num)) {
					continue
				}
				tf := float64(p.tfs[k])
				scores.add(uint64(num), idf*tf*(bm25K1+1)/(tf+bm25K1*(1-bm25B+bm25B*float64(p.lengths[k])/avg)))
			}
		}
	}
	top := topScores(scores.s, limit)
	hits := make([]fixgraph.Hit, 0, len(top))
	for _, s := range top {
		id, err := r.ExternalID(binary.BigEndian.AppendUint64(nil, s.num))
		if err != nil {
			return nil, fmt.Errorf("text search: %w", err)
		}
		hits = append(hits, fixgraph.Hit{Section: &fixgraph.Section{ID: id}, Score: s.score, Lexical: s.score})
	}
	sortHits(hits) // ties in external id order, so results do not depend on segment layout
	return hits, nil
}

// corrected replaces each Latin-letter term that no section holds ("warrenti", the stem of a
// misspelt "warrenty") by the indexed term closest to it in edit distance, the most frequent of
// equals; one edit for terms of four to six letters, two for longer ones. Terms the index holds
// are never touched, so a correct query ranks exactly as before. Corrections are remembered until
// the next write: the fuzzy walk of the term dictionary costs more than scoring the query. The
// work is held to budget b: terms past it are taken as written.
func (t *Text) corrected(ctx context.Context, r index.IndexReader, terms []string, b *spellBudget) ([]string, error) {
	fz, ok := r.(index.IndexReaderFuzzy)
	if !ok {
		return terms, nil
	}
	out := slices.Clone(terms)
	for i, term := range terms {
		if !spellable(term) {
			continue
		}
		if b.lookups == 0 {
			break
		}
		b.lookups--
		df, err := docFreq(ctx, r, "all", term)
		if err != nil {
			return nil, err
		}
		if df > 0 {
			continue
		}
		t.fixMu.Lock()
		best, ok := t.fixes[term]
		t.fixMu.Unlock()
		if !ok {
			if b.fixes == 0 {
				continue // a remembered correction may still come for a later term
			}
			b.fixes--
			var done bool
			if best, done, err = nearestTerm(fz, term, b); err != nil {
				return nil, err
			}
			if !done {
				continue // the budget ran out: taken as written, and not remembered
			}
			t.fixMu.Lock()
			if len(t.fixes) >= maxFixes {
				clear(t.fixes)
			}
			t.fixes[term] = best
			t.fixMu.Unlock()
		}
		if best != "" {
			out[i] = best
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// maxFixes bounds the remembered corrections.
const maxFixes = 10000

// nearestTerm returns the indexed term closest to term in edit distance, the most frequent of
// equals, or "" when none is near enough. Each dictionary entry the fuzzy automaton yields is a
// candidate and one distance computation of b; done is false when b ran out first.
func nearestTerm(fz index.IndexReaderFuzzy, term string, b *spellBudget) (best string, done bool, err error) {
	dict, am, err := fz.FieldDictFuzzyAutomaton("all", term, maxEdits(term), "")
	if err != nil {
		return "", false, err
	}
	defer dict.Close()
	bestDist, bestCount := uint8(255), uint64(0)
	for {
		e, err := dict.Next()
		if err != nil {
			return "", false, err
		}
		if e == nil {
			return best, true, nil
		}
		if b.candidates <= 0 || b.steps <= 0 {
			return "", false, nil
		}
		b.candidates--
		b.steps--
		_, d := am.MatchAndDistance(e.Term)
		if d < bestDist || d == bestDist && e.Count > bestCount {
			best, bestDist, bestCount = e.Term, d, e.Count
		}
	}
}

// allowedDocs returns the internal ids of the sections that pass the filter, or nil when it
// lets everything through. A condition that every section meets (all published, say) is
// skipped without walking its postings: the kind, language, status and visibility of a section
// are single values, so their document counts add up to the number of sections exactly when
// nothing is left out.
func allowedDocs(ctx context.Context, r index.IndexReader, f fixgraph.SearchFilter) (bitset, error) {
	n, err := r.DocCount()
	if err != nil {
		return nil, err
	}
	var allowed bitset
	for _, c := range []struct {
		field  string
		values []string
		single bool
	}{
		{"kind", strs(f.Kinds), true},
		{"lang", f.Languages, true},
		{"status", strs(f.Statuses), true},
		{"visibility", strs(f.Visibility), true},
		{"product", productFilter(f), false},
	} {
		if len(c.values) == 0 {
			continue
		}
		if c.single {
			var sum uint64
			for _, v := range slices.Compact(slices.Sorted(slices.Values(c.values))) {
				df, err := docFreq(ctx, r, c.field, v)
				if err != nil {
					return nil, err
				}
				sum += df
			}
			if sum == n {
				continue
			}
		}
		pass := bitset{}
		for _, v := range c.values {
			err := eachPosting(ctx, r, c.field, v, false, func(_, num uint64, _ *index.TermFieldDoc) {
				if allowed == nil || allowed.has(num) {
					pass = pass.set(num)
				}
			})
			if err != nil {
				return nil, err
			}
		}
		allowed = pass
	}
	return allowed, nil
}

// eachPosting calls visit for every section whose field holds term, with the number of such
// sections (df); freqs asks for term frequencies and field-length norms too.
func eachPosting(ctx context.Context, r index.IndexReader, field, term string, freqs bool, visit func(df, num uint64, d *index.TermFieldDoc)) error {
	tfr, err := r.TermFieldReader(ctx, []byte(term), field, freqs, freqs, false)
	if err != nil {
		return err
	}
	defer tfr.Close()
	df := tfr.Count()
	var tfd index.TermFieldDoc
	for {
		d, err := tfr.Next(&tfd)
		if err != nil || d == nil {
			return err
		}
		num, err := docNum(d.ID)
		if err != nil {
			return err
		}
		visit(df, num, d)
	}
}

// docFreq returns how many sections hold term in field.
func docFreq(ctx context.Context, r index.IndexReader, field, term string) (uint64, error) {
	tfr, err := r.TermFieldReader(ctx, []byte(term), field, false, false, false)
	if err != nil {
		return 0, err
	}
	defer tfr.Close()
	return tfr.Count(), nil
}

// docNum is the number in a bleve (scorch) internal document id: 8 bytes, big-endian.
func docNum(id index.IndexInternalID) (uint64, error) {
	if len(id) != 8 {
		return 0, fmt.Errorf("internal document id of %d bytes, want 8", len(id))
	}
	return binary.BigEndian.Uint64(id), nil
}

type scored struct {
	num   uint64
	score float64
}

// better orders by score, then by document number so that ties are stable.
func better(a, b scored) bool {
	return a.score > b.score || a.score == b.score && a.num < b.num
}

// bitset is a set of internal document numbers.
type bitset []uint64

func (b bitset) has(n uint64) bool { return n/64 < uint64(len(b)) && b[n/64]&(1<<(n%64)) != 0 }

func (b bitset) set(n uint64) bitset {
	if w := int(n / 64); w >= len(b) {
		b = append(b, make([]uint64, w+1-len(b))...)
	}
	b[n/64] |= 1 << (n % 64)
	return b
}

// denseScores holds a query's scores in a slice indexed by internal document number: numbers
// are dense (a segment's documents are numbered from its base), and at a posting per
// nanosecond a map would cost more than the postings themselves. The slices are pooled.
type denseScores struct{ s []float64 }

var scorePool = sync.Pool{New: func() any { return &denseScores{} }}

func newDenseScores() *denseScores { return scorePool.Get().(*denseScores) }

func (d *denseScores) add(n uint64, x float64) {
	if int(n) >= len(d.s) {
		d.s = append(d.s, make([]float64, int(n)+1-len(d.s))...)
	}
	d.s[n] += x
}

func (d *denseScores) release() {
	clear(d.s)
	scorePool.Put(d)
}

// topScores returns the limit best of the positive scores, best first, keeping a min-heap of
// the best so far rather than sorting every match.
func topScores(scores []float64, limit int) []scored {
	h := make([]scored, 0, limit)
	down := func(i int) {
		for {
			worst, l, r := i, 2*i+1, 2*i+2
			if l < len(h) && better(h[worst], h[l]) {
				worst = l
			}
			if r < len(h) && better(h[worst], h[r]) {
				worst = r
			}
			if worst == i {
				return
			}
			h[i], h[worst] = h[worst], h[i]
			i = worst
		}
	}
	for num, s := range scores {
		if s <= 0 {
			continue
		}
		c := scored{uint64(num), s}
		switch {
		case len(h) < limit:
			h = append(h, c)
			for i := len(h) - 1; i > 0 && better(h[(i-1)/2], h[i]); i = (i - 1) / 2 {
				h[i], h[(i-1)/2] = h[(i-1)/2], h[i]
			}
		case better(c, h[0]):
			h[0] = c
			down(0)
		}
	}
	slices.SortFunc(h, func(a, b scored) int {
		return cmp.Or(cmp.Compare(b.score, a.score), cmp.Compare(a.num, b.num))
	})
	return h
}
