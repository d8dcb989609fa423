package search

import (
	"slices"
	"strings"
	"sync"
)

// vocabulary counts, for each Latin-letter term of the indexed sections, how many sections hold
// it. The Weaviate index keeps one to correct misspelt query terms as the embedded index does
// from bleve's term dictionary, which Weaviate does not expose. Each process builds it from the
// graph when it syncs and adds what it writes itself; terms of sections written by other
// processes since are missing until the next start, which only makes a correction less likely.
type vocabulary struct {
	mu sync.RWMutex
	df map[string]int
}

func newVocabulary() *vocabulary { return &vocabulary{df: map[string]int{}} }

// latin reports whether a term is one typo correction works on: four or more letters a–z.
func latin(term string) bool {
	return len(term) >= 4 && strings.TrimFunc(term, func(c rune) bool { return c >= 'a' && c <= 'z' }) == ""
}

// add counts the distinct Latin terms of one section.
func (v *vocabulary) add(terms []string) {
	terms = slices.Compact(slices.Sorted(slices.Values(terms)))
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, t := range terms {
		if latin(t) {
			v.df[t]++
		}
	}
}

// correct replaces each Latin term the vocabulary lacks by its nearest term within one edit
// (two for terms over six letters), the most frequent of equals, the first in byte order of
// those; the rule of Text.corrected.
func (v *vocabulary) correct(terms []string) []string {
	v.mu.RLock()
	defer v.mu.RUnlock()
	out := slices.Clone(terms)
	for i, t := range terms {
		if !latin(t) || v.df[t] > 0 {
			continue
		}
		edits := 1
		if len(t) > 6 {
			edits = 2
		}
		best, bestDist, bestCount := "", edits+1, 0
		for cand, count := range v.df {
			d := editDistance(t, cand, edits)
			if d < bestDist || d == bestDist && (count > bestCount || count == bestCount && cand < best) {
				best, bestDist, bestCount = cand, d, count
			}
		}
		if bestDist <= edits {
			out[i] = best
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// editDistance is the Levenshtein distance of a and b, or limit+1 when it is over limit.
func editDistance(a, b string, limit int) int {
	if d := len(a) - len(b); d > limit || -d > limit {
		return limit + 1
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		low := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			low = min(low, cur[j])
		}
		if low > limit {
			return limit + 1
		}
		prev, cur = cur, prev
	}
	return min(prev[len(b)], limit+1)
}
