package graph

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
	"github.com/neo4j/neo4j-go-driver/v5/neo4j/config"

	"github.com/fixgraph/fixgraph"
)

// Neo4j is the graph store of the server-backed deployment, on Neo4j 5 over Bolt. It keeps the
// model of the embedded store: each document's contribution to a node is kept apart (an FGContrib
// node per node and owner) and merged into the FGNode that queries read, so a new version of a
// document replaces exactly what the old one brought. Edges are FG_EDGE relationships that carry
// their relation and their owner.
//
// Every statement is parameterised, and rows are written in batches (UNWIND over a list
// parameter), never one statement per row. Writes run in managed transactions (ExecuteWrite),
// reads in read transactions (ExecuteRead), which the driver retries on transient errors
// (deadlocks, a leader switch, a lost connection) and, with neo4j://, routes to a cluster's
// leader or followers; both share the driver's bookmarks, so a read sees what this process
// wrote before it. OpenNeo4j makes the constraints that keep ids unique and that MERGE locks on.
type Neo4j struct {
	driver neo4j.DriverWithContext
	db     string
	where  string // host:port, for messages
}

// neo4jTimeout bounds each call when the caller's context has no deadline.
const neo4jTimeout = 30 * time.Second

// neo4jSchemes are the URL schemes OpenNeo4j accepts: bolt to one server, neo4j to a cluster (or
// one server) through its routing table, each with TLS (+s) or TLS to a self-signed
// certificate (+ssc).
var neo4jSchemes = []string{"bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc"}

// neo4jSchema is what OpenNeo4j creates, each statement idempotent. The uniqueness constraints
// come with the indexes that find a node by id and a contribution by node and owner, and make
// concurrent MERGEs of one id wait for each other instead of creating it twice.
var neo4jSchema = []string{
	"CREATE CONSTRAINT fg_node_id IF NOT EXISTS FOR (n:FGNode) REQUIRE n.id IS UNIQUE",
	"CREATE CONSTRAINT fg_contrib_key IF NOT EXISTS FOR (c:FGContrib) REQUIRE (c.node, c.owner) IS UNIQUE",
	"CREATE CONSTRAINT fg_meta_key IF NOT EXISTS FOR (m:FGMeta) REQUIRE m.key IS UNIQUE",
	"CREATE INDEX fg_node_code IF NOT EXISTS FOR (n:FGNode) ON (n.code)",
	"CREATE INDEX fg_contrib_node IF NOT EXISTS FOR (c:FGContrib) ON (c.node)",
	"CREATE INDEX fg_contrib_owner IF NOT EXISTS FOR (c:FGContrib) ON (c.owner)",
	"CREATE INDEX fg_edge_owner IF NOT EXISTS FOR ()-[e:FG_EDGE]-() ON (e.owner)",
	"CREATE INDEX fg_revision_doc IF NOT EXISTS FOR (r:FGRevision) ON (r.doc)",
}

// OpenNeo4j connects to the server at rawURL (bolt://USER:PASSWORD@HOST:PORT[/DATABASE], or
// neo4j://… for a cluster), checks that it answers, and creates the constraints and indexes the
// store needs. A server that cannot be reached is an EUNAVAILABLE error.
func OpenNeo4j(ctx context.Context, rawURL string) (*Neo4j, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" || !slices.Contains(neo4jSchemes, u.Scheme) {
		return nil, fixgraph.Errorf(fixgraph.EINVALID, "graph server address %q: want bolt://USER:PASSWORD@HOST:PORT or neo4j://…", redact(rawURL))
	}
	user := u.User.Username()
	pass, _ := u.User.Password()
	db := strings.TrimPrefix(u.Path, "/")
	u.User, u.Path = nil, ""
	driver, err := neo4j.NewDriverWithContext(u.String(), neo4j.BasicAuth(user, pass, ""), func(c *config.Config) {
		c.UserAgent = "fixgraph"
	})
	if err != nil {
		return nil, fixgraph.WrapError(fixgraph.EINVALID, err, "graph server address %s", u.Host)
	}
	s := &Neo4j{driver: driver, db: db, where: u.Host}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := driver.VerifyConnectivity(ctx); err != nil {
		driver.Close(context.Background())
		return nil, fixgraph.WrapError(fixgraph.EUNAVAILABLE, err, "graph server %s cannot be reached", u.Host)
	}
	// Schema changes cannot share a transaction with other statements: each runs on its own,
	// retried like any write.
	for _, q := range neo4jSchema {
		if _, err := neo4j.ExecuteQuery(ctx, driver, q, nil, neo4j.EagerResultTransformer, neo4j.ExecuteQueryWithDatabase(s.db)); err != nil {
			driver.Close(context.Background())
			return nil, s.fail(err, "creating the schema")
		}
	}
	return s, nil
}

// redact hides the password in a server address.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable address)"
	}
	return u.Redacted()
}

// Close closes the driver's connections.
func (s *Neo4j) Close() error { return s.driver.Close(context.Background()) }

// fail wraps a driver error: connectivity problems become EUNAVAILABLE with the server named.
func (s *Neo4j) fail(err error, doing string) error {
	var ce *neo4j.ConnectivityError
	var limit *neo4j.TransactionExecutionLimit // retries used up, mostly on a lost connection
	if errors.As(err, &ce) || errors.As(err, &limit) || errors.Is(err, context.DeadlineExceeded) {
		return fixgraph.WrapError(fixgraph.EUNAVAILABLE, err, "graph server %s: %s", s.where, doing)
	}
	return fmt.Errorf("graph server %s: %s: %w", s.where, doing, err)
}

func withDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, neo4jTimeout)
}

// session opens a session of the given mode on the store's database, sharing the driver's
// bookmarks so that it sees every write this process made before.
func (s *Neo4j) session(ctx context.Context, mode neo4j.AccessMode) neo4j.SessionWithContext {
	return s.driver.NewSession(ctx, neo4j.SessionConfig{
		DatabaseName:    s.db,
		AccessMode:      mode,
		BookmarkManager: s.driver.ExecuteQueryBookmarkManager(),
	})
}

// write runs fn in a managed write transaction, which the driver runs again on a transient error
// (fn must start from scratch each time), for up to its retry time (30 s).
func (s *Neo4j) write(ctx context.Context, doing string, fn func(tx neo4j.ManagedTransaction) error) error {
	ctx, cancel := withDeadline(ctx)
	defer cancel()
	sess := s.session(ctx, neo4j.AccessModeWrite)
	defer sess.Close(context.Background())
	_, err := sess.ExecuteWrite(ctx, func(tx neo4j.ManagedTransaction) (any, error) { return nil, fn(tx) })
	if err != nil {
		var fe *fixgraph.Error
		if errors.As(err, &fe) {
			return err
		}
		return s.fail(err, doing)
	}
	return nil
}

// read runs a query in a managed read transaction (retried like writes; on a cluster, run by a
// follower) and returns its records.
func (s *Neo4j) read(ctx context.Context, doing, q string, params map[string]any) ([]*neo4j.Record, error) {
	ctx, cancel := withDeadline(ctx)
	defer cancel()
	sess := s.session(ctx, neo4j.AccessModeRead)
	defer sess.Close(context.Background())
	recs, err := neo4j.ExecuteRead(ctx, sess, func(tx neo4j.ManagedTransaction) ([]*neo4j.Record, error) {
		return run(ctx, tx, q, params)
	})
	if err != nil {
		return nil, s.fail(err, doing)
	}
	return recs, nil
}

func run(ctx context.Context, tx neo4j.ManagedTransaction, q string, params map[string]any) ([]*neo4j.Record, error) {
	res, err := tx.Run(ctx, q, params)
	if err != nil {
		return nil, err
	}
	return res.Collect(ctx)
}

// Apply writes a document's batch in one transaction, as Bolt.Apply does.
func (s *Neo4j) Apply(ctx context.Context, b *fixgraph.Batch) (fixgraph.ApplyResult, error) {
	doc := b.Document
	if doc == nil || doc.ID == "" {
		return fixgraph.ApplyResult{}, fixgraph.Errorf(fixgraph.EINVALID, "batch has no document")
	}
	var res fixgraph.ApplyResult
	err := s.write(ctx, "writing document "+doc.Source, func(tx neo4j.ManagedTransaction) error {
		res = fixgraph.ApplyResult{}
		prev, err := txNodes(ctx, tx, []string{doc.ID})
		if err != nil {
			return err
		}
		version := 1
		p, hadDoc := prev[doc.ID].(*fixgraph.Document)
		if hadDoc {
			if sameVersion(p, doc) {
				res = fixgraph.ApplyResult{Unchanged: true, Version: p.Version}
				return nil
			}
			version = p.Version + 1
		}
		d := *doc
		d.Version = version
		d.FirstIngestedAt = firstVersionAt(doc)
		if hadDoc {
			d.FirstIngestedAt = firstIngested(p)
		}
		nodes := append([]fixgraph.Node{&d}, b.Nodes...)
		if err := ensureNodes(ctx, tx, batchIDs(doc.ID, b.Nodes, b.Edges)); err != nil {
			return err
		}
		old, err := ownedBy(ctx, tx, doc.ID)
		if err != nil {
			return err
		}
		var rev *fixgraph.Revision
		if hadDoc {
			if rev, err = revisionOf(ctx, tx, p, old, fixgraph.Superseded); err != nil {
				return err
			}
		}
		if err := replace(ctx, tx, doc.ID, old, nodes); err != nil {
			return err
		}
		if err := keepRevision(ctx, tx, rev); err != nil {
			return err
		}
		if err := putEdges(ctx, tx, doc.ID, b.Edges); err != nil {
			return err
		}
		now := map[string]bool{}
		for _, sec := range b.Sections() {
			now[sec.ID] = true
		}
		for _, id := range old {
			if fixgraph.KindOf(id) == fixgraph.PrefixSection && !now[id] {
				res.RemovedSections = append(res.RemovedSections, id)
			}
		}
		res.Version = version
		return bump(ctx, tx)
	})
	if err != nil {
		return fixgraph.ApplyResult{}, err
	}
	doc.Version = res.Version
	return res, nil
}

// Remove deletes everything the document contributed, and the document; its last version goes
// into its history.
func (s *Neo4j) Remove(ctx context.Context, docID string) (fixgraph.ApplyResult, error) {
	var res fixgraph.ApplyResult
	err := s.write(ctx, "removing document "+docID, func(tx neo4j.ManagedTransaction) error {
		res = fixgraph.ApplyResult{}
		prev, err := txNodes(ctx, tx, []string{docID})
		if err != nil {
			return err
		}
		d, ok := prev[docID].(*fixgraph.Document)
		if !ok {
			return fixgraph.Errorf(fixgraph.ENOTFOUND, "no document %q", docID)
		}
		old, err := ownedBy(ctx, tx, docID)
		if err != nil {
			return err
		}
		rev, err := revisionOf(ctx, tx, d, old, fixgraph.Retired)
		if err != nil {
			return err
		}
		if err := replace(ctx, tx, docID, old, nil); err != nil {
			return err
		}
		if err := keepRevision(ctx, tx, rev); err != nil {
			return err
		}
		for _, id := range old {
			if fixgraph.KindOf(id) == fixgraph.PrefixSection {
				res.RemovedSections = append(res.RemovedSections, id)
			}
		}
		return bump(ctx, tx)
	})
	return res, err
}

// Owners returns, for each of ids, the documents (or PushOwner) that contributed it.
func (s *Neo4j) Owners(ctx context.Context, ids []string) (map[string][]string, error) {
	recs, err := s.read(ctx, "reading contributors", "MATCH (c:FGContrib) WHERE c.node IN $ids RETURN c.node AS node, c.owner AS owner", map[string]any{"ids": anySlice(ids)})
	if err != nil {
		return nil, err
	}
	out := make(map[string][]string, len(ids))
	for _, r := range recs {
		out[str(r, "node")] = append(out[str(r, "node")], str(r, "owner"))
	}
	for id := range out {
		slices.Sort(out[id])
		out[id] = slices.Compact(out[id])
	}
	return out, nil
}

// History returns the document's ended versions, oldest first.
func (s *Neo4j) History(ctx context.Context, docID string) ([]*fixgraph.Revision, error) {
	recs, err := s.read(ctx, "reading the history of "+docID, "MATCH (r:FGRevision) WHERE r.doc = $doc RETURN r.version AS version, r.data AS data", map[string]any{"doc": docID})
	if err != nil {
		return nil, err
	}
	out := make([]*fixgraph.Revision, 0, len(recs))
	for _, rec := range recs {
		var r fixgraph.Revision
		if err := json.Unmarshal([]byte(str(rec, "data")), &r); err != nil {
			return nil, fmt.Errorf("decoding a revision of %q: %w", docID, err)
		}
		out = append(out, &r)
	}
	slices.SortFunc(out, func(a, b *fixgraph.Revision) int { return a.Document.Version - b.Document.Version })
	return out, nil
}

// revisionOf reads the stored version of doc with its sections (among owned, the ids it owns).
func revisionOf(ctx context.Context, tx neo4j.ManagedTransaction, doc *fixgraph.Document, owned []string, reason string) (*fixgraph.Revision, error) {
	var ids []string
	for _, id := range owned {
		if fixgraph.KindOf(id) == fixgraph.PrefixSection {
			ids = append(ids, id)
		}
	}
	nodes, err := txNodes(ctx, tx, ids)
	if err != nil {
		return nil, err
	}
	r := &fixgraph.Revision{Document: doc, EndedAt: time.Now().UTC(), EndReason: reason}
	for _, n := range nodes {
		if sec, ok := n.(*fixgraph.Section); ok {
			r.Sections = append(r.Sections, sec)
		}
	}
	slices.SortFunc(r.Sections, func(a, b *fixgraph.Section) int { return a.Order - b.Order })
	return r, nil
}

// keepRevision stores r, when not nil, in its document's history.
func keepRevision(ctx context.Context, tx neo4j.ManagedTransaction, r *fixgraph.Revision) error {
	if r == nil {
		return nil
	}
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = run(ctx, tx, "CREATE (r:FGRevision) SET r.doc = $doc, r.version = $version, r.data = $data",
		map[string]any{"doc": r.Document.ID, "version": int64(r.Document.Version), "data": string(v)})
	return err
}

// SetStock records stock levels pushed through the API, as Bolt.SetStock does.
func (s *Neo4j) SetStock(ctx context.Context, levels []*fixgraph.StockLevel) error {
	return s.write(ctx, "setting stock", func(tx neo4j.ManagedTransaction) error {
		var nodes []fixgraph.Node
		var edges []fixgraph.Edge
		var ids []string
		for _, l := range levels {
			l.ID = fixgraph.StockID(l.SKU, l.Warehouse)
			part, wh := fixgraph.PartID(l.SKU), fixgraph.WarehouseID(l.Warehouse)
			nodes = append(nodes, l)
			ids = append(ids, part, wh)
			edges = append(edges, fixgraph.Edge{From: part, Rel: fixgraph.RelStockedAt, To: wh})
		}
		if err := ensureNodes(ctx, tx, append(slices.Clone(ids), touchedIDs(nodes)...)); err != nil {
			return err
		}
		have, err := txNodes(ctx, tx, ids)
		if err != nil {
			return err
		}
		for _, l := range levels {
			part, wh := fixgraph.PartID(l.SKU), fixgraph.WarehouseID(l.Warehouse)
			if have[part] == nil {
				p := &fixgraph.Part{ID: part, SKU: strings.ToUpper(l.SKU)}
				nodes, have[part] = append(nodes, p), p
			}
			if have[wh] == nil {
				w := &fixgraph.Warehouse{ID: wh, Code: strings.ToUpper(l.Warehouse)}
				nodes, have[wh] = append(nodes, w), w
			}
		}
		// A push replaces the push's earlier word on the same nodes only, and adds its edges to
		// those it made before.
		if err := replace(ctx, tx, PushOwner, touchedIDs(nodes), nodes); err != nil {
			return err
		}
		if err := putEdges(ctx, tx, PushOwner, edges); err != nil {
			return err
		}
		return bump(ctx, tx)
	})
}

// Node returns the node with id, or an ENOTFOUND error.
func (s *Neo4j) Node(ctx context.Context, id string) (fixgraph.Node, error) {
	ns, err := s.Nodes(ctx, []string{id})
	if err != nil {
		return nil, err
	}
	if ns[0] == nil {
		return nil, fixgraph.Errorf(fixgraph.ENOTFOUND, "no node %q", id)
	}
	return ns[0], nil
}

// Nodes returns the nodes with ids, in order, with nil where a node does not exist.
func (s *Neo4j) Nodes(ctx context.Context, ids []string) ([]fixgraph.Node, error) {
	recs, err := s.read(ctx, "reading nodes", "MATCH (n:FGNode) WHERE n.id IN $ids AND n.data IS NOT NULL RETURN n.id AS id, n.data AS data", map[string]any{"ids": anySlice(ids)})
	if err != nil {
		return nil, err
	}
	byID, err := decodeRecords(recs)
	if err != nil {
		return nil, err
	}
	out := make([]fixgraph.Node, len(ids))
	for i, id := range ids {
		out[i] = byID[id]
	}
	return out, nil
}

// Contributions returns, for each of ids, every owner's version of the node, in owner order.
func (s *Neo4j) Contributions(ctx context.Context, ids []string) (map[string][]Contribution, error) {
	recs, err := s.read(ctx, "reading contributions", "MATCH (c:FGContrib) WHERE c.node IN $ids RETURN c.node AS node, c.owner AS owner, c.data AS data", map[string]any{"ids": anySlice(ids)})
	if err != nil {
		return nil, err
	}
	out := make(map[string][]Contribution, len(ids))
	for _, r := range recs {
		out[str(r, "node")] = append(out[str(r, "node")], Contribution{Owner: str(r, "owner"), Data: str(r, "data")})
	}
	for _, cs := range out {
		slices.SortFunc(cs, func(a, b Contribution) int { return cmp.Compare(a.Owner, b.Owner) })
	}
	return out, nil
}

// Links returns, for each id, its rel edges with the owner that made each, ordered by the other
// end and the owner.
func (s *Neo4j) Links(ctx context.Context, ids []string, rel fixgraph.Rel, dir fixgraph.Direction) (map[string][]Link, error) {
	q := "MATCH (a:FGNode)-[e:FG_EDGE]->(b:FGNode) WHERE a.id IN $ids AND e.rel = $rel RETURN a.id AS id, b.id AS other, e.owner AS owner"
	if dir == fixgraph.In {
		q = "MATCH (b:FGNode)-[e:FG_EDGE]->(a:FGNode) WHERE a.id IN $ids AND e.rel = $rel RETURN a.id AS id, b.id AS other, e.owner AS owner"
	}
	recs, err := s.read(ctx, "reading edges", q, map[string]any{"ids": anySlice(ids), "rel": string(rel)})
	if err != nil {
		return nil, err
	}
	out := make(map[string][]Link, len(ids))
	for _, r := range recs {
		out[str(r, "id")] = append(out[str(r, "id")], Link{Other: str(r, "other"), Owner: str(r, "owner")})
	}
	for id, l := range out {
		slices.SortFunc(l, func(a, b Link) int { return cmp.Or(cmp.Compare(a.Other, b.Other), cmp.Compare(a.Owner, b.Owner)) })
		out[id] = slices.Compact(l)
	}
	return out, nil
}

// Neighbors returns, for each id, the distinct ids at the other end of its rel edges, in id order.
func (s *Neo4j) Neighbors(ctx context.Context, ids []string, rel fixgraph.Rel, dir fixgraph.Direction) (map[string][]string, error) {
	q := "MATCH (a:FGNode)-[e:FG_EDGE]->(b:FGNode) WHERE a.id IN $ids AND e.rel = $rel RETURN a.id AS id, b.id AS other"
	if dir == fixgraph.In {
		q = "MATCH (b:FGNode)-[e:FG_EDGE]->(a:FGNode) WHERE a.id IN $ids AND e.rel = $rel RETURN a.id AS id, b.id AS other"
	}
	recs, err := s.read(ctx, "reading edges", q, map[string]any{"ids": anySlice(ids), "rel": string(rel)})
	if err != nil {
		return nil, err
	}
	out := make(map[string][]string, len(ids))
	for _, r := range recs {
		out[str(r, "id")] = append(out[str(r, "id")], str(r, "other"))
	}
	for id, l := range out {
		slices.Sort(l)
		out[id] = slices.Compact(l)
	}
	return out, nil
}

// Scan calls fn for every node whose id starts with prefix, in id order.
func (s *Neo4j) Scan(ctx context.Context, prefix string, fn func(fixgraph.Node) error) error {
	recs, err := s.read(ctx, "scanning nodes", "MATCH (n:FGNode) WHERE n.id STARTS WITH $prefix AND n.data IS NOT NULL RETURN n.id AS id, n.data AS data", map[string]any{"prefix": prefix})
	if err != nil {
		return err
	}
	byID, err := decodeRecords(recs)
	if err != nil {
		return err
	}
	ids := make([]string, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(byID[id]); err != nil {
			return err
		}
	}
	return nil
}

// ErrorCodes returns the error codes whose canonical code is code, for every product that has it.
func (s *Neo4j) ErrorCodes(ctx context.Context, code string) ([]*fixgraph.ErrorCode, error) {
	recs, err := s.read(ctx, "reading error codes", "MATCH (n:FGNode) WHERE n.code = $code AND n.data IS NOT NULL RETURN n.id AS id, n.data AS data", map[string]any{"code": fixgraph.CodeKey(code)})
	if err != nil {
		return nil, err
	}
	byID, err := decodeRecords(recs)
	if err != nil {
		return nil, err
	}
	var out []*fixgraph.ErrorCode
	for _, n := range byID {
		if ec, ok := n.(*fixgraph.ErrorCode); ok {
			out = append(out, ec)
		}
	}
	slices.SortFunc(out, func(a, b *fixgraph.ErrorCode) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// Generation returns a number that grows with every write.
func (s *Neo4j) Generation(ctx context.Context) (uint64, error) {
	recs, err := s.read(ctx, "reading the generation", "MATCH (m:FGMeta {key: $key}) RETURN m.value AS value", map[string]any{"key": generationKey})
	if err != nil || len(recs) == 0 {
		return 0, err
	}
	v, _ := recs[0].Get("value")
	n, _ := v.(int64)
	return uint64(n), nil
}

// ownedBy returns the ids of the nodes owner has contributed to.
func ownedBy(ctx context.Context, tx neo4j.ManagedTransaction, owner string) ([]string, error) {
	recs, err := run(ctx, tx, "MATCH (c:FGContrib) WHERE c.owner = $owner RETURN c.node AS node", map[string]any{"owner": owner})
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(recs))
	for _, r := range recs {
		ids = append(ids, str(r, "node"))
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

// replace makes nodes owner's whole contribution to the nodes in ids and to their own ids (whose
// FGNodes exist: ensureNodes), and writes the merged nodes again: one statement deletes the
// owner's old contributions, one creates the new ones, one sets the merged nodes.
func replace(ctx context.Context, tx neo4j.ManagedTransaction, owner string, ids []string, nodes []fixgraph.Node) error {
	mine := make(map[string]string, len(nodes)) // a node given twice: the later one counts
	for _, n := range nodes {
		id := n.NodeID()
		if id == "" || !strings.Contains(id, ":") {
			return fmt.Errorf("node %T has no valid id %q", n, id)
		}
		v, err := json.Marshal(n)
		if err != nil {
			return fmt.Errorf("encoding node %q: %w", id, err)
		}
		mine[id] = string(v)
		ids = append(ids, id)
	}
	rows := make([]any, 0, len(mine))
	for _, id := range slices.Sorted(maps.Keys(mine)) {
		rows = append(rows, map[string]any{"node": id, "data": mine[id]})
	}
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	if len(ids) == 0 {
		return nil
	}
	recs, err := run(ctx, tx, "MATCH (c:FGContrib) WHERE c.node IN $ids RETURN c.node AS node, c.owner AS owner, c.data AS data", map[string]any{"ids": anySlice(ids)})
	if err != nil {
		return err
	}
	by := map[string][]Contribution{}
	others := map[string]bool{}
	for _, r := range recs {
		if o := str(r, "owner"); o != owner {
			by[str(r, "node")] = append(by[str(r, "node")], Contribution{o, str(r, "data")})
			if fixgraph.KindOf(o) == fixgraph.PrefixDocument {
				others[o] = true
			}
		}
	}
	for id, data := range mine {
		by[id] = append(by[id], Contribution{owner, data})
	}
	// The contributing documents rank the contributions (foldOrder): the owner's own, as
	// written now, and the others' as stored.
	docs := map[string]*fixgraph.Document{}
	if len(others) > 0 {
		stored, err := txNodes(ctx, tx, slices.Sorted(maps.Keys(others)))
		if err != nil {
			return err
		}
		for id, n := range stored {
			if d, ok := n.(*fixgraph.Document); ok {
				docs[id] = d
			}
		}
	}
	for _, n := range nodes {
		if d, ok := n.(*fixgraph.Document); ok && d.ID == owner {
			docs[owner] = d
		}
	}

	// The writes: owner's old contributions (and, for a document, its edges) go, the new ones come.
	if _, err := run(ctx, tx, "MATCH (c:FGContrib) WHERE c.owner = $owner AND c.node IN $ids DELETE c", map[string]any{"owner": owner, "ids": anySlice(ids)}); err != nil {
		return err
	}
	if owner != PushOwner {
		if _, err := run(ctx, tx, "MATCH (:FGNode)-[e:FG_EDGE]->(:FGNode) WHERE e.owner = $owner DELETE e", map[string]any{"owner": owner}); err != nil {
			return err
		}
	}
	if len(rows) > 0 {
		if _, err := run(ctx, tx, "UNWIND $rows AS r CREATE (c:FGContrib) SET c.node = r.node, c.owner = $owner, c.data = r.data", map[string]any{"rows": rows, "owner": owner}); err != nil {
			return err
		}
	}
	return writeMerged(ctx, tx, ids, by, docs)
}

// putEdges writes owner's edges between existing FGNodes (ensureNodes made them), in one
// statement; an edge the owner has already is kept, not doubled.
func putEdges(ctx context.Context, tx neo4j.ManagedTransaction, owner string, edges []fixgraph.Edge) error {
	if len(edges) == 0 {
		return nil
	}
	rows := make([]any, 0, len(edges))
	for _, e := range edges {
		if e.From == "" || e.To == "" || e.Rel == "" {
			return fmt.Errorf("incomplete edge %+v", e)
		}
		rows = append(rows, map[string]any{"from": e.From, "rel": string(e.Rel), "to": e.To})
	}
	_, err := run(ctx, tx, "UNWIND $rows AS r MATCH (a:FGNode {id: r.from}), (b:FGNode {id: r.to}) MERGE (a)-[:FG_EDGE {rel: r.rel, owner: $owner}]->(b)", map[string]any{"rows": rows, "owner": owner})
	return err
}

// writeMerged folds the contributions to each id into its FGNode, in fold's order as the
// embedded store does; a node left without contributions keeps no data (its edges from other
// owners stay, as they do in the embedded store).
func writeMerged(ctx context.Context, tx neo4j.ManagedTransaction, ids []string, by map[string][]Contribution, docs map[string]*fixgraph.Document) error {
	var set, clearIDs []any
	for _, id := range ids {
		cs := by[id]
		if len(cs) == 0 {
			clearIDs = append(clearIDs, id)
			continue
		}
		merged, err := fold(id, cs, docs, "")
		if err != nil {
			return err
		}
		v, err := json.Marshal(merged)
		if err != nil {
			return err
		}
		code := ""
		if ec, ok := merged.(*fixgraph.ErrorCode); ok {
			code = fixgraph.CodeKey(ec.Code)
		}
		set = append(set, map[string]any{"id": id, "kind": fixgraph.KindOf(id), "data": string(v), "code": code})
	}
	if len(set) > 0 {
		if _, err := run(ctx, tx, "UNWIND $rows AS r MATCH (n:FGNode {id: r.id}) SET n.kind = r.kind, n.data = r.data, n.code = r.code", map[string]any{"rows": set}); err != nil {
			return err
		}
	}
	if len(clearIDs) > 0 {
		if _, err := run(ctx, tx, "MATCH (n:FGNode) WHERE n.id IN $ids REMOVE n.data, n.code, n.kind", map[string]any{"ids": clearIDs}); err != nil {
			return err
		}
	}
	return nil
}

// ensureNodes makes, in the transaction that writes them, the FGNodes of ids that do not exist
// yet, with their ids only: a node without data is not found by any read. Two writers that
// touch the same nodes may deadlock: the server then aborts one, and ExecuteWrite runs it again.
func ensureNodes(ctx context.Context, tx neo4j.ManagedTransaction, ids []string) error {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	if len(ids) == 0 {
		return nil
	}
	_, err := run(ctx, tx, "UNWIND $ids AS id MERGE (:FGNode {id: id})", map[string]any{"ids": anySlice(ids)})
	return err
}

// touchedIDs returns the ids of nodes.
func touchedIDs(nodes []fixgraph.Node) []string {
	ids := make([]string, len(nodes))
	for i, n := range nodes {
		ids[i] = n.NodeID()
	}
	return ids
}

// batchIDs returns the ids of a batch's document, nodes and edge ends.
func batchIDs(doc string, nodes []fixgraph.Node, edges []fixgraph.Edge) []string {
	ids := []string{doc}
	for _, n := range nodes {
		ids = append(ids, n.NodeID())
	}
	for _, e := range edges {
		ids = append(ids, e.From, e.To)
	}
	return ids
}

// generationKey is the key of the FGMeta node that counts writes.
const generationKey = "generation"

// bump counts a write: the generation grows by one, under the lock its node's MERGE takes.
func bump(ctx context.Context, tx neo4j.ManagedTransaction) error {
	_, err := run(ctx, tx, "MERGE (m:FGMeta {key: $key}) ON CREATE SET m.value = 1 ON MATCH SET m.value = m.value + 1", map[string]any{"key": generationKey})
	return err
}

// txNodes reads merged nodes inside a transaction.
func txNodes(ctx context.Context, tx neo4j.ManagedTransaction, ids []string) (map[string]fixgraph.Node, error) {
	recs, err := run(ctx, tx, "MATCH (n:FGNode) WHERE n.id IN $ids AND n.data IS NOT NULL RETURN n.id AS id, n.data AS data", map[string]any{"ids": anySlice(ids)})
	if err != nil {
		return nil, err
	}
	return decodeRecords(recs)
}

func decodeRecords(recs []*neo4j.Record) (map[string]fixgraph.Node, error) {
	out := make(map[string]fixgraph.Node, len(recs))
	for _, r := range recs {
		id, data := str(r, "id"), str(r, "data")
		if id == "" || data == "" {
			continue
		}
		n, err := decode(id, []byte(data))
		if err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, nil
}

// str returns a record's string field, or "" when it is missing or not a string.
func str(r *neo4j.Record, key string) string {
	v, _ := r.Get(key)
	s, _ := v.(string)
	return s
}

func anySlice(ids []string) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}
