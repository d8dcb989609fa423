package editor

import (
	"context"
	"slices"
	"strings"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/answer"
)

// Preview answers question as the bots would if the entity's working copy were published: the
// graph is read with the working copy's editorial document in place of the live one, and the
// working copy's section joins the search hits. The graph side is exact. The search side is an
// estimate: the draft's section is not in the index, so it is ranked among the real hits by the
// share of the question's terms it holds, and given the BM25 score of the hit it displaces.
func (s *Service) Preview(ctx context.Context, id, question string) (*fixgraph.Answer, error) {
	e, err := s.Current(ctx, id)
	if err != nil {
		return nil, err
	}
	draft := *e
	if draft.Status != fixgraph.StatusArchived {
		draft.Status = fixgraph.StatusPublished
	}
	b, err := Batch(&draft, s.now())
	if err != nil {
		return nil, err
	}
	var live *fixgraph.Batch
	if e.Live > 0 {
		if r, err := s.Store.Revision(id, e.Live); err == nil && r.Action != ActIngested {
			live, _ = Batch(&r.Entity, s.now())
		}
	}
	g := newOverlay(s.Graph, b, live)
	svc := *s.Answers
	svc.Graph = g
	svc.Index = &overlayIndex{base: s.Answers.Index, graph: g, draft: b.Sections()[0], docID: b.Document.ID}
	// Bots see published knowledge only, whoever previews: the preview reads as a reader would,
	// with the editor's own audiences.
	return svc.AskIn(ctx, question, nil)
}

// overlay is a graph as it would be with batch written in place of live: the batch's nodes
// folded over the stored ones the way the stores fold an editorial contribution, its edges in
// place of live's, and its detached edges gone.
type overlay struct {
	base     answer.Graph
	nodes    map[string]fixgraph.Node
	added    []fixgraph.Edge
	removed  []fixgraph.Edge // live's edges, which the batch replaces
	detached []fixgraph.Edge
	hidden   string // an archived entity
}

func newOverlay(base answer.Graph, b, live *fixgraph.Batch) *overlay {
	o := &overlay{base: base, nodes: map[string]fixgraph.Node{}, added: b.Edges, detached: b.Document.Detached}
	if b.Document.Status == fixgraph.StatusArchived {
		o.hidden = fixgraph.EditorialEntity(b.Document.ID)
		return o
	}
	o.nodes[b.Document.ID] = b.Document
	for _, n := range b.Nodes {
		o.nodes[n.NodeID()] = n
	}
	if live != nil {
		o.removed = live.Edges
	}
	return o
}

func (o *overlay) Nodes(ctx context.Context, ids []string) ([]fixgraph.Node, error) {
	out, err := o.base.Nodes(ctx, ids)
	if err != nil {
		return nil, err
	}
	for i, id := range ids {
		switch n, ok := o.nodes[id]; {
		case id == o.hidden:
			out[i] = nil
		case ok && out[i] != nil && fixgraph.KindOf(id) != fixgraph.PrefixSection && fixgraph.KindOf(id) != fixgraph.PrefixDocument:
			out[i] = fixgraph.MergeNodes(out[i], n)
		case ok:
			out[i] = n
		}
	}
	return out, nil
}

func (o *overlay) Node(ctx context.Context, id string) (fixgraph.Node, error) {
	n, err := o.Nodes(ctx, []string{id})
	if err != nil {
		return nil, err
	}
	if n[0] == nil {
		return nil, fixgraph.Errorf(fixgraph.ENOTFOUND, "no node %q", id)
	}
	return n[0], nil
}

func (o *overlay) Neighbors(ctx context.Context, ids []string, rel fixgraph.Rel, dir fixgraph.Direction) (map[string][]string, error) {
	out, err := o.base.Neighbors(ctx, ids, rel, dir)
	if err != nil {
		return nil, err
	}
	ends := func(e fixgraph.Edge) (string, string) {
		if dir == fixgraph.In {
			return e.To, e.From
		}
		return e.From, e.To
	}
	drop := func(edges []fixgraph.Edge) {
		for _, e := range edges {
			if a, b := ends(e); e.Rel == rel {
				out[a] = slices.DeleteFunc(out[a], func(x string) bool { return x == b })
			}
		}
	}
	drop(o.removed)
	for _, e := range o.added {
		if a, b := ends(e); e.Rel == rel && slices.Contains(ids, a) && !slices.Contains(out[a], b) {
			out[a] = append(out[a], b)
		}
	}
	drop(o.detached)
	return out, nil
}

func (o *overlay) ErrorCodes(ctx context.Context, code string) ([]*fixgraph.ErrorCode, error) {
	codes, err := o.base.ErrorCodes(ctx, code)
	if err != nil {
		return nil, err
	}
	var out []*fixgraph.ErrorCode
	seen := map[string]bool{}
	for _, c := range codes {
		seen[c.ID] = true
		if c.ID == o.hidden {
			continue
		}
		if n, ok := o.nodes[c.ID].(*fixgraph.ErrorCode); ok {
			c = fixgraph.MergeNodes(c, n).(*fixgraph.ErrorCode)
		}
		out = append(out, c)
	}
	for id, n := range o.nodes {
		if c, ok := n.(*fixgraph.ErrorCode); ok && !seen[id] && strings.EqualFold(c.Code, code) {
			out = append(out, c)
		}
	}
	return out, nil
}

func (o *overlay) Scan(ctx context.Context, prefix string, fn func(fixgraph.Node) error) error {
	seen := map[string]bool{}
	err := o.base.Scan(ctx, prefix, func(n fixgraph.Node) error {
		id := n.NodeID()
		seen[id] = true
		if id == o.hidden {
			return nil
		}
		if d, ok := o.nodes[id]; ok {
			n = fixgraph.MergeNodes(n, d)
		}
		return fn(n)
	})
	if err != nil {
		return err
	}
	for id, n := range o.nodes {
		if strings.HasPrefix(id, prefix) && !seen[id] {
			if err := fn(n); err != nil {
				return err
			}
		}
	}
	return nil
}

var _ answer.Graph = (*overlay)(nil)

// overlayIndex is the index with the live editorial section left out and the draft's section
// ranked among the hits (see Preview).
type overlayIndex struct {
	base  answer.Index
	graph *overlay
	draft *fixgraph.Section
	docID string
}

func (x *overlayIndex) Analyze(s string) []string { return x.base.Analyze(s) }

func (x *overlayIndex) Search(ctx context.Context, q string, limit int, f fixgraph.SearchFilter) ([]fixgraph.Hit, error) {
	hits, err := x.base.Search(ctx, q, limit+1, f)
	if err != nil {
		return nil, err
	}
	hits = slices.DeleteFunc(hits, func(h fixgraph.Hit) bool { return h.Section.ID == x.draft.ID })
	if x.graph.hidden != "" {
		if len(hits) > limit {
			hits = hits[:limit]
		}
		return hits, nil
	}
	terms := x.base.Analyze(q)
	mine := answer.Coverage(terms, x.base.Analyze(x.draft.Heading+" "+x.draft.Text))
	if mine == 0 {
		if len(hits) > limit {
			hits = hits[:limit]
		}
		return hits, nil
	}
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.Section.ID
	}
	secs, err := x.graph.Nodes(ctx, ids)
	if err != nil {
		return nil, err
	}
	at := len(hits)
	for i, n := range secs {
		sec, ok := n.(*fixgraph.Section)
		if !ok || mine >= answer.Coverage(terms, x.base.Analyze(sec.Heading+" "+sec.Text)) {
			at = i
			break
		}
	}
	h := fixgraph.Hit{Section: x.draft}
	if at < len(hits) {
		h.Score, h.Lexical = hits[at].Score, hits[at].Lexical
	}
	hits = slices.Insert(hits, at, h)
	if len(hits) > limit {
		hits = hits[:limit]
	}
	return hits, nil
}
