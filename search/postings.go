package search

import (
	"context"
	"sync"

	index "github.com/blevesearch/bleve_index_api"
)

// postingCache keeps decoded posting lists of the current index snapshot in memory. Reading a
// posting through bleve's iterator costs about 50 ns; a question of twenty Chinese terms walks a
// hundred thousand postings on a 100,000-section index, so re-reading them for every question
// was most of the search time. Questions repeat their common terms, so a list read once serves
// many. Entries belong to one snapshot: the internal document numbers they hold change with
// every write and segment merge, and a new snapshot empties the cache.
type postingCache struct {
	mu      sync.Mutex
	snap    index.IndexReader // the snapshot the entries were read from
	entries map[fieldTerm]*postingList
	order   []fieldTerm // oldest first, for eviction
	bytes   int
	budget  int
}

type fieldTerm struct{ field, term string }

// postingList is a term's postings in one field: the internal document numbers, term
// frequencies and field lengths, and the number of documents (df, deletions excluded).
type postingList struct {
	df      uint64
	nums    []uint32
	tfs     []float32
	lengths []float32
}

func (p *postingList) size() int { return 64 + 12*len(p.nums) }

// postingCacheBudget bounds the memory of the cache: 64 MiB, about five million postings.
const postingCacheBudget = 64 << 20

func newPostingCache() *postingCache {
	return &postingCache{entries: map[fieldTerm]*postingList{}, budget: postingCacheBudget}
}

// get returns the postings of term in field as r sees them.
func (c *postingCache) get(ctx context.Context, r index.IndexReader, field, term string) (*postingList, error) {
	key := fieldTerm{field, term}
	c.mu.Lock()
	if c.snap != r {
		c.snap, c.bytes = r, 0
		clear(c.entries)
		c.order = c.order[:0]
	}
	p, ok := c.entries[key]
	c.mu.Unlock()
	if ok {
		return p, nil
	}
	p = &postingList{}
	err := eachPosting(ctx, r, field, term, true, func(df, num uint64, d *index.TermFieldDoc) {
		p.df = df
		length := float32(1)
		if d.Norm > 0 {
			length = float32(1 / (d.Norm * d.Norm))
		}
		p.nums = append(p.nums, uint32(num))
		p.tfs = append(p.tfs, float32(d.Freq))
		p.lengths = append(p.lengths, length)
	})
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.snap != r || c.entries[key] != nil || p.size() > c.budget/4 {
		return p, nil // the index moved on, another search was first, or too big to keep
	}
	for c.bytes+p.size() > c.budget && len(c.order) > 0 {
		old := c.order[0]
		c.order = c.order[1:]
		c.bytes -= c.entries[old].size()
		delete(c.entries, old)
	}
	c.entries[key] = p
	c.order = append(c.order, key)
	c.bytes += p.size()
	return p, nil
}
