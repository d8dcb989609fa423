package answer

import (
	"context"
	"regexp"
	"slices"
	"strings"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/answer/lexicon"
	"github.com/fixgraph/fixgraph/extract"
)

// escalate answers a message that tells of danger or complains, before anything is looked up for
// it: a person is recommended at once with what was recognised; danger gets the safety step first
// and never repair steps, a complaint an apology. The search hits (the safety search's, or the
// question's for a complaint) are kept for the agent's suggestions.
func (s *Service) escalate(ctx context.Context, ans *fixgraph.Answer, q string, ms []lexicon.Match) error {
	h := &ans.Handoff
	h.Recommended, h.Reason = true, fixgraph.HandoffComplaint
	hazards := lexicon.Hazards(ms)
	if len(hazards) > 0 {
		h.Reason = fixgraph.HandoffDanger
	}
	for _, m := range ms {
		if (len(hazards) == 0 || m.Class == lexicon.Danger) && !slices.Contains(h.Matched, m.Term) {
			h.Matched = append(h.Matched, m.Term)
		}
	}
	h.Hazards = hazards
	ans.Confidence = 1 // what was recognised is certain; the answer is a person

	// What the message is about, for the agent: the product it names, the code it shows.
	products, err := s.products(ctx)
	if err != nil {
		return err
	}
	named := matchProducts(q, products)
	for _, c := range extract.QuestionCodes(q) {
		ecs, err := s.Graph.ErrorCodes(ctx, c.Code)
		if err != nil {
			return err
		}
		if ec, _ := pickErrorCode(ecs, named); ec != nil {
			h.ErrorCode = ec.Code
			named = append([]string{ec.Product}, named...)
			break
		}
	}
	if len(named) > 0 {
		if ans.Product, err = s.product(ctx, named[0]); err != nil {
			return err
		}
	}

	if len(hazards) == 0 {
		ans.Kind = fixgraph.AnswerHandoff
		ans.Text = say(ans.Language, "非常抱歉给您带来不好的体验。已为您转接人工客服专员，马上为您处理，请稍候。",
			"I am sorry for the trouble this has caused. I am passing you to a person from our service team who will take this up with you now.")
		ans.Hits, err = s.Search(ctx, q, 5, Published)
		return err
	}
	ans.Kind = fixgraph.AnswerSafety
	step, hits, err := s.safetyStep(ctx, ans.Language, hazards, named)
	if err != nil {
		return err
	}
	ans.Safety, ans.Hits = step, hits
	ans.Text = step.Text + say(ans.Language, " 已为您转接人工客服，工作人员会马上联系您。", " A person from our service team is being called in to help you now.")
	if step.Citation != nil {
		ans.Citations = []fixgraph.Citation{*step.Citation}
	}
	return nil
}

// safetyStep finds what the knowledge says to do first about the first of hazards: of the
// sections a search for the hazard finds (in the question's language, about the products named or
// none), the first sentence that names the hazard, or one its lexicon relates to it, and tells
// what to do (unplug, switch off, leave…). Repair guides' warnings, safety sections and policy
// clauses are all sections. Without one, the lexicon's generic sentence, marked as such.
func (s *Service) safetyStep(ctx context.Context, lang string, hazards, products []string) (*fixgraph.SafetyStep, []fixgraph.Hit, error) {
	lex := lexicon.For(lang)
	var all []fixgraph.Hit
	for _, hz := range hazards {
		sf := lex.Safety[hz]
		f := fixgraph.SearchFilter{Statuses: Published.Statuses, Languages: []string{lang}, Products: products}
		hits, err := s.Search(ctx, sf.Query, 10, f)
		if err != nil {
			return nil, nil, err
		}
		all = append(all, hits...)
		// A step about the hazard itself first, then one about a hazard the lexicon relates to it.
		for _, want := range [][]string{{hz}, sf.Related} {
			for _, h := range hits {
				for _, sent := range sentences(h.Section.Text) {
					if lex.CountActions(sent) == 0 || !slices.ContainsFunc(want, func(w string) bool { return lex.Mentions(sent, w) }) {
						continue
					}
					c := Cite(h.Section, h.Document)
					return &fixgraph.SafetyStep{Hazard: hz, Text: sent, Citation: &c}, all, nil
				}
			}
		}
	}
	hz := hazards[0]
	text := lex.Safety[hz].Default
	if text == "" {
		text = lex.Safety[""].Default
	}
	return &fixgraph.SafetyStep{Hazard: hz, Text: text, Default: true}, all, nil
}

// dangerousCode turns a troubleshooting answer about a code whose severity is danger into a
// hand-off that leads with the safety step: the first warning or step of its repair guide that
// tells what to do, else the generic sentence. The guide stays, after the safety step.
func (s *Service) dangerousCode(ans *fixgraph.Answer) {
	ec := ans.ErrorCode
	lex := lexicon.For(ans.Language)
	step := &fixgraph.SafetyStep{Text: lex.Safety[""].Default, Default: true}
	if g := ans.Guide; g != nil {
	found:
		for _, part := range [][]string{g.Warnings, g.Steps} {
			for _, t := range part {
				for _, sent := range sentences(t) {
					if lex.CountActions(sent) > 0 {
						step = &fixgraph.SafetyStep{Text: sent}
						if len(ans.Citations) > 0 {
							c := ans.Citations[0]
							step.Citation = &c
						}
						break found
					}
				}
			}
		}
	}
	ans.Safety = step
	ans.Text = step.Text + " " + ans.Text
	ans.Handoff.Recommended, ans.Handoff.Reason = true, fixgraph.HandoffDangerousCode
	ans.Handoff.Matched = []string{ec.Code}
}

var sentenceEnd = regexp.MustCompile(`[。！？；!?;\n]+|\.\s+`)

// sentences splits text into its sentences, each with its closing mark.
func sentences(text string) []string {
	var out []string
	last := 0
	for _, loc := range sentenceEnd.FindAllStringIndex(text, -1) {
		if s := strings.TrimSpace(text[last:loc[1]]); s != "" {
			out = append(out, s)
		}
		last = loc[1]
	}
	if s := strings.TrimSpace(text[last:]); s != "" {
		out = append(out, s)
	}
	return out
}
