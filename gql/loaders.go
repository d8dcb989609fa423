package gql

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/vikstrous/dataloadgen"

	"github.com/fixgraph/fixgraph"
)

// loaders batch the graph reads of one request: every field resolver that needs a node or a
// node's neighbours asks a loader, and the loader reads all keys asked in the same tick at once.
type loaders struct {
	nodes     *dataloadgen.Loader[string, fixgraph.Node]
	neighbors map[edgeKind]*dataloadgen.Loader[string, []string]
	stock     *dataloadgen.Loader[string, []*fixgraph.StockLevel]
}

type edgeKind struct {
	rel fixgraph.Rel
	dir fixgraph.Direction
}

type loadersKey struct{}

const batchWait = 500 * time.Microsecond

func newLoaders(g Graph) *loaders {
	l := &loaders{neighbors: make(map[edgeKind]*dataloadgen.Loader[string, []string])}
	l.nodes = dataloadgen.NewLoader(func(ctx context.Context, ids []string) ([]fixgraph.Node, []error) {
		nodes, err := g.Nodes(ctx, ids)
		if err != nil {
			return nil, []error{err}
		}
		return nodes, nil
	}, dataloadgen.WithWait(batchWait))
	for _, k := range []edgeKind{
		{fixgraph.RelFixedBy, fixgraph.Out}, {fixgraph.RelHasVideo, fixgraph.Out}, {fixgraph.RelNeedsPart, fixgraph.Out},
		{fixgraph.RelHasError, fixgraph.Out}, {fixgraph.RelMentions, fixgraph.Out}, {fixgraph.RelPartOf, fixgraph.In},
		{fixgraph.RelManualFor, fixgraph.In}, {fixgraph.RelAbout, fixgraph.In},
	} {
		l.neighbors[k] = dataloadgen.NewMappedLoader(func(ctx context.Context, ids []string) (map[string][]string, error) {
			return g.Neighbors(ctx, ids, k.rel, k.dir)
		}, dataloadgen.WithWait(batchWait))
	}
	l.stock = dataloadgen.NewLoader(func(ctx context.Context, skus []string) ([][]*fixgraph.StockLevel, []error) {
		out := make([][]*fixgraph.StockLevel, len(skus))
		for i, sku := range skus {
			err := g.Scan(ctx, fixgraph.StockID(sku, ""), func(n fixgraph.Node) error {
				if s, ok := n.(*fixgraph.StockLevel); ok {
					out[i] = append(out[i], s)
				}
				return nil
			})
			if err != nil {
				return nil, []error{err}
			}
		}
		return out, nil
	}, dataloadgen.WithWait(batchWait))
	return l
}

func withLoaders(ctx context.Context, g Graph) context.Context {
	return context.WithValue(ctx, loadersKey{}, newLoaders(g))
}

func (r *Resolver) loaders(ctx context.Context) *loaders {
	if l, ok := ctx.Value(loadersKey{}).(*loaders); ok {
		return l
	}
	return newLoaders(r.Graph) // outside a request (tests of single resolvers): no batching across calls
}

// node loads one node of type T by id; a missing node or one of another type is nil.
func node[T fixgraph.Node](ctx context.Context, r *Resolver, id string) (T, error) {
	var zero T
	if id == "" {
		return zero, nil
	}
	n, err := r.loaders(ctx).nodes.Load(ctx, id)
	if err != nil {
		return zero, err
	}
	t, _ := n.(T)
	return t, nil
}

// nodes loads the nodes of type T with ids, skipping missing ones.
func nodes[T fixgraph.Node](ctx context.Context, r *Resolver, ids []string) ([]T, error) {
	all, err := r.loaders(ctx).nodes.LoadAll(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(all))
	for _, n := range all {
		if t, ok := n.(T); ok {
			out = append(out, t)
		}
	}
	return out, nil
}

// neighbors loads the nodes of type T at the other end of id's rel edges.
func neighbors[T fixgraph.Node](ctx context.Context, r *Resolver, id string, rel fixgraph.Rel, dir fixgraph.Direction) ([]T, error) {
	l, ok := r.loaders(ctx).neighbors[edgeKind{rel, dir}]
	if !ok {
		ids, err := r.Graph.Neighbors(ctx, []string{id}, rel, dir)
		if err != nil {
			return nil, err
		}
		return nodes[T](ctx, r, ids[id])
	}
	ids, err := l.Load(ctx, id)
	if errors.Is(err, dataloadgen.ErrNotFound) {
		return nil, nil // the mapped loader's answer for a node without such edges
	}
	if err != nil {
		return nil, err
	}
	return nodes[T](ctx, r, ids)
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return strings.TrimSpace(*p)
}

// boolRank orders true before false when sorting descending.
func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}
