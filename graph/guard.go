package graph

import (
	"context"

	"github.com/fixgraph/fixgraph"
)

// GuardedStore is what Guarded reads through.
type GuardedStore interface {
	Nodes(ctx context.Context, ids []string) ([]fixgraph.Node, error)
	Neighbors(ctx context.Context, ids []string, rel fixgraph.Rel, dir fixgraph.Direction) (map[string][]string, error)
	Scan(ctx context.Context, prefix string, fn func(fixgraph.Node) error) error
	ErrorCodes(ctx context.Context, code string) ([]*fixgraph.ErrorCode, error)
	Owners(ctx context.Context, ids []string) (map[string][]string, error)
}

// Guarded is a graph store as the principal of each call's context may see it: a document it
// may not read, and every node that only such documents contributed, are missing, as if they
// did not exist. A node that a readable document contributed is visible whole. Stock pushed
// through the API (PushOwner) is visible to all. Everything that answers queries reads through
// it; only the ingest pipeline and the editor's writes use the store itself.
type Guarded struct {
	Store GuardedStore
}

// Nodes returns the nodes with ids, nil where a node is missing or hidden.
func (g Guarded) Nodes(ctx context.Context, ids []string) ([]fixgraph.Node, error) {
	nodes, err := g.Store.Nodes(ctx, ids)
	if err != nil {
		return nil, err
	}
	return nodes, g.hide(ctx, nodes)
}

// Node returns one node, ENOTFOUND when it is missing or hidden.
func (g Guarded) Node(ctx context.Context, id string) (fixgraph.Node, error) {
	nodes, err := g.Nodes(ctx, []string{id})
	if err != nil {
		return nil, err
	}
	if len(nodes) == 0 || nodes[0] == nil {
		return nil, fixgraph.Errorf(fixgraph.ENOTFOUND, "no node %q", id)
	}
	return nodes[0], nil
}

// Neighbors returns the ids at the other end of the ids' rel edges. The ids themselves reveal
// nothing: reading the nodes goes through Nodes.
func (g Guarded) Neighbors(ctx context.Context, ids []string, rel fixgraph.Rel, dir fixgraph.Direction) (map[string][]string, error) {
	return g.Store.Neighbors(ctx, ids, rel, dir)
}

// ErrorCodes returns the visible error codes with code.
func (g Guarded) ErrorCodes(ctx context.Context, code string) ([]*fixgraph.ErrorCode, error) {
	codes, err := g.Store.ErrorCodes(ctx, code)
	if err != nil || len(codes) == 0 {
		return codes, err
	}
	nodes := make([]fixgraph.Node, len(codes))
	for i, c := range codes {
		nodes[i] = c
	}
	if err := g.hide(ctx, nodes); err != nil {
		return nil, err
	}
	out := codes[:0]
	for _, n := range nodes {
		if n != nil {
			out = append(out, n.(*fixgraph.ErrorCode))
		}
	}
	return out, nil
}

// scanChunk is how many scanned nodes are checked together.
const scanChunk = 256

// Scan calls fn for each visible node whose id starts with prefix.
func (g Guarded) Scan(ctx context.Context, prefix string, fn func(fixgraph.Node) error) error {
	var chunk []fixgraph.Node
	flush := func() error {
		if err := g.hide(ctx, chunk); err != nil {
			return err
		}
		for _, n := range chunk {
			if n != nil {
				if err := fn(n); err != nil {
					return err
				}
			}
		}
		chunk = chunk[:0]
		return nil
	}
	err := g.Store.Scan(ctx, prefix, func(n fixgraph.Node) error {
		chunk = append(chunk, n)
		if len(chunk) == scanChunk {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

// hide sets to nil the nodes the context's principal may not see.
func (g Guarded) hide(ctx context.Context, nodes []fixgraph.Node) error {
	p := fixgraph.PrincipalFrom(ctx)
	if p.Audiences() == nil && p.SeesDrafts() {
		return nil
	}
	var others []string
	for _, n := range nodes {
		if n == nil {
			continue
		}
		if _, ok := n.(*fixgraph.Document); !ok {
			others = append(others, n.NodeID())
		}
	}
	owners := map[string][]string{}
	readable := map[string]bool{}
	if len(others) > 0 {
		var err error
		if owners, err = g.Store.Owners(ctx, others); err != nil {
			return err
		}
		var docIDs []string
		for _, os := range owners {
			for _, o := range os {
				if fixgraph.KindOf(o) == fixgraph.PrefixDocument {
					docIDs = append(docIDs, o)
				}
			}
		}
		docs, err := g.Store.Nodes(ctx, docIDs)
		if err != nil {
			return err
		}
		for _, d := range docs {
			if d, ok := d.(*fixgraph.Document); ok {
				readable[d.ID] = p.CanRead(d)
			}
		}
	}
	for i, n := range nodes {
		if n == nil {
			continue
		}
		if d, ok := n.(*fixgraph.Document); ok {
			if !p.CanRead(d) {
				nodes[i] = nil
			}
			continue
		}
		visible := false
		for _, o := range owners[n.NodeID()] {
			if readable[o] || fixgraph.KindOf(o) != fixgraph.PrefixDocument {
				visible = true
				break
			}
		}
		if !visible {
			nodes[i] = nil
		}
	}
	return nil
}
