package ingest

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"html"
	"slices"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/extract"
)

// sheet is one worksheet's rows with data, each trimmed of empty cells at its end.
type sheet struct {
	name    string
	rows    [][]string
	numbers []int // the sheet's row number of each row, from 1
}

// parseXLSX reads an Excel workbook. A sheet whose header names question and answer columns is
// an FAQ import: each row becomes an FAQ, its similar questions the FAQ's variants. Every other
// sheet becomes a table under a heading with the sheet's name, read by the HTML reader, so a
// fault-code table kept in a spreadsheet gives error codes and repair guides. A workbook with an
// FAQ sheet is an FAQ document.
func (p *Pipeline) parseXLSX(doc *fixgraph.Document, data []byte) (*fixgraph.Batch, error) {
	pkg, err := p.openOffice(data, "Excel")
	if err != nil {
		return nil, err
	}
	sheets, title, err := readWorkbook(data, pkg.limit)
	if err != nil {
		return nil, err
	}
	title = cmp.Or(extract.Clean(title), fileTitle(doc.Source))
	var faqs []faqRow
	var others []block
	for _, s := range sheets {
		if rows, ok := faqSheet(s); ok {
			faqs = append(faqs, rows...)
			continue
		}
		others = append(others, sheetBlocks(s)...)
	}
	if len(faqs) == 0 && len(others) == 0 {
		return nil, fixgraph.Errorf(fixgraph.EUNREADABLE, "the workbook has no sheet with data")
	}
	if len(faqs) == 0 {
		return parsePage(doc, pageHTML(title, "", others))
	}
	var b *fixgraph.Batch
	if len(others) > 0 {
		if b, err = parsePage(doc, pageHTML(title, "", others)); err != nil {
			return nil, err
		}
	} else {
		var all strings.Builder
		for _, f := range faqs {
			all.WriteString(f.question + "\n" + f.answer + "\n")
		}
		b = &fixgraph.Batch{Document: doc}
		doc.Title, doc.Language = title, extract.DetectLanguage(all.String())
	}
	doc.Kind = fixgraph.KindFAQ
	doc.KindReason = fmt.Sprintf("an FAQ import sheet (question and answer columns) with %d rows", len(faqs))
	addFAQRows(b, doc, faqs)
	return b, nil
}

// officeXMLMemory is the size over which excelize reads a sheet or string table from a
// temporary file instead of memory.
const officeXMLMemory = 16 << 20

// readWorkbook reads the visible sheets of a workbook, at most MaxSheetRows rows with data and
// MaxSheetCells cells in all, and its title. The rows are read with excelize's streaming
// iterator; its own unzip limits are set to the package limit as a second guard.
func readWorkbook(data []byte, limit int64) (sheets []sheet, title string, err error) {
	// excelize is a large reader of a complex format; a panic on a hostile file must fail that
	// file, not the server that ingests it.
	defer func() {
		if r := recover(); r != nil {
			sheets, title, err = nil, "", fixgraph.Errorf(fixgraph.EUNREADABLE, "the workbook could not be read: it is damaged or not an Excel workbook")
		}
	}()
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{UnzipSizeLimit: limit, UnzipXMLSizeLimit: min(limit, officeXMLMemory)})
	if err != nil {
		if errors.Is(err, excelize.ErrWorkbookFileFormat) {
			return nil, "", fixgraph.WrapError(fixgraph.EUNREADABLE, err, "encrypted/password-protected Office file: remove the password in Excel and upload it again")
		}
		return nil, "", fixgraph.WrapError(fixgraph.EUNREADABLE, err, "not a readable .xlsx workbook: the file is damaged")
	}
	defer f.Close()
	if props, err := f.GetDocProps(); err == nil && props != nil {
		title = stripControls(props.Title)
	}
	var scanned, rowsWithData, cells int
	for _, name := range f.GetSheetList() {
		if visible, err := f.GetSheetVisible(name); err == nil && !visible {
			continue
		}
		s, err := readSheet(f, name, &scanned, &rowsWithData, &cells)
		if err != nil {
			return nil, "", err
		}
		if len(s.rows) > 0 {
			sheets = append(sheets, s)
		}
	}
	return sheets, title, nil
}

// readSheet reads one sheet, counting what it reads against the workbook's limits.
func readSheet(f *excelize.File, name string, scanned, rowsWithData, cells *int) (sheet, error) {
	s := sheet{name: stripControls(name)}
	rows, err := f.Rows(name)
	if err != nil {
		return s, fixgraph.WrapError(fixgraph.EUNREADABLE, err, "sheet %q of the workbook cannot be read", name)
	}
	defer rows.Close()
	number := 0
	for rows.Next() {
		number++
		if *scanned++; *scanned > maxSheetScan {
			return s, fixgraph.Errorf(fixgraph.ETOOLARGE, "the workbook's sheets span more than %d rows; refused", maxSheetScan)
		}
		cols, err := rows.Columns()
		if err != nil {
			return s, fixgraph.WrapError(fixgraph.EUNREADABLE, err, "sheet %q of the workbook is damaged", name)
		}
		for i, c := range cols {
			cols[i] = stripControls(c)
		}
		for len(cols) > 0 && strings.TrimSpace(cols[len(cols)-1]) == "" {
			cols = cols[:len(cols)-1]
		}
		if len(cols) == 0 {
			continue
		}
		if *rowsWithData++; *rowsWithData > MaxSheetRows {
			return s, fixgraph.Errorf(fixgraph.ETOOLARGE, "the workbook has more than %d rows with data, over the limit; split it into smaller files", MaxSheetRows)
		}
		if *cells += len(cols); *cells > MaxSheetCells {
			return s, fixgraph.Errorf(fixgraph.ETOOLARGE, "the workbook has more than %d cells with data, over the limit; split it into smaller files", MaxSheetCells)
		}
		s.rows = append(s.rows, slices.Clone(cols))
		s.numbers = append(s.numbers, number)
	}
	if err := rows.Error(); err != nil {
		if errors.Is(err, excelize.ErrMaxRows) {
			return s, fixgraph.WrapError(fixgraph.ETOOLARGE, err, "sheet %q has rows past Excel's last row", name)
		}
		return s, fixgraph.WrapError(fixgraph.EUNREADABLE, err, "sheet %q of the workbook is damaged", name)
	}
	if len(s.rows) <= mergeFillRows {
		fillMerged(f, name, &s)
	}
	return s, nil
}

// mergeFillRows is the most rows a sheet may have for its merged cells to be filled in: excelize
// reads the merged ranges by loading the whole worksheet, not as a stream.
const mergeFillRows = 5000

// fillMerged repeats the value of a vertically merged cell in each row it covers, as the Word
// reader does and as a reader sees it: a fault code or a cause merged over several rows belongs
// to each of them. Merges across columns are left alone, so a title over the table stays one cell.
func fillMerged(f *excelize.File, name string, s *sheet) {
	merges, err := f.GetMergeCells(name)
	if err != nil {
		return // the rows read are kept as they are
	}
	width := 0
	at := make(map[int]int, len(s.rows)) // row number → index in s.rows
	for i, n := range s.numbers {
		at[n] = i
		width = max(width, len(s.rows[i]))
	}
	for _, m := range merges {
		col, top, err1 := excelize.CellNameToCoordinates(m.GetStartAxis())
		_, bottom, err2 := excelize.CellNameToCoordinates(m.GetEndAxis())
		v := stripControls(m.GetCellValue())
		if err1 != nil || err2 != nil || col > width || strings.TrimSpace(v) == "" {
			continue
		}
		for r := top + 1; r <= min(bottom, top+mergeFillRows); r++ {
			i, ok := at[r]
			if !ok {
				continue
			}
			row := s.rows[i]
			for len(row) < col {
				row = append(row, "")
			}
			if strings.TrimSpace(row[col-1]) == "" {
				row[col-1] = v
			}
			s.rows[i] = row
		}
	}
}

// faqRow is one row of an FAQ import sheet.
type faqRow struct {
	question, answer  string
	variants          []string
	category, product string
}

// FAQ sheet columns.
const (
	faqQuestion = iota
	faqAnswer
	faqSimilar
	faqCategory
	faqProduct
	numFAQColumns
)

// containsAny reports whether s contains one of words.
func containsAny(s string, words []string) bool {
	return slices.ContainsFunc(words, func(w string) bool { return strings.Contains(s, w) })
}

// faqHeaderWords name the columns of FAQ import sheets, in Chinese and English. A header cell is
// matched exactly first, then by containing a word; similar questions are looked for before
// questions, so 相似问题 is not taken for 问题, and categories before them, so 问题分类 is not.
var faqHeaderWords = [numFAQColumns][]string{
	faqSimilar:  {"相似问题", "相似问法", "相似问", "扩展问题", "扩展问法", "同义问法", "similar questions", "similar question", "similar", "variants", "variant", "alternative questions", "paraphrases"},
	faqCategory: {"分类", "类别", "类目", "category", "categories"},
	faqAnswer:   {"标准答案", "答案", "回答", "答复", "answer", "answers", "reply"},
	faqQuestion: {"标准问题", "标准问法", "问题", "常见问题", "question", "questions"},
	faqProduct:  {"产品型号", "产品", "型号", "机型", "product", "model"},
}

var faqMatchOrder = []int{faqSimilar, faqCategory, faqAnswer, faqQuestion, faqProduct}

// faqColumns maps a header row to FAQ columns; ok is false unless it has question and answer
// columns.
func faqColumns(header []string) (cols [numFAQColumns]int, ok bool) {
	for i := range cols {
		cols[i] = -1
	}
	norm := make([]string, len(header))
	for i, h := range header {
		norm[i] = strings.ToLower(strings.Trim(extract.Clean(h), "*＊:： "))
	}
	taken := make(map[int]bool)
	for _, exact := range []bool{true, false} {
		for _, c := range faqMatchOrder {
			if cols[c] >= 0 {
				continue
			}
			for i, h := range norm {
				if taken[i] || h == "" {
					continue
				}
				if exact && slices.Contains(faqHeaderWords[c], h) || !exact && containsAny(h, faqHeaderWords[c]) {
					cols[c], taken[i] = i, true
					break
				}
			}
		}
	}
	return cols, cols[faqQuestion] >= 0 && cols[faqAnswer] >= 0
}

// headerSearch is how many rows with data from the top of a sheet are looked at for its header:
// templates put a title or instructions above it.
const headerSearch = 5

// faqSheet reads a sheet as an FAQ import; ok is false when no header row among the first few
// names question and answer columns.
func faqSheet(s sheet) ([]faqRow, bool) {
	for h := 0; h < len(s.rows) && h < headerSearch; h++ {
		cols, ok := faqColumns(s.rows[h])
		if !ok {
			continue
		}
		cell := func(row []string, c int) string {
			if i := cols[c]; i >= 0 && i < len(row) {
				return row[i]
			}
			return ""
		}
		var out []faqRow
		for _, row := range s.rows[h+1:] {
			r := faqRow{
				question: extract.Clean(cell(row, faqQuestion)),
				answer:   extract.CleanBlock(cell(row, faqAnswer)),
				category: extract.Clean(cell(row, faqCategory)),
				product:  extract.Clean(cell(row, faqProduct)),
			}
			if r.question == "" || r.answer == "" {
				continue
			}
			for _, v := range splitVariants(cell(row, faqSimilar)) {
				if v != r.question && !slices.Contains(r.variants, v) {
					r.variants = append(r.variants, v)
				}
			}
			out = append(out, r)
		}
		return out, true
	}
	return nil, false
}

// splitVariants splits a cell of similar questions: one a line, or separated by ；, ; or |.
func splitVariants(s string) []string {
	var out []string
	for _, v := range strings.FieldsFunc(s, func(r rune) bool {
		return r == '\n' || r == '\r' || r == ';' || r == '；' || r == '|' || r == '｜'
	}) {
		if v = extract.Clean(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// addFAQRows adds a section and an FAQ node for each row, after the batch's other sections, as
// parseFAQ does for a FAQ page's pairs. A section's text is the similar questions and then the
// answer, as the editor writes an FAQ's section, so search finds the FAQ by any of its questions.
// The same question again under the same category and product adds its variants to the first.
func addFAQRows(b *fixgraph.Batch, doc *fixgraph.Document, rows []faqRow) {
	order := 0
	for _, s := range b.Sections() {
		order = max(order, s.Order+1)
	}
	type key struct{ question, category, product string }
	first := make(map[key]int)
	questions := make(map[string]bool)
	var merged []faqRow
	var ids []string
	for _, r := range rows {
		k := key{r.question, r.category, r.product}
		if i, ok := first[k]; ok {
			for _, v := range r.variants {
				if !slices.Contains(merged[i].variants, v) {
					merged[i].variants = append(merged[i].variants, v)
				}
			}
			continue
		}
		first[k] = len(merged)
		merged = append(merged, r)
		id := fixgraph.HashID(fixgraph.PrefixFAQ, doc.ID, r.question)
		if questions[r.question] { // the same question for another product or category
			id = fixgraph.HashID(fixgraph.PrefixFAQ, doc.ID, r.question, r.category, r.product)
		}
		questions[r.question] = true
		ids = append(ids, id)
	}
	for i, r := range merged {
		var path []string
		if r.category != "" {
			path = append(path, r.category)
		}
		path = append(path, r.question)
		sec := newSection(doc, order+i, r.question, path, strings.Join(append(slices.Clone(r.variants), r.answer), "\n"))
		model := ""
		for _, s := range []string{r.product, r.category, r.question, r.answer} {
			if ms := extract.ProductModels(s); len(ms) > 0 {
				model = ms[0]
				break
			}
		}
		if model != "" {
			sec.Products = []string{model}
		}
		faq := &fixgraph.FAQ{
			ID:         ids[i],
			Question:   r.question,
			Variants:   r.variants,
			Answer:     r.answer,
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
}

// sheetBlocks writes a sheet as a heading with its name and a table whose header is its first row
// with more than one cell; single-cell rows above it (a title, a note) are paragraphs.
func sheetBlocks(s sheet) []block {
	// Drop the columns left empty in every row.
	lead := -1
	for _, row := range s.rows {
		for i, c := range row {
			if strings.TrimSpace(c) != "" {
				if lead < 0 || i < lead {
					lead = i
				}
				break
			}
		}
	}
	rows := make([][]string, 0, len(s.rows))
	for _, row := range s.rows {
		rows = append(rows, row[min(max(lead, 0), len(row)):])
	}
	name := extract.Clean(s.name)
	out := []block{{kind: blockHeading, level: 2, html: html.EscapeString(name), text: name}}
	h := 0
	for h < len(rows) && h < headerSearch && filled(rows[h]) < 2 {
		t := extract.Clean(strings.Join(rows[h], " "))
		out = append(out, block{kind: blockPara, html: html.EscapeString(t), text: t})
		h++
	}
	if h == len(rows) {
		return out
	}
	if h == headerSearch {
		h = 0 // no header row: every row is a row of the table
		out = out[:1]
	}
	header, body := rows[h], rows[h+1:]
	for {
		n := min(len(body), sheetTableRows)
		var b, text strings.Builder
		b.WriteString("<table>")
		for i, row := range append([][]string{header}, body[:n]...) {
			tag := "td"
			if i == 0 {
				tag = "th"
			}
			b.WriteString("<tr>")
			for _, c := range row {
				b.WriteString("<" + tag + ">" + cellHTML(c) + "</" + tag + ">")
				text.WriteString(c + " ")
			}
			b.WriteString("</tr>\n")
		}
		b.WriteString("</table>\n")
		out = append(out, block{kind: blockTable, html: b.String(), text: extract.Clean(text.String())})
		body = body[n:]
		if len(body) == 0 {
			break
		}
	}
	return out
}

// sheetTableRows is how many rows of a sheet go into one HTML table; a longer sheet becomes
// several tables under its heading, each with the header row. The HTML reader's work on a table
// grows faster than its rows.
const sheetTableRows = 200

// filled counts the cells of a row that have text.
func filled(row []string) int {
	n := 0
	for _, c := range row {
		if strings.TrimSpace(c) != "" {
			n++
		}
	}
	return n
}

// cellHTML writes a spreadsheet cell: steps numbered 1, 2, 3 as an ordered list, other lines
// with line breaks, and a cell that is one web address as a link.
func cellHTML(c string) string {
	c = extract.CleanBlock(c)
	if (strings.HasPrefix(c, "http://") || strings.HasPrefix(c, "https://")) && !strings.ContainsAny(c, " \n\t") {
		return `<a href="` + html.EscapeString(c) + `">` + html.EscapeString(c) + "</a>"
	}
	if steps := splitSteps(strings.ReplaceAll(c, "\n", " ")); len(steps) > 1 {
		var b strings.Builder
		b.WriteString("<ol>")
		for _, s := range steps {
			b.WriteString("<li>" + html.EscapeString(s) + "</li>")
		}
		b.WriteString("</ol>")
		return b.String()
	}
	return strings.ReplaceAll(html.EscapeString(c), "\n", "<br>")
}
