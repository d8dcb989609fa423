package answer_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/extract"
)

// TestDumpFeatures writes, for every fixture question and every uncovered one, whether its answer
// is right and what its confidence is computed from, as CSV into $FEATURES_OUT: the data the
// confidence weights in ask.go were fitted on. It only runs when FEATURES_OUT is set.
func TestDumpFeatures(t *testing.T) {
	out := os.Getenv("FEATURES_OUT")
	if out == "" {
		t.Skip("set FEATURES_OUT=FILE to write the calibration data")
	}
	ctx := context.Background()
	s := mustService(t)
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fmt.Fprintln(f, "id,right,kind,conf,cov,head,score,ntok")
	ask := func(q string) *fixgraph.Answer {
		ans, err := s.AskIn(ctx, q, nil)
		if err != nil {
			t.Fatal(err)
		}
		return ans
	}
	row := func(id, q string, ans *fixgraph.Answer, right bool) {
		if len(ans.Hits) == 0 {
			return
		}
		ft := s.Features(extract.Normalize(q), ans.Hits[0])
		fmt.Fprintf(f, "%s,%v,%s,%.2f,%.3f,%.3f,%.3f,%.0f\n", id, right, ans.Kind, ans.Confidence, ft[0], ft[1], ft[2], ft[3])
	}
	for _, q := range loadQuestions(t) {
		ans := ask(q.Question)
		row(q.ID, q.Question, ans, correct(q, ans))
	}
	for i, q := range uncovered(t) {
		row(fmt.Sprintf("u%02d", i+1), q, ask(q), false)
	}
}
