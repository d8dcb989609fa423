package gql_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/client"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/gql"
)

// cannedAnswers answers every question and search at once with the same thing: what the limits
// refuse must be refused for its price, not for the work the real services happen to do.
type cannedAnswers struct{ asks, searches atomic.Int32 }

func (c *cannedAnswers) AskIn(ctx context.Context, q string, _ *fixgraph.Conversation) (*fixgraph.Answer, error) {
	c.asks.Add(1)
	return &fixgraph.Answer{Question: q, Language: "en", Kind: fixgraph.AnswerNone, Text: "canned"}, nil
}

func (c *cannedAnswers) Search(ctx context.Context, q string, limit int, f fixgraph.SearchFilter) ([]fixgraph.Hit, error) {
	c.searches.Add(1)
	return nil, nil
}

func (c *cannedAnswers) Troubleshoot(ctx context.Context, code, product string) ([]*fixgraph.ErrorCode, error) {
	return nil, nil
}

// emptyAnalytics has no asks: a series is all zeros.
type emptyAnalytics struct{}

func (emptyAnalytics) Top(by string, from, to time.Time, limit int) ([]*gql.AskCount, error) {
	return nil, nil
}

func (emptyAnalytics) Series(by, key, bucket string, from, to time.Time) ([]*gql.AskPoint, error) {
	var out []*gql.AskPoint
	for t := from; t.Before(to); t = t.Add(24 * time.Hour) {
		out = append(out, &gql.AskPoint{Start: t})
	}
	return out, nil
}

func (emptyAnalytics) Unanswered(from, to time.Time, limit int) ([]*gql.UnansweredGroup, error) {
	return nil, nil
}

func (emptyAnalytics) Surges(now time.Time, window, baseline time.Duration) ([]*gql.Surge, error) {
	return nil, nil
}

var admin = as(&fixgraph.Principal{ID: "key:admin", Role: fixgraph.RoleAdmin})

// aliases returns an operation of n aliases of field.
func aliases(n int, field string) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		fmt.Fprintf(&b, " a%d: %s", i, field)
	}
	b.WriteString(" }")
	return b.String()
}

// TestExpensiveFieldsArePriced: asks, searches, series and password hashes are priced by what they
// cost, each alias on its own, so an operation of many of them is refused before anything runs;
// one of each, as bots and the analytics page send them, passes.
func TestExpensiveFieldsArePriced(t *testing.T) {
	answers := &cannedAnswers{}
	r := &gql.Resolver{Answers: answers, Analytics: emptyAnalytics{}}
	c := client.New(gql.NewHandler(r, gql.Options{}))
	for _, tc := range []struct {
		name, query string
	}{
		{"100 asks", aliases(100, `ask(question: "E102") { text }`)},
		{"100 searches of one hit", aliases(100, `search(query: "E102", limit: 1) { score }`)},
		{"50 daily series of a year", aliases(50, `askSeries(from: "2024-01-01T00:00:00Z", to: "2025-01-01T00:00:00Z") { start count }`)},
		{"30 daily series of 1,000 days", aliases(30, `askSeries(from: "2020-01-01T00:00:00Z", to: "2022-09-27T00:00:00Z") { start count }`)},
		{"20 accounts", "mutation " + aliases(20, `createUser(name: "x", password: "0123456789", role: "editor") { name }`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out map[string]any
			if err := c.Post(tc.query, &out, admin); err == nil || !strings.Contains(err.Error(), "complexity") {
				t.Errorf("%v; want refused for complexity", err)
			}
		})
	}
	if n := answers.asks.Load() + answers.searches.Load(); n != 0 {
		t.Errorf("refused operations ran %d asks and searches", n)
	}
	var out map[string]any
	for _, q := range []string{
		`{ ask(question: "E102") { id question kind text confidence notes citations { url } handoff { recommended reason } related { text } } }`,
		`{ search(query: "E102", limit: 20) { heading headingPath score snippet document { id title source } section { id anchor page } } }`,
		`{ askSeries(from: "2024-01-01T00:00:00Z", to: "2025-01-01T00:00:00Z") { start count } }`,
		aliases(5, `ask(question: "E102") { text }`),
	} {
		if err := c.Post(q, &out, admin); err != nil {
			t.Errorf("%.60s…: %v", q, err)
		}
	}
}

// TestAskSeriesIsCapped: a series is refused past MaxSeriesPoints points even where the
// complexity limit would let it through.
func TestAskSeriesIsCapped(t *testing.T) {
	r := &gql.Resolver{Answers: &cannedAnswers{}, Analytics: emptyAnalytics{}}
	c := client.New(gql.NewHandler(r, gql.Options{MaxComplexity: 1 << 30}))
	var out map[string]any
	err := c.Post(`{ askSeries(from: "1925-01-01T00:00:00Z", to: "2025-01-01T00:00:00Z") { start } }`, &out, admin)
	if err == nil || !strings.Contains(err.Error(), "at most") {
		t.Errorf("a daily series of a century: %v; want refused for its size", err)
	}
	if err := c.Post(`{ askSeries(bucket: "week", from: "2006-01-02T00:00:00Z", to: "2025-01-01T00:00:00Z") { start } }`, &out, admin); err != nil {
		t.Errorf("a weekly series of 19 years: %v", err)
	}
}

// TestEveryAskDrawsFromTheRateLimit: each ask and search an operation runs, aliases included,
// takes one from the request's rate limit; those over it fail with rate_limited, the rest answer.
func TestEveryAskDrawsFromTheRateLimit(t *testing.T) {
	answers := &cannedAnswers{}
	var drawn atomic.Int32
	r := &gql.Resolver{Answers: answers, Limit: func(ctx context.Context) error {
		if drawn.Add(1) > 3 {
			return fixgraph.Errorf(fixgraph.ERATELIMITED, "slow down")
		}
		return nil
	}}
	c := client.New(gql.NewHandler(r, gql.Options{}))
	resp, err := c.RawPost(`{ a: ask(question: "x") { text } b: ask(question: "y") { text } c: search(query: "z", limit: 1) { score }
  d: search(query: "w", limit: 1) { score } e: ask(question: "v") { text } me { id } }`, admin)
	if err != nil {
		t.Fatal(err)
	}
	var errs []struct{ Extensions map[string]any }
	if err := json.Unmarshal(resp.Errors, &errs); err != nil {
		t.Fatal(err)
	}
	limited := 0
	for _, e := range errs {
		if e.Extensions["code"] == fixgraph.ERATELIMITED {
			limited++
		}
	}
	if drawn.Load() != 5 || limited != 2 || answers.asks.Load()+answers.searches.Load() != 3 {
		t.Errorf("drew %d, %d rate-limited, %d ran; want 5 drawn, 2 limited, 3 run (errors %v)",
			drawn.Load(), limited, answers.asks.Load()+answers.searches.Load(), string(resp.Errors))
	}
}
