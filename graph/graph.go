package graph

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"

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

// contrib is one owner's version of a node, as JSON.
type contrib struct{ owner, data string }

// foldOrder compares two contributions to a node in the order fold merges them: ingested
// documents' and pushes' first, then editorial documents', each in owner order. MergeNodes lets
// the later contribution win, so the editor's version of an entity replaces (or, for texts, wins
// per language over) what ingest read, whatever the ids of the documents.
func foldOrder(a, b contrib) int {
	if ea, eb := fixgraph.IsEditorial(a.owner), fixgraph.IsEditorial(b.owner); ea != eb {
		if ea {
			return 1
		}
		return -1
	}
	return cmp.Compare(a.owner, b.owner)
}

// fold merges the contributions to node id into one node, in foldOrder; nil when there are none.
// Both stores merge this way, so they agree on every node. It sorts cs.
func fold(id string, cs []contrib) (fixgraph.Node, error) {
	slices.SortFunc(cs, foldOrder)
	var merged fixgraph.Node
	for _, c := range cs {
		n, err := decode(id, []byte(c.data))
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
