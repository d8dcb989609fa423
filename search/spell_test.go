package search

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/fixgraph/fixgraph"
)

// randomWord returns a Latin word of five to ten letters.
func randomWord(rng *rand.Rand) string {
	b := make([]byte, 5+rng.IntN(6))
	for i := range b {
		b[i] = byte('a' + rng.IntN(26))
	}
	return string(b)
}

// randomWords returns n random words.
func randomWords(rng *rand.Rand, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = randomWord(rng)
	}
	return out
}

// mustSpellText indexes the words, ten to a section, in a Text index.
func mustSpellText(tb testing.TB, words []string) *Text {
	tb.Helper()
	ix, err := OpenText(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ix.Close() })
	ctx := context.Background()
	for start := 0; start < len(words); start += 1000 {
		d := &fixgraph.Document{ID: fmt.Sprintf("doc:%d", start), Source: fmt.Sprintf("d%d.html", start), Version: 1, Status: fixgraph.StatusPublished}
		var secs []*fixgraph.Section
		for i := start; i < min(start+1000, len(words)); i += 10 {
			secs = append(secs, &fixgraph.Section{ID: fmt.Sprintf("sec:%d", i), DocumentID: d.ID, Heading: "h",
				Text: strings.Join(words[i:min(i+10, len(words))], " ")})
		}
		if err := ix.Update(ctx, d, secs, nil); err != nil {
			tb.Fatal(err)
		}
	}
	return ix
}

// TestLongQuerySpellingIsBounded: a query of 5,000 words the index does not hold, against a
// vocabulary of 20,000 words, costs the spelling correction no more than its per-query budget,
// in the vocabulary (Weaviate) and in the bleve term dictionary (embedded); unbounded, the first
// took about 13 s and the second about 3 s here.
func TestLongQuerySpellingIsBounded(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	vocab := randomWords(rng, 20000)
	query := randomWords(rng, 5000)

	v := newVocabulary()
	v.add(vocab)
	b := newSpellBudget()
	start := time.Now()
	v.correctWithin(query, b)
	if d := time.Since(start); d > time.Second {
		t.Errorf("correcting 5,000 words from the vocabulary took %v", d)
	}
	checkSpent(t, "vocabulary", b)

	ix := mustSpellText(t, vocab)
	ctx := context.Background()
	r, err := ix.idx.Advanced()
	if err != nil {
		t.Fatal(err)
	}
	reader, err := r.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	b = newSpellBudget()
	start = time.Now()
	if _, err := ix.corrected(ctx, reader, query, b); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("correcting 5,000 words from the term dictionary took %v", d)
	}
	checkSpent(t, "term dictionary", b)

	// The whole search of such a query stays well under a second too.
	start = time.Now()
	if _, err := ix.Search(ctx, strings.Join(randomWords(rng, 5000), " "), 10, fixgraph.SearchFilter{}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("searching for 5,000 words took %v", d)
	}
}

func checkSpent(t *testing.T, what string, b *spellBudget) {
	t.Helper()
	if b.lookups < 0 || b.fixes < 0 || b.candidates < 0 || b.steps < 0 {
		t.Errorf("%s: the budget was overspent: %+v", what, *b)
	}
	if b.fixes != 0 {
		t.Errorf("%s: 5,000 unknown words left searches for a nearer term unspent: %+v", what, *b)
	}
}

// TestNearestMatchesBruteForce: the vocabulary's prefix-sharing search finds what comparing the
// term with every word finds, by the same rule (fewest edits, then most frequent, then byte order).
func TestNearestMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	v := newVocabulary()
	words := randomWords(rng, 3000)
	// Neighbours of a few words, so there is something to find.
	for i := range 300 {
		w := []byte(words[i])
		w[rng.IntN(len(w))] = byte('a' + rng.IntN(26))
		words = append(words, string(w), string(w[:len(w)-1]))
	}
	for _, w := range words {
		for range 1 + rng.IntN(3) {
			v.add([]string{w})
		}
	}
	queries := randomWords(rng, 200)
	for i := range 300 {
		w := []byte(words[rng.IntN(len(words))])
		w[rng.IntN(len(w))] = byte('a' + rng.IntN(26))
		if i%2 == 0 {
			w = append(w, 'x')
		}
		queries = append(queries, string(w))
	}
	found := 0
	for _, q := range queries {
		edits := 1
		if len(q) > 6 {
			edits = 2
		}
		want, wantDist, wantCount := "", edits+1, 0
		for cand, count := range v.df {
			d := editDistance(q, cand, edits)
			if d > edits {
				continue
			}
			if d < wantDist || d == wantDist && (count > wantCount || count == wantCount && cand < want) {
				want, wantDist, wantCount = cand, d, count
			}
		}
		v.mu.Lock()
		v.index()
		got, ok := v.nearest(q, edits, newSpellBudget())
		v.mu.Unlock()
		if !ok || got != want {
			t.Errorf("nearest(%q) = %q, %v; want %q", q, got, ok, want)
		}
		if want != "" {
			found++
		}
	}
	if found < 100 {
		t.Errorf("only %d of the queries had a neighbour; the test tests little", found)
	}
}

// BenchmarkSpelling5000Words is the spelling correction of a 5,000-word query of unknown words
// against 20,000 indexed words: the vocabulary's and the term dictionary's, and a whole search.
func BenchmarkSpelling5000Words(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	vocab := randomWords(rng, 20000)
	queries := make([][]string, 64)
	for i := range queries {
		queries[i] = randomWords(rng, 5000)
	}
	b.Run("vocabulary", func(b *testing.B) {
		v := newVocabulary()
		v.add(vocab)
		for i := 0; b.Loop(); i++ {
			v.correct(queries[i%len(queries)])
		}
	})
	ix := mustSpellText(b, vocab)
	ctx := context.Background()
	b.Run("dictionary", func(b *testing.B) {
		r, _ := ix.idx.Advanced()
		reader, err := r.Reader()
		if err != nil {
			b.Fatal(err)
		}
		defer reader.Close()
		for i := 0; b.Loop(); i++ {
			ix.fixMu.Lock()
			clear(ix.fixes) // every query new, as an attacker would send them
			ix.fixMu.Unlock()
			if _, err := ix.corrected(ctx, reader, queries[i%len(queries)], newSpellBudget()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("search", func(b *testing.B) {
		texts := make([]string, len(queries))
		for i, q := range queries {
			texts[i] = strings.Join(q, " ")
		}
		for i := 0; b.Loop(); i++ {
			ix.fixMu.Lock()
			clear(ix.fixes)
			ix.fixMu.Unlock()
			if _, err := ix.Search(ctx, texts[i%len(texts)], 10, fixgraph.SearchFilter{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestLongTermIsNoError: a query word of thousands of letters (one token to the analyzer) is
// searched like any other, not passed to the fuzzy automaton, which refused it with an error
// that reached bots as an internal error.
func TestLongTermIsNoError(t *testing.T) {
	ix := mustSpellText(t, []string{"warranty", "heater", "drain", "pump"})
	for _, n := range []int{maxSpellLen + 1, 200, 5000} {
		if _, err := ix.Search(context.Background(), strings.Repeat("w", n)+" pump", 5, fixgraph.SearchFilter{}); err != nil {
			t.Errorf("a word of %d letters: %v", n, err)
		}
	}
}
