package graph

import (
	"encoding/json"
	"fmt"

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

// fold merges the contributions of the owners to node id, given in owner order, into one node;
// nil when there are none. Both stores merge this way, so they agree on every node.
func fold(id string, contribs [][]byte) (fixgraph.Node, error) {
	var merged fixgraph.Node
	for _, v := range contribs {
		n, err := decode(id, v)
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
