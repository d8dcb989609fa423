package answer

import (
	"cmp"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/answer/lexicon"
	"github.com/fixgraph/fixgraph/extract"
)

// DefaultHandoffThreshold is the confidence under which an answer recommends a human agent.
const DefaultHandoffThreshold = 0.55

// unresolvedTurns is how many turns about one problem without a solution make a hand-off.
const unresolvedTurns = 3

var (
	// asksForPerson matches a customer asking for a human agent.
	asksForPerson = regexp.MustCompile(`(?i)人工|真人|客服人员|接线员|找个人|转接|\bhuman\b|\bagent\b|real person|representative|speak to (someone|a person)|talk to (someone|a person)|\boperator\b`)
	// stillBroken matches a customer saying that what was suggested did not help.
	stillBroken = regexp.MustCompile(`(?i)还是不行|还不行|还是没用|没有用|不管用|没解决|还是报|还是显示|还是一样|依然|仍然|又出现|还是不(转|排|进|加热|工作|出水|启动|开)|\bstill (does ?n'?o?t|did ?n'?o?t|won'?t|will not|is ?n'?o?t|not|no\b|shows?|showing|the same|keeps?|broken|leak|drips?|dripping|beeps?|beeping|fails?|failing|hums?|full|stuck)|(does|did) ?n'?o?t (work|help|fix)|not working|no luck|same (error|problem|code)|keeps? (showing|coming)`)
	// aboutTheFix matches a follow-up about the parts, video or steps of the fix in hand.
	aboutTheFix = regexp.MustCompile(`(?i)零件|配件|备件|视频|步骤|怎么换|哪里买|库存|有货|\bparts?\b|\bvideo\b|\bsteps?\b|replace|in stock|where (can|do) i (buy|get)`)
)

// AskIn answers a question asked in a conversation. The product and error code carry over from
// earlier turns (or the device facts the app sent); "still not working" after a troubleshooting
// answer gets the next step: the part, its stock, and the service option; a question about the
// part or the video answers for the code in hand. Every answer carries a hand-off decision: a
// person is recommended when the customer asks for one, when confidence is under the threshold,
// or after three turns on one problem without a solution.
func (s *Service) AskIn(ctx context.Context, question string, conv *fixgraph.Conversation) (*fixgraph.Answer, error) {
	if conv == nil {
		conv = &fixgraph.Conversation{}
	}
	q, err := normalizeQuestion(question)
	if err != nil {
		return nil, err
	}
	product, code := s.inHand(ctx, conv)
	var ans *fixgraph.Answer
	own := extract.ErrorCodes(q)
	switch {
	case len(lexicon.Recognise(q)) > 0:
		ans, err = s.askWith(ctx, question, product, code) // danger or a complaint: Ask hands it off before looking anything up
	case asksForPerson.MatchString(q):
		ans = &fixgraph.Answer{Question: question, Language: extract.DetectLanguage(q), Kind: fixgraph.AnswerHandoff, Confidence: 1}
		ans.Text = say(ans.Language, "好的，正在为您转接人工客服，请稍候。", "Sure, I am passing you to a person from our service team.")
		ans.Handoff = fixgraph.Handoff{Recommended: true, Reason: fixgraph.HandoffAsked}
	case len(own) == 0 && code != "" && stillBroken.MatchString(q):
		ans, err = s.followUp(ctx, question, product, code)
	case len(own) == 0 && code != "" && aboutTheFix.MatchString(q):
		ans, err = s.askWith(ctx, question, product, code)
	default:
		ans, err = s.askWith(ctx, question, product, "")
	}
	if err != nil {
		return nil, err
	}
	if err := s.related(ctx, ans, conv.Firmware); err != nil {
		return nil, err
	}
	s.decideHandoff(ans, conv, product, code)
	return ans, nil
}

func say(lang, zh, en string) string {
	if lang == "zh" {
		return zh
	}
	return en
}

// inHand returns the product and error code the conversation is about: the latest that a turn
// names (a bot turn's own fields first), else the device facts.
func (s *Service) inHand(ctx context.Context, conv *fixgraph.Conversation) (product, code string) {
	for i := len(conv.Turns) - 1; i >= 0 && (product == "" || code == ""); i-- {
		t := conv.Turns[i]
		if code == "" {
			code = t.ErrorCode
			if code == "" && t.Role != fixgraph.RoleBot {
				if codes := extract.ErrorCodes(extract.Normalize(t.Text)); len(codes) > 0 {
					code = codes[0]
				}
			}
		}
		if product == "" {
			product = t.Product
			if product == "" {
				if models := extract.ProductModels(extract.Normalize(t.Text)); len(models) > 0 {
					product = strings.ToUpper(models[0])
				}
			}
		}
	}
	if conv.Model != "" {
		product = strings.ToUpper(conv.Model) // the app knows the device: it wins over guesses
	}
	return product, code
}

// followUp answers "it still does not work" for code: the guide again, the parts it needs with
// their stock, and how to get a technician.
func (s *Service) followUp(ctx context.Context, question, product, code string) (*fixgraph.Answer, error) {
	ans, err := s.askWith(ctx, question, product, code)
	if err != nil || ans.ErrorCode == nil {
		return ans, err
	}
	ans.Kind = fixgraph.AnswerFollowUp
	ans.Confidence = min(ans.Confidence, 0.8)
	var parts []string
	if ans.Guide != nil {
		ids, err := s.Graph.Neighbors(ctx, []string{ans.Guide.ID}, fixgraph.RelNeedsPart, fixgraph.Out)
		if err != nil {
			return nil, err
		}
		nodes, err := s.Graph.Nodes(ctx, ids[ans.Guide.ID])
		if err != nil {
			return nil, err
		}
		for _, n := range nodes {
			if p, ok := n.(*fixgraph.Part); ok {
				parts = append(parts, fmt.Sprintf("%s %s", p.SKU, p.Name.In(ans.Language)))
			}
		}
	}
	service := say(ans.Language, "上门维修 服务费 预约", "on-site repair service visit fee")
	hits, err := s.Search(ctx, service, 3, fixgraph.SearchFilter{Statuses: []fixgraph.Status{fixgraph.StatusPublished}, Kinds: []fixgraph.DocKind{fixgraph.KindPolicy, fixgraph.KindFAQ}})
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	if ans.Language == "zh" {
		fmt.Fprintf(&b, "按步骤处理后仍显示 %s：", code)
		if len(parts) > 0 {
			fmt.Fprintf(&b, "可能需要更换配件 %s。", strings.Join(parts, "、"))
		}
		b.WriteString("建议预约上门维修，由工程师检测。")
	} else {
		fmt.Fprintf(&b, "If %s is still shown after these steps, ", code)
		if len(parts) > 0 {
			fmt.Fprintf(&b, "the part %s may need replacing; ", strings.Join(parts, ", "))
		}
		b.WriteString("book an on-site repair and a technician will check it.")
	}
	ans.Text = b.String()
	if len(hits) > 0 {
		ans.Citations = append(ans.Citations, Cite(hits[0].Section, hits[0].Document))
	}
	return ans, nil
}

// askWith answers question with the conversation's product (and code, for a follow-up about the
// fix in hand) standing in when the question names none.
func (s *Service) askWith(ctx context.Context, question, product, code string) (*fixgraph.Answer, error) {
	q := question
	if code != "" {
		q = code + " " + q
	}
	if product != "" && len(extract.ProductModels(extract.Normalize(question))) == 0 {
		q = product + " " + q
	}
	ans, err := s.Ask(ctx, q)
	if err != nil {
		return nil, err
	}
	ans.Question = question
	return ans, nil
}

// related adds what the graph infers next to a troubleshooting answer: a firmware upgrade when
// the device's firmware is older than the version that fixes the code, and the other error codes
// whose repairs need the same part.
func (s *Service) related(ctx context.Context, ans *fixgraph.Answer, firmware string) error {
	if ans.ErrorCode == nil {
		return nil
	}
	if ec := ans.ErrorCode; firmware != "" && ec.FixedIn != "" && extract.CompareVersions(firmware, ec.FixedIn) < 0 {
		ans.Related = append(ans.Related, fixgraph.Related{Kind: "firmware", ErrorCode: ec.Code, Product: ec.Product,
			Text: say(ans.Language, fmt.Sprintf("设备固件 %s 低于修复 %s 的 V%s：请先升级固件。", firmware, ec.Code, ec.FixedIn),
				fmt.Sprintf("The device runs firmware %s; %s is fixed from V%s: update the firmware first.", firmware, ec.Code, ec.FixedIn))})
		hits, err := s.Search(ctx, ec.Product+" "+say(ans.Language, "固件升级", "firmware update"), 1, fixgraph.SearchFilter{Statuses: []fixgraph.Status{fixgraph.StatusPublished}, Languages: []string{ans.Language}})
		if err != nil {
			return err
		}
		if len(hits) > 0 {
			ans.Citations = append(ans.Citations, Cite(hits[0].Section, hits[0].Document))
		}
	}
	if ans.Guide == nil {
		return nil
	}
	partIDs, err := s.Graph.Neighbors(ctx, []string{ans.Guide.ID}, fixgraph.RelNeedsPart, fixgraph.Out)
	if err != nil || len(partIDs[ans.Guide.ID]) == 0 {
		return err
	}
	guides, err := s.Graph.Neighbors(ctx, partIDs[ans.Guide.ID], fixgraph.RelNeedsPart, fixgraph.In)
	if err != nil {
		return err
	}
	seen := map[string]bool{ans.ErrorCode.ID: true}
	for _, part := range partIDs[ans.Guide.ID] {
		codes, err := s.Graph.Neighbors(ctx, guides[part], fixgraph.RelFixedBy, fixgraph.In)
		if err != nil {
			return err
		}
		var ids []string
		for _, g := range guides[part] {
			ids = append(ids, codes[g]...)
		}
		nodes, err := s.Graph.Nodes(ctx, ids)
		if err != nil {
			return err
		}
		sku := strings.TrimPrefix(part, fixgraph.PrefixPart+":")
		for _, n := range nodes {
			ec, ok := n.(*fixgraph.ErrorCode)
			if !ok || seen[ec.ID] {
				continue
			}
			seen[ec.ID] = true
			ans.Related = append(ans.Related, fixgraph.Related{Kind: "same_part", ErrorCode: ec.Code, Product: ec.Product, Part: sku,
				Text: say(ans.Language, fmt.Sprintf("%s 的 %s（%s）也要更换 %s", ec.Product, ec.Code, ec.Symptom.In("zh"), sku),
					fmt.Sprintf("%s on the %s (%s) needs the same part %s", ec.Code, ec.Product, ec.Symptom.In("en"), sku))})
		}
	}
	slices.SortStableFunc(ans.Related, func(a, b fixgraph.Related) int {
		return cmp.Or(cmp.Compare(b.Kind, a.Kind), cmp.Compare(a.Product+a.ErrorCode, b.Product+b.ErrorCode))
	})
	return nil
}

// decideHandoff fills the answer's hand-off decision and, when a person is recommended, what the
// person needs: product, code, a summary, what was suggested, and the top candidate solutions.
func (s *Service) decideHandoff(ans *fixgraph.Answer, conv *fixgraph.Conversation, product, code string) {
	h := &ans.Handoff
	product, code = cmp.Or(h.Product, product), cmp.Or(h.ErrorCode, code) // what escalate found in the message
	if ans.ErrorCode != nil {
		code, product = ans.ErrorCode.Code, cmp.Or(ans.ErrorCode.Product, product)
	} else if ans.Product != nil {
		product = ans.Product.Model
	}
	h.Product, h.ErrorCode = product, code
	threshold := cmp.Or(s.HandoffThreshold, DefaultHandoffThreshold)
	switch {
	case h.Recommended:
	case ans.Kind == fixgraph.AnswerNone:
		h.Recommended, h.Reason = true, fixgraph.HandoffNoAnswer
	case ans.Kind == fixgraph.AnswerFollowUp && unresolved(conv, code)+1 >= unresolvedTurns:
		h.Recommended, h.Reason = true, fixgraph.HandoffUnresolved
	case ans.Confidence < threshold:
		h.Recommended, h.Reason = true, fixgraph.HandoffLowConfidence
	}
	if !h.Recommended {
		return
	}
	var sum []string
	for _, t := range conv.Turns {
		switch t.Role {
		case fixgraph.RoleBot:
			if t.Text != "" {
				h.Suggested = append(h.Suggested, firstRunes(t.Text, 120))
			}
		default:
			sum = append(sum, firstRunes(t.Text, 80))
		}
	}
	sum = append(sum, firstRunes(ans.Question, 80))
	var about []string
	if product != "" {
		about = append(about, product)
	}
	if code != "" {
		about = append(about, code)
	}
	h.Summary = say(ans.Language, "客户问题", "Customer said") + ": " + strings.Join(sum, " / ")
	if len(about) > 0 {
		h.Summary = "[" + strings.Join(about, " ") + "] " + h.Summary
	}
	seen := map[string]bool{}
	for _, hit := range ans.Hits {
		if len(h.Suggestions) == 3 {
			break
		}
		if seen[hit.Section.ID] {
			continue
		}
		seen[hit.Section.ID] = true
		title := hit.Section.Heading
		if hit.Document != nil && hit.Document.Title != "" {
			title = hit.Document.Title + " › " + title
		}
		kind := ""
		if hit.Document != nil {
			kind = string(hit.Document.Kind)
		}
		h.Suggestions = append(h.Suggestions, fixgraph.Suggestion{Title: title, Kind: kind, Score: round2(hit.Score), Citation: Cite(hit.Section, hit.Document)})
	}
}

// unresolved counts the customer turns about code that came before: the one that raised it and
// each "still not working" after it.
func unresolved(conv *fixgraph.Conversation, code string) int {
	n := 0
	for _, t := range conv.Turns {
		if t.Role == fixgraph.RoleBot || code == "" {
			continue
		}
		text := extract.Normalize(t.Text)
		if slices.Contains(extract.ErrorCodes(text), code) || n > 0 && stillBroken.MatchString(text) {
			n++
		}
	}
	return n
}

func firstRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}
