package editor

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/fixgraph/fixgraph/kv"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/bolt"
	"github.com/fixgraph/fixgraph/graph"
)

var (
	bucketEntities  = []byte("entities")  // entity id → Entity JSON: the working copy
	bucketRevisions = []byte("revisions") // entity id \x00 big-endian rev → Revision JSON
	bucketHandled   = []byte("handled")   // analytics event id → entity id that answered it
)

// Entity is the editor's working copy of one editable node (an FAQ, an error code or a repair
// guide): its fields as edited, the links it adds and the ingested links it detaches, and where
// it stands in the workflow. Drafts live here, not in the graph; publishing writes the entity
// into the graph as an editorial document through the ingest pipeline.
type Entity struct {
	ID         string              `json:"id"`
	Node       json.RawMessage     `json:"node"`               // the node as edited
	Links      []fixgraph.Edge     `json:"links,omitempty"`    // edges the editor added
	Detached   []fixgraph.Edge     `json:"detached,omitempty"` // ingested edges the editor says are wrong
	Visibility fixgraph.Visibility `json:"visibility"`
	Department string              `json:"department,omitempty"`
	Status     fixgraph.Status     `json:"status"`
	Rev        int                 `json:"rev"`               // the latest revision; a save must name it (see Save)
	Live       int                 `json:"live"`              // the revision the graph serves; 0 for a new entity not yet published, 1 (the ingested revision) for an ingested node
	Answers    []string            `json:"answers,omitempty"` // analytics asks it was written to answer (the unanswered queue); marked handled when it is published
	Created    bool                `json:"created,omitempty"` // made in the editor, not ingested
	UpdatedBy  string              `json:"updatedBy"`
	UpdatedAt  time.Time           `json:"updatedAt"`
}

// Decode returns the entity's node.
func (e *Entity) Decode() (fixgraph.Node, error) {
	n, err := graph.NewNode(e.ID)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(e.Node, n); err != nil {
		return nil, fmt.Errorf("decoding the working copy of %q: %w", e.ID, err)
	}
	return n, nil
}

// Revision is one step of an entity's history: the entity as it was after the step, what the step
// was, who took it and when.
type Revision struct {
	Rev    int       `json:"rev"`
	Action string    `json:"action"` // ingested, created, saved, submitted, rejected, published, archived, rolled back
	By     string    `json:"by"`
	At     time.Time `json:"at"`
	Note   string    `json:"note,omitempty"`
	Entity Entity    `json:"entity"`
}

// Revision actions.
const (
	ActIngested   = "ingested" // the node as ingest made it, kept when an editor first changes it
	ActCreated    = "created"
	ActSaved      = "saved"
	ActSubmitted  = "submitted"
	ActRejected   = "rejected"
	ActPublished  = "published"
	ActArchived   = "archived"
	ActRolledBack = "rolled back"
)

// Store keeps working copies and their history in a bbolt file in the data directory.
type Store struct {
	db kv.DB
}

// OpenStore opens or creates the editor's store at path.
func OpenStore(path string) (*Store, error) {
	db, err := bolt.Open(path, "editor store", bucketEntities, bucketRevisions, bucketHandled)
	if err != nil {
		return nil, err
	}
	return NewStore(db), nil
}

// NewStore returns the store kept in db (a bbolt file, or the shared state on PostgreSQL).
func NewStore(db kv.DB) *Store { return &Store{db: db} }

// Close closes the store.
func (s *Store) Close() error { return s.db.Close() }

// Backup writes a consistent copy of the store to w.
func (s *Store) Backup(w io.Writer) (int64, error) { return kv.Backup(s.db, w) }

// Get returns the working copy of id, or nil when no editor has touched it.
func (s *Store) Get(id string) (*Entity, error) {
	var e *Entity
	err := s.db.View(func(tx kv.Tx) error {
		v := tx.Bucket(bucketEntities).Get([]byte(id))
		if v == nil {
			return nil
		}
		e = new(Entity)
		return json.Unmarshal(v, e)
	})
	return e, err
}

// List returns the working copies with one of the statuses (all when none is given), most
// recently changed first, at most limit.
func (s *Store) List(limit int, statuses ...fixgraph.Status) ([]*Entity, error) {
	var out []*Entity
	err := s.db.View(func(tx kv.Tx) error {
		return tx.Bucket(bucketEntities).ForEach(func(_, v []byte) error {
			e := new(Entity)
			if err := json.Unmarshal(v, e); err != nil {
				return err
			}
			if len(statuses) == 0 || slices.Contains(statuses, e.Status) {
				out = append(out, e)
			}
			return nil
		})
	})
	slices.SortFunc(out, func(a, b *Entity) int { return b.UpdatedAt.Compare(a.UpdatedAt) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, err
}

// Commit writes the next revision of an entity: change gets the stored working copy and returns
// the new one with the revision's action and note. seed is the entity as ingest made it, for an
// ingested node no editor has touched yet: it becomes revision 1 (ActIngested), so the history
// can show and restore it, and change gets it as the working copy. base is the revision the
// caller's change started from (0 for an entity without a working copy); when another change
// came in between, nothing is written and the error is ECONFLICT, so two editors never silently
// overwrite each other. A base of -1 skips the check (workflow steps that carry no edited content).
func (s *Store) Commit(id string, base int, by string, at time.Time, seed *Entity, change func(cur *Entity) (next *Entity, action, note string, err error)) (*Entity, error) {
	at = at.UTC()
	var out *Entity
	err := s.db.Update(func(tx kv.Tx) error {
		var cur *Entity
		if v := tx.Bucket(bucketEntities).Get([]byte(id)); v != nil {
			cur = new(Entity)
			if err := json.Unmarshal(v, cur); err != nil {
				return err
			}
		}
		rev := 0
		if cur != nil {
			rev = cur.Rev
		}
		if base >= 0 && base != rev {
			if cur == nil {
				return fixgraph.Errorf(fixgraph.ECONFLICT, "%s has no revision %d: the editor has no changes to it; reopen it", id, base)
			}
			return fixgraph.Errorf(fixgraph.ECONFLICT, "%s was changed by %s at %s (revision %d) after you opened revision %d; your changes were not saved over it",
				id, cur.UpdatedBy, cur.UpdatedAt.Format(time.DateTime), rev, base)
		}
		if cur == nil && seed != nil {
			first := *seed
			first.ID, first.Rev, first.Status, first.Live, first.UpdatedBy, first.UpdatedAt = id, 1, fixgraph.StatusPublished, 1, "ingest", at
			if err := putRevision(tx, Revision{Rev: 1, Action: ActIngested, By: "ingest", At: at, Entity: first}); err != nil {
				return err
			}
			cur, rev = &first, 1
		}
		next, action, note, err := change(cur)
		if err != nil {
			return err
		}
		next.ID, next.Rev, next.UpdatedBy, next.UpdatedAt = id, rev+1, by, at
		if err := putRevision(tx, Revision{Rev: next.Rev, Action: action, By: by, At: at, Note: note, Entity: *next}); err != nil {
			return err
		}
		v, err := json.Marshal(next)
		if err != nil {
			return err
		}
		out = next
		return tx.Bucket(bucketEntities).Put([]byte(id), v)
	})
	return out, err
}

func putRevision(tx kv.Tx, r Revision) error {
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketRevisions).Put(revKey(r.Entity.ID, r.Rev), v)
}

func revKey(id string, rev int) []byte {
	return binary.BigEndian.AppendUint32([]byte(id+"\x00"), uint32(rev))
}

// History returns an entity's revisions, newest first.
func (s *Store) History(id string) ([]Revision, error) {
	var out []Revision
	err := s.db.View(func(tx kv.Tx) error {
		prefix := []byte(id + "\x00")
		c := tx.Bucket(bucketRevisions).Cursor()
		for k, v := c.Seek(prefix); k != nil && len(k) == len(prefix)+4 && string(k[:len(prefix)]) == string(prefix); k, v = c.Next() {
			var r Revision
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, err
}

// Revision returns revision rev of id, ENOTFOUND when there is none.
func (s *Store) Revision(id string, rev int) (*Revision, error) {
	var r *Revision
	err := s.db.View(func(tx kv.Tx) error {
		v := tx.Bucket(bucketRevisions).Get(revKey(id, rev))
		if v == nil {
			return fixgraph.Errorf(fixgraph.ENOTFOUND, "%s has no revision %d", id, rev)
		}
		r = new(Revision)
		return json.Unmarshal(v, r)
	})
	return r, err
}

// MarkHandled records that the entity answers the asks with these analytics event ids, so the
// unanswered queue stops showing them.
func (s *Store) MarkHandled(events []string, entityID string) error {
	return s.db.Update(func(tx kv.Tx) error {
		b := tx.Bucket(bucketHandled)
		for _, ev := range events {
			if err := b.Put([]byte(ev), []byte(entityID)); err != nil {
				return err
			}
		}
		return nil
	})
}

// Handled returns, of events, the ones an entity answers.
func (s *Store) Handled(events []string) (map[string]string, error) {
	out := map[string]string{}
	err := s.db.View(func(tx kv.Tx) error {
		b := tx.Bucket(bucketHandled)
		for _, ev := range events {
			if v := b.Get([]byte(ev)); v != nil {
				out[ev] = string(v)
			}
		}
		return nil
	})
	return out, err
}
