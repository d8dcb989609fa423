package search

import "github.com/fixgraph/fixgraph"

// PutVectors stores precomputed vectors, for tests that need many.
func PutVectors(v *Vectors, doc *fixgraph.Document, secs []*fixgraph.Section, vecs [][]float32) error {
	return v.put(doc, secs, vecs, nil)
}

// BM25K1 and BM25B are the BM25 parameters of the embedded index.
const BM25K1, BM25B = bm25K1, bm25B
