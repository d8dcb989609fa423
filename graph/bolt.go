package graph

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/internal/boltfile"
)

// PushOwner owns what was written through the API rather than read from a document (stock pushes).
const PushOwner = "push"

var (
	bucketNodes     = []byte("nodes")     // id → merged node JSON
	bucketContrib   = []byte("contrib")   // id \x00 owner → that owner's node JSON
	bucketEdges     = []byte("edges")     // from \x00 rel \x00 to \x00 owner
	bucketRevEdges  = []byte("redges")    // to \x00 rel \x00 from \x00 owner
	bucketOwnNodes  = []byte("ownnodes")  // owner \x00 id
	bucketOwnEdges  = []byte("ownedges")  // owner \x00 from \x00 rel \x00 to
	bucketCodeIndex = []byte("codeindex") // CODE \x00 error code id
	bucketMeta      = []byte("meta")
	bucketHistory   = []byte("history") // document id \x00 version (4 bytes) → Revision JSON

	keyGeneration = []byte("generation")
	allBuckets    = [][]byte{bucketNodes, bucketContrib, bucketEdges, bucketRevEdges, bucketOwnNodes, bucketOwnEdges, bucketCodeIndex, bucketMeta, bucketHistory}
)

const sep = "\x00"

// Bolt is the embedded graph store: one bbolt file, the source of truth of the embedded deployment.
// Every node records which documents contributed it, so a new version of a document replaces exactly
// what the old one brought and nothing that other documents share.
type Bolt struct {
	db *bolt.DB
}

// OpenBolt opens or creates the graph file at path.
func OpenBolt(path string) (*Bolt, error) {
	db, err := boltfile.Open(path, "graph store", allBuckets...)
	if err != nil {
		return nil, err
	}
	return &Bolt{db: db}, nil
}

// Close closes the file.
func (s *Bolt) Close() error { return s.db.Close() }

// Backup writes a consistent copy of the store's file to w, taken in one read transaction while
// writes go on, and returns the number of bytes written.
func (s *Bolt) Backup(w io.Writer) (int64, error) {
	return boltfile.Backup(s.db, w)
}

// Apply writes a document's batch in one transaction. When the stored document has the same content
// hash and status, nothing is written and the result says Unchanged. Otherwise what the older version
// contributed is removed and the batch written in its place, with the version number raised by one.
func (s *Bolt) Apply(ctx context.Context, b *fixgraph.Batch) (fixgraph.ApplyResult, error) {
	if err := ctx.Err(); err != nil {
		return fixgraph.ApplyResult{}, err
	}
	doc := b.Document
	if doc == nil || doc.ID == "" {
		return fixgraph.ApplyResult{}, fixgraph.Errorf(fixgraph.EINVALID, "batch has no document")
	}
	var res fixgraph.ApplyResult
	err := s.db.Update(func(tx *bolt.Tx) error {
		w := writer{tx: tx}
		prev, err := w.get(doc.ID)
		if err != nil {
			return err
		}
		doc.Version = 1
		doc.FirstIngestedAt = firstVersionAt(doc)
		if p, ok := prev.(*fixgraph.Document); ok {
			if sameVersion(p, doc) {
				res = fixgraph.ApplyResult{Unchanged: true, Version: p.Version}
				return nil
			}
			doc.Version = p.Version + 1
			doc.FirstIngestedAt = firstIngested(p)
			if err := w.keepRevision(p, fixgraph.Superseded); err != nil {
				return err
			}
		}
		old, err := w.removeOwner(doc.ID)
		if err != nil {
			return err
		}
		if err := w.putNode(doc.ID, doc); err != nil {
			return err
		}
		for _, n := range b.Nodes {
			if err := w.putNode(doc.ID, n); err != nil {
				return err
			}
		}
		for _, e := range b.Edges {
			if err := w.putEdge(doc.ID, e); err != nil {
				return err
			}
		}
		res.Version = doc.Version
		now := make(map[string]bool)
		for _, sec := range b.Sections() {
			now[sec.ID] = true
		}
		for _, id := range old {
			if fixgraph.KindOf(id) == fixgraph.PrefixSection && !now[id] {
				res.RemovedSections = append(res.RemovedSections, id)
			}
		}
		return w.bump()
	})
	if err != nil {
		return fixgraph.ApplyResult{}, fmt.Errorf("writing document %q: %w", doc.Source, err)
	}
	return res, nil
}

// Remove deletes everything the document contributed, and the document; its last version goes
// into its history.
func (s *Bolt) Remove(ctx context.Context, docID string) (fixgraph.ApplyResult, error) {
	var res fixgraph.ApplyResult
	err := s.db.Update(func(tx *bolt.Tx) error {
		w := writer{tx: tx}
		prev, err := w.get(docID)
		if err != nil {
			return err
		}
		d, ok := prev.(*fixgraph.Document)
		if !ok {
			return fixgraph.Errorf(fixgraph.ENOTFOUND, "no document %q", docID)
		}
		if err := w.keepRevision(d, fixgraph.Retired); err != nil {
			return err
		}
		old, err := w.removeOwner(docID)
		if err != nil {
			return err
		}
		for _, id := range old {
			if fixgraph.KindOf(id) == fixgraph.PrefixSection {
				res.RemovedSections = append(res.RemovedSections, id)
			}
		}
		return w.bump()
	})
	if err != nil {
		return fixgraph.ApplyResult{}, fmt.Errorf("removing document %q: %w", docID, err)
	}
	return res, nil
}

// Owners returns, for each of ids, the documents (or PushOwner) that contributed it.
func (s *Bolt) Owners(ctx context.Context, ids []string) (map[string][]string, error) {
	out := make(map[string][]string, len(ids))
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketContrib).Cursor()
		for _, id := range ids {
			prefix := []byte(id + sep)
			for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
				out[id] = append(out[id], string(k[len(prefix):]))
			}
		}
		return nil
	})
	return out, err
}

// History returns the document's ended versions, oldest first.
func (s *Bolt) History(ctx context.Context, docID string) ([]*fixgraph.Revision, error) {
	var out []*fixgraph.Revision
	prefix := []byte(docID + sep)
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketHistory).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var r fixgraph.Revision
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decoding revision %q: %w", k, err)
			}
			out = append(out, &r)
		}
		return nil
	})
	return out, err
}

// SetStock records stock levels pushed through the API. Parts and warehouses it does not know yet
// are created with their codes only.
func (s *Bolt) SetStock(ctx context.Context, levels []*fixgraph.StockLevel) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		w := writer{tx: tx}
		for _, l := range levels {
			l.ID = fixgraph.StockID(l.SKU, l.Warehouse)
			part, wh := fixgraph.PartID(l.SKU), fixgraph.WarehouseID(l.Warehouse)
			if err := w.putNode(PushOwner, l); err != nil {
				return err
			}
			for id, n := range map[string]fixgraph.Node{
				part: &fixgraph.Part{ID: part, SKU: strings.ToUpper(l.SKU)},
				wh:   &fixgraph.Warehouse{ID: wh, Code: strings.ToUpper(l.Warehouse)},
			} {
				if w.exists(id) {
					continue
				}
				if err := w.putNode(PushOwner, n); err != nil {
					return err
				}
			}
			if err := w.putEdge(PushOwner, fixgraph.Edge{From: part, Rel: fixgraph.RelStockedAt, To: wh}); err != nil {
				return err
			}
		}
		return w.bump()
	})
	if err != nil {
		return fmt.Errorf("setting stock: %w", err)
	}
	return nil
}

// Node returns the node with id, or an ENOTFOUND error.
func (s *Bolt) Node(ctx context.Context, id string) (fixgraph.Node, error) {
	var n fixgraph.Node
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		n, err = reader{tx}.get(id)
		return err
	})
	if err != nil {
		return nil, err
	}
	if n == nil {
		return nil, fixgraph.Errorf(fixgraph.ENOTFOUND, "no node %q", id)
	}
	return n, nil
}

// Nodes returns the nodes with ids, in order, with nil where a node does not exist.
func (s *Bolt) Nodes(ctx context.Context, ids []string) ([]fixgraph.Node, error) {
	out := make([]fixgraph.Node, len(ids))
	err := s.db.View(func(tx *bolt.Tx) error {
		r := reader{tx}
		for i, id := range ids {
			n, err := r.get(id)
			if err != nil {
				return err
			}
			out[i] = n
		}
		return nil
	})
	return out, err
}

// Contributions returns, for each of ids, every owner's version of the node: what each document
// (or PushOwner) that contributed it says of it, in owner order.
func (s *Bolt) Contributions(ctx context.Context, ids []string) (map[string][]Contribution, error) {
	out := make(map[string][]Contribution, len(ids))
	err := s.db.View(func(tx *bolt.Tx) error {
		for _, id := range ids {
			if cs := (reader{tx}).contributions(id); len(cs) > 0 {
				out[id] = cs
			}
		}
		return nil
	})
	return out, err
}

// Links returns, for each id, its rel edges with the owner that made each: the other end and
// the owner, in key order. Out follows edges from the id; In follows them backwards.
func (s *Bolt) Links(ctx context.Context, ids []string, rel fixgraph.Rel, dir fixgraph.Direction) (map[string][]Link, error) {
	bucket := bucketEdges
	if dir == fixgraph.In {
		bucket = bucketRevEdges
	}
	out := make(map[string][]Link, len(ids))
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucket).Cursor()
		for _, id := range ids {
			prefix := []byte(id + sep + string(rel) + sep)
			for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
				other, owner, _ := strings.Cut(string(k[len(prefix):]), sep)
				out[id] = append(out[id], Link{Other: other, Owner: owner})
			}
		}
		return nil
	})
	return out, err
}

// Neighbors returns, for each id, the distinct ids at the other end of its rel edges, in key order.
// Out follows edges from the id; In follows them backwards.
func (s *Bolt) Neighbors(ctx context.Context, ids []string, rel fixgraph.Rel, dir fixgraph.Direction) (map[string][]string, error) {
	bucket := bucketEdges
	if dir == fixgraph.In {
		bucket = bucketRevEdges
	}
	out := make(map[string][]string, len(ids))
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucket).Cursor()
		for _, id := range ids {
			prefix := []byte(id + sep + string(rel) + sep)
			for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
				other, _, _ := strings.Cut(string(k[len(prefix):]), sep)
				if l := out[id]; len(l) == 0 || l[len(l)-1] != other {
					out[id] = append(out[id], other)
				}
			}
		}
		return nil
	})
	return out, err
}

// Scan calls fn for every node whose id starts with prefix, in id order.
func (s *Bolt) Scan(ctx context.Context, prefix string, fn func(fixgraph.Node) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketNodes).Cursor()
		p := []byte(prefix)
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			n, err := decode(string(k), v)
			if err != nil {
				return err
			}
			if err := fn(n); err != nil {
				return err
			}
		}
		return nil
	})
}

// ErrorCodes returns the error codes whose canonical code is code, for every product that has it.
func (s *Bolt) ErrorCodes(ctx context.Context, code string) ([]*fixgraph.ErrorCode, error) {
	var out []*fixgraph.ErrorCode
	err := s.db.View(func(tx *bolt.Tx) error {
		r := reader{tx}
		c := tx.Bucket(bucketCodeIndex).Cursor()
		p := []byte(fixgraph.CodeKey(code) + sep)
		for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
			n, err := r.get(string(k[len(p):]))
			if err != nil {
				return err
			}
			if ec, ok := n.(*fixgraph.ErrorCode); ok {
				out = append(out, ec)
			}
		}
		return nil
	})
	return out, err
}

// Generation returns a number that grows with every write. Derived indexes record the generation
// they reflect, so a stale index can be told from a current one.
func (s *Bolt) Generation(ctx context.Context) (uint64, error) {
	var g uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(keyGeneration); len(v) == 8 {
			g = binary.BigEndian.Uint64(v)
		}
		return nil
	})
	return g, err
}

type reader struct{ tx *bolt.Tx }

func (r reader) get(id string) (fixgraph.Node, error) {
	v := r.tx.Bucket(bucketNodes).Get([]byte(id))
	if v == nil {
		return nil, nil
	}
	return decode(id, v)
}

func (r reader) exists(id string) bool { return r.tx.Bucket(bucketNodes).Get([]byte(id)) != nil }

// contributions returns every owner's version of node id, in owner order.
func (r reader) contributions(id string) []Contribution {
	var out []Contribution
	prefix := []byte(id + sep)
	c := r.tx.Bucket(bucketContrib).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		out = append(out, Contribution{Owner: string(k[len(prefix):]), Data: string(v)})
	}
	return out
}

// documents returns the stored documents among ids, by id.
func (r reader) documents(ids []string) (map[string]*fixgraph.Document, error) {
	out := make(map[string]*fixgraph.Document, len(ids))
	for _, id := range ids {
		n, err := r.get(id)
		if err != nil {
			return nil, err
		}
		if d, ok := n.(*fixgraph.Document); ok {
			out[id] = d
		}
	}
	return out, nil
}

type writer struct{ tx *bolt.Tx }

func (w writer) get(id string) (fixgraph.Node, error) { return reader(w).get(id) }
func (w writer) exists(id string) bool                { return reader(w).exists(id) }

// putNode records owner's version of n and recomputes the merged node.
func (w writer) putNode(owner string, n fixgraph.Node) error {
	id := n.NodeID()
	if id == "" || !strings.Contains(id, ":") {
		return fmt.Errorf("node %T has no valid id %q", n, id)
	}
	if strings.Contains(id, sep) {
		// The parts of every key are separated by NUL: such an id would run into its neighbours'.
		return fixgraph.Errorf(fixgraph.EINVALID, "node id %q holds a NUL character", id)
	}
	v, err := json.Marshal(n)
	if err != nil {
		return fmt.Errorf("encoding node %q: %w", id, err)
	}
	if err := w.tx.Bucket(bucketContrib).Put([]byte(id+sep+owner), v); err != nil {
		return err
	}
	if err := w.tx.Bucket(bucketOwnNodes).Put([]byte(owner+sep+id), nil); err != nil {
		return err
	}
	return w.remerge(id)
}

func (w writer) putEdge(owner string, e fixgraph.Edge) error {
	if e.From == "" || e.To == "" || e.Rel == "" {
		return fmt.Errorf("incomplete edge %+v", e)
	}
	if strings.Contains(e.From+string(e.Rel)+e.To, sep) {
		return fixgraph.Errorf(fixgraph.EINVALID, "edge %q -%s-> %q holds a NUL character", e.From, e.Rel, e.To)
	}
	f, r, t := e.From, string(e.Rel), e.To
	if err := w.tx.Bucket(bucketEdges).Put([]byte(f+sep+r+sep+t+sep+owner), nil); err != nil {
		return err
	}
	if err := w.tx.Bucket(bucketRevEdges).Put([]byte(t+sep+r+sep+f+sep+owner), nil); err != nil {
		return err
	}
	return w.tx.Bucket(bucketOwnEdges).Put([]byte(owner+sep+f+sep+r+sep+t), nil)
}

// removeOwner takes away everything owner contributed and returns the ids of the nodes it had.
func (w writer) removeOwner(owner string) ([]string, error) {
	prefix := []byte(owner + sep)
	var ids []string
	var edgeKeys [][]byte
	c := w.tx.Bucket(bucketOwnNodes).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		ids = append(ids, string(k[len(prefix):]))
	}
	c = w.tx.Bucket(bucketOwnEdges).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		edgeKeys = append(edgeKeys, slices.Clone(k))
	}
	for _, id := range ids {
		if err := w.tx.Bucket(bucketContrib).Delete([]byte(id + sep + owner)); err != nil {
			return nil, err
		}
		if err := w.tx.Bucket(bucketOwnNodes).Delete([]byte(owner + sep + id)); err != nil {
			return nil, err
		}
		if err := w.remerge(id); err != nil {
			return nil, err
		}
	}
	for _, k := range edgeKeys {
		parts := strings.Split(string(k[len(prefix):]), sep)
		if len(parts) != 3 {
			return nil, fmt.Errorf("corrupt edge key %q", k)
		}
		f, r, t := parts[0], parts[1], parts[2]
		if err := w.tx.Bucket(bucketEdges).Delete([]byte(f + sep + r + sep + t + sep + owner)); err != nil {
			return nil, err
		}
		if err := w.tx.Bucket(bucketRevEdges).Delete([]byte(t + sep + r + sep + f + sep + owner)); err != nil {
			return nil, err
		}
		if err := w.tx.Bucket(bucketOwnEdges).Delete(k); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// remerge folds all contributions to id into the stored node, or deletes it when none is left.
func (w writer) remerge(id string) error {
	contribs := reader(w).contributions(id)
	docs, err := reader(w).documents(docOwners(contribs))
	if err != nil {
		return err
	}
	merged, err := fold(id, contribs, docs, "")
	if err != nil {
		return err
	}
	old, err := w.get(id)
	if err != nil {
		return err
	}
	if oc, ok := old.(*fixgraph.ErrorCode); ok {
		if err := w.tx.Bucket(bucketCodeIndex).Delete([]byte(fixgraph.CodeKey(oc.Code) + sep + id)); err != nil {
			return err
		}
	}
	if merged == nil {
		return w.tx.Bucket(bucketNodes).Delete([]byte(id))
	}
	if ec, ok := merged.(*fixgraph.ErrorCode); ok {
		if err := w.tx.Bucket(bucketCodeIndex).Put([]byte(fixgraph.CodeKey(ec.Code)+sep+id), nil); err != nil {
			return err
		}
	}
	v, err := json.Marshal(merged)
	if err != nil {
		return err
	}
	return w.tx.Bucket(bucketNodes).Put([]byte(id), v)
}

// keepRevision records the stored version of doc, with its sections, in the document's history.
func (w writer) keepRevision(doc *fixgraph.Document, reason string) error {
	r := fixgraph.Revision{Document: doc, EndedAt: time.Now().UTC(), EndReason: reason}
	prefix := []byte(doc.ID + sep)
	c := w.tx.Bucket(bucketOwnNodes).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		id := string(k[len(prefix):])
		if fixgraph.KindOf(id) != fixgraph.PrefixSection {
			continue
		}
		n, err := w.get(id)
		if err != nil {
			return err
		}
		if sec, ok := n.(*fixgraph.Section); ok {
			r.Sections = append(r.Sections, sec)
		}
	}
	slices.SortFunc(r.Sections, func(a, b *fixgraph.Section) int { return a.Order - b.Order })
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	key := binary.BigEndian.AppendUint32([]byte(doc.ID+sep), uint32(doc.Version))
	return w.tx.Bucket(bucketHistory).Put(key, v)
}

func (w writer) bump() error {
	b := w.tx.Bucket(bucketMeta)
	var g uint64
	if v := b.Get(keyGeneration); len(v) == 8 {
		g = binary.BigEndian.Uint64(v)
	}
	return b.Put(keyGeneration, binary.BigEndian.AppendUint64(nil, g+1))
}
