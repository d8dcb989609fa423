// Package search finds sections for a query. Text is the embedded BM25 index on bleve, with one
// analyzer for mixed Chinese and English text that keeps error codes, part numbers and models whole.
// The index is derived from the graph: Sync rebuilds whatever is missing or stale.
//
// Embedder turns texts into vectors; the semantic-search work adds the vector index and fusion.
package search
