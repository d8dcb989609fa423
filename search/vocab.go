package search

import (
	"slices"
	"sort"
	"strings"
	"sync"
)

// vocabulary counts, for each Latin-letter term of the indexed sections, how many sections hold
// it. The Weaviate index keeps one to correct misspelt query terms as the embedded index does
// from bleve's term dictionary, which Weaviate does not expose. Each process builds it from the
// graph when it syncs and adds what it writes itself; terms of sections written by other
// processes since are missing until the next start, which only makes a correction less likely.
type vocabulary struct {
	mu     sync.RWMutex
	df     map[string]int
	sorted []string // the terms of df in byte order for nearest; nil after a change, rebuilt on use
}

func newVocabulary() *vocabulary { return &vocabulary{df: map[string]int{}} }

// add counts the distinct Latin terms of one section.
func (v *vocabulary) add(terms []string) {
	terms = slices.Compact(slices.Sorted(slices.Values(terms)))
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, t := range terms {
		if latin(t) {
			if v.df[t] == 0 {
				v.sorted = nil
			}
			v.df[t]++
		}
	}
}

// replace makes v hold what o holds.
func (v *vocabulary) replace(o *vocabulary) {
	o.mu.RLock()
	df := o.df
	o.mu.RUnlock()
	v.mu.Lock()
	v.df, v.sorted = df, nil
	v.mu.Unlock()
}

// index sorts the terms when a change has made the order stale; v.mu must be held for writing.
func (v *vocabulary) index() {
	if v.sorted == nil {
		v.sorted = slices.Sorted(func(yield func(string) bool) {
			for t := range v.df {
				if !yield(t) {
					return
				}
			}
		})
	}
}

// correct replaces each Latin term the vocabulary lacks by its nearest term within one edit
// (two for terms over six letters), the most frequent of equals, the first in byte order of
// those; the rule of Text.corrected. It spends at most one query's spelling budget.
func (v *vocabulary) correct(terms []string) []string {
	return v.correctWithin(terms, newSpellBudget())
}

// correctWithin is correct on budget b.
func (v *vocabulary) correctWithin(terms []string, b *spellBudget) []string {
	v.mu.RLock()
	if v.sorted == nil {
		v.mu.RUnlock()
		v.mu.Lock()
		v.index()
		v.mu.Unlock()
		v.mu.RLock()
	}
	defer v.mu.RUnlock()
	out := slices.Clone(terms)
	for i, t := range terms {
		if !spellable(t) {
			continue
		}
		if b.lookups == 0 {
			break
		}
		b.lookups--
		if v.df[t] > 0 {
			continue
		}
		if b.fixes == 0 {
			break
		}
		b.fixes--
		if best, ok := v.nearest(t, maxEdits(t), b); ok && best != "" {
			out[i] = best
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// nearest returns the vocabulary's term nearest t within edits (the most frequent of equals, the
// first in byte order of those), or "" when none is. It walks the sorted terms as a trie: the rows
// of the edit-distance table of a term's prefix are shared with the term before it, and every term
// under a prefix already more than edits from t is skipped in one step. ok is false when b ran out
// first. v.mu must be held and v.sorted current.
func (v *vocabulary) nearest(t string, edits int, b *spellBudget) (best string, ok bool) {
	n := len(t)
	// table[j], for j up to len(prev), is the row of the table after the first j letters of prev;
	// rows past it are stale and written again before they are read.
	table := [][]int{make([]int, n+1)}
	for k := range table[0] {
		table[0][k] = k
	}
	prev := ""
	bestDist, bestCount := edits+1, 0
	for i := 0; i < len(v.sorted); {
		if b.candidates <= 0 {
			return "", false
		}
		b.candidates--
		c := v.sorted[i]
		depth := commonPrefix(prev, c)
		pruned := 0
		for j := depth; j < len(c); j++ {
			if b.steps <= 0 {
				return "", false
			}
			b.steps--
			if len(table) == j+1 {
				table = append(table, make([]int, n+1))
			}
			above, row := table[j], table[j+1]
			row[0] = j + 1
			low := row[0]
			for k := 1; k <= n; k++ {
				cost := 1
				if t[k-1] == c[j] {
					cost = 0
				}
				row[k] = min(above[k]+1, row[k-1]+1, above[k-1]+cost)
				low = min(low, row[k])
			}
			depth = j + 1
			if low > edits {
				pruned = depth
				break
			}
		}
		prev = c[:depth]
		if pruned > 0 {
			// Every term that starts with c[:pruned] is as far from t: skip them all.
			prefix := c[:pruned]
			i += sort.Search(len(v.sorted)-i, func(k int) bool { return !strings.HasPrefix(v.sorted[i+k], prefix) })
			continue
		}
		if d := table[len(c)][n]; d <= edits {
			if count := v.df[c]; d < bestDist || d == bestDist && (count > bestCount || count == bestCount && c < best) {
				best, bestDist, bestCount = c, d, count
			}
		}
		i++
	}
	return best, true
}

// commonPrefix returns the length of the longest common prefix of a and b.
func commonPrefix(a, b string) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
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
