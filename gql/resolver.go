package gql

import (
	"context"
	"io"
	"time"

	"github.com/fixgraph/fixgraph"
)

// Answerer answers questions, runs searches and finds the troubleshooting path of a code.
type Answerer interface {
	Ask(ctx context.Context, question string) (*fixgraph.Answer, error)
	Search(ctx context.Context, q string, limit int, f fixgraph.SearchFilter) ([]fixgraph.Hit, error)
	Troubleshoot(ctx context.Context, code, product string) ([]*fixgraph.ErrorCode, error)
}

// Graph reads nodes and their neighbours; field resolvers batch their reads through it.
type Graph interface {
	Nodes(ctx context.Context, ids []string) ([]fixgraph.Node, error)
	Neighbors(ctx context.Context, ids []string, rel fixgraph.Rel, dir fixgraph.Direction) (map[string][]string, error)
	Scan(ctx context.Context, prefix string, fn func(fixgraph.Node) error) error
}

// StockWriter records stock levels pushed through the API.
type StockWriter interface {
	SetStock(ctx context.Context, levels []*fixgraph.StockLevel) error
}

// Jobs starts background ingest jobs: uploads and crawls.
type Jobs interface {
	NewUpload(spec fixgraph.JobSpec) (Spool, error)
	SubmitCrawl(spec fixgraph.JobSpec, cfg fixgraph.CrawlConfig) (*fixgraph.Job, error)
}

// Spool receives the files of one upload before it becomes a job.
type Spool interface {
	// Add stores one file; it returns an error wrapping a *fixgraph.Error with ETOOLARGE when the
	// file was over its limit and was refused (the upload goes on without it).
	Add(name string, r io.Reader) error
	Files() int // files added so far, refused ones included
	Submit() (*fixgraph.Job, error)
	Discard()
}

// JobReader reads jobs and their per-file outcomes.
type JobReader interface {
	Get(ctx context.Context, id string) (*fixgraph.Job, error)
	List(ctx context.Context, department string, limit int) ([]*fixgraph.Job, error)
	Files(ctx context.Context, id, outcome string, offset, limit int) ([]fixgraph.JobFile, error)
}

// History reads the ended versions of documents.
type History interface {
	History(ctx context.Context, docID string) ([]*fixgraph.Revision, error)
}

// Resolver holds what the resolvers depend on.
type Resolver struct {
	Answers Answerer
	Graph   Graph
	Stock   StockWriter
	Jobs    Jobs      // nil: uploads and crawls are refused
	JobLog  JobReader // nil: no jobs to read
	History History
	// StockMaxAge is how old a stock count may be before it is stale (0 means
	// fixgraph.DefaultStockMaxAge).
	StockMaxAge time.Duration
}

// jobSpec reads the department and visibility a job applies to its documents.
func jobSpec(department, visibility *string) (fixgraph.JobSpec, error) {
	spec := fixgraph.JobSpec{Department: deref(department), Visibility: fixgraph.Visibility(deref(visibility))}
	switch spec.Visibility {
	case "", fixgraph.VisibilityPublic, fixgraph.VisibilityInternal, fixgraph.VisibilityDepartment:
	default:
		return spec, fixgraph.Errorf(fixgraph.EINVALID, "unknown visibility %q: public, internal or department", spec.Visibility)
	}
	if spec.Visibility == fixgraph.VisibilityDepartment && spec.Department == "" {
		return spec, fixgraph.Errorf(fixgraph.EINVALID, "visibility department needs a department")
	}
	return spec, nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
