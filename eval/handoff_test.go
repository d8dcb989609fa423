package eval

import (
	"context"
	"strings"
	"testing"

	"github.com/fixgraph/fixgraph"
)

// TestRunHandoff scores a canned asker: recall per expectation, the safety step first, the
// hand-off rates of normal questions and negatives, and the misses.
func TestRunHandoff(t *testing.T) {
	set := `{"id":"n1","message":"E102?","expect":"normal"}
{"id":"n2","message":"uncovered","expect":"normal"}
{"id":"x1","message":"no smoke","expect":"negative"}
{"id":"d1","message":"smoke","expect":"danger"}
{"id":"d2","message":"smoke, no step","expect":"danger"}
{"id":"c1","message":"lawyer","expect":"complaint"}
{"id":"k1","message":"E5","expect":"dangerous_code"}
`
	cases, err := LoadHandoff(strings.NewReader(set), "set.jsonl")
	if err != nil || len(cases) != 7 {
		t.Fatalf("LoadHandoff = %d cases, %v", len(cases), err)
	}
	if _, err := LoadHandoff(strings.NewReader(`{"id":"x","message":"hi","expect":"maybe"}`), "bad.jsonl"); fixgraph.CodeOf(err) != fixgraph.EINVALID {
		t.Errorf("an unknown expectation: %v", err)
	}
	step := &fixgraph.SafetyStep{Text: "Unplug it."}
	answers := map[string]*fixgraph.Answer{
		"E102?":          {},
		"uncovered":      {Handoff: fixgraph.Handoff{Recommended: true, Reason: fixgraph.HandoffLowConfidence}},
		"no smoke":       {Handoff: fixgraph.Handoff{Recommended: true, Reason: fixgraph.HandoffLowConfidence}},
		"smoke":          {Text: "Unplug it. A person…", Safety: step, Handoff: fixgraph.Handoff{Recommended: true, Reason: fixgraph.HandoffDanger}},
		"smoke, no step": {Text: "E102 steps", Guide: &fixgraph.RepairGuide{}, Handoff: fixgraph.Handoff{Recommended: true, Reason: fixgraph.HandoffDanger}},
		"lawyer":         {Handoff: fixgraph.Handoff{Recommended: true, Reason: fixgraph.HandoffComplaint}},
		"E5":             {Text: "Unplug it. E5…", Safety: step, Handoff: fixgraph.Handoff{Recommended: true, Reason: fixgraph.HandoffDangerousCode}},
	}
	rep, err := RunHandoff(context.Background(), func(_ context.Context, msg string) (*fixgraph.Answer, error) { return answers[msg], nil }, cases)
	if err != nil {
		t.Fatal(err)
	}
	if rep.DangerRecall != 1 || rep.ComplaintRecall != 1 || rep.DangerousCodeRecall != 1 || rep.NormalHandoff != 0.5 ||
		rep.NegativeFalseAlarm != 0 || rep.NegativeHandoff != 1 || rep.SafetyFirst != round(2.0/3) || len(rep.Misses) != 1 || rep.Misses[0].ID != "n2" {
		t.Errorf("report = %+v", rep)
	}
	var b strings.Builder
	rep.Write(&b)
	if !strings.Contains(b.String(), "danger recall") || !strings.Contains(b.String(), "hand-off rate of normal questions         0.500") {
		t.Errorf("Write:\n%s", b.String())
	}
}
