package gql

import (
	"context"
	"strings"
	"time"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/answer"
)

func (r *mutationResolver) SetStock(ctx context.Context, levels []*StockInput) ([]*fixgraph.StockLevel, error) {
	if len(levels) == 0 {
		return nil, fixgraph.Errorf(fixgraph.EINVALID, "no stock levels given")
	}
	now := time.Now().UTC()
	out := make([]*fixgraph.StockLevel, 0, len(levels))
	for i, in := range levels {
		sku, wh := strings.ToUpper(strings.TrimSpace(in.Sku)), strings.ToUpper(strings.TrimSpace(in.Warehouse))
		switch {
		case sku == "" || wh == "":
			return nil, fixgraph.Errorf(fixgraph.EINVALID, "level %d: sku and warehouse are required", i+1)
		case in.Quantity < 0:
			return nil, fixgraph.Errorf(fixgraph.EINVALID, "level %d: quantity must not be negative", i+1)
		}
		at := now
		if in.UpdatedAt != nil {
			at = in.UpdatedAt.UTC()
		}
		out = append(out, &fixgraph.StockLevel{ID: fixgraph.StockID(sku, wh), SKU: sku, Warehouse: wh, Quantity: in.Quantity, UpdatedAt: at})
	}
	if err := r.Stock.SetStock(ctx, out); err != nil {
		return nil, err
	}
	// Return what is stored: a push older than what the store has does not win.
	ids := make([]string, len(out))
	for i, l := range out {
		ids[i] = l.ID
	}
	stored, err := r.Graph.Nodes(ctx, ids)
	if err != nil {
		return nil, err
	}
	for i, n := range stored {
		if l, ok := n.(*fixgraph.StockLevel); ok {
			out[i] = l
		}
	}
	return out, nil
}

func (r *queryResolver) Troubleshoot(ctx context.Context, code string, product *string) ([]*fixgraph.ErrorCode, error) {
	return r.Answers.Troubleshoot(ctx, code, str(product))
}

func (r *queryResolver) Search(ctx context.Context, query string, limit int, kinds []string, language *string) ([]*fixgraph.Hit, error) {
	f := answer.Published
	for _, k := range kinds {
		f.Kinds = append(f.Kinds, fixgraph.DocKind(k))
	}
	if l := str(language); l != "" {
		f.Languages = []string{l}
	}
	hits, err := r.Answers.Search(ctx, query, limit, f)
	if err != nil {
		return nil, err
	}
	out := make([]*fixgraph.Hit, len(hits))
	for i := range hits {
		out[i] = &hits[i]
	}
	return out, nil
}

func (r *queryResolver) Ask(ctx context.Context, question string) (*fixgraph.Answer, error) {
	return r.Answers.Ask(ctx, question)
}

func (r *queryResolver) Node(ctx context.Context, id string) (fixgraph.Node, error) {
	return node[fixgraph.Node](ctx, r.Resolver, id)
}

func (r *queryResolver) Document(ctx context.Context, id string) (*fixgraph.Document, error) {
	return node[*fixgraph.Document](ctx, r.Resolver, id)
}

func (r *queryResolver) Section(ctx context.Context, id string) (*fixgraph.Section, error) {
	return node[*fixgraph.Section](ctx, r.Resolver, id)
}

func (r *queryResolver) Product(ctx context.Context, model string) (*fixgraph.Product, error) {
	return node[*fixgraph.Product](ctx, r.Resolver, fixgraph.ProductID(strings.TrimSpace(model)))
}

func (r *queryResolver) ErrorCode(ctx context.Context, id string) (*fixgraph.ErrorCode, error) {
	return node[*fixgraph.ErrorCode](ctx, r.Resolver, id)
}

func (r *queryResolver) RepairGuide(ctx context.Context, id string) (*fixgraph.RepairGuide, error) {
	return node[*fixgraph.RepairGuide](ctx, r.Resolver, id)
}

func (r *queryResolver) Video(ctx context.Context, id string) (*fixgraph.Video, error) {
	return node[*fixgraph.Video](ctx, r.Resolver, id)
}

func (r *queryResolver) Part(ctx context.Context, sku string) (*fixgraph.Part, error) {
	return node[*fixgraph.Part](ctx, r.Resolver, fixgraph.PartID(strings.TrimSpace(sku)))
}

func (r *queryResolver) Warehouse(ctx context.Context, code string) (*fixgraph.Warehouse, error) {
	return node[*fixgraph.Warehouse](ctx, r.Resolver, fixgraph.WarehouseID(strings.TrimSpace(code)))
}

func (r *queryResolver) Faq(ctx context.Context, id string) (*fixgraph.FAQ, error) {
	return node[*fixgraph.FAQ](ctx, r.Resolver, id)
}

func (r *queryResolver) PolicyClause(ctx context.Context, id string) (*fixgraph.PolicyClause, error) {
	return node[*fixgraph.PolicyClause](ctx, r.Resolver, id)
}

func (r *Resolver) Mutation() MutationResolver { return &mutationResolver{r} }

func (r *Resolver) Query() QueryResolver { return &queryResolver{r} }

type (
	mutationResolver struct{ *Resolver }
	queryResolver    struct{ *Resolver }
)
