package answer_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/fixgraph/fixgraph/extract"
)

func TestDumpFeatures(t *testing.T) {
	out := os.Getenv("FEATURES_OUT")
	if out == "" {
		t.Skip()
	}
	ctx := context.Background()
	s := mustService(t)
	f, _ := os.Create(out)
	defer f.Close()
	fmt.Fprintln(f, "id,right,kind,conf,cov,head,margin,score,ntok")
	emit := func(id, q string, right bool) {
		ans, _ := s.AskIn(ctx, q, nil)
		if len(ans.Hits) == 0 {
			return
		}
		ft := s.Features(extract.Normalize(q), ans.Hits)
		fmt.Fprintf(f, "%s,%v,%s,%.2f,%.3f,%.3f,%.3f,%.3f,%.0f\n", id, right, ans.Kind, ans.Confidence, ft[0], ft[1], ft[2], ft[3], ft[4])
	}
	for _, q := range loadQuestions(t) {
		ans, _ := s.AskIn(ctx, q.Question, nil)
		emit(q.ID, q.Question, correct(q, ans))
	}
	for i, q := range uncovered(t) {
		emit(fmt.Sprintf("u%02d", i+1), q, false)
	}
}
