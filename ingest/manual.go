package ingest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/answer/lexicon"
	"github.com/fixgraph/fixgraph/extract"
)

// troubleshootingColumns maps a table's columns when its header names a troubleshooting table's
// columns (see headerRoles); otherwise it returns nil.
func troubleshootingColumns(table *html.Node) map[column]int {
	cols, _ := troubleshootingLayout(table)
	return cols
}

// troubleshootingLayout is troubleshootingColumns with, for each column index, the role of the
// header cell above it (colNone where none). A header cell spanning several columns (colspan)
// names each of them, so the cells under it are read together ("Error name" over a category and a
// name).
func troubleshootingLayout(table *html.Node) (map[column]int, []column) {
	cells := headerCells(table)
	if cells == nil {
		return nil, nil
	}
	var header []string
	var owner []int // for each column, the header cell above it
	for i, cell := range cells {
		header = append(header, extract.Clean(nodeText(cell)))
		span, _ := strconv.Atoi(attr(cell, "colspan"))
		for range min(max(span, 1), 20) {
			owner = append(owner, i)
		}
	}
	roles, ok := headerRoles(header)
	if !ok {
		return nil, nil
	}
	cols := make(map[column]int)
	under := make([]column, len(owner))
	for j, i := range owner {
		under[j] = roles[i]
		if _, seen := cols[roles[i]]; !seen && roles[i] != colNone {
			cols[roles[i]] = j
		}
	}
	return cols, under
}

// headerCells returns the th cells of a table's first row that has any.
func headerCells(table *html.Node) []*html.Node {
	for _, tr := range rows(table) {
		var ths []*html.Node
		for c := tr.FirstChild; c != nil; c = c.NextSibling {
			if c.DataAtom == atom.Th {
				ths = append(ths, c)
			}
		}
		if len(ths) > 0 {
			return ths
		}
	}
	return nil
}

// rows returns a table's tr elements, in thead, tbody and tfoot or directly under it.
func rows(table *html.Node) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			switch c.DataAtom {
			case atom.Tr:
				out = append(out, c)
			case atom.Thead, atom.Tbody, atom.Tfoot:
				walk(c)
			}
		}
	}
	walk(table)
	return out
}

func allHeaders(cs []*html.Node) bool {
	for _, c := range cs {
		if c.DataAtom != atom.Th {
			return false
		}
	}
	return true
}

func cells(tr *html.Node) []*html.Node {
	var out []*html.Node
	for c := tr.FirstChild; c != nil; c = c.NextSibling {
		if c.DataAtom == atom.Td || c.DataAtom == atom.Th {
			out = append(out, c)
		}
	}
	return out
}

// parseManual turns a manual page into a batch: its sections, its product, and from its
// troubleshooting tables the error codes, repair guides, videos and parts, all linked.
func parseManual(doc *fixgraph.Document, p *htmlPage) (*fixgraph.Batch, error) {
	if len(p.sections) == 0 {
		return nil, fixgraph.Errorf(fixgraph.EUNREADABLE, "page has no headings, so it cannot be split into sections")
	}
	b := &fixgraph.Batch{Document: doc}
	doc.Kind, doc.Title, doc.Language = fixgraph.KindManual, p.title, p.lang

	// Codes that headings and lines of running text define, besides the tables' codes.
	paths := make([][]string, len(p.sections))
	bodies := make([]string, len(p.sections))
	for i, hs := range p.sections {
		paths[i], bodies[i] = hs.path, extract.CleanBlock(hs.text.String())
	}
	prose := proseCodes(paths, bodies, nil)

	product := productOf(p)
	if product == nil && (len(p.tables) > 0 || len(prose) > 0) {
		product = titleProduct(p.title, p.lang)
	}
	if product != nil {
		b.Add(product)
		b.Link(doc.ID, fixgraph.RelManualFor, product.ID)
	}

	ids := make(map[*htmlSection]*fixgraph.Section, len(p.sections))
	byAnchor := make(map[string]*htmlSection)
	for i, hs := range p.sections {
		sec := newSection(doc, i, hs.heading, hs.path, extract.CleanBlock(hs.text.String()))
		sec.Anchor = hs.anchor
		if product != nil {
			sec.Products = []string{product.Model}
		}
		ids[hs] = sec
		if hs.anchor != "" {
			byAnchor[hs.anchor] = hs
		}
		b.Add(sec)
		b.Link(sec.ID, fixgraph.RelPartOf, doc.ID)
	}

	model := ""
	if product != nil {
		model = product.Model
	}
	codes := make(map[string]bool)
	order := len(p.sections)
	for _, t := range p.tables {
		_, hasCode := troubleshootingColumns(t.node)[colCode]
		rows := troubleshootingRows(t.node)
		byContent := !hasCode && firstColumnCodes(rows)
		for _, row := range rows {
			if byContent {
				row.code = row.first
			}
			found, name := extract.CellCodes(row.code)
			if !hasCode && !byContent {
				found = extract.TextCodes(row.symptom)
			}
			if row.symptom == "" {
				row.symptom = name
			}
			for _, code := range found {
				codes[fixgraph.CodeKey(code)] = true
				order++
				readTroubleshootingRow(b, doc, model, row, code, order, ids[t.section], func(anchor string) (*htmlSection, *fixgraph.Section) {
					hs := byAnchor[anchor]
					return hs, ids[hs]
				})
			}
		}
	}

	for _, pc := range prose {
		if codes[fixgraph.CodeKey(pc.code)] {
			continue // the table's row defines it
		}
		codes[fixgraph.CodeKey(pc.code)] = true
		hs := p.sections[pc.section]
		if lists := hs.lists; len(lists) > 0 && pc.steps != nil {
			pc.steps = nil
			for _, l := range lists {
				pc.steps = append(pc.steps, l...)
			}
		}
		addProseCode(b, doc, model, pc, ids[hs])
	}

	// Sections mention the codes of this product's tables, parts by number, and product models.
	for _, hs := range p.sections {
		sec := ids[hs]
		linkMentions(b, sec, model, codes)
	}
	doc.KindReason = codesReason(len(codes), len(p.tables) > 0, len(prose) > 0)
	return b, nil
}

// linkMentions links sec to the error codes, parts and products its heading and text name. Error
// codes count only when they are among known, the codes the product's tables define.
func linkMentions(b *fixgraph.Batch, sec *fixgraph.Section, model string, known map[string]bool) {
	text := extract.Normalize(sec.Heading + "\n" + sec.Text)
	if model != "" {
		if known == nil {
			for _, c := range extract.ErrorCodes(text) {
				b.Link(sec.ID, fixgraph.RelMentions, fixgraph.ErrorCodeID(model, c))
			}
		}
		for _, c := range extract.MentionedCodes(text, known) {
			b.Link(sec.ID, fixgraph.RelMentions, fixgraph.ErrorCodeID(model, c))
		}
	}
	for _, sku := range extract.PartNumbers(text) {
		b.Link(sec.ID, fixgraph.RelMentions, fixgraph.PartID(sku))
	}
	for _, m := range extract.ProductModels(text) {
		b.Link(sec.ID, fixgraph.RelMentions, fixgraph.ProductID(m))
	}
}

func newSection(doc *fixgraph.Document, order int, heading string, path []string, text string) *fixgraph.Section {
	return &fixgraph.Section{
		ID:          fixgraph.HashID(fixgraph.PrefixSection, doc.ID, strconv.Itoa(order), strings.Join(path, "\x1f"), text),
		DocumentID:  doc.ID,
		Heading:     heading,
		HeadingPath: append([]string(nil), path...),
		Text:        text,
		Order:       order,
		Language:    doc.Language,
	}
}

// productOf reads the product a page is about from its schema.org Product data, or from a model
// number in its title.
func productOf(p *htmlPage) *fixgraph.Product {
	for _, o := range p.jsonLD {
		if !ldType(o, "Product") {
			continue
		}
		model := strings.ToUpper(extract.Clean(firstNonEmpty(ldString(o["model"]), ldString(o["mpn"]), ldString(o["sku"]))))
		if !validCode(model) {
			model = "" // a model becomes part of graph ids
		}
		if model == "" {
			if ms := extract.ProductModels(ldString(o["name"])); len(ms) > 0 {
				model = ms[0]
			}
		}
		if model == "" {
			continue
		}
		return &fixgraph.Product{
			ID:       fixgraph.ProductID(model),
			Model:    model,
			Name:     text(p.lang, extract.Clean(ldString(o["name"]))),
			Category: text(p.lang, extract.Clean(ldString(o["category"]))),
			Brand:    extract.Clean(ldString(o["brand"])),
		}
	}
	if ms := extract.ProductModels(p.title); len(ms) > 0 {
		return &fixgraph.Product{ID: fixgraph.ProductID(ms[0]), Model: ms[0], Name: text(p.lang, p.title)}
	}
	return nil
}

// codesReason says why a document with n error codes, from tables and from running text, is a
// manual.
func codesReason(n int, tables, prose bool) string {
	switch {
	case n == 0:
		return "a manual page: headed sections, no FAQ structure and no error codes"
	case tables && prose:
		return fmt.Sprintf("defines %d error codes, in troubleshooting tables and in headings or code lists", n)
	case tables:
		return fmt.Sprintf("defines %d error codes in troubleshooting tables", n)
	}
	return fmt.Sprintf("defines %d error codes in headings or code lists", n)
}

// titleProduct is the product of a manual that prints no model number: its title stands in for
// the model, so the codes of two makers' manuals (both E21) never share a node. It is nil for an
// empty title.
func titleProduct(title, lang string) *fixgraph.Product {
	t := strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, extract.Normalize(title))), " ")
	if t == "" {
		return nil
	}
	if r := []rune(t); len(r) > 60 {
		t = strings.TrimSpace(string(r[:60]))
	}
	return &fixgraph.Product{ID: fixgraph.ProductID(t), Model: t, Name: text(lang, strings.TrimSpace(title))}
}

func text(lang, s string) fixgraph.Text {
	if s == "" {
		return nil
	}
	return fixgraph.Text{lang: s}
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

type troubleRow struct {
	code, symptom, cause, severity string
	first                          string // the first column's text
	solution                       *html.Node
	video                          *html.Node
	part                           *html.Node
	raw                            string
}

// troubleshootingRows reads a troubleshooting table's body rows. A role's text joins every cell
// under its header (a header spanning two columns), leaving out placeholders such as "---"; a
// cell spanning rows (rowspan) is read into each row it spans.
func troubleshootingRows(table *html.Node) []troubleRow {
	cols, under := troubleshootingLayout(table)
	cell := func(cs []*html.Node, c column) *html.Node {
		if i, ok := cols[c]; ok && i < len(cs) {
			return cs[i]
		}
		return nil
	}
	txt := func(cs []*html.Node, c column) string {
		var parts []string
		for j, n := range cs {
			if j < len(under) && under[j] == c {
				if t := extract.Clean(nodeText(n)); t != "" && !placeholder(t) {
					parts = append(parts, t)
				}
			}
		}
		if len(parts) == 2 && c == colSymptom {
			// A category and a name under one header: the name, with its category after it.
			return parts[1] + " (" + parts[0] + ")"
		}
		return strings.Join(parts, " ")
	}
	var out []troubleRow
	var spans []rowSpan // cells of earlier rows that span down into later ones
	for _, tr := range rows(table) {
		cs := cells(tr)
		if len(cs) == 0 || allHeaders(cs) {
			continue
		}
		cs, spans = withSpans(cs, spans)
		var raw []string
		for _, c := range cs {
			if t := extract.Clean(nodeText(c)); t != "" {
				raw = append(raw, t)
			}
		}
		first := ""
		if len(cs) > 0 {
			first = extract.Clean(nodeText(cs[0]))
		}
		out = append(out, troubleRow{
			first:    first,
			code:     txt(cs, colCode),
			symptom:  txt(cs, colSymptom),
			cause:    txt(cs, colCause),
			severity: severity(txt(cs, colSeverity)),
			solution: cell(cs, colSolution),
			video:    cell(cs, colVideo),
			part:     cell(cs, colPart),
			raw:      strings.Join(raw, "\n"),
		})
	}
	return out
}

// firstColumnCodes reports whether a table without a code column named by its header has one by
// content: most rows' first cells are codes on their own ("Indicator" over P1, dF, 88).
func firstColumnCodes(rows []troubleRow) bool {
	codes := 0
	for _, r := range rows {
		if found, rest := extract.CellCodes(r.first); len(found) > 0 && rest == "" {
			codes++
		}
	}
	return len(rows) >= 2 && 10*codes >= 6*len(rows)
}

// rowSpan is a cell that spans down into later rows: its column and how many rows it has left.
type rowSpan struct {
	col  int
	left int
	node *html.Node
}

// withSpans puts into a row's cells the cells of earlier rows that span into it, and returns the
// spans still open after it.
func withSpans(cs []*html.Node, spans []rowSpan) ([]*html.Node, []rowSpan) {
	var out []*html.Node
	var open []rowSpan
	k := 0
	for col := 0; k < len(cs) || slices.ContainsFunc(spans, func(s rowSpan) bool { return s.col >= col }); col++ {
		if i := slices.IndexFunc(spans, func(s rowSpan) bool { return s.col == col }); i >= 0 {
			out = append(out, spans[i].node)
			if spans[i].left > 1 {
				open = append(open, rowSpan{col, spans[i].left - 1, spans[i].node})
			}
			continue
		}
		if k >= len(cs) {
			break
		}
		c := cs[k]
		k++
		out = append(out, c)
		if n, _ := strconv.Atoi(attr(c, "rowspan")); n > 1 {
			open = append(open, rowSpan{col, min(n, 1000) - 1, c})
		}
		span, _ := strconv.Atoi(attr(c, "colspan"))
		for range min(max(span, 1), 20) - 1 {
			out = append(out, c)
			col++
		}
	}
	return out, open
}

// placeholder reports whether a cell holds only a mark for "nothing here": ---, -, /, N/A, 无.
func placeholder(s string) bool {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.Trim(s, "-–—/ ") == "" || s == "n/a" || s == "na" || s == "无" || s == "—"
}

// severity maps a severity cell to low, medium, high or danger; other values are kept as written.
func severity(s string) string {
	switch strings.ToLower(s) {
	case "低", "low", "minor", "轻微":
		return fixgraph.SeverityLow
	case "中", "medium", "moderate", "一般":
		return fixgraph.SeverityMedium
	case "高", "high", "severe", "critical", "严重":
		return fixgraph.SeverityHigh
	case "危险", "danger", "dangerous", "hazard", "紧急":
		return fixgraph.SeverityDanger
	}
	return strings.ToLower(s)
}

// markDanger raises ec's severity to danger when the documents' own wording about it — its
// meaning, cause, row and repair guide — says the fault is a hazard ("漏电可能危及生命", "risk of
// electric shock… unplug at once"), by the answer lexicons' severity wording.
func markDanger(ec *fixgraph.ErrorCode, texts ...string) {
	if ec.Severity == fixgraph.SeverityDanger {
		return
	}
	for _, t := range []fixgraph.Text{ec.Symptom, ec.Cause} {
		for _, v := range t {
			texts = append(texts, v)
		}
	}
	if danger, _ := lexicon.Dangerous(texts...); danger {
		ec.Severity = fixgraph.SeverityDanger
	}
}

// readTroubleshootingRow adds one table row's error code, its repair guide, the guide's video and
// parts, and a section holding the row's text so that search can find the row on its own.
func readTroubleshootingRow(b *fixgraph.Batch, doc *fixgraph.Document, model string, row troubleRow, code string, order int,
	tableSec *fixgraph.Section, lookup func(anchor string) (*htmlSection, *fixgraph.Section)) {
	lang := doc.Language
	path := append(append([]string(nil), tableSec.HeadingPath...), code)
	rowSec := newSection(doc, order, code, path, row.raw)
	rowSec.Anchor = tableSec.Anchor
	rowSec.Products = tableSec.Products
	ec := addCodeRow(b, doc, model, code, row.symptom, row.cause, row.severity, rowSec)

	guide := &fixgraph.RepairGuide{
		Code:       code,
		Product:    model,
		Title:      strings.TrimSpace(code + " " + row.symptom),
		SectionID:  rowSec.ID,
		DocumentID: doc.ID,
		Language:   lang,
	}
	if row.solution != nil {
		// A solution that points to a detailed guide elsewhere on the page, instead of listing steps,
		// takes its steps from there.
		for _, a := range findAll(row.solution, atom.A) {
			if len(findAll(row.solution, atom.Li)) > 0 {
				break
			}
			href := attr(a, "href")
			if !strings.HasPrefix(href, "#") {
				continue
			}
			if hs, sec := lookup(strings.TrimPrefix(href, "#")); hs != nil {
				guide.Title, guide.SectionID = hs.heading, sec.ID
				guide.Warnings = hs.warnings
				for _, l := range hs.lists {
					guide.Steps = append(guide.Steps, l...)
				}
				b.Link(sec.ID, fixgraph.RelDescribes, ec.ID)
				break
			}
		}
		if len(guide.Steps) == 0 {
			for _, li := range findAll(row.solution, atom.Li) {
				if t := extract.Clean(nodeText(li)); t != "" {
					guide.Steps = append(guide.Steps, t)
				}
			}
		}
		if len(guide.Steps) == 0 {
			if t := extract.Clean(nodeText(row.solution)); t != "" {
				guide.Steps = []string{t}
			}
		}
	}
	addGuide(b, ec, rowSec, guide)

	if row.video != nil {
		for _, a := range findAll(row.video, atom.A) {
			url := attr(a, "href")
			if url == "" || strings.HasPrefix(url, "#") {
				continue
			}
			addVideo(b, guide, url, text(lang, extract.Clean(nodeText(a))))
		}
	}
	if row.part != nil {
		for _, line := range strings.Split(extract.CleanBlock(nodeText(row.part)), "\n") {
			skus := extract.PartNumbers(extract.Normalize(line))
			if len(skus) == 0 {
				continue
			}
			name := strings.TrimSpace(strings.Trim(strings.TrimSpace(strings.Replace(line, skus[0], "", 1)), "-–—:：()（）"))
			addPart(b, model, guide, rowSec, skus[0], text(lang, name))
		}
	}
}

// The rows of troubleshooting tables, in HTML manuals and in PDFs, become the same nodes through
// addCodeRow, addGuide, addVideo and addPart.

// addCodeRow adds a row's error code, linked to its product, and the row's section, which belongs
// to doc and mentions the code. A note in the row that a firmware version fixes the fault is kept.
func addCodeRow(b *fixgraph.Batch, doc *fixgraph.Document, model, code, symptom, cause, severity string, rowSec *fixgraph.Section) *fixgraph.ErrorCode {
	ec := &fixgraph.ErrorCode{
		ID:       fixgraph.ErrorCodeID(model, code),
		Code:     code,
		Product:  model,
		Symptom:  text(doc.Language, symptom),
		Cause:    text(doc.Language, cause),
		Severity: severity,
		FixedIn:  extract.FixedInFirmware(cause + " " + rowSec.Text),
	}
	markDanger(ec, rowSec.Text)
	b.Add(ec)
	if model != "" {
		b.Link(fixgraph.ProductID(model), fixgraph.RelHasError, ec.ID)
	}
	b.Add(rowSec)
	b.Link(rowSec.ID, fixgraph.RelPartOf, doc.ID)
	b.Link(rowSec.ID, fixgraph.RelMentions, ec.ID)
	return ec
}

// addGuide adds guide when it has steps: it fixes ec, and the row's section (and the guide's own
// section, when that is elsewhere) describes it. A guide without steps gets no id and is not added.
func addGuide(b *fixgraph.Batch, ec *fixgraph.ErrorCode, rowSec *fixgraph.Section, guide *fixgraph.RepairGuide) {
	if len(guide.Steps) == 0 {
		return
	}
	markDanger(ec, append(slices.Clone(guide.Warnings), guide.Steps...)...)
	guide.ID = fixgraph.HashID(fixgraph.PrefixGuide, guide.DocumentID, ec.Code, guide.SectionID)
	b.Add(guide)
	b.Link(ec.ID, fixgraph.RelFixedBy, guide.ID)
	b.Link(rowSec.ID, fixgraph.RelDescribes, guide.ID)
	if guide.SectionID != rowSec.ID {
		b.Link(guide.SectionID, fixgraph.RelDescribes, guide.ID)
	}
}

// addVideo adds a video of the guide.
func addVideo(b *fixgraph.Batch, guide *fixgraph.RepairGuide, url string, title fixgraph.Text) {
	v := &fixgraph.Video{ID: fixgraph.VideoID(url), URL: url, Title: title}
	b.Add(v)
	if guide.ID != "" {
		b.Link(guide.ID, fixgraph.RelHasVideo, v.ID)
	}
}

// addPart adds a part the guide needs, which fits model and which the row's section mentions.
func addPart(b *fixgraph.Batch, model string, guide *fixgraph.RepairGuide, rowSec *fixgraph.Section, sku string, name fixgraph.Text) {
	part := &fixgraph.Part{ID: fixgraph.PartID(sku), SKU: sku, Name: name}
	if model != "" {
		part.Compatible = []string{model}
		b.Link(part.ID, fixgraph.RelFitsIn, fixgraph.ProductID(model))
	}
	b.Add(part)
	if guide.ID != "" {
		b.Link(guide.ID, fixgraph.RelNeedsPart, part.ID)
	}
	b.Link(rowSec.ID, fixgraph.RelMentions, part.ID)
}

// findAll returns the elements of type a under n, in document order.
func findAll(n *html.Node, a atom.Atom) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.DataAtom == a {
				out = append(out, c)
			}
			walk(c)
		}
	}
	walk(n)
	return out
}
