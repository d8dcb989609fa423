package editor

import (
	"context"

	"github.com/fixgraph/fixgraph"
)

// Conflicter gives the fields of a shared node that departments' documents disagree on, as the
// context's principal may see them (graph.Guarded does).
type Conflicter interface {
	Conflicts(ctx context.Context, id string) ([]fixgraph.Conflict, error)
}

// Conflicts returns what departments disagree on about the node id, each department's value
// beside the others', for a reviewer to settle by publishing an editorial version (which wins
// for every reader). It returns none when the graph cannot tell or the node is not in it.
func (s *Service) Conflicts(ctx context.Context, id string) ([]fixgraph.Conflict, error) {
	c, ok := s.Graph.(Conflicter)
	if !ok {
		return nil, nil
	}
	cs, err := c.Conflicts(ctx, id)
	if fixgraph.CodeOf(err) == fixgraph.ENOTFOUND {
		return nil, nil
	}
	return cs, err
}
