// Package search finds sections for a query. Text is the embedded BM25 index on bleve, with one
// analyzer for mixed Chinese and English text that keeps error codes, part numbers and models whole.
// Vectors holds section embeddings; Hybrid fuses the two rankings. Both indexes are derived from
// the graph: Sync rebuilds whatever is missing or stale.
//
// Embedder turns texts into vectors; HTTPEmbedder calls an OpenAI-compatible server.
// ONNX is the default Embedder: bge-small-zh-v1.5 (int8) on ONNX Runtime through cgo, with a Go
// WordPiece tokenizer, from the files scripts/fetch-model.sh fetches.
package search
