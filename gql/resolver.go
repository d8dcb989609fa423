package gql

import (
	"context"
	"io"
	"time"

	"github.com/fixgraph/fixgraph"
)

// Answerer answers questions, runs searches and finds the troubleshooting path of a code.
type Answerer interface {
	AskIn(ctx context.Context, question string, conv *fixgraph.Conversation) (*fixgraph.Answer, error)
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

// AskLog keeps what was asked and how it was answered, and the feedback on answers.
type AskLog interface {
	// RecordAsk stores an answered question and returns its id.
	RecordAsk(ctx context.Context, ans *fixgraph.Answer, conv *fixgraph.Conversation) (string, error)
	// Feedback records whether the answer with id helped, from the principal of ctx, which must
	// be the one the answer was given to; ENOTFOUND for an unknown id or another's answer.
	Feedback(ctx context.Context, id string, helpful bool, comment string) error
}

// Analytics reads what customers asked.
type Analytics interface {
	Top(by string, from, to time.Time, limit int) ([]*AskCount, error)
	Series(by, key, bucket string, from, to time.Time) ([]*AskPoint, error)
	Unanswered(from, to time.Time, limit int) ([]*UnansweredGroup, error)
	Surges(now time.Time, window, baseline time.Duration) ([]*Surge, error)
}

// Accounts manages API keys and editor accounts.
type Accounts interface {
	CreateKey(name string, role fixgraph.Role, department string, ttl time.Duration, by string) (string, *fixgraph.APIKey, error)
	Keys() ([]*fixgraph.APIKey, error)
	RevokeKey(id string) (*fixgraph.APIKey, error)
	CreateUser(name, password string, role fixgraph.Role, department string) (*fixgraph.User, error)
	Users() ([]*fixgraph.User, error)
	SetRole(name string, role fixgraph.Role, department string) (*fixgraph.User, error)
	Unlock(name string) error
	ResetMFA(name string) error
	MFARoles() ([]fixgraph.Role, error)
	SetMFARoles(roles []fixgraph.Role) error
}

// AuditFunc records what a request did in the audit log.
type AuditFunc func(ctx context.Context, action, target string, detail map[string]string)

// RateFunc takes one ask or search from the rate limit of the request's principal, or returns
// an error with ERATELIMITED when it has none left.
type RateFunc func(ctx context.Context) error

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
	Accounts    Accounts  // nil: no key or account administration
	AskLog      AskLog    // nil: questions are not recorded
	Analytics   Analytics // nil: no analytics
	Audit       AuditFunc // nil records nothing
	// Limit is drawn from once by every ask and search an operation runs, aliases included, so
	// the rate limit counts asks rather than HTTP requests; nil does not limit.
	Limit RateFunc

	Reviews      Reviews     // nil: nothing is reviewed before publishing
	DeptSettings Departments // nil: no department settings
}

// charge takes one ask or search from the request's rate limit.
func (r *Resolver) charge(ctx context.Context) error {
	if r.Limit == nil {
		return nil
	}
	return r.Limit(ctx)
}

// audit records an event when there is an audit log.
func (r *Resolver) audit(ctx context.Context, action, target string, detail map[string]string) {
	if r.Audit != nil {
		r.Audit(ctx, action, target, detail)
	}
}

// require returns EFORBIDDEN unless the request's principal may do action for department.
func require(ctx context.Context, action, department string) error {
	p := fixgraph.PrincipalFrom(ctx)
	if !p.Can(action, department) {
		if action == "upload" && p.Role == fixgraph.RoleUploader {
			return fixgraph.Errorf(fixgraph.EFORBIDDEN, "an uploader of department %q cannot write to department %q", p.Department, department)
		}
		return fixgraph.Errorf(fixgraph.EFORBIDDEN, "role %s may not do this (%s)", p.Role, action)
	}
	return nil
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

// admin returns EFORBIDDEN unless the request acts for an admin, and EUNSUPPORTED when the server
// has no account store.
func (r *Resolver) admin(ctx context.Context) error {
	if err := require(ctx, "admin", ""); err != nil {
		return err
	}
	if r.Accounts == nil {
		return fixgraph.Errorf(fixgraph.EUNSUPPORTED, "this server keeps no keys or accounts")
	}
	return nil
}

// seesJobsOf reports whether p may read the jobs of department: an admin every department's,
// and whoever may upload only its own department's (a principal of no department, the jobs of
// no department).
func seesJobsOf(p *fixgraph.Principal, department string) bool {
	return p.Can("admin", "") || p.Can("upload", department) && department == p.Department
}

// MaxFileName is the longest name, in bytes, of an uploaded file: the spool keeps each file under
// its name, and file systems refuse names over 255 bytes.
const MaxFileName = 200

// checkFileName returns EINVALID when an uploaded file's name is too long to keep.
func checkFileName(name string) error {
	if len(name) > MaxFileName {
		return fixgraph.Errorf(fixgraph.EINVALID, "the file name %.40q… is %d bytes long, over the limit of %d; rename the file", name, len(name), MaxFileName)
	}
	return nil
}

// forPrincipal fills in an uploader's own department when a job names none.
func forPrincipal(ctx context.Context, spec fixgraph.JobSpec) fixgraph.JobSpec {
	if p := fixgraph.PrincipalFrom(ctx); p.Role == fixgraph.RoleUploader && spec.Department == "" {
		spec.Department = p.Department
	}
	return spec
}

// MaxTurns is the most turns of a conversation an ask takes.
const MaxTurns = 50

// conversationOf reads a conversation input.
func conversationOf(in *ConversationInput) (*fixgraph.Conversation, error) {
	if in == nil {
		return nil, nil
	}
	if len(in.Turns) > MaxTurns {
		return nil, fixgraph.Errorf(fixgraph.EINVALID, "a conversation may send at most %d turns; send the latest", MaxTurns)
	}
	c := &fixgraph.Conversation{ID: deref(in.ID), Model: deref(in.Model), Firmware: deref(in.Firmware)}
	for i, t := range in.Turns {
		if t.Role != fixgraph.RoleCustomer && t.Role != fixgraph.RoleBot {
			return nil, fixgraph.Errorf(fixgraph.EINVALID, "turn %d: role must be customer or bot, not %q", i+1, t.Role)
		}
		c.Turns = append(c.Turns, fixgraph.Turn{Role: t.Role, Text: t.Text, ErrorCode: deref(t.ErrorCode), Product: deref(t.Product)})
	}
	return c, nil
}

// analytics returns EFORBIDDEN unless the request acts for an editor or up, and EUNSUPPORTED when
// the server keeps no analytics.
func (r *Resolver) analytics(ctx context.Context) error {
	if err := require(ctx, "analytics", ""); err != nil {
		return err
	}
	if r.Analytics == nil {
		return fixgraph.Errorf(fixgraph.EUNSUPPORTED, "this server keeps no analytics")
	}
	return nil
}

// period returns [from, to), the last 7 days when not given.
func period(from, to *time.Time) (time.Time, time.Time) {
	hi := time.Now()
	if to != nil {
		hi = *to
	}
	lo := hi.Add(-7 * 24 * time.Hour)
	if from != nil {
		lo = *from
	}
	return lo, hi
}
