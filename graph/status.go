package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
	bolt "go.etcd.io/bbolt"

	"github.com/fixgraph/fixgraph"
)

// checkStatusChange returns the error for changing the status of stored, the stored node of
// docID, when it may not change: it is missing or not a document (ENOTFOUND), or version is not
// 0 and not its version (ECONFLICT: a newer upload or crawl replaced the version a reviewer saw).
func checkStatusChange(docID string, stored fixgraph.Node, version int) (*fixgraph.Document, error) {
	d, ok := stored.(*fixgraph.Document)
	if !ok {
		return nil, fixgraph.Errorf(fixgraph.ENOTFOUND, "no document %q", docID)
	}
	if version != 0 && d.Version != version {
		return nil, fixgraph.Errorf(fixgraph.ECONFLICT, "document %q is at version %d now, not %d: a newer version replaced it", docID, d.Version, version)
	}
	return d, nil
}

// SetStatus changes the status of the stored version of a document in place, without a new
// version: how a reviewer publishes (or archives) what an upload or crawl stored in review. The
// document's version must be version (0: any). Its contributions, and so every node it made, are
// read again with the new status by graph.Guarded. It returns the document as stored now and its
// sections in order, for the search indexes, which keep the status per section, to follow.
func (s *Bolt) SetStatus(ctx context.Context, docID string, version int, status fixgraph.Status) (*fixgraph.Document, []*fixgraph.Section, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	var doc *fixgraph.Document
	var secs []*fixgraph.Section
	err := s.db.Update(func(tx *bolt.Tx) error {
		w := writer{tx: tx}
		stored, err := w.get(docID)
		if err != nil {
			return err
		}
		if doc, err = checkStatusChange(docID, stored, version); err != nil {
			return err
		}
		if doc.Status != status {
			doc.Status = status
			if err := w.putNode(docID, doc); err != nil {
				return err
			}
			if err := w.bump(); err != nil {
				return err
			}
		}
		prefix := []byte(docID + sep)
		c := tx.Bucket(bucketOwnNodes).Cursor()
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
				secs = append(secs, sec)
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("setting the status of document %q: %w", docID, err)
	}
	slices.SortFunc(secs, func(a, b *fixgraph.Section) int { return a.Order - b.Order })
	return doc, secs, nil
}

// SetStatus changes the status of the stored version of a document in place, as Bolt.SetStatus
// does.
func (s *Neo4j) SetStatus(ctx context.Context, docID string, version int, status fixgraph.Status) (*fixgraph.Document, []*fixgraph.Section, error) {
	var doc *fixgraph.Document
	var secs []*fixgraph.Section
	err := s.write(ctx, "setting the status of document "+docID, func(tx neo4j.ManagedTransaction) error {
		doc, secs = nil, nil
		stored, err := txNodes(ctx, tx, []string{docID})
		if err != nil {
			return err
		}
		if doc, err = checkStatusChange(docID, stored[docID], version); err != nil {
			return err
		}
		owned, err := ownedBy(ctx, tx, docID)
		if err != nil {
			return err
		}
		rev, err := revisionOf(ctx, tx, doc, owned, "")
		if err != nil {
			return err
		}
		secs = rev.Sections
		if doc.Status == status {
			return nil
		}
		doc.Status = status
		v, err := json.Marshal(doc)
		if err != nil {
			return err
		}
		params := map[string]any{"id": docID, "data": string(v)}
		if _, err := run(ctx, tx, "MATCH (c:FGContrib) WHERE c.node = $id AND c.owner = $id SET c.data = $data", params); err != nil {
			return err
		}
		// A document node holds its own contribution only: the fold of one is itself.
		if _, err := run(ctx, tx, "MATCH (n:FGNode {id: $id}) SET n.data = $data", params); err != nil {
			return err
		}
		return bump(ctx, tx)
	})
	if err != nil {
		return nil, nil, err
	}
	return doc, secs, nil
}
