package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/analytics"
)

// TestAskFeedbackAndQueue: asks through GraphQL are recorded with ids; an uncovered question
// (handed off) and an answer marked unhelpful land in the unanswered queue, grouped; a helpful
// one does not; the top error codes count what was asked.
func TestAskFeedbackAndQueue(t *testing.T) {
	base, a := testServer(t)
	if _, err := a.loadFixtures(t.Context()); err != nil {
		t.Fatal(err)
	}
	type answer struct {
		Ask struct {
			ID      string
			Kind    string
			Handoff struct {
				Recommended bool
				Reason      string
			}
		}
	}
	ask := func(q string) answer {
		t.Helper()
		var out answer
		gqlPost(t, base, `query($q: String!) { ask(question: $q) { id kind handoff { recommended reason } } }`, map[string]any{"q": q}, &out)
		if out.Ask.ID == "" {
			t.Fatalf("ask %q has no id", q)
		}
		return out
	}
	for _, q := range []string{"冰箱不制冷怎么办", "冰箱不制冷了怎么办？", "我的冰箱不制冷"} {
		if got := ask(q); !got.Ask.Handoff.Recommended {
			t.Errorf("%q was answered (%s) without a hand-off", q, got.Ask.Kind)
		}
	}
	good := ask("我的洗衣机显示E102怎么办")
	unhelpful := ask("洗衣机显示E104怎么办")
	ask("洗衣机显示E104，门锁不上")
	var fb struct{ Feedback bool }
	gqlPost(t, base, `mutation($id: ID!) { feedback(answerId: $id, helpful: true) }`, map[string]any{"id": good.Ask.ID}, &fb)
	gqlPost(t, base, `mutation($id: ID!) { feedback(answerId: $id, helpful: false, comment: "门还是锁不上，电话 13812345678") }`, map[string]any{"id": unhelpful.Ask.ID}, &fb)

	var queue struct {
		Unanswered []struct {
			Question  string
			Count     int
			Questions []string
			Unhelpful int
			Handoffs  int
		}
		TopAsked []struct {
			Key   string
			Count int
		}
	}
	gqlPost(t, base, `{ unanswered { question count questions unhelpful handoffs } topAsked(by: "code") { key count } }`, nil, &queue)
	var fridge, e104 int
	for _, g := range queue.Unanswered {
		switch {
		case strings.Contains(g.Question, "冰箱"):
			fridge += g.Count
		case strings.Contains(g.Question, "E104"):
			e104 += g.Unhelpful
		case strings.Contains(g.Question, "E102"):
			t.Errorf("a helpful answer is in the queue: %+v", g)
		}
	}
	if fridge != 3 || e104 != 1 || len(queue.Unanswered) > 3 {
		t.Errorf("unanswered queue: %+v; want the three fridge questions together and the unhelpful E104 answer", queue.Unanswered)
	}
	if len(queue.TopAsked) == 0 || queue.TopAsked[0].Key != "E104" || queue.TopAsked[0].Count != 2 {
		t.Errorf("top codes: %+v; want E104 twice first", queue.TopAsked)
	}
	var missing map[string]any
	if err := gqlPostErr(base, `mutation { feedback(answerId: "nope", helpful: true) }`, nil, &missing); err == nil || !strings.Contains(err.Error(), "not_found") {
		t.Errorf("feedback on an unknown answer: %v", err)
	}
}

// TestAskLogMasksConversationIDs: a bot's conversation id often names the customer (a phone
// number, an e-mail address); the analytics store keeps it masked, as it keeps questions, and
// leaves ids without personal data as they are.
func TestAskLogMasksConversationIDs(t *testing.T) {
	st, err := analytics.Open(filepath.Join(t.TempDir(), "analytics.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	l := askLog{store: st}
	for _, tt := range []struct{ conv, want string }{
		{"wx_13812345678", "wx_138****5678"},
		{"tel:+86 138 1234 5678", "tel:+86 138 **** 5678"},
		{"mail:li.lei@example.com/2026-11-20", "mail:l***@example.com/2026-11-20"},
		{"https://crm.example.com/chat?phone=13812345678&id=9", "https://crm.example.com/chat?phone=138****5678&id=9"},
		{"conv-2026-11-20-0001", "conv-2026-11-20-0001"},
		{"o6_bmjrPTlm6_2sgVt7hMZOPfL2M", "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"},
	} {
		id, err := l.RecordAsk(t.Context(), &fixgraph.Answer{Question: "洗衣机显示E102，回电13812345678"}, &fixgraph.Conversation{ID: tt.conv})
		if err != nil {
			t.Fatal(err)
		}
		ev, err := st.Get(id)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Conversation != tt.want {
			t.Errorf("conversation %q is stored as %q, want %q", tt.conv, ev.Conversation, tt.want)
		}
		if strings.Contains(ev.Question, "13812345678") {
			t.Errorf("the question is stored as %q", ev.Question)
		}
	}
}
