package gql

import (
	"context"

	"github.com/fixgraph/fixgraph"
)

// Answerer answers questions, runs searches and finds the troubleshooting path of a code.
type Answerer interface {
	Ask(ctx context.Context, question string) (*fixgraph.Answer, error)
	Search(ctx context.Context, q string, limit int, f fixgraph.SearchFilter) ([]fixgraph.Hit, error)
	Troubleshoot(ctx context.Context, code, product string) ([]*fixgraph.ErrorCode, error)
}

// Graph reads nodes and their neighbours; field resolvers batch their reads through it.
type Graph interface {
	Nodes(ctx context.Context, ids []string) ([]fixgraph.Node, error)
	Neighbors(ctx context.Context, ids []string, rel fixgraph.Rel, dir fixgraph.Direction) (map[string][]string, error)
	Scan(ctx context.Context, prefix string, fn func(fixgraph.Node) error) error
}

// StockWriter records stock levels pushed through the API.
type StockWriter interface {
	SetStock(ctx context.Context, levels []*fixgraph.StockLevel) error
}

// Resolver holds what the resolvers depend on.
type Resolver struct {
	Answers Answerer
	Graph   Graph
	Stock   StockWriter
}
