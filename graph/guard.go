package graph

import (
	"context"
	"fmt"
	"reflect"
	"sync"

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
//
// Guarded also carries out what editorial documents say, for every principal: an edge that a
// published editorial document detaches is not followed, and an entity whose editorial document
// is archived is missing. The store keeps both as written, so the editor can undo them.
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

// Neighbors returns the ids at the other end of the ids' rel edges, without the edges that
// published editorial documents detach. The ids themselves reveal nothing: reading the nodes
// goes through Nodes.
func (g Guarded) Neighbors(ctx context.Context, ids []string, rel fixgraph.Rel, dir fixgraph.Direction) (map[string][]string, error) {
	out, err := g.Store.Neighbors(ctx, ids, rel, dir)
	if err != nil {
		return nil, err
	}
	ed, err := g.editorial(ctx)
	if err != nil {
		return nil, err
	}
	if len(ed.detached) == 0 {
		return out, nil
	}
	for id, others := range out {
		kept := others[:0]
		for _, o := range others {
			e := fixgraph.Edge{From: id, Rel: rel, To: o}
			if dir == fixgraph.In {
				e.From, e.To = o, id
			}
			if !ed.detached[e] {
				kept = append(kept, o)
			}
		}
		if len(kept) == 0 {
			delete(out, id)
		} else {
			out[id] = kept
		}
	}
	return out, nil
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

// hide sets to nil the nodes the context's principal may not see, and archived entities.
func (g Guarded) hide(ctx context.Context, nodes []fixgraph.Node) error {
	ed, err := g.editorial(ctx)
	if err != nil {
		return err
	}
	if len(ed.archived) > 0 {
		for i, n := range nodes {
			if n != nil && ed.archived[n.NodeID()] {
				nodes[i] = nil
			}
		}
	}
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

// editorialState is what editorial documents say about the rest of the graph.
type editorialState struct {
	detached map[fixgraph.Edge]bool // edges that published editorial documents detach
	archived map[string]bool        // entities whose editorial document is archived, and sections that only describe such entities
}

// generationer is a store that counts its writes (both stores do).
type generationer interface {
	Generation(ctx context.Context) (uint64, error)
}

// editorialCache keeps each store's editorialState with the generation it was read at, so that
// queries scan the editorial documents once per write rather than once per call. It is shared
// by all Guarded values, which are copied freely, and keyed by the store.
var editorialCache struct {
	sync.Mutex
	by map[GuardedStore]cachedEditorial
}

type cachedEditorial struct {
	gen   uint64
	state *editorialState
}

// editorialCacheMax bounds the cache: a process has a store or two, tests open many.
const editorialCacheMax = 64

// editorial returns what the store's editorial documents say: from the cache when the store has
// not been written since, else read by scanning them. A store without a generation, or one that
// cannot be a map key, is scanned on each call.
func (g Guarded) editorial(ctx context.Context) (*editorialState, error) {
	gs, ok := g.Store.(generationer)
	if !ok || !reflect.TypeOf(g.Store).Comparable() {
		return scanEditorial(ctx, g.Store)
	}
	// The generation is read before the scan: a write between the two leaves an entry that
	// the next call finds outdated, never one that claims a state newer than it holds.
	gen, err := gs.Generation(ctx)
	if err != nil {
		return nil, err
	}
	editorialCache.Lock()
	c, ok := editorialCache.by[g.Store]
	editorialCache.Unlock()
	if ok && c.gen == gen {
		return c.state, nil
	}
	st, err := scanEditorial(ctx, g.Store)
	if err != nil {
		return nil, err
	}
	editorialCache.Lock()
	defer editorialCache.Unlock()
	if editorialCache.by == nil || len(editorialCache.by) >= editorialCacheMax {
		editorialCache.by = map[GuardedStore]cachedEditorial{}
	}
	editorialCache.by[g.Store] = cachedEditorial{gen: gen, state: st}
	return st, nil
}

// scanEditorial reads the editorial documents of s: the edges the published ones detach and the
// entities the archived ones hide. The state is not changed once made; callers share it.
func scanEditorial(ctx context.Context, s GuardedStore) (*editorialState, error) {
	st := &editorialState{}
	err := s.Scan(ctx, fixgraph.EditorialDocPrefix, func(n fixgraph.Node) error {
		d, ok := n.(*fixgraph.Document)
		if !ok {
			return nil
		}
		switch d.Status {
		case fixgraph.StatusPublished, "":
			for _, e := range d.Detached {
				if st.detached == nil {
					st.detached = map[fixgraph.Edge]bool{}
				}
				st.detached[e] = true
			}
		case fixgraph.StatusArchived:
			if id := fixgraph.EditorialEntity(d.ID); id != "" {
				if st.archived == nil {
					st.archived = map[string]bool{}
				}
				st.archived[id] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading editorial documents: %w", err)
	}
	// A section that only describes archived entities (an FAQ's own section on its FAQ page)
	// would still give their text to bots through search: it is hidden with them.
	if len(st.archived) > 0 {
		ids := make([]string, 0, len(st.archived))
		for id := range st.archived {
			ids = append(ids, id)
		}
		in, err := s.Neighbors(ctx, ids, fixgraph.RelDescribes, fixgraph.In)
		if err != nil {
			return nil, fmt.Errorf("reading the sections of archived entities: %w", err)
		}
		var secs []string
		for _, l := range in {
			secs = append(secs, l...)
		}
		out, err := s.Neighbors(ctx, secs, fixgraph.RelDescribes, fixgraph.Out)
		if err != nil {
			return nil, fmt.Errorf("reading the sections of archived entities: %w", err)
		}
		for _, sec := range secs {
			all := true
			for _, t := range out[sec] {
				all = all && st.archived[t]
			}
			if all {
				st.archived[sec] = true
			}
		}
	}
	return st, nil
}
