package answer_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/answer"
)

// convCase is one conversation of fixtures/eval/conversations.jsonl: the customer's turns, each
// with what its answer must be.
type convCase struct {
	ID       string
	Lang     string
	Model    string
	Firmware string
	Turns    []struct {
		Q      string
		Expect struct {
			Kind       string
			Code       string
			Product    string
			Part       string // a SKU the answer names, in its text or its guide's parts
			Heading    string // a part of the first citation's heading
			Handoff    *bool
			Related    string // a kind of related knowledge the answer must have
			NotRelated string // a kind it must not have
		}
	}
}

func loadConversations(tb testing.TB) []convCase {
	return readJSONL[convCase](tb, "eval/conversations.jsonl")
}

// partsOf returns the SKUs of the parts the answer's guide needs.
func partsOf(ctx context.Context, s *answer.Service, ans *fixgraph.Answer) string {
	if ans.Guide == nil {
		return ""
	}
	ids, _ := s.Graph.Neighbors(ctx, []string{ans.Guide.ID}, fixgraph.RelNeedsPart, fixgraph.Out)
	return strings.Join(ids[ans.Guide.ID], " ")
}

// TestConversations replays the multi-turn set: each customer turn is asked with the turns
// before it (the bot's answers included, as an app would send them), and must resolve to the
// expected next answer. The share of follow-up turns (every turn after the first) answered right
// must stay at or above the floor; the first turns are reported too.
func TestConversations(t *testing.T) {
	ctx := context.Background()
	s := mustService(t)
	var first, firstRight, follow, followRight int
	var misses []string
	for _, c := range loadConversations(t) {
		conv := &fixgraph.Conversation{ID: c.ID, Model: c.Model, Firmware: c.Firmware}
		for i, turn := range c.Turns {
			ans, err := s.AskIn(ctx, turn.Q, conv)
			if err != nil {
				t.Fatal(err)
			}
			e := turn.Expect
			var why []string
			code, product := "", ""
			if ans.ErrorCode != nil {
				code, product = ans.ErrorCode.Code, ans.ErrorCode.Product
			}
			if e.Kind != "" && ans.Kind != e.Kind {
				why = append(why, "kind "+ans.Kind)
			}
			if e.Code != "" && code != e.Code {
				why = append(why, "code "+code)
			}
			if e.Product != "" && product != e.Product {
				why = append(why, "product "+product)
			}
			if e.Part != "" && !strings.Contains(ans.Text+" "+partsOf(ctx, s, ans), e.Part) {
				why = append(why, "no part "+e.Part)
			}
			if e.Heading != "" && (len(ans.Citations) == 0 || !strings.Contains(strings.ToLower(ans.Citations[0].Heading), strings.ToLower(e.Heading))) {
				heading := ""
				if len(ans.Citations) > 0 {
					heading = ans.Citations[0].Heading
				}
				why = append(why, "cites "+heading)
			}
			kinds := map[string]bool{}
			for _, r := range ans.Related {
				kinds[r.Kind] = true
			}
			if e.Related != "" && !kinds[e.Related] {
				why = append(why, "no related "+e.Related)
			}
			if e.NotRelated != "" && kinds[e.NotRelated] {
				why = append(why, "related "+e.NotRelated)
			}
			if e.Handoff != nil && ans.Handoff.Recommended != *e.Handoff {
				why = append(why, fmt.Sprintf("hand-off %v (%s)", ans.Handoff.Recommended, ans.Handoff.Reason))
			}
			if i == 0 {
				first++
				if len(why) == 0 {
					firstRight++
				}
			} else {
				follow++
				if len(why) == 0 {
					followRight++
				}
			}
			if len(why) > 0 {
				misses = append(misses, fmt.Sprintf("%s turn %d %q: %s", c.ID, i+1, turn.Q, strings.Join(why, ", ")))
			}
			botTurn := fixgraph.Turn{Role: fixgraph.RoleBot, Text: ans.Text, Kind: ans.Kind, ErrorCode: code, Product: product}
			conv.Turns = append(conv.Turns, fixgraph.Turn{Role: fixgraph.RoleCustomer, Text: turn.Q}, botTurn)
		}
	}
	acc := float64(followRight) / float64(follow)
	t.Logf("%d conversations: follow-up turns %d/%d right (%.2f), first turns %d/%d\n%s",
		len(loadConversations(t)), followRight, follow, acc, firstRight, first, strings.Join(misses, "\n"))
	if acc < 0.85 {
		t.Errorf("follow-up accuracy %.2f is under 0.85:\n%s", acc, strings.Join(misses, "\n"))
	}
}

// TestHandoffPackage: a hand-off after three unresolved turns carries what the agent needs.
func TestHandoffPackage(t *testing.T) {
	ctx := context.Background()
	s := mustService(t)
	conv := &fixgraph.Conversation{}
	var ans *fixgraph.Answer
	for _, q := range []string{"我的洗衣机显示E102怎么办", "还是不行", "还是不行啊"} {
		var err error
		if ans, err = s.AskIn(ctx, q, conv); err != nil {
			t.Fatal(err)
		}
		code := ""
		if ans.ErrorCode != nil {
			code = ans.ErrorCode.Code
		}
		conv.Turns = append(conv.Turns, fixgraph.Turn{Role: fixgraph.RoleCustomer, Text: q}, fixgraph.Turn{Role: fixgraph.RoleBot, Text: ans.Text, ErrorCode: code})
	}
	h := ans.Handoff
	if !h.Recommended || h.Reason != fixgraph.HandoffUnresolved || h.Product != "WF-8012D" || h.ErrorCode != "E102" ||
		len(h.Suggested) != 2 || len(h.Suggestions) != 3 || !strings.Contains(h.Summary, "E102") || h.Suggestions[0].Citation.URL == "" {
		t.Errorf("hand-off package: %+v", h)
	}
	if len(ans.Related) == 0 || ans.Related[0].Part != "DC31-00178A" {
		t.Errorf("related knowledge: %+v; want the other code that needs DC31-00178A", ans.Related)
	}
}
