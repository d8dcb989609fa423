package gql

import (
	"cmp"
	"context"
	"slices"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/answer"
)

func (r *documentResolver) Kind(ctx context.Context, obj *fixgraph.Document) (string, error) {
	return string(obj.Kind), nil
}

func (r *documentResolver) Visibility(ctx context.Context, obj *fixgraph.Document) (string, error) {
	return string(obj.Visibility), nil
}

func (r *documentResolver) Status(ctx context.Context, obj *fixgraph.Document) (string, error) {
	return string(obj.Status), nil
}

func (r *documentResolver) Sections(ctx context.Context, obj *fixgraph.Document) ([]*fixgraph.Section, error) {
	secs, err := neighbors[*fixgraph.Section](ctx, r.Resolver, obj.ID, fixgraph.RelPartOf, fixgraph.In)
	slices.SortFunc(secs, func(a, b *fixgraph.Section) int { return cmp.Compare(a.Order, b.Order) })
	return secs, err
}

func (r *errorCodeResolver) Product(ctx context.Context, obj *fixgraph.ErrorCode) (*fixgraph.Product, error) {
	return node[*fixgraph.Product](ctx, r.Resolver, fixgraph.ProductID(obj.Product))
}

func (r *errorCodeResolver) Symptom(ctx context.Context, obj *fixgraph.ErrorCode, lang *string) (string, error) {
	return obj.Symptom.In(str(lang)), nil
}

func (r *errorCodeResolver) Cause(ctx context.Context, obj *fixgraph.ErrorCode, lang *string) (string, error) {
	return obj.Cause.In(str(lang)), nil
}

func (r *errorCodeResolver) Guides(ctx context.Context, obj *fixgraph.ErrorCode, lang *string) ([]*fixgraph.RepairGuide, error) {
	guides, err := neighbors[*fixgraph.RepairGuide](ctx, r.Resolver, obj.ID, fixgraph.RelFixedBy, fixgraph.Out)
	if l := str(lang); l != "" {
		slices.SortStableFunc(guides, func(a, b *fixgraph.RepairGuide) int {
			return cmp.Compare(boolRank(a.Language != l), boolRank(b.Language != l))
		})
	}
	return guides, err
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (r *fAQResolver) Product(ctx context.Context, obj *fixgraph.FAQ) (*fixgraph.Product, error) {
	if obj.Product == "" {
		return nil, nil
	}
	return node[*fixgraph.Product](ctx, r.Resolver, fixgraph.ProductID(obj.Product))
}

func (r *fAQResolver) Section(ctx context.Context, obj *fixgraph.FAQ) (*fixgraph.Section, error) {
	return node[*fixgraph.Section](ctx, r.Resolver, obj.SectionID)
}

func (r *fAQResolver) Document(ctx context.Context, obj *fixgraph.FAQ) (*fixgraph.Document, error) {
	return node[*fixgraph.Document](ctx, r.Resolver, obj.DocumentID)
}

func (r *partResolver) Name(ctx context.Context, obj *fixgraph.Part, lang *string) (string, error) {
	return obj.Name.In(str(lang)), nil
}

func (r *partResolver) Stock(ctx context.Context, obj *fixgraph.Part) ([]*fixgraph.StockLevel, error) {
	return r.loaders(ctx).stock.Load(ctx, obj.SKU)
}

func (r *partResolver) TotalStock(ctx context.Context, obj *fixgraph.Part) (int, error) {
	levels, err := r.loaders(ctx).stock.Load(ctx, obj.SKU)
	total := 0
	for _, l := range levels {
		total += l.Quantity
	}
	return total, err
}

func (r *policyClauseResolver) Section(ctx context.Context, obj *fixgraph.PolicyClause) (*fixgraph.Section, error) {
	return node[*fixgraph.Section](ctx, r.Resolver, obj.SectionID)
}

func (r *policyClauseResolver) Document(ctx context.Context, obj *fixgraph.PolicyClause) (*fixgraph.Document, error) {
	return node[*fixgraph.Document](ctx, r.Resolver, obj.DocumentID)
}

func (r *productResolver) Name(ctx context.Context, obj *fixgraph.Product, lang *string) (string, error) {
	return obj.Name.In(str(lang)), nil
}

func (r *productResolver) Category(ctx context.Context, obj *fixgraph.Product, lang *string) (string, error) {
	return obj.Category.In(str(lang)), nil
}

func (r *productResolver) ErrorCodes(ctx context.Context, obj *fixgraph.Product) ([]*fixgraph.ErrorCode, error) {
	return neighbors[*fixgraph.ErrorCode](ctx, r.Resolver, obj.ID, fixgraph.RelHasError, fixgraph.Out)
}

func (r *productResolver) Manuals(ctx context.Context, obj *fixgraph.Product) ([]*fixgraph.Document, error) {
	return neighbors[*fixgraph.Document](ctx, r.Resolver, obj.ID, fixgraph.RelManualFor, fixgraph.In)
}

func (r *productResolver) Faqs(ctx context.Context, obj *fixgraph.Product) ([]*fixgraph.FAQ, error) {
	return neighbors[*fixgraph.FAQ](ctx, r.Resolver, obj.ID, fixgraph.RelAbout, fixgraph.In)
}

func (r *repairGuideResolver) Section(ctx context.Context, obj *fixgraph.RepairGuide) (*fixgraph.Section, error) {
	return node[*fixgraph.Section](ctx, r.Resolver, obj.SectionID)
}

func (r *repairGuideResolver) Document(ctx context.Context, obj *fixgraph.RepairGuide) (*fixgraph.Document, error) {
	return node[*fixgraph.Document](ctx, r.Resolver, obj.DocumentID)
}

func (r *repairGuideResolver) Videos(ctx context.Context, obj *fixgraph.RepairGuide) ([]*fixgraph.Video, error) {
	return neighbors[*fixgraph.Video](ctx, r.Resolver, obj.ID, fixgraph.RelHasVideo, fixgraph.Out)
}

func (r *repairGuideResolver) Parts(ctx context.Context, obj *fixgraph.RepairGuide) ([]*fixgraph.Part, error) {
	return neighbors[*fixgraph.Part](ctx, r.Resolver, obj.ID, fixgraph.RelNeedsPart, fixgraph.Out)
}

func (r *repairGuideResolver) Citation(ctx context.Context, obj *fixgraph.RepairGuide) (*fixgraph.Citation, error) {
	sec, err := node[*fixgraph.Section](ctx, r.Resolver, obj.SectionID)
	if err != nil || sec == nil {
		return nil, err
	}
	doc, err := node[*fixgraph.Document](ctx, r.Resolver, obj.DocumentID)
	if err != nil {
		return nil, err
	}
	c := answer.Cite(sec, doc)
	return &c, nil
}

func (r *sectionResolver) Document(ctx context.Context, obj *fixgraph.Section) (*fixgraph.Document, error) {
	return node[*fixgraph.Document](ctx, r.Resolver, obj.DocumentID)
}

func (r *sectionResolver) Mentions(ctx context.Context, obj *fixgraph.Section) ([]fixgraph.Node, error) {
	return neighbors[fixgraph.Node](ctx, r.Resolver, obj.ID, fixgraph.RelMentions, fixgraph.Out)
}

func (r *stockLevelResolver) Warehouse(ctx context.Context, obj *fixgraph.StockLevel) (*fixgraph.Warehouse, error) {
	w, err := node[*fixgraph.Warehouse](ctx, r.Resolver, fixgraph.WarehouseID(obj.Warehouse))
	if w == nil && err == nil {
		w = &fixgraph.Warehouse{ID: fixgraph.WarehouseID(obj.Warehouse), Code: obj.Warehouse}
	}
	return w, err
}

func (r *videoResolver) Title(ctx context.Context, obj *fixgraph.Video, lang *string) (string, error) {
	return obj.Title.In(str(lang)), nil
}

func (r *Resolver) Document() DocumentResolver { return &documentResolver{r} }

func (r *Resolver) ErrorCode() ErrorCodeResolver { return &errorCodeResolver{r} }

func (r *Resolver) FAQ() FAQResolver { return &fAQResolver{r} }

func (r *Resolver) Part() PartResolver { return &partResolver{r} }

func (r *Resolver) PolicyClause() PolicyClauseResolver { return &policyClauseResolver{r} }

func (r *Resolver) Product() ProductResolver { return &productResolver{r} }

func (r *Resolver) RepairGuide() RepairGuideResolver { return &repairGuideResolver{r} }

func (r *Resolver) Section() SectionResolver { return &sectionResolver{r} }

func (r *Resolver) StockLevel() StockLevelResolver { return &stockLevelResolver{r} }

func (r *Resolver) Video() VideoResolver { return &videoResolver{r} }

type documentResolver struct{ *Resolver }
type errorCodeResolver struct{ *Resolver }
type fAQResolver struct{ *Resolver }
type partResolver struct{ *Resolver }
type policyClauseResolver struct{ *Resolver }
type productResolver struct{ *Resolver }
type repairGuideResolver struct{ *Resolver }
type sectionResolver struct{ *Resolver }
type stockLevelResolver struct{ *Resolver }
type videoResolver struct{ *Resolver }
