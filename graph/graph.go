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
