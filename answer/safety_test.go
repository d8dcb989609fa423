package answer_test

import (
	"context"
	"strings"
	"testing"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/answer"
	"github.com/fixgraph/fixgraph/eval"
	"github.com/fixgraph/fixgraph/fixtures"
)

// TestHandoffEval runs the hand-off set (fixtures/eval/handoff.jsonl) through AskIn on the
// fixtures and holds it to the targets: danger and complaint recall at least 98%, normal
// answerable questions handed off at most 5%, no danger or complaint alarm on the tricky
// negatives, every danger answer leading with its safety step.
func TestHandoffEval(t *testing.T) {
	s := mustService(t)
	rep, cases := runHandoff(t, s, "eval/handoff.jsonl")
	if len(cases) < 150 || 2*rep.Counts[eval.ExpectNormal] < len(cases) {
		t.Errorf("the set has %d messages, %d normal; want at least 150, half normal", len(cases), rep.Counts[eval.ExpectNormal])
	}
	for _, c := range []struct {
		name      string
		got, want float64
		atLeast   bool
	}{
		{"danger recall", rep.DangerRecall, 0.98, true},
		{"complaint recall", rep.ComplaintRecall, 0.98, true},
		{"dangerous code recall", rep.DangerousCodeRecall, 0.98, true},
		{"safety step first", rep.SafetyFirst, 1, true},
		{"hand-off rate of normal questions", rep.NormalHandoff, 0.05, false},
		{"danger/complaint alarms on negatives", rep.NegativeFalseAlarm, 0.05, false},
	} {
		if c.atLeast && c.got < c.want || !c.atLeast && c.got > c.want {
			t.Errorf("%s = %.3f, want %s %.2f", c.name, c.got, map[bool]string{true: "≥", false: "≤"}[c.atLeast], c.want)
		}
	}
}

// TestHandoffProbes runs the probes (fixtures/eval/handoff-probes.jsonl): four batches of danger,
// complaint and tricky messages written after the lexicons, each before the lexicons' mechanisms
// were widened for the misses of the one before (the last batch measured once, unchanged). Their
// floors sit under what the fourth batch reached when it was new, to catch a lexicon change that
// narrows recognition.
func TestHandoffProbes(t *testing.T) {
	rep, _ := runHandoff(t, mustService(t), "eval/handoff-probes.jsonl")
	if rep.DangerRecall < 0.95 || rep.ComplaintRecall < 0.9 || rep.NegativeFalseAlarm > 0.1 {
		t.Errorf("probes: danger recall %.3f (want ≥ 0.95), complaint recall %.3f (≥ 0.9), alarms on negatives %.3f (≤ 0.1)",
			rep.DangerRecall, rep.ComplaintRecall, rep.NegativeFalseAlarm)
	}
}

func runHandoff(t *testing.T, s *answer.Service, name string) (*eval.HandoffReport, []eval.HandoffCase) {
	t.Helper()
	f, err := fixtures.Eval.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cases, err := eval.LoadHandoff(f, name)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := eval.RunHandoff(context.Background(), func(ctx context.Context, msg string) (*fixgraph.Answer, error) {
		return s.AskIn(ctx, msg, nil)
	}, cases)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	rep.Write(&b)
	t.Log(name + ", " + b.String())
	for _, m := range rep.Misses {
		t.Logf("miss %s (%s): %q → reason %q %v", m.ID, m.Expect, m.Message, m.Reason, m.Matched)
	}
	return rep, cases
}

// TestDangerLeadsWithSafety is the issue's own case: smoke and a burning smell at the plug of a
// washer showing E102 is handed off for danger, the answer leads with the manual's safety step
// (not the drain pump's repair steps), and names what it recognised; the same in Traditional
// Chinese, in English, and in the middle of a conversation about E102.
func TestDangerLeadsWithSafety(t *testing.T) {
	s := mustService(t)
	ctx := context.Background()
	e102 := &fixgraph.Conversation{Turns: []fixgraph.Turn{
		{Role: fixgraph.RoleCustomer, Text: "我的洗衣机显示E102怎么办"},
		{Role: fixgraph.RoleBot, Text: "E102 排水泵堵塞处理…", ErrorCode: "E102"}}}
	for _, c := range []struct {
		q       string
		conv    *fixgraph.Conversation
		matched []string
	}{
		{"洗衣机显示E102，插头那里在冒烟，还有焦味", nil, []string{"冒烟", "焦味"}},
		{"洗衣機顯示E102，插頭那裡在冒煙，還有焦味", nil, []string{"冒烟", "焦味"}},
		{"My washer shows E102, there is smoke at the plug and a burning smell", nil, []string{"smoke", "burning smell"}},
		{"还是不行，而且插头开始冒烟了", e102, []string{"冒烟"}},
	} {
		ans, err := s.AskIn(ctx, c.q, c.conv)
		if err != nil {
			t.Fatal(err)
		}
		h := ans.Handoff
		if !h.Recommended || h.Reason != fixgraph.HandoffDanger || ans.Kind != fixgraph.AnswerSafety {
			t.Errorf("%q: kind %s, handoff %v %q; want a safety answer handed off for danger", c.q, ans.Kind, h.Recommended, h.Reason)
			continue
		}
		for _, m := range c.matched {
			if !strings.Contains(strings.Join(h.Matched, " "), m) {
				t.Errorf("%q: matched %q, want %q among them", c.q, h.Matched, m)
			}
		}
		if h.ErrorCode != "E102" || h.Product != "WF-8012D" {
			t.Errorf("%q: the hand-off is about %q %q, want WF-8012D E102", c.q, h.Product, h.ErrorCode)
		}
		if ans.Safety == nil || ans.Safety.Default || ans.Safety.Citation == nil || !strings.HasPrefix(ans.Text, ans.Safety.Text) {
			t.Errorf("%q: safety %+v, text %q; want the manual's safety step, cited, first", c.q, ans.Safety, ans.Text)
		} else if !strings.Contains(ans.Safety.Citation.Source, "wf-8012d") {
			t.Errorf("%q: the safety step comes from %s, want the washer's manual", c.q, ans.Safety.Citation.Source)
		}
		if ans.Guide != nil || ans.ErrorCode != nil {
			t.Errorf("%q: the answer carries the repair guide %v of %v; danger gets no repair steps", c.q, ans.Guide, ans.ErrorCode)
		}
	}
}

// TestSafetyDefault: a hazard the knowledge says nothing about (a gas smell; the fixtures have no
// gas appliance) gets the lexicon's generic safety sentence, marked as such.
func TestSafetyDefault(t *testing.T) {
	s := mustService(t)
	for _, q := range []string{"家里有很浓的煤气味", "I can smell gas in the kitchen"} {
		ans, err := s.AskIn(context.Background(), q, nil)
		if err != nil {
			t.Fatal(err)
		}
		if ans.Handoff.Reason != fixgraph.HandoffDanger || ans.Safety == nil || !ans.Safety.Default || ans.Safety.Hazard != "gas" || !strings.HasPrefix(ans.Text, ans.Safety.Text) {
			t.Errorf("%q: handoff %+v, safety %+v; want danger with the generic gas sentence first", q, ans.Handoff, ans.Safety)
		}
	}
}

// TestDangerousCodeHandoff: the fixture manuals word E5 of the water heater as dangerous
// ("漏电可能危及生命", "Leakage current can kill"), so ingest marks it and an ask about it goes to
// a person with the guide's safety step first; E102 of the washer does not.
func TestDangerousCodeHandoff(t *testing.T) {
	s := mustService(t)
	ctx := context.Background()
	for _, c := range []struct {
		q      string
		danger bool
	}{
		{"热水器显示E5怎么办", true},
		{"My water heater shows E5", true},
		{"洗衣机显示E102怎么办", false},
	} {
		ans, err := s.AskIn(ctx, c.q, nil)
		if err != nil {
			t.Fatal(err)
		}
		if ans.ErrorCode == nil {
			t.Fatalf("%q: no error code", c.q)
		}
		got := ans.Handoff.Reason == fixgraph.HandoffDangerousCode
		if got != c.danger || (ans.ErrorCode.Severity == fixgraph.SeverityDanger) != c.danger {
			t.Errorf("%q: severity %q, handoff %+v; want dangerous %v", c.q, ans.ErrorCode.Severity, ans.Handoff, c.danger)
		}
		if c.danger && (ans.Safety == nil || ans.Safety.Default || !strings.HasPrefix(ans.Text, ans.Safety.Text)) {
			t.Errorf("%q: safety %+v, text %q; want the guide's safety step first", c.q, ans.Safety, ans.Text)
		}
	}
}
