package ingest

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/extract"
)

type qa struct {
	question, answer string
	group            string   // heading the pair stands under, e.g. a product
	path             []string // heading path down to the group
	anchor           string
}

// isFAQPage reports whether a page is a FAQ: it declares schema.org FAQPage data, or most of its
// content is question-and-answer pairs in a definition list or under question headings.
func isFAQPage(p *htmlPage) bool {
	for _, o := range p.jsonLD {
		if ldType(o, "FAQPage") {
			return true
		}
	}
	return len(dlPairs(p)) >= 3 || len(headingPairs(p)) >= 3 && 2*len(headingPairs(p)) >= len(p.sections)
}

// faqPairs returns a FAQ page's pairs from the first markup that has any: JSON-LD, dl/dt/dd, or
// question headings followed by answer paragraphs.
func faqPairs(p *htmlPage) []qa {
	var out []qa
	for _, o := range p.jsonLD {
		if !ldType(o, "FAQPage") {
			continue
		}
		var entities []any
		switch v := o["mainEntity"].(type) {
		case []any:
			entities = v
		case map[string]any:
			entities = []any{v}
		}
		for _, e := range entities {
			q, ok := e.(map[string]any)
			if !ok {
				continue
			}
			question := extract.Clean(ldString(q["name"]))
			answer := htmlToText(ldString(q["acceptedAnswer"]))
			if question != "" && answer != "" {
				out = append(out, qa{question: question, answer: answer, path: []string{p.title}})
			}
		}
	}
	if len(out) > 0 {
		return out
	}
	if out = dlPairs(p); len(out) > 0 {
		return out
	}
	return headingPairs(p)
}

func dlPairs(p *htmlPage) []qa {
	var out []qa
	for _, s := range p.sections {
		for _, dl := range s.dls {
			var cur *qa
			for c := dl.FirstChild; c != nil; c = c.NextSibling {
				switch c.DataAtom {
				case atom.Dt:
					out = append(out, qa{question: extract.Clean(nodeText(c)), group: s.heading, path: s.path, anchor: firstID(c, s.anchor)})
					cur = &out[len(out)-1]
				case atom.Dd:
					if cur != nil {
						cur.answer = strings.TrimSpace(cur.answer + "\n" + extract.CleanBlock(nodeText(c)))
					}
				}
			}
		}
	}
	return dropEmpty(out)
}

func headingPairs(p *htmlPage) []qa {
	var out []qa
	for _, s := range p.sections {
		if !isQuestion(s.heading) {
			continue
		}
		pair := qa{question: s.heading, answer: extract.CleanBlock(s.text.String()), path: s.path[:len(s.path)-1], anchor: s.anchor}
		if s.parent != nil {
			pair.group = s.parent.heading
		}
		out = append(out, pair)
	}
	return dropEmpty(out)
}

func isQuestion(s string) bool {
	return strings.HasSuffix(s, "?") || strings.HasSuffix(s, "？")
}

func firstID(n *html.Node, fallback string) string {
	if id := attr(n, "id"); id != "" {
		return id
	}
	return fallback
}

func dropEmpty(in []qa) []qa {
	out := in[:0]
	for _, q := range in {
		if q.question != "" && q.answer != "" {
			out = append(out, q)
		}
	}
	return out
}

// parseFAQ turns a FAQ page into a batch: a section and a FAQ node for each pair, linked to the
// product the pair is about when its group heading, question or answer names a model.
func parseFAQ(doc *fixgraph.Document, p *htmlPage) (*fixgraph.Batch, error) {
	pairs := faqPairs(p)
	if len(pairs) == 0 {
		return nil, fixgraph.Errorf(fixgraph.EUNREADABLE, "no question-and-answer pairs found")
	}
	b := &fixgraph.Batch{Document: doc}
	doc.Kind, doc.Title, doc.Language = fixgraph.KindFAQ, p.title, p.lang
	doc.KindReason = "questions with their answers (FAQ markup, a definition list or question headings)"
	for i, q := range pairs {
		path := append(append([]string(nil), q.path...), q.question)
		sec := newSection(doc, i, q.question, path, q.answer)
		sec.Anchor = q.anchor
		model := ""
		for _, s := range []string{q.group, q.question, q.answer} {
			if ms := extract.ProductModels(s); len(ms) > 0 {
				model = ms[0]
				break
			}
		}
		if model != "" {
			sec.Products = []string{model}
		}
		faq := &fixgraph.FAQ{
			ID:         fixgraph.HashID(fixgraph.PrefixFAQ, doc.ID, q.question),
			Question:   q.question,
			Answer:     q.answer,
			Product:    model,
			SectionID:  sec.ID,
			DocumentID: doc.ID,
			Language:   doc.Language,
		}
		b.Add(sec, faq)
		b.Link(sec.ID, fixgraph.RelPartOf, doc.ID)
		b.Link(sec.ID, fixgraph.RelDescribes, faq.ID)
		if model != "" {
			b.Link(faq.ID, fixgraph.RelAbout, fixgraph.ProductID(model))
		}
		linkMentions(b, sec, model, nil)
	}
	return b, nil
}
