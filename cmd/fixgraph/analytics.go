package main

import (
	"context"
	"time"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/analytics"
	"github.com/fixgraph/fixgraph/extract"
	"github.com/fixgraph/fixgraph/gql"
)

// chinaTime is the zone the analytics count days and weeks in: the content teams' own.
var chinaTime = time.FixedZone("CST", 8*3600)

// openAnalytics opens the record of what was asked.
func (a *app) openAnalytics() error {
	db, err := a.store("analytics", "analytics.db")
	if err != nil {
		return err
	}
	st := analytics.New(db)
	st.Tokens = a.index.Analyze
	a.asks = st
	a.closers = append(a.closers, st)
	return nil
}

// pruneAnalytics deletes asks older than keep, now and every day, until ctx ends.
func (a *app) pruneAnalytics(ctx context.Context, keep time.Duration) {
	for {
		n, err := a.asks.Prune(time.Now().Add(-keep))
		switch {
		case err != nil:
			a.log.Error("pruning the analytics", "err", err)
		case n > 0:
			a.log.Info("pruned old asks from the analytics", "asks", n, "older than", keep)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(24 * time.Hour):
		}
	}
}

// askLog records answered questions in the analytics store, masked as documents are, and the
// conversations they were asked in under masked ids.
type askLog struct {
	store *analytics.Store
	pii   extract.PIIOptions
}

func (l askLog) RecordAsk(ctx context.Context, ans *fixgraph.Answer, conv *fixgraph.Conversation) (string, error) {
	q, _ := extract.MaskPII(ans.Question, l.pii)
	e := analytics.Event{Question: q, Language: ans.Language, Kind: ans.Kind, Confidence: ans.Confidence,
		Answered: ans.Kind != fixgraph.AnswerNone && !ans.Handoff.Recommended, Handoff: ans.Handoff.Recommended,
		Product: ans.Handoff.Product, Code: ans.Handoff.ErrorCode, Principal: fixgraph.PrincipalFrom(ctx).ID}
	if conv != nil {
		// A caller's conversation id may name the customer (wx_13812345678): it is masked as an
		// identifier, with '_' and '/' between its words.
		e.Conversation, _ = extract.MaskSource(conv.ID, l.pii)
	}
	rec, err := l.store.Record(e)
	return rec.ID, err
}

// Feedback records feedback on the answer id from the principal it was given to; anyone else's
// feedback is refused as if the answer did not exist.
func (l askLog) Feedback(ctx context.Context, id string, helpful bool, comment string) error {
	e, err := l.store.Get(id)
	if err != nil {
		return err
	}
	if e.Principal != fixgraph.PrincipalFrom(ctx).ID {
		return fixgraph.Errorf(fixgraph.ENOTFOUND, "no analytics event %q", id)
	}
	c, _ := extract.MaskPII(comment, l.pii)
	_, err = l.store.Feedback(id, helpful, c)
	return err
}

// analyticsView is the analytics store as the GraphQL resolvers read it.
type analyticsView struct{ store *analytics.Store }

var (
	_ gql.AskLog    = askLog{}
	_ gql.Analytics = analyticsView{}
)

func (v analyticsView) Top(by string, from, to time.Time, limit int) ([]*gql.AskCount, error) {
	counts, err := v.store.Top(by, from, to, limit)
	out := make([]*gql.AskCount, len(counts))
	for i, c := range counts {
		out[i] = &gql.AskCount{Key: c.Key, Count: c.Count, Example: optional(c.Example)}
	}
	return out, err
}

func (v analyticsView) Series(by, key, bucket string, from, to time.Time) ([]*gql.AskPoint, error) {
	points, err := v.store.Series(by, key, bucket, from, to, chinaTime)
	out := make([]*gql.AskPoint, len(points))
	for i, p := range points {
		out[i] = &gql.AskPoint{Start: p.Start, Count: p.Count}
	}
	return out, err
}

func (v analyticsView) Unanswered(from, to time.Time, limit int) ([]*gql.UnansweredGroup, error) {
	groups, err := v.store.Unanswered(from, to, limit)
	out := make([]*gql.UnansweredGroup, len(groups))
	for i, g := range groups {
		out[i] = &gql.UnansweredGroup{Question: g.Question, Count: g.Count, Questions: g.Questions, AskIds: g.Events,
			Last: g.Last, Unhelpful: g.Unhelpful, Handoffs: g.Handoffs}
	}
	return out, err
}

func (v analyticsView) Surges(now time.Time, window, baseline time.Duration) ([]*gql.Surge, error) {
	surges, err := v.store.Surges(now, analytics.SurgeOptions{Window: window, Baseline: baseline})
	out := make([]*gql.Surge, len(surges))
	for i, s := range surges {
		out[i] = &gql.Surge{By: s.By, Key: s.Key, Count: s.Count, Expected: s.Expected, Ratio: s.Ratio, Since: s.Since}
	}
	return out, err
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
