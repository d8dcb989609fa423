package gql

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/fixgraph/fixgraph"
)

// depthLimit refuses an operation whose selections nest deeper than max, fragments included,
// before anything runs: a query that walks the graph back and forth (part → guides → parts → …)
// costs more the deeper it goes.
type depthLimit struct{ max int }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = depthLimit{}

func (depthLimit) ExtensionName() string                          { return "DepthLimit" }
func (depthLimit) Validate(schema graphql.ExecutableSchema) error { return nil }

func (d depthLimit) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	if depth := selectionDepth(oc.Operation.SelectionSet, 0, d.max); depth > d.max {
		err := gqlerror.Errorf("query is nested more than %d levels deep, over the limit of %d", d.max, d.max)
		err.Extensions = map[string]any{"code": "invalid"}
		return err
	}
	return nil
}

// selectionDepth returns the depth of set below depth, stopping once it passes limit (so a cycle
// of fragments cannot loop; validation has refused those already).
func selectionDepth(set ast.SelectionSet, depth, limit int) int {
	if depth > limit {
		return depth
	}
	deepest := depth
	for _, sel := range set {
		var d int
		switch s := sel.(type) {
		case *ast.Field:
			if len(s.SelectionSet) == 0 {
				d = depth + 1
			} else {
				d = selectionDepth(s.SelectionSet, depth+1, limit)
			}
		case *ast.InlineFragment:
			d = selectionDepth(s.SelectionSet, depth, limit)
		case *ast.FragmentSpread:
			if s.Definition != nil {
				d = selectionDepth(s.Definition.SelectionSet, depth, limit)
			}
		}
		deepest = max(deepest, d)
	}
	return deepest
}

// An operation's complexity is what it costs to run, in units of about 10 µs of server time: a
// field read from memory costs 1, and each field that does more is priced by what it does,
// measured on the fixture corpus (search 0.6 ms, ask 0.7 ms, a lookup through the access guard
// about 1 ms) plus what the embedded model adds to a query in production (about 5 ms to embed
// it). Every alias is priced on its own, so a hundred aliases of ask cost a hundred asks. The
// limit, DefaultMaxComplexity, is then about half a second of work per operation; the rate limit
// (auth.Gate, Resolver.Limit) bounds how many asks and searches a principal runs per second.
const (
	costLookup    = 10    // a node read by id or code through the access guard
	costList      = 10    // a short list read from a store (keys, users, jobs, history)
	costSearch    = 500   // one search: analysis, spelling, BM25 and vectors, the query embedded
	costAsk       = 1_000 // one ask: searches, the graph around the best hit, the ask recorded
	costScanAsks  = 1_000 // analytics over the asks of a period (top, series, surges)
	costGroupAsks = 2_000 // grouping the unanswered asks of a period by similarity
	costPassword  = 5_000 // an argon2id hash: 19 MiB and tens of milliseconds
	costWrite     = 100   // a committed write (fsync) to a store
	costFile      = 200   // one uploaded file spooled and queued
	costCrawl     = 2_000 // a crawl queued (it runs in the background, priced by its own limits)
)

// MaxSeriesPoints is the most points one askSeries returns: about two years and nine months by
// day, or nineteen years by week.
const MaxSeriesPoints = 1000

// seriesPoints returns how many buckets askSeries returns for [from, to), at least one.
func seriesPoints(bucket string, from, to time.Time) int {
	step := 24 * time.Hour
	if bucket == "week" {
		step *= 7
	}
	if !from.Before(to) {
		return 1
	}
	// One more than the span holds: the first and last buckets may be partial. Capped first, so
	// a span of centuries cannot overflow what it costs.
	return int(min(to.Sub(from)/step, 1<<20)) + 2
}

// fanOut is what a list field costs: its children times the number of items it typically
// returns, so a query that walks documents → sections → document → sections costs what it reads.
func fanOut(n int) func(int) int { return func(child int) int { return 1 + n*child } }

// perItem prices a list read at cost whose length is set by limit.
func perItem(cost, limit, child int) int { return cost + max(limit, 1)*child }

// complexity prices the fields of the schema that cost more than reading a value from memory.
func complexity() ComplexityRoot {
	var c ComplexityRoot
	c.Document.Sections = fanOut(50)
	c.Section.Mentions = fanOut(10)
	c.ErrorCode.Guides = func(child int, _ *string) int { return 1 + 5*child }
	c.RepairGuide.Parts = fanOut(5)
	c.RepairGuide.Videos = fanOut(3)
	c.Part.Stock = fanOut(10)
	c.Product.ErrorCodes = fanOut(20)
	c.Product.Faqs = fanOut(20)
	c.Product.Manuals = fanOut(5)
	c.Job.Files = func(child int, _ *string, _ int, limit int) int { return perItem(costList, limit, child) }

	lookup := func(child int, _ string) int { return costLookup + child }
	q := &c.Query
	q.Node, q.Document, q.Section, q.Product, q.ErrorCode, q.RepairGuide = lookup, lookup, lookup, lookup, lookup, lookup
	q.Video, q.Part, q.Warehouse, q.Faq, q.PolicyClause, q.Job = lookup, lookup, lookup, lookup, lookup, lookup
	q.DocumentHistory = func(child int, _ string) int { return costList + 20*child }
	q.Troubleshoot = func(child int, _ string, _ *string) int { return costLookup + 5*child }
	q.Search = func(child int, _ string, limit int, _ []string, _ *string) int {
		return perItem(costSearch, limit, child)
	}
	q.Ask = func(child int, _ string, _ *ConversationInput) int { return costAsk + child }
	q.Jobs = func(child int, _ *string, limit int) int { return perItem(costList, limit, child) }
	q.TopAsked = func(child int, _ string, _, _ *time.Time, limit int) int { return perItem(costScanAsks, limit, child) }
	q.AskSeries = func(child int, _, _ *string, bucket string, from, to *time.Time) int {
		lo, hi := period(from, to)
		return perItem(costScanAsks, seriesPoints(bucket, lo, hi), 1+child)
	}
	q.Unanswered = func(child int, _, _ *time.Time, limit int) int { return perItem(costGroupAsks, limit, child) }
	q.Surges = func(child int, _, _ *string) int { return costScanAsks + 100*child }
	q.APIKeys = func(child int) int { return costList + 100*child }
	q.Users = func(child int) int { return costList + 100*child }

	m := &c.Mutation
	m.Feedback = func(child int, _ string, _ bool, _ *string) int { return costWrite + child }
	m.SetStock = func(child int, levels []*StockInput) int { return costWrite + max(len(levels), 1)*(costLookup+child) }
	m.Upload = func(child int, files []*graphql.Upload, _, _ *string) int {
		return costWrite + max(len(files), 1)*costFile + child
	}
	m.Crawl = func(child int, _ CrawlInput) int { return costCrawl + child }
	m.CancelJob = func(child int, _ string) int { return costWrite + child }
	m.CreateAPIKey = func(child int, _, _ string, _, _ *string) int { return costWrite + child }
	m.RevokeAPIKey = func(child int, _ string) int { return costWrite + child }
	m.CreateUser = func(child int, _, _, _ string, _ *string) int { return costPassword + costWrite + child }
	m.SetUserRole = func(child int, _, _ string, _ *string) int { return costWrite + child }
	return c
}

// introspectionOff refuses an operation that asks for the schema (__schema or __type) where
// introspection is turned off, with a forbidden that says so; without it gqlgen's executor
// fails the field with an error the presenter can only call internal.
type introspectionOff struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = introspectionOff{}

func (introspectionOff) ExtensionName() string                          { return "IntrospectionOff" }
func (introspectionOff) Validate(schema graphql.ExecutableSchema) error { return nil }

func (introspectionOff) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil || !asksSchema(oc.Operation.SelectionSet, 0) {
		return nil
	}
	err := gqlerror.Errorf("introspection is turned off on this server (serve --introspection=false); the schema is in the project's gql/*.graphqls")
	err.Extensions = map[string]any{"code": fixgraph.EFORBIDDEN}
	return err
}

// asksSchema reports whether the root selections of set, fragments included, ask for __schema or
// __type (which exist only on the query root).
func asksSchema(set ast.SelectionSet, depth int) bool {
	if depth > 10 {
		return false // fragments spread in a cycle: validation refuses those
	}
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Name == "__schema" || s.Name == "__type" {
				return true
			}
		case *ast.InlineFragment:
			if asksSchema(s.SelectionSet, depth+1) {
				return true
			}
		case *ast.FragmentSpread:
			if s.Definition != nil && asksSchema(s.Definition.SelectionSet, depth+1) {
				return true
			}
		}
	}
	return false
}
