package graph

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/fixgraph/fixgraph"
)

// NewNode returns an empty node of the kind that id's prefix names.
func NewNode(id string) (fixgraph.Node, error) {
	switch fixgraph.KindOf(id) {
	case fixgraph.PrefixDocument:
		return &fixgraph.Document{}, nil
	case fixgraph.PrefixSection:
		return &fixgraph.Section{}, nil
	case fixgraph.PrefixProduct:
		return &fixgraph.Product{}, nil
	case fixgraph.PrefixErrorCode:
		return &fixgraph.ErrorCode{}, nil
	case fixgraph.PrefixGuide:
		return &fixgraph.RepairGuide{}, nil
	case fixgraph.PrefixVideo:
		return &fixgraph.Video{}, nil
	case fixgraph.PrefixPart:
		return &fixgraph.Part{}, nil
	case fixgraph.PrefixWarehouse:
		return &fixgraph.Warehouse{}, nil
	case fixgraph.PrefixStock:
		return &fixgraph.StockLevel{}, nil
	case fixgraph.PrefixFAQ:
		return &fixgraph.FAQ{}, nil
	case fixgraph.PrefixClause:
		return &fixgraph.PolicyClause{}, nil
	}
	return nil, fixgraph.Errorf(fixgraph.EINVALID, "unknown node kind in id %q", id)
}

func decode(id string, v []byte) (fixgraph.Node, error) {
	n, err := NewNode(id)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(v, n); err != nil {
		return nil, fmt.Errorf("decoding node %q: %w", id, err)
	}
	return n, nil
}

// sameVersion reports whether the stored document p and the document doc about to be written are
// the same version: the same content, published the same way, detaching the same edges. Writing
// such a document again changes nothing. The detached edges count apart from the content, so the
// editor may change them alone.
func sameVersion(p, doc *fixgraph.Document) bool {
	return p.ContentHash == doc.ContentHash && p.Status == doc.Status && p.Visibility == doc.Visibility &&
		p.Department == doc.Department && slices.Equal(p.Detached, doc.Detached)
}

// Contribution is one owner's version of a node, as JSON: what one document (or PushOwner)
// says of it. Stores keep every contribution apart and fold them into the node.
type Contribution struct {
	Owner string
	Data  string
}

// Fold tiers, in the order fold merges them: MergeNodes lets the later contribution win.
const (
	tierPush      = iota // stock pushes and other owners that are not documents
	tierOther            // documents of departments other than the reader's
	tierReader           // documents of the reader's department
	tierEditorial        // the editor's documents, which win over what ingest read
)

// ranked is a contribution with where it goes in a fold.
type ranked struct {
	Contribution
	tier   int
	dept   string
	senior time.Time // when its department first published a document contributing to the node
	at     time.Time // when its document was ingested
}

// firstIngested returns when d's first version was written, as far as it is known.
func firstIngested(d *fixgraph.Document) time.Time {
	if !d.FirstIngestedAt.IsZero() {
		return d.FirstIngestedAt
	}
	return d.IngestedAt
}

// foldOrder sorts the contributions to one node in the order fold merges them for a reader of
// department dept ("" for a reader of none, and for the node the store keeps). docs holds the
// contributing documents; MergeNodes lets the later contribution win. The order never depends
// on the names of documents, which uploaders choose:
//
//   - stock pushes first;
//   - then other departments' documents, department by department, the department that
//     published a document on the node first coming last, so a later upload of another
//     department fills what is missing and changes nothing that was published;
//   - then the reader's department's documents, so its readers see what it published;
//   - editorial documents last: the editor's version wins for every reader.
//
// Within a department (and among editorial documents) a later ingest wins; document ids only
// break ties between documents ingested at the same instant.
func foldOrder(cs []Contribution, docs map[string]*fixgraph.Document, dept string) []Contribution {
	rs := make([]ranked, len(cs))
	senior := map[string]time.Time{}
	for i, c := range cs {
		r := ranked{Contribution: c, tier: tierPush}
		if d := docs[c.Owner]; d != nil {
			r.dept, r.at = d.Department, d.IngestedAt
			switch {
			case fixgraph.IsEditorial(d.ID):
				r.tier = tierEditorial
			case dept != "" && d.Department == dept:
				r.tier = tierReader
			default:
				r.tier = tierOther
				if f, ok := senior[d.Department]; !ok || firstIngested(d).Before(f) {
					senior[d.Department] = firstIngested(d)
				}
			}
		} else if fixgraph.KindOf(c.Owner) == fixgraph.PrefixDocument {
			r.tier = tierOther // a document the store no longer has: least senior of all
			r.senior = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
		}
		rs[i] = r
	}
	for i := range rs {
		if f, ok := senior[rs[i].dept]; ok && rs[i].tier == tierOther && rs[i].senior.IsZero() {
			rs[i].senior = f
		}
	}
	slices.SortFunc(rs, func(a, b ranked) int {
		if c := cmp.Compare(a.tier, b.tier); c != 0 {
			return c
		}
		if a.tier == tierOther {
			if c := b.senior.Compare(a.senior); c != 0 {
				return c // the senior department last
			}
			if c := cmp.Compare(b.dept, a.dept); c != 0 {
				return c
			}
		}
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return cmp.Compare(a.Owner, b.Owner)
	})
	out := make([]Contribution, len(rs))
	for i, r := range rs {
		out[i] = r.Contribution
	}
	return out
}

// fold merges the contributions to node id into one node, in foldOrder for a reader of
// department dept; nil when there are none. Both stores keep the fold for dept "" as the node,
// and graph.Guarded folds what each reader may see for that reader, so they agree on every node.
func fold(id string, cs []Contribution, docs map[string]*fixgraph.Document, dept string) (fixgraph.Node, error) {
	var merged fixgraph.Node
	for _, c := range foldOrder(cs, docs, dept) {
		n, err := decode(id, []byte(c.Data))
		if err != nil {
			return nil, err
		}
		if merged == nil {
			merged = n
		} else {
			merged = fixgraph.MergeNodes(merged, n)
		}
	}
	return merged, nil
}

// Link is one edge from (or, followed backwards, to) a node: the node at its other end and the
// owner that made it.
type Link struct {
	Other string
	Owner string
}

// firstVersionAt returns when a document written for the first time was first written: when it
// was ingested, or now when it does not say.
func firstVersionAt(d *fixgraph.Document) time.Time {
	if !d.IngestedAt.IsZero() {
		return d.IngestedAt
	}
	return time.Now().UTC()
}

// docOwners returns the owners of cs that are documents.
func docOwners(cs []Contribution) []string {
	var out []string
	for _, c := range cs {
		if fixgraph.KindOf(c.Owner) == fixgraph.PrefixDocument {
			out = append(out, c.Owner)
		}
	}
	return out
}
