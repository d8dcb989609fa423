package search

import "github.com/fixgraph/fixgraph"

// PutVectors stores precomputed vectors, for tests that need many.
func PutVectors(v *Vectors, doc *fixgraph.Document, secs []*fixgraph.Section, vecs [][]float32) error {
	return v.put(doc, secs, vecs, nil)
}
