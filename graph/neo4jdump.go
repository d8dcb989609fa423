package graph

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/fixgraph/fixgraph"
)

// An export of a Neo4j graph is JSON lines: a header, every node that carries an FG label (FGNode,
// FGContrib, FGRevision, FGMeta) with its labels and properties, every FG_EDGE between FGNodes by
// the ids of its ends, and a trailer that counts them, so that an export cut short is refused.
// Properties are strings and integers; integers stay integers through the round trip.
//
//	{"export":"fixgraph-neo4j","version":1,"generation":42}
//	{"node":{"labels":["FGNode"],"props":{"id":"doc:…","kind":"doc","data":"{…}","code":""}}}
//	{"edge":{"from":"sec:…","to":"doc:…","props":{"rel":"PART_OF","owner":"doc:…"}}}
//	{"end":{"nodes":1,"edges":1}}

const (
	exportName    = "fixgraph-neo4j"
	exportVersion = 1
	// importBatch is how many rows one UNWIND statement of Import writes, each in a transaction.
	importBatch = 1000
)

// exportTries is how many times Export reads the graph before it reads it with the writers held
// off (see Export).
var exportTries = 3

type exportHeader struct {
	Export     string `json:"export"`
	Version    int    `json:"version"`
	Generation int64  `json:"generation"`
}

type exportNode struct {
	Labels []string       `json:"labels"`
	Props  map[string]any `json:"props"`
}

type exportEdge struct {
	From  string         `json:"from"`
	To    string         `json:"to"`
	Props map[string]any `json:"props"`
}

type exportEnd struct {
	Nodes int64 `json:"nodes"`
	Edges int64 `json:"edges"`
}

type exportLine struct {
	Node *exportNode `json:"node,omitempty"`
	Edge *exportEdge `json:"edge,omitempty"`
	End  *exportEnd  `json:"end,omitempty"`
}

// fgLabel is what a label of the store looks like; Import puts labels into statements (they
// cannot be parameters), so it takes no other.
var fgLabel = regexp.MustCompile(`^FG[A-Za-z0-9_]*$`)

// Server returns the host and port of the server, for messages and backup manifests.
func (s *Neo4j) Server() string { return s.where }

// Export writes every node of the store and every edge to w as JSON lines (see above).
//
// The graph is read in one read transaction. Neo4j's transactions read committed data, not a
// snapshot, so Export reads the write generation (which every write transaction counts) at the
// start and at the end of it: the same number both times means no write committed in between
// and the export is one state of the graph. When writes went on, it reads again; after
// exportTries such reads it reads in a write transaction that first takes the lock on the
// generation's node, which every write transaction takes to count itself, so writers wait for
// the export to end. The export is spooled in a temporary file and copied to w once it is whole.
func (s *Neo4j) Export(ctx context.Context, w io.Writer) error {
	f, err := os.CreateTemp("", "fixgraph-neo4j-export-*")
	if err != nil {
		return fmt.Errorf("creating a temporary file for the graph export: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	ok := false
	for try := 0; try <= exportTries && !ok; try++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		locked := try == exportTries
		sess := s.session(ctx, neo4j.AccessModeRead)
		work := func(tx neo4j.ManagedTransaction) (any, error) {
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				return nil, err
			}
			if err := f.Truncate(0); err != nil {
				return nil, err
			}
			if locked {
				// Setting a property takes the node's write lock, which every writer's bump then
				// waits for until this transaction ends; removing it at once leaves the node as it
				// was. The value is not written: it was read before the lock and may be stale.
				if _, err := tx.Run(ctx, "MATCH (m:FGMeta {key: $key}) SET m.exportLock = true REMOVE m.exportLock", map[string]any{"key": generationKey}); err != nil {
					return nil, err
				}
			}
			bw := bufio.NewWriterSize(f, 1<<20)
			same, err := exportTx(ctx, tx, bw)
			if err == nil {
				err = bw.Flush()
			}
			return same, err
		}
		var res any
		if locked {
			sess.Close(context.Background())
			sess = s.session(ctx, neo4j.AccessModeWrite)
			res, err = sess.ExecuteWrite(ctx, work)
		} else {
			res, err = sess.ExecuteRead(ctx, work)
		}
		sess.Close(context.Background())
		if err != nil {
			var fe *fixgraph.Error
			if errors.As(err, &fe) {
				return err
			}
			return s.fail(err, "exporting the graph")
		}
		ok = res.(bool)
	}
	if !ok {
		return fixgraph.Errorf(fixgraph.EUNAVAILABLE, "graph server %s: the graph changed during every export", s.where)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	_, err = io.Copy(w, f)
	return err
}

// exportTx writes the export in tx and reports whether the generation stayed the same.
func exportTx(ctx context.Context, tx neo4j.ManagedTransaction, w io.Writer) (bool, error) {
	gen, err := txGeneration(ctx, tx)
	if err != nil {
		return false, err
	}
	enc := json.NewEncoder(w)
	if err := enc.Encode(exportHeader{Export: exportName, Version: exportVersion, Generation: gen}); err != nil {
		return false, err
	}
	var end exportEnd
	res, err := tx.Run(ctx, "MATCH (n) WHERE any(l IN labels(n) WHERE l STARTS WITH 'FG') RETURN labels(n) AS labels, properties(n) AS props", nil)
	if err != nil {
		return false, err
	}
	for res.Next(ctx) {
		r := res.Record()
		n := &exportNode{}
		ls, _ := r.Get("labels")
		for _, l := range asList(ls) {
			if l, ok := l.(string); ok {
				n.Labels = append(n.Labels, l)
			}
		}
		slices.Sort(n.Labels)
		props, _ := r.Get("props")
		if n.Props, err = exportProps(props); err != nil {
			return false, fmt.Errorf("exporting a node labelled %s: %w", strings.Join(n.Labels, ":"), err)
		}
		if err := enc.Encode(exportLine{Node: n}); err != nil {
			return false, err
		}
		end.Nodes++
	}
	if err := res.Err(); err != nil {
		return false, err
	}
	res, err = tx.Run(ctx, "MATCH (a:FGNode)-[e:FG_EDGE]->(b:FGNode) RETURN a.id AS from, b.id AS to, properties(e) AS props", nil)
	if err != nil {
		return false, err
	}
	for res.Next(ctx) {
		r := res.Record()
		e := &exportEdge{From: str(r, "from"), To: str(r, "to")}
		props, _ := r.Get("props")
		if e.Props, err = exportProps(props); err != nil {
			return false, fmt.Errorf("exporting the edge %q -> %q: %w", e.From, e.To, err)
		}
		if err := enc.Encode(exportLine{Edge: e}); err != nil {
			return false, err
		}
		end.Edges++
	}
	if err := res.Err(); err != nil {
		return false, err
	}
	if err := enc.Encode(exportLine{End: &end}); err != nil {
		return false, err
	}
	after, err := txGeneration(ctx, tx)
	return after == gen, err
}

func txGeneration(ctx context.Context, tx neo4j.ManagedTransaction) (int64, error) {
	recs, err := run(ctx, tx, "MATCH (m:FGMeta {key: $key}) RETURN m.value AS value", map[string]any{"key": generationKey})
	if err != nil || len(recs) == 0 {
		return 0, err
	}
	v, _ := recs[0].Get("value")
	n, _ := v.(int64)
	return n, nil
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// exportProps checks that a node's or edge's properties are of the kinds the store writes
// (strings, integers, booleans and lists of them), which JSON carries unchanged.
func exportProps(v any) (map[string]any, error) {
	props, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("properties of type %T", v)
	}
	for k, p := range props {
		if !exportable(p) {
			return nil, fmt.Errorf("property %q is a %T, which the export does not carry", k, p)
		}
	}
	return props, nil
}

func exportable(v any) bool {
	switch v := v.(type) {
	case string, int64, bool:
		return true
	case []any:
		for _, e := range v {
			if !exportable(e) {
				return false
			}
		}
		return true
	}
	return false
}

// importProps turns decoded JSON back into property values: numbers into int64.
func importProps(m map[string]any) (map[string]any, error) {
	for k, v := range m {
		p, err := importValue(v)
		if err != nil {
			return nil, fmt.Errorf("property %q: %w", k, err)
		}
		m[k] = p
	}
	return m, nil
}

func importValue(v any) (any, error) {
	switch v := v.(type) {
	case string, bool:
		return v, nil
	case json.Number:
		n, err := v.Int64()
		if err != nil {
			return nil, fmt.Errorf("%s is not an integer", v)
		}
		return n, nil
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			p, err := importValue(e)
			if err != nil {
				return nil, err
			}
			out[i] = p
		}
		return out, nil
	}
	return nil, fmt.Errorf("a %T", v)
}

// Empty reports whether the store holds no node with an FG label.
func (s *Neo4j) Empty(ctx context.Context) (bool, error) {
	recs, err := s.read(ctx, "checking that the graph is empty", "MATCH (n) WHERE any(l IN labels(n) WHERE l STARTS WITH 'FG') RETURN 1 AS found LIMIT 1", nil)
	if err != nil {
		return false, err
	}
	return len(recs) == 0, nil
}

// Import reads an export (see Export) into the store, which must be empty: a store that holds
// any FG node is refused with an ECONFLICT error and left as it is. Nodes and then edges are
// written in batches, each an UNWIND statement in a transaction of its own, so an import that
// fails half-way leaves part of the graph behind: Import then says so, and the caller empties
// the store (Wipe) before trying again. An export that is cut short, malformed or whose edges
// name nodes it lacks is an EUNREADABLE error.
func (s *Neo4j) Import(ctx context.Context, r io.Reader) error {
	empty, err := s.Empty(ctx)
	if err != nil {
		return err
	}
	if !empty {
		return fixgraph.Errorf(fixgraph.ECONFLICT, "graph server %s already holds a graph: import into an empty one", s.where)
	}
	bad := func(err error, format string, args ...any) error {
		return fixgraph.WrapError(fixgraph.EUNREADABLE, err, "the graph export "+format, args...)
	}
	dec := json.NewDecoder(bufio.NewReaderSize(r, 1<<20))
	dec.UseNumber()
	var h exportHeader
	if err := dec.Decode(&h); err != nil {
		return bad(err, "has no header")
	}
	if h.Export != exportName || h.Version != exportVersion {
		return fixgraph.Errorf(fixgraph.EUNREADABLE, "not a fixgraph graph export of version %d (header %q version %d)", exportVersion, h.Export, h.Version)
	}
	var (
		nodes = map[string][]any{} // rows by label set, "FGContrib" or "FGNode:FGOther"
		edges []any
		count exportEnd
		end   *exportEnd
	)
	flushNodes := func(force bool) error {
		for _, key := range slices.Sorted(maps.Keys(nodes)) {
			rows := nodes[key]
			if len(rows) == 0 || (!force && len(rows) < importBatch) {
				continue
			}
			q := "UNWIND $rows AS r CREATE (n:" + key + ") SET n = r"
			if err := s.write(ctx, "importing nodes", func(tx neo4j.ManagedTransaction) error {
				_, err := run(ctx, tx, q, map[string]any{"rows": rows})
				return err
			}); err != nil {
				return err
			}
			delete(nodes, key)
		}
		return nil
	}
	flushEdges := func() error {
		if len(edges) == 0 {
			return nil
		}
		want := len(edges)
		err := s.write(ctx, "importing edges", func(tx neo4j.ManagedTransaction) error {
			recs, err := run(ctx, tx, "UNWIND $rows AS r MATCH (a:FGNode {id: r.from}), (b:FGNode {id: r.to}) CREATE (a)-[e:FG_EDGE]->(b) SET e = r.props RETURN count(e) AS n", map[string]any{"rows": edges})
			if err != nil {
				return err
			}
			var n int64
			if len(recs) > 0 {
				v, _ := recs[0].Get("n")
				n, _ = v.(int64)
			}
			if n != int64(want) {
				return fixgraph.Errorf(fixgraph.EUNREADABLE, "the graph export has edges between nodes it does not hold (%d of %d made)", n, want)
			}
			return nil
		})
		edges = edges[:0]
		return err
	}
	for {
		var l exportLine
		err := dec.Decode(&l)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return bad(err, "is malformed after %d nodes and %d edges", count.Nodes, count.Edges)
		}
		if end != nil {
			return fixgraph.Errorf(fixgraph.EUNREADABLE, "the graph export goes on after its end")
		}
		switch {
		case l.Node != nil:
			if count.Edges > 0 {
				return fixgraph.Errorf(fixgraph.EUNREADABLE, "the graph export has a node after its edges")
			}
			if len(l.Node.Labels) == 0 {
				return fixgraph.Errorf(fixgraph.EUNREADABLE, "the graph export has a node without labels")
			}
			for _, lb := range l.Node.Labels {
				if !fgLabel.MatchString(lb) {
					return fixgraph.Errorf(fixgraph.EUNREADABLE, "the graph export has a node labelled %q, not one of fixgraph's", lb)
				}
			}
			props, err := importProps(l.Node.Props)
			if err != nil {
				return bad(err, "has a bad node")
			}
			if props == nil {
				props = map[string]any{}
			}
			key := strings.Join(l.Node.Labels, ":")
			nodes[key] = append(nodes[key], props)
			count.Nodes++
			if err := flushNodes(false); err != nil {
				return err
			}
		case l.Edge != nil:
			if count.Edges == 0 {
				if err := flushNodes(true); err != nil {
					return err
				}
			}
			props, err := importProps(l.Edge.Props)
			if err != nil {
				return bad(err, "has a bad edge")
			}
			if props == nil {
				props = map[string]any{}
			}
			edges = append(edges, map[string]any{"from": l.Edge.From, "to": l.Edge.To, "props": props})
			count.Edges++
			if len(edges) >= importBatch {
				if err := flushEdges(); err != nil {
					return err
				}
			}
		case l.End != nil:
			end = l.End
		default:
			return fixgraph.Errorf(fixgraph.EUNREADABLE, "the graph export has a line that is neither a node, an edge nor its end")
		}
	}
	if end == nil {
		return fixgraph.Errorf(fixgraph.EUNREADABLE, "the graph export is truncated after %d nodes and %d edges", count.Nodes, count.Edges)
	}
	if *end != count {
		return fixgraph.Errorf(fixgraph.EUNREADABLE, "the graph export holds %d nodes and %d edges; its end says %d and %d", count.Nodes, count.Edges, end.Nodes, end.Edges)
	}
	if err := flushNodes(true); err != nil {
		return err
	}
	return flushEdges()
}

// Wipe deletes every node with an FG label and its relationships, in batches: what Import needs
// after an import that failed half-way.
func (s *Neo4j) Wipe(ctx context.Context) error {
	for {
		var n int64
		err := s.write(ctx, "emptying the graph", func(tx neo4j.ManagedTransaction) error {
			recs, err := run(ctx, tx, "MATCH (n) WHERE any(l IN labels(n) WHERE l STARTS WITH 'FG') WITH n LIMIT $limit DETACH DELETE n RETURN count(*) AS n", map[string]any{"limit": int64(importBatch)})
			if err != nil || len(recs) == 0 {
				return err
			}
			v, _ := recs[0].Get("n")
			n, _ = v.(int64)
			return nil
		})
		if err != nil || n == 0 {
			return err
		}
	}
}
