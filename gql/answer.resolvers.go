package gql

import (
	"context"

	"github.com/fixgraph/fixgraph"
)

func (r *searchHitResolver) Heading(ctx context.Context, obj *fixgraph.Hit) (string, error) {
	return obj.Section.Heading, nil
}

func (r *searchHitResolver) HeadingPath(ctx context.Context, obj *fixgraph.Hit) ([]string, error) {
	return obj.Section.HeadingPath, nil
}

func (r *Resolver) SearchHit() SearchHitResolver { return &searchHitResolver{r} }

type searchHitResolver struct{ *Resolver }
