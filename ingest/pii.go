package ingest

import (
	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/extract"
)

// MaskBatch masks personal data (see extract.MaskPII) in every free-text field of the batch before
// it is stored: the document's title; sections' headings, heading paths and text; FAQ questions,
// variants and answers; error codes' symptoms and causes; repair guides' titles, steps and
// warnings; policy clauses' titles and text; product names and categories, part and video titles
// and warehouse names. It masks the document's source too, as shown with the document and in
// citations: an uploaded file's name (upload:support/张三_13812345678.pdf) with extract.MaskSource,
// a URL's query values (a video's URL as well); the document keeps the id made from the source as
// written, so the same file or page is still the same document. Identifiers, models, SKUs, codes
// and URL paths are left alone. It returns how many items of each kind it masked, and nil when it
// masked none.
//
// Nodes are changed in place; texts and lists are replaced rather than written into, so a map or
// slice the batch shares with something else keeps its contents.
func MaskBatch(b *fixgraph.Batch, opt extract.PIIOptions) map[extract.PIIKind]int {
	if b == nil || opt.Disabled {
		return nil
	}
	m := &masker{opt: opt}
	seen := make(map[fixgraph.Node]bool)
	if b.Document != nil {
		m.doc(b.Document)
		seen[b.Document] = true
	}
	for _, n := range b.Nodes {
		if seen[n] {
			continue
		}
		seen[n] = true
		switch n := n.(type) {
		case *fixgraph.Document:
			m.doc(n)
		case *fixgraph.Section:
			m.str(&n.Heading)
			m.strs(&n.HeadingPath)
			m.str(&n.Text)
		case *fixgraph.FAQ:
			m.str(&n.Question)
			m.strs(&n.Variants)
			m.str(&n.Answer)
		case *fixgraph.ErrorCode:
			m.text(&n.Symptom)
			m.text(&n.Cause)
		case *fixgraph.RepairGuide:
			m.str(&n.Title)
			m.strs(&n.Steps)
			m.strs(&n.Warnings)
		case *fixgraph.PolicyClause:
			m.str(&n.Title)
			m.str(&n.Text)
		case *fixgraph.Product:
			m.text(&n.Name)
			m.text(&n.Category)
		case *fixgraph.Part:
			m.text(&n.Name)
		case *fixgraph.Video:
			m.text(&n.Title)
			m.source(&n.URL)
		case *fixgraph.Warehouse:
			m.str(&n.Name)
		case *fixgraph.StockLevel:
			// Numbers and codes only.
		}
	}
	return m.found
}

type masker struct {
	opt   extract.PIIOptions
	found map[extract.PIIKind]int
}

func (m *masker) mask(s string) (string, bool) {
	out, found := extract.MaskPII(s, m.opt)
	if found == nil {
		return s, false
	}
	m.add(found)
	return out, true
}

// doc masks a document's title and source; its id, made from the source as written, stays.
func (m *masker) doc(d *fixgraph.Document) {
	m.str(&d.Title)
	m.source(&d.Source)
}

func (m *masker) source(p *string) {
	out, found := extract.MaskSource(*p, m.opt)
	if found == nil {
		return
	}
	m.add(found)
	*p = out
}

func (m *masker) add(found map[extract.PIIKind]int) {
	if m.found == nil {
		m.found = make(map[extract.PIIKind]int)
	}
	for k, n := range found {
		m.found[k] += n
	}
}

func (m *masker) str(p *string) {
	if out, ok := m.mask(*p); ok {
		*p = out
	}
}

func (m *masker) strs(p *[]string) {
	var out []string
	for i, s := range *p {
		masked, ok := m.mask(s)
		if !ok {
			continue
		}
		if out == nil {
			out = append([]string(nil), *p...)
		}
		out[i] = masked
	}
	if out != nil {
		*p = out
	}
}

func (m *masker) text(p *fixgraph.Text) {
	var out fixgraph.Text
	for lang, s := range *p {
		masked, ok := m.mask(s)
		if !ok {
			continue
		}
		if out == nil {
			out = make(fixgraph.Text, len(*p))
			for l, v := range *p {
				out[l] = v
			}
		}
		out[lang] = masked
	}
	if out != nil {
		*p = out
	}
}

// MaskNode masks personal data in the free-text fields of n, in place, as Write masks a batch's
// nodes, and reports whether it changed anything. The editor masks its drafts with it.
func (p *Pipeline) MaskNode(n fixgraph.Node) bool {
	return MaskBatch(&fixgraph.Batch{Nodes: []fixgraph.Node{n}}, p.PII) != nil
}

// MaskText returns s with personal data masked by the pipeline's options.
func (p *Pipeline) MaskText(s string) string {
	out, _ := extract.MaskPII(s, p.PII)
	return out
}
