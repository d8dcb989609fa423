package answer

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/answer/lexicon"
	"github.com/fixgraph/fixgraph/extract"
)

// MaxQuestionRunes is the longest question Ask takes.
const MaxQuestionRunes = 1000

// Ask answers a customer's question. An error code the graph knows makes a troubleshooting
// answer; otherwise the best search hit decides: a FAQ, a policy clause, a table row of a repair
// guide, or a passage of a manual. Confidence reflects how certain the match is; an answer with
// nothing behind it has kind none and confidence 0.
//
// Before anything is looked up, a message that tells of danger or complains is recognised by the
// lexicons and handed to a person (see escalate); a troubleshooting answer about a code whose
// severity is danger is handed off too, with the safety step first.
func (s *Service) Ask(ctx context.Context, question string) (*fixgraph.Answer, error) {
	q, err := normalizeQuestion(question)
	if err != nil {
		return nil, err
	}
	ans := &fixgraph.Answer{Question: question, Language: extract.DetectLanguage(q), Kind: fixgraph.AnswerNone}
	if ms := lexicon.Recognise(q); len(ms) > 0 {
		if err := s.escalate(ctx, ans, q, ms); err != nil {
			return nil, err
		}
		return ans, nil
	}
	if err := s.retrieve(ctx, ans, q); err != nil {
		return nil, err
	}
	if ans.ErrorCode != nil && ans.ErrorCode.Severity == fixgraph.SeverityDanger {
		s.dangerousCode(ans)
	}
	return ans, nil
}

// retrieve fills ans from the graph and the index.
func (s *Service) retrieve(ctx context.Context, ans *fixgraph.Answer, q string) error {
	hits, err := s.Search(ctx, q, 10, Published)
	if err != nil {
		return err
	}
	ans.Hits = hits

	// An error code that the graph knows answers the question directly; the products the
	// question names pick between codes that several products share.
	codes := extract.QuestionCodes(q)
	var named []string
	if len(codes) > 0 {
		products, err := s.products(ctx)
		if err != nil {
			return err
		}
		named = matchProducts(q, products)
	}
	for _, cand := range codes {
		ecs, err := s.Graph.ErrorCodes(ctx, cand.Code)
		if err != nil {
			return err
		}
		if ec, certain := pickErrorCode(ecs, named); ec != nil {
			conf := 0.95
			if !certain {
				conf = 0.6 // the code exists for several products and the question names none
			}
			if err := s.troubleshootAnswer(ctx, ans, ec, "", conf); err != nil {
				return err
			}
			if !certain {
				note, err := s.whichProduct(ctx, ec.Code, ecs, ans.Language)
				if err != nil {
					return err
				}
				ans.Notes = append([]string{note}, ans.Notes...)
			}
			return nil
		}
	}

	if len(hits) == 0 {
		return nil
	}
	top := hits[0]
	conf := s.searchConfidence(q, hits)
	// A code the question names that no product has: a passage about another code, or about none,
	// is no confident answer to it.
	for _, c := range codes {
		if !c.Strong {
			continue
		}
		if strings.Contains(fixgraph.CodeKey(extract.Normalize(top.Section.Heading+" "+top.Section.Text)), fixgraph.CodeKey(c.Code)) {
			conf = min(conf, 0.6)
		} else {
			conf = min(conf, 0.35)
		}
	}
	described, err := s.Graph.Neighbors(ctx, []string{top.Section.ID}, fixgraph.RelDescribes, fixgraph.Out)
	if err != nil {
		return err
	}
	targets, err := s.Graph.Nodes(ctx, described[top.Section.ID])
	if err != nil {
		return err
	}
targets:
	for _, n := range targets {
		switch n := n.(type) {
		case *fixgraph.FAQ:
			ans.Kind, ans.FAQ, ans.Text = fixgraph.AnswerFAQ, n, n.Answer
		case *fixgraph.PolicyClause:
			ans.Kind, ans.Clause, ans.Text = fixgraph.AnswerPolicy, n, n.Text
		case *fixgraph.RepairGuide:
			ecs, err := s.Graph.Nodes(ctx, []string{fixgraph.ErrorCodeID(n.Product, n.Code)})
			if err != nil {
				return err
			}
			if ec, ok := ecs[0].(*fixgraph.ErrorCode); ok {
				return s.troubleshootAnswer(ctx, ans, ec, top.Section.ID, conf)
			}
		default:
			continue
		}
		break targets
	}
	if ans.Kind == fixgraph.AnswerNone {
		ans.Kind, ans.Text = fixgraph.AnswerSection, top.Section.Text
		if ans.Text == "" {
			ans.Text = top.Snippet
		}
	}
	if ans.FAQ != nil && ans.FAQ.Product != "" {
		ans.Product, err = s.product(ctx, ans.FAQ.Product)
		if err != nil {
			return err
		}
	}
	ans.Citations = []fixgraph.Citation{Cite(top.Section, top.Document)}
	ans.Confidence = conf
	return nil
}

// normalizeQuestion returns the question normalised, or EINVALID when it is empty or too long.
func normalizeQuestion(question string) (string, error) {
	q := extract.Normalize(question)
	if q == "" {
		return "", fixgraph.Errorf(fixgraph.EINVALID, "question is empty")
	}
	if utf8.RuneCountInString(q) > MaxQuestionRunes {
		return "", fixgraph.Errorf(fixgraph.EINVALID, "question is longer than %d characters", MaxQuestionRunes)
	}
	return q, nil
}

// pickErrorCode chooses among the products that have a code: the one the question names, else
// the only one. certain is false when several products have it and the question names none of them.
func pickErrorCode(ecs []*fixgraph.ErrorCode, named []string) (ec *fixgraph.ErrorCode, certain bool) {
	for _, e := range ecs {
		for _, m := range named {
			if e.Product == m {
				return e, true
			}
		}
	}
	switch len(ecs) {
	case 0:
		return nil, false
	case 1:
		return ecs[0], true
	}
	return ecs[0], false
}

// whichProduct says, in lang, that several products show code and asks which one the customer
// has, naming them.
func (s *Service) whichProduct(ctx context.Context, code string, ecs []*fixgraph.ErrorCode, lang string) (string, error) {
	var names []string
	for _, ec := range ecs {
		name := ec.Product
		if p, err := s.product(ctx, ec.Product); err != nil {
			return "", err
		} else if p != nil && p.Name.In(lang) != "" {
			name = p.Name.In(lang)
		}
		if name != "" && !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	if lang == "zh" {
		return fmt.Sprintf("多个产品都有故障代码 %s（%s），含义不同。请问您的是哪一款？", code, strings.Join(names, "、")), nil
	}
	return fmt.Sprintf("Code %s means different things on several products (%s). Which one do you have?", code, strings.Join(names, "; ")), nil
}

// troubleshootAnswer fills ans with ec, its product and the repair guide in the question's language.
func (s *Service) troubleshootAnswer(ctx context.Context, ans *fixgraph.Answer, ec *fixgraph.ErrorCode, viaSection string, conf float64) error {
	ans.Kind, ans.ErrorCode, ans.Confidence = fixgraph.AnswerTroubleshoot, ec, conf
	p, err := s.product(ctx, ec.Product)
	if err != nil {
		return err
	}
	ans.Product = p
	guides, err := s.Guides(ctx, ec.ID)
	if err != nil {
		return err
	}
	for _, g := range guides {
		if ans.Guide == nil || g.Language == ans.Language && ans.Guide.Language != ans.Language {
			ans.Guide = g
		}
	}
	ans.Text = ec.Symptom.In(ans.Language)
	if ans.Guide != nil {
		ans.Text = ans.Guide.Title
		secs, err := s.Graph.Nodes(ctx, []string{ans.Guide.SectionID, ans.Guide.DocumentID})
		if err != nil {
			return err
		}
		if sec, ok := secs[0].(*fixgraph.Section); ok {
			doc, _ := secs[1].(*fixgraph.Document)
			ans.Citations = append(ans.Citations, Cite(sec, doc))
		}
		notes, err := s.stockNotes(ctx, ans.Guide, ans.Language)
		if err != nil {
			return err
		}
		ans.Notes = append(ans.Notes, notes...)
	} else {
		ans.Confidence = min(conf, 0.5) // a code without a guide tells the customer little
	}
	if viaSection == "" {
		return nil
	}
	for _, h := range ans.Hits {
		if h.Section.ID == viaSection && (ans.Guide == nil || ans.Guide.SectionID != viaSection) {
			ans.Citations = append(ans.Citations, Cite(h.Section, h.Document))
		}
	}
	return nil
}

// stockNotes says, in lang, which of the guide's parts have stock counts older than the limit,
// or no count at all, so a bot does not promise a part on old figures.
func (s *Service) stockNotes(ctx context.Context, g *fixgraph.RepairGuide, lang string) ([]string, error) {
	parts, err := s.Graph.Neighbors(ctx, []string{g.ID}, fixgraph.RelNeedsPart, fixgraph.Out)
	if err != nil || len(parts[g.ID]) == 0 {
		return nil, err
	}
	warehouses, err := s.Graph.Neighbors(ctx, parts[g.ID], fixgraph.RelStockedAt, fixgraph.Out)
	if err != nil {
		return nil, err
	}
	nodes, err := s.Graph.Nodes(ctx, parts[g.ID])
	if err != nil {
		return nil, err
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	maxAge := cmp.Or(s.StockMaxAge, fixgraph.DefaultStockMaxAge)
	var notes []string
	for _, n := range nodes {
		part, ok := n.(*fixgraph.Part)
		if !ok {
			continue
		}
		var ids []string
		for _, wh := range warehouses[part.ID] {
			ids = append(ids, fixgraph.StockID(part.SKU, strings.TrimPrefix(wh, fixgraph.PrefixWarehouse+":")))
		}
		levels, err := s.Graph.Nodes(ctx, ids)
		if err != nil {
			return nil, err
		}
		var newest time.Time
		for _, l := range levels {
			if l, ok := l.(*fixgraph.StockLevel); ok && l.UpdatedAt.After(newest) {
				newest = l.UpdatedAt
			}
		}
		switch {
		case newest.IsZero() && lang == "zh":
			notes = append(notes, fmt.Sprintf("配件 %s 暂无库存数据，请先向仓库确认。", part.SKU))
		case newest.IsZero():
			notes = append(notes, fmt.Sprintf("There is no stock count for part %s; check with the warehouse first.", part.SKU))
		case (&fixgraph.StockLevel{UpdatedAt: newest}).Stale(now(), maxAge) && lang == "zh":
			notes = append(notes, fmt.Sprintf("配件 %s 的库存数据更新于 %s，已超过 %s，可能已过时，请先确认。", part.SKU, newest.Format("2006-01-02 15:04 MST"), ageText(maxAge, lang)))
		case (&fixgraph.StockLevel{UpdatedAt: newest}).Stale(now(), maxAge):
			notes = append(notes, fmt.Sprintf("Stock for part %s was last counted %s, more than %s ago; confirm availability before promising it.", part.SKU, newest.Format("2006-01-02 15:04 MST"), ageText(maxAge, lang)))
		}
	}
	return notes, nil
}

func ageText(d time.Duration, lang string) string {
	h := int(d.Hours())
	if lang == "zh" {
		return fmt.Sprintf("%d 小时", h)
	}
	return fmt.Sprintf("%d hours", h)
}

// Guides returns the repair guides that fix an error code.
func (s *Service) Guides(ctx context.Context, errorCodeID string) ([]*fixgraph.RepairGuide, error) {
	ids, err := s.Graph.Neighbors(ctx, []string{errorCodeID}, fixgraph.RelFixedBy, fixgraph.Out)
	if err != nil {
		return nil, err
	}
	nodes, err := s.Graph.Nodes(ctx, ids[errorCodeID])
	if err != nil {
		return nil, err
	}
	var out []*fixgraph.RepairGuide
	for _, n := range nodes {
		if g, ok := n.(*fixgraph.RepairGuide); ok {
			out = append(out, g)
		}
	}
	return out, nil
}

func (s *Service) product(ctx context.Context, model string) (*fixgraph.Product, error) {
	if model == "" {
		return nil, nil
	}
	nodes, err := s.Graph.Nodes(ctx, []string{fixgraph.ProductID(model)})
	if err != nil {
		return nil, fmt.Errorf("loading product %q: %w", model, err)
	}
	p, _ := nodes[0].(*fixgraph.Product)
	return p, nil
}

// searchConfidence estimates how likely the top hit answers q: how much of the question the hit
// covers, discounted when the runner-up scores nearly as well.
func (s *Service) searchConfidence(q string, hits []fixgraph.Hit) float64 {
	f := s.confidenceFeatures(q, hits[0])
	z := confidenceBias + confidenceCoverage*f.coverage + confidenceHeading*f.heading +
		confidenceLexical*math.Log1p(f.lexical) + confidenceLength*math.Log1p(f.terms)
	return round2(1 / (1 + math.Exp(-z)))
}

// features are what the confidence of a search answer is computed from.
type features struct {
	coverage, heading float64 // shares of the question's terms in the section and its heading
	lexical           float64 // the section's BM25 score
	terms             float64 // the question's terms
}

func (s *Service) confidenceFeatures(q string, top fixgraph.Hit) features {
	qt := s.Index.Analyze(q)
	return features{
		coverage: Coverage(qt, s.Index.Analyze(top.Section.Heading+" "+top.Section.Text)),
		heading:  Coverage(qt, s.Index.Analyze(top.Section.Heading)),
		lexical:  top.Lexical,
		terms:    float64(len(qt)),
	}
}

// The confidence of an answer chosen by search is a logistic function of what makes a match
// believable: the share of the question's terms in the section (coverage) and in its heading,
// the section's BM25 score (evidence grows with it, but slowly), and the question's length
// (long questions score high on BM25 without matching better). The weights were fitted by
// logistic regression (mean log-loss plus 0.01 times the squared weights, the bias left out) on
// the 90 fixture questions and the 20 questions the corpus does not cover
// (fixtures/eval/uncovered.jsonl), answers to a known error code aside; go test ./answer -run
// TestDumpFeatures with FEATURES_OUT=FILE writes the data. They were fitted again when BM25's
// length normalisation changed (b 0.75 → 0.4), which moves the scores. On that set, answers in
// [0.5, 0.7) are right 69% of the time, [0.7, 0.9) 84%, [0.9, 1] 88%, and under 0.3, 9%.
const (
	confidenceBias     = -5.24
	confidenceCoverage = 0.66
	confidenceHeading  = 0.52
	confidenceLexical  = 2.32
	confidenceLength   = -1.10
)

// Cite returns the citation of a section of doc.
func Cite(sec *fixgraph.Section, doc *fixgraph.Document) fixgraph.Citation {
	c := fixgraph.Citation{
		SectionID:   sec.ID,
		DocumentID:  sec.DocumentID,
		Heading:     sec.Heading,
		HeadingPath: sec.HeadingPath,
		Page:        sec.Page,
	}
	if doc != nil {
		c.Document, c.Source, c.URL = doc.Title, doc.Source, doc.Source
		switch {
		case sec.Anchor != "":
			c.URL += "#" + sec.Anchor
		case sec.Page > 0 && strings.HasSuffix(strings.ToLower(doc.Source), ".pdf"):
			c.URL += fmt.Sprintf("#page=%d", sec.Page)
		}
	}
	return c
}
