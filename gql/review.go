package gql

import (
	"context"

	"github.com/fixgraph/fixgraph"
)

// Reviews lists and settles what the jobs of departments that review before publishing wrote
// (ingest.Jobs). Review and Settle check who may: a job the principal may not see is not found,
// and only admins and the department's reviewers settle.
type Reviews interface {
	Review(ctx context.Context, jobID string) (*fixgraph.Job, []fixgraph.ReviewItem, error)
	Pending(ctx context.Context, j *fixgraph.Job) (int, error)
	Settle(ctx context.Context, jobID string, docIDs []string, approve bool) ([]fixgraph.ReviewItem, error)
}

// Departments keeps departments' settings (ingest.State).
type Departments interface {
	Department(name string) (fixgraph.Department, error)
	SetDepartment(d fixgraph.Department) error
	Departments() ([]fixgraph.Department, error)
}

// settle approves or rejects documents of a job and records each settled one in the audit log.
func (r *Resolver) settle(ctx context.Context, jobID string, docIDs []string, approve bool) ([]*fixgraph.ReviewItem, error) {
	if r.Reviews == nil {
		return nil, fixgraph.Errorf(fixgraph.EUNSUPPORTED, "this server reviews nothing")
	}
	settled, err := r.Reviews.Settle(ctx, jobID, docIDs, approve)
	action := "review.reject"
	if approve {
		action = "review.approve"
	}
	out := make([]*fixgraph.ReviewItem, len(settled))
	for i := range settled {
		it := &settled[i]
		out[i] = it
		detail := map[string]string{"job": jobID, "source": it.File.Source, "via": "api"}
		if it.Document != nil {
			detail["department"] = it.Document.Department
		}
		if len(docIDs) == 0 {
			detail["bulk"] = "true"
		}
		r.audit(ctx, action, it.File.DocumentID, detail)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}
