package answer_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/answer"
	"github.com/fixgraph/fixgraph/fixtures"
	"github.com/fixgraph/fixgraph/internal/fixgraphtest"
)

// readJSONL reads a JSON-lines file of fixtures/eval.
func readJSONL[T any](tb testing.TB, name string) []T {
	tb.Helper()
	f, err := fixtures.Eval.Open(name)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			tb.Fatalf("%s: %v", name, err)
		}
		out = append(out, v)
	}
	return out
}

// uncovered reads the questions about things the corpus does not cover.
func uncovered(tb testing.TB) []string {
	var out []string
	for _, q := range readJSONL[struct{ Question string }](tb, "eval/uncovered.jsonl") {
		out = append(out, q.Question)
	}
	return out
}

// TestConfidenceIsCalibrated asks every fixture question and every question the corpus does not
// cover, and reports accuracy per confidence bucket (an uncovered question answered without a
// hand-off counts as wrong). Higher buckets must be more accurate, answers under the hand-off
// threshold recommend a person, and every uncovered question is handed off.
func TestConfidenceIsCalibrated(t *testing.T) {
	checkCalibration(t, mustService(t))
}

// TestConfidenceIsCalibratedHybrid runs the same check on BM25 fused with the real embeddings,
// as serve runs by default.
func TestConfidenceIsCalibratedHybrid(t *testing.T) {
	s := fixgraphtest.MustOpenHybrid(t)
	s.MustLoadFixtures(t)
	checkCalibration(t, s.Answers())
}

func checkCalibration(t *testing.T, s *answer.Service) {
	ctx := context.Background()
	type bucket struct{ n, right int }
	edges := []float64{0.5, 0.7, 0.9, 1.01}
	buckets := make([]bucket, len(edges))
	add := func(conf float64, right bool) {
		for i, e := range edges {
			if conf < e {
				buckets[i].n++
				if right {
					buckets[i].right++
				}
				return
			}
		}
	}
	handedOffRight := 0
	for _, q := range loadQuestions(t) {
		ans, err := s.AskIn(ctx, q.Question, nil)
		if err != nil {
			t.Fatal(err)
		}
		ok := correct(q, ans)
		add(ans.Confidence, ok)
		safety := slices.Contains([]string{fixgraph.HandoffDanger, fixgraph.HandoffComplaint, fixgraph.HandoffDangerousCode}, ans.Handoff.Reason)
		if ans.Handoff.Recommended != (ans.Confidence < answer.DefaultHandoffThreshold) && ans.Kind != "none" && !safety { // safety hands off whatever the confidence
			t.Errorf("%s: confidence %.2f, hand-off %v", q.ID, ans.Confidence, ans.Handoff.Recommended)
		}
		if ok && ans.Handoff.Recommended {
			handedOffRight++
		}
	}
	for _, q := range uncovered(t) {
		ans, err := s.AskIn(ctx, q, nil)
		if err != nil {
			t.Fatal(err)
		}
		add(ans.Confidence, false)
		if !ans.Handoff.Recommended {
			t.Errorf("uncovered %q answered (%s, %.2f) without a hand-off", q, ans.Kind, ans.Confidence)
		}
	}
	var report strings.Builder
	lo := 0.0
	prev := -1.0
	for i, b := range buckets {
		acc := 0.0
		if b.n > 0 {
			acc = float64(b.right) / float64(b.n)
		}
		fmt.Fprintf(&report, "[%.1f, %.1f): %3d answers, accuracy %.2f\n", lo, min(edges[i], 1), b.n, acc)
		if b.n >= 5 && acc < prev {
			t.Errorf("bucket [%.1f, %.1f) is less accurate (%.2f) than the one below (%.2f)", lo, edges[i], acc, prev)
		}
		if b.n >= 5 {
			prev = acc
		}
		lo = edges[i]
	}
	t.Logf("confidence buckets (fixture questions and uncovered ones):\n%s%d right answers were handed off anyway", report.String(), handedOffRight)
}
