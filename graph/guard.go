package graph

import (
	"context"
	"fmt"
	"reflect"
	"slices"
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
// did not exist. A node that several documents contributed is folded again from the
// contributions of the documents the principal may read, in the order foldOrder gives for the
// principal's department: a public key sees exactly what public documents say of a shared
// node, a department's keys what their department says over what others published, and no
// field of a merged node comes from a document its reader may not read. An edge is followed
// only when a readable document made it. Stock pushed through the API (PushOwner) is visible
// to all. Everything that answers queries reads through it; only the ingest pipeline and the
// editor's writes use the store itself.
//
// The folds for a principal are not cached: each read folds what it returns. Stores that do not
// give contributions apart (Contributions, Links) are read conservatively: a node is visible only
// when every document that contributed it is readable, and edges are not filtered by owner.
//
// Guarded also carries out what editorial documents say, for every principal: an edge that a
// published editorial document detaches is not followed, and an entity whose editorial document
// is archived is missing. The store keeps both as written, so the editor can undo them.
type Guarded struct {
	Store GuardedStore
}

// contributor is a store that gives each node's contributions apart (both stores do).
type contributor interface {
	Contributions(ctx context.Context, ids []string) (map[string][]Contribution, error)
}

// linker is a store that tells which owner made each edge (both stores do).
type linker interface {
	Links(ctx context.Context, ids []string, rel fixgraph.Rel, dir fixgraph.Direction) (map[string][]Link, error)
}

var (
	_ contributor = (*Bolt)(nil)
	_ contributor = (*Neo4j)(nil)
	_ linker      = (*Bolt)(nil)
	_ linker      = (*Neo4j)(nil)
)

// seesAll reports whether p reads the store's own nodes: every contribution, folded for no
// department.
func seesAll(p *fixgraph.Principal) bool {
	return p.Audiences() == nil && p.SeesDrafts() && p.Department == ""
}

// readableOwner reports whether p may read what owner contributed: a pushed stock level, or a
// document of docs that p may read.
func readableOwner(p *fixgraph.Principal, owner string, docs map[string]*fixgraph.Document) bool {
	if fixgraph.KindOf(owner) != fixgraph.PrefixDocument {
		return true
	}
	d := docs[owner]
	return d != nil && p.CanRead(d)
}

// documents returns the stored documents among ids, by id.
func (g Guarded) documents(ctx context.Context, ids []string) (map[string]*fixgraph.Document, error) {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	out := make(map[string]*fixgraph.Document, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	nodes, err := g.Store.Nodes(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, n := range nodes {
		if d, ok := n.(*fixgraph.Document); ok {
			out[d.ID] = d
		}
	}
	return out, nil
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

// Neighbors returns the ids at the other end of the ids' rel edges that a document the
// principal may read made (or a stock push), without the edges that published editorial
// documents detach. An edge that only an unreadable document made is department knowledge
// ("this part fits that product") even between two visible nodes.
func (g Guarded) Neighbors(ctx context.Context, ids []string, rel fixgraph.Rel, dir fixgraph.Direction) (map[string][]string, error) {
	out, err := g.neighbors(ctx, ids, rel, dir)
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
	p := fixgraph.PrincipalFrom(ctx)
	for id, others := range out {
		kept := others[:0]
		for _, o := range others {
			e := fixgraph.Edge{From: id, Rel: rel, To: o}
			if dir == fixgraph.In {
				e.From, e.To = o, id
			}
			if !applies(p, ed.detached[e]) {
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

// neighbors returns the ids at the other end of the ids' rel edges that the principal may see.
func (g Guarded) neighbors(ctx context.Context, ids []string, rel fixgraph.Rel, dir fixgraph.Direction) (map[string][]string, error) {
	p := fixgraph.PrincipalFrom(ctx)
	lk, ok := g.Store.(linker)
	if !ok || seesAll(p) {
		return g.Store.Neighbors(ctx, ids, rel, dir)
	}
	links, err := lk.Links(ctx, ids, rel, dir)
	if err != nil {
		return nil, err
	}
	var owners []string
	for _, ls := range links {
		for _, l := range ls {
			if fixgraph.KindOf(l.Owner) == fixgraph.PrefixDocument {
				owners = append(owners, l.Owner)
			}
		}
	}
	docs, err := g.documents(ctx, owners)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]string, len(links))
	for id, ls := range links {
		for _, l := range ls {
			if readableOwner(p, l.Owner, docs) && !slices.Contains(out[id], l.Other) {
				out[id] = append(out[id], l.Other)
			}
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

// hide sets to nil the nodes the context's principal may not see, and archived entities, and
// folds each node that several documents contributed again from what the principal may read.
func (g Guarded) hide(ctx context.Context, nodes []fixgraph.Node) error {
	ed, err := g.editorial(ctx)
	if err != nil {
		return err
	}
	p := fixgraph.PrincipalFrom(ctx)
	if len(ed.archived) > 0 {
		for i, n := range nodes {
			if n != nil && applies(p, ed.archived[n.NodeID()]) {
				nodes[i] = nil
			}
		}
	}
	if seesAll(p) {
		return nil
	}
	var others []string
	for i, n := range nodes {
		if d, ok := n.(*fixgraph.Document); ok {
			if !p.CanRead(d) {
				nodes[i] = nil
			}
		} else if n != nil {
			others = append(others, n.NodeID())
		}
	}
	if len(others) == 0 {
		return nil
	}
	cs, ok := g.Store.(contributor)
	if !ok {
		return g.hideWhole(ctx, p, nodes, others)
	}
	contribs, err := cs.Contributions(ctx, others)
	if err != nil {
		return err
	}
	var owners []string
	for _, l := range contribs {
		owners = append(owners, docOwners(l)...)
	}
	docs, err := g.documents(ctx, owners)
	if err != nil {
		return err
	}
	for i, n := range nodes {
		if n == nil {
			continue
		}
		if _, ok := n.(*fixgraph.Document); ok {
			continue
		}
		id := n.NodeID()
		all := contribs[id]
		var mine []Contribution
		ownDept := false
		for _, c := range all {
			if readableOwner(p, c.Owner, docs) {
				mine = append(mine, c)
				if d := docs[c.Owner]; d != nil && p.Department != "" && d.Department == p.Department {
					ownDept = true
				}
			}
		}
		switch {
		case len(mine) == 0:
			nodes[i] = nil
		case len(mine) == len(all) && !ownDept:
			// Every contribution, in the order of a reader of no department: the stored node.
		default:
			if nodes[i], err = fold(id, mine, docs, p.Department); err != nil {
				return err
			}
		}
	}
	return nil
}

// hideWhole is hide for a store that does not give contributions apart: a node is visible only
// when every document that contributed it is readable, since its fold cannot be redone.
func (g Guarded) hideWhole(ctx context.Context, p *fixgraph.Principal, nodes []fixgraph.Node, ids []string) error {
	owners, err := g.Store.Owners(ctx, ids)
	if err != nil {
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
	docs, err := g.documents(ctx, docIDs)
	if err != nil {
		return err
	}
	for i, n := range nodes {
		if n == nil {
			continue
		}
		if _, ok := n.(*fixgraph.Document); ok {
			continue
		}
		os := owners[n.NodeID()]
		visible := len(os) > 0
		for _, o := range os {
			visible = visible && readableOwner(p, o, docs)
		}
		if !visible {
			nodes[i] = nil
		}
	}
	return nil
}

// editorialState is what editorial documents say about the rest of the graph.
// Each rule holds for the audiences of the editorial documents that make it: a department's
// editorial version of a shared node detaches or archives for that department's readers only, never
// for the readers of another department or the public.
type editorialState struct {
	detached map[fixgraph.Edge][]fixgraph.Visibility // edges that published editorial documents detach, and for whom
	archived map[string][]fixgraph.Visibility        // entities whose editorial document is archived, sections that only describe such entities, and for whom
}

// applies reports whether a rule made by editorial documents of the audiences auds holds for p.
func applies(p *fixgraph.Principal, auds []fixgraph.Visibility) bool {
	if len(auds) == 0 {
		return false
	}
	mine := p.Audiences()
	if mine == nil {
		return true
	}
	for _, a := range auds {
		if slices.Contains(mine, a) {
			return true
		}
	}
	return false
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
					st.detached = map[fixgraph.Edge][]fixgraph.Visibility{}
				}
				st.detached[e] = append(st.detached[e], fixgraph.Audience(d))
			}
		case fixgraph.StatusArchived:
			if id := fixgraph.EditorialEntity(d.ID); id != "" {
				if st.archived == nil {
					st.archived = map[string][]fixgraph.Visibility{}
				}
				st.archived[id] = append(st.archived[id], fixgraph.Audience(d))
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
		// The section is hidden for the audiences every one of its entities is archived for.
		for _, sec := range secs {
			var common []fixgraph.Visibility
			for k, t := range out[sec] {
				if k == 0 {
					common = slices.Clone(st.archived[t])
					continue
				}
				common = slices.DeleteFunc(common, func(a fixgraph.Visibility) bool { return !slices.Contains(st.archived[t], a) })
			}
			if len(common) > 0 {
				st.archived[sec] = common
			}
		}
	}
	return st, nil
}
