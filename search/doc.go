// Package search finds sections for a query. Text is the embedded BM25 index on bleve, with one
// analyzer for mixed Chinese and English text that keeps error codes, part numbers and models whole.
// The index is derived from the graph: Sync rebuilds whatever is missing or stale.
//
// Embedder turns texts into vectors; the semantic-search work adds the vector index and fusion.
// ONNX is the default Embedder: bge-small-zh-v1.5 (int8) on ONNX Runtime through cgo, with a Go
// WordPiece tokenizer, from the files scripts/fetch-model.sh fetches.
package search
