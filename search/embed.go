package search

import "context"

// Embedder turns texts into vectors of a fixed dimension. Query texts and passage texts may be
// embedded differently (instruction prefixes), so the caller says which it has.
type Embedder interface {
	Embed(ctx context.Context, texts []string, query bool) ([][]float32, error)
	Dim() int
}
