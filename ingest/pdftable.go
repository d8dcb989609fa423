package ingest

import (
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/extract"
)

// pdfRun is a piece of positioned text on a PDF line, usually one glyph: where it starts, how wide
// it is (estimated when the PDF does not say) and its font size.
type pdfRun struct {
	s       string
	x, w    float64
	size    float64
	spaceAt bool // a space run: it separates words but holds no text
}

// pdfTable is an error-code table found in a PDF: the columns its header names, where each
// column's text starts, and its rows with wrapped lines joined.
type pdfTable struct {
	cols    map[column]int // what each named column holds → its index
	starts  []float64      // the x where each column's text starts
	header  []string       // header cells, wrapped lines joined
	unit    float64        // the header's font size, the table's measure for gaps
	rows    []*pdfRow
	headers []int // indexes of the header lines, the first header and its repeats
	skip    []int // indexes of the other lines the table's text was read from
}

// pdfRow is one table row: each column's lines of text, and where the row starts.
type pdfRow struct {
	cells [][]string
	page  int
	line  int // index of its first line
}

// cell returns the text of a column of the row, its lines joined as wrapped text, or "".
func (t *pdfTable) cell(r *pdfRow, c column) string {
	i, ok := t.cols[c]
	if !ok || i >= len(r.cells) {
		return ""
	}
	return joinWrapped(r.cells[i])
}

// text renders a row as one line, its cells joined by " | " as table rows are elsewhere in PDF
// text, without empty cells at the end.
func (r *pdfRow) text() string {
	cells := make([]string, len(r.cells))
	for i, c := range r.cells {
		cells[i] = joinWrapped(c)
	}
	for len(cells) > 1 && cells[len(cells)-1] == "" {
		cells = cells[:len(cells)-1]
	}
	return strings.Join(cells, " | ")
}

// joinWrapped joins the lines of a wrapped cell: directly before a Chinese character that follows
// one or follows punctuation, and after a hyphen that broke a word or part number (DD92-⏎00318A);
// with a space otherwise.
func joinWrapped(lines []string) string {
	var b strings.Builder
	prev := ""
	for _, l := range lines {
		if l == "" {
			continue
		}
		cjk := isWide(firstRune(l)) && (isWide(lastRune(prev)) || strings.ContainsAny(lastRune(prev), ",.;:!?()、"))
		if prev != "" && !cjk && !strings.HasSuffix(prev, "-") {
			b.WriteString(" ")
		}
		b.WriteString(l)
		prev = l
	}
	return b.String()
}

// headerColumns maps the header cells of a troubleshooting table, HTML or PDF, to what their
// columns hold. It returns nil unless the header names an error-code column and a symptom or
// remedy column.
func headerColumns(header []string) map[column]int {
	cols := make(map[column]int)
	for i, h := range header {
		h = strings.ToLower(h)
		for c := column(0); c < numColumns; c++ {
			if _, taken := cols[c]; taken {
				continue
			}
			if matchesAny(h, columnWords[c]) {
				cols[c] = i
				break
			}
		}
	}
	_, code := cols[colCode]
	_, sym := cols[colSymptom]
	_, sol := cols[colSolution]
	if !code || !(sym || sol) {
		return nil
	}
	return cols
}

// pdfChunk is a stretch of a line's text with no wide gap in it: a table cell's line, or a whole
// line of prose.
type pdfChunk struct {
	x    float64
	text string
}

// chunkGap is the gap, in ems, that separates chunks. Words are a third of an em apart and
// full-width spaces one em; table cells have their padding on both sides between them.
const chunkGap = 1.1

// lineChunks splits a line's runs at wide gaps.
func lineChunks(l pdfLine) []pdfChunk {
	var out []pdfChunk
	var cur []pdfRun
	flush := func() {
		if s := runsText(cur); s != "" {
			out = append(out, pdfChunk{x: firstX(cur), text: s})
		}
		cur = nil
	}
	end := math.Inf(-1)
	for _, r := range l.runs {
		if r.spaceAt {
			continue
		}
		if len(cur) > 0 && r.x-end > chunkGap*r.size {
			flush()
		}
		cur = append(cur, r)
		end = r.x + r.w
	}
	flush()
	return out
}

func firstX(runs []pdfRun) float64 {
	for _, r := range runs {
		if !r.spaceAt {
			return r.x
		}
	}
	return 0
}

// runsText joins runs left to right, with a space where a gap or a space run separates words.
func runsText(runs []pdfRun) string {
	var b strings.Builder
	end := math.Inf(-1)
	space := false
	for _, r := range runs {
		if r.spaceAt {
			space = true
			continue
		}
		if b.Len() > 0 && (space || r.x-end > 0.4*r.size) {
			b.WriteString(" ")
		}
		b.WriteString(r.s)
		end, space = r.x+r.w, false
	}
	return cellText(b.String())
}

// cellText normalises a table cell's text as PDF lines are (NFKC, for the Kangxi radicals that
// ToUnicode maps yield, and full-width letters and digits), except that full-width punctuation
// (，；：（）) is kept: cells become the symptoms and steps that answers show, written as the
// HTML manuals' are.
func cellText(s string) string {
	var b strings.Builder
	start := 0
	for i, r := range s {
		if r >= 0xff01 && r <= 0xff65 && unicode.IsPunct(r) {
			b.WriteString(norm.NFKC.String(s[start:i]))
			b.WriteRune(r)
			start = i + utf8.RuneLen(r)
		}
	}
	b.WriteString(norm.NFKC.String(s[start:]))
	return extract.Clean(b.String())
}

// findCodeTables finds the error-code tables among a PDF's lines. A table starts at a header line
// (or a header wrapped over up to three lines) whose cells name an error-code column and a
// symptom or remedy column; its columns start where the header cells do, as in tables whose cells
// are aligned left. Each following line is split into cells by those columns: a line with text in
// the code column starts a row, a line without continues the cells of the row above (wrapped
// text). The table ends at a heading, at a line that starts left of the first column, or at a line
// whose text runs across a column boundary (prose). A header repeated on the next page is skipped.
// Only text with positions (the built-in reader) is read this way; text from pdftotext is not.
func findCodeTables(lines []pdfLine, levels []int) []*pdfTable {
	var out []*pdfTable
	for i := 0; i < len(lines); {
		t, n := readTableHeader(lines, levels, i)
		if t == nil {
			i++
			continue
		}
		t.headers = append(t.headers, i)
		for k := i + 1; k < i+n; k++ {
			t.skip = append(t.skip, k)
		}
		i = t.readRows(lines, levels, i+n)
		out = append(out, t)
	}
	return out
}

// readTableHeader reads an error-code table's header starting at line i and returns the table
// and how many lines its header takes, or nil.
func readTableHeader(lines []pdfLine, levels []int, i int) (*pdfTable, int) {
	if levels[i] != 0 || len(lines[i].runs) == 0 {
		return nil, 0
	}
	first := lineChunks(lines[i])
	if len(first) < 2 {
		return nil, 0
	}
	t := &pdfTable{unit: lines[i].size}
	for _, c := range first {
		if utf8.RuneCountInString(c.text) > 40 {
			return nil, 0
		}
		t.starts = append(t.starts, c.x)
		t.header = append(t.header, c.text)
	}
	tol := 0.6 * t.unit
	n := 1
	for t.cols = headerColumns(t.header); n < 4; n++ {
		k := i + n
		if k >= len(lines) || levels[k] != 0 || lines[k].page != lines[i].page {
			break
		}
		// A header line wrapped in its cells starts each piece where a column starts.
		more := lineChunks(lines[k])
		cells := make([]string, len(t.starts))
		aligned := len(more) > 0
		for _, c := range more {
			j := slices.IndexFunc(t.starts, func(x float64) bool { return math.Abs(x-c.x) <= tol })
			if j < 0 || cells[j] != "" || utf8.RuneCountInString(c.text) > 40 {
				aligned = false
				break
			}
			cells[j] = c.text
		}
		if !aligned {
			break
		}
		if t.cols != nil && isCodeCell(cells[t.cols[colCode]]) {
			break // the first row
		}
		for j, c := range cells {
			t.header[j] = joinWrapped([]string{t.header[j], c})
		}
		if t.cols == nil {
			t.cols = headerColumns(t.header)
		}
	}
	if t.cols == nil {
		return nil, 0
	}
	return t, n
}

// readRows reads the table's rows from line i on and returns the index of the first line after
// the table.
func (t *pdfTable) readRows(lines []pdfLine, levels []int, i int) int {
	for i < len(lines) {
		if levels[i] != 0 || len(lines[i].runs) == 0 {
			return i
		}
		// The header again, as browsers print it at the top of each page a table runs onto.
		if h, n := readTableHeader(lines, levels, i); h != nil && len(h.starts) == len(t.starts) {
			t.starts = h.starts
			t.headers = append(t.headers, i)
			for k := i + 1; k < i+n; k++ {
				t.skip = append(t.skip, k)
			}
			i += n
			continue
		}
		cells, ok := t.split(lines[i])
		if !ok {
			return i
		}
		switch {
		case cells[t.cols[colCode]] != "":
			r := &pdfRow{cells: make([][]string, len(t.starts)), page: lines[i].page, line: i}
			t.rows = append(t.rows, r)
		case len(t.rows) == 0:
			// Text under the header before the first row: the header's own wrapped lines.
			t.skip = append(t.skip, i)
			i++
			continue
		default:
			t.skip = append(t.skip, i)
		}
		r := t.rows[len(t.rows)-1]
		for j, c := range cells {
			if c != "" {
				r.cells[j] = append(r.cells[j], c)
			}
		}
		i++
	}
	return i
}

// split divides a line into the table's columns. It reports false for a line that is not part of
// the table: one that starts left of the first column, or whose text runs on across a column
// boundary without the gap that separates cells.
func (t *pdfTable) split(l pdfLine) ([]string, bool) {
	tol := 0.6 * t.unit
	col := func(x float64) int {
		j := -1
		for k, s := range t.starts {
			if x >= s-tol {
				j = k
			}
		}
		return j
	}
	parts := make([][]pdfRun, len(t.starts))
	last, end := -1, 0.0
	for _, r := range l.runs {
		if r.spaceAt {
			if last >= 0 {
				parts[last] = append(parts[last], r)
			}
			continue
		}
		j := col(r.x)
		if j < 0 {
			return nil, false
		}
		if last >= 0 && j != last && r.x-end < 0.5*r.size {
			return nil, false
		}
		parts[j] = append(parts[j], r)
		last, end = j, r.x+r.w
	}
	if last < 0 {
		return nil, false
	}
	cells := make([]string, len(parts))
	for j, p := range parts {
		cells[j] = runsText(p)
	}
	return cells, true
}

// codeCellRE is a cell that holds an error code and nothing else.
var codeCellRE = regexp.MustCompile(`(?i)^[A-Z][ -]?\d{1,3}$`)

// isCodeCell reports whether a table cell is an error code on its own, not text that mentions one.
func isCodeCell(s string) bool {
	s = extract.Normalize(s)
	return codeCellRE.MatchString(s) && extract.CanonicalCode(s) != ""
}

// stepMarkerRE finds what may number a step: 1. 2、 3) ４．, at the start, or after a space, the end
// of a sentence or a colon.
var stepMarkerRE = regexp.MustCompile(`(?:^|[\s。；;：:！!？?])(\d{1,2})[.、．)）]`)

// splitSteps divides a remedy cell into its numbered steps: 1, 2, 3 in order, so a number inside a
// step (1.8 kΩ, 2 MΩ) does not split it. A cell without numbered steps is one step.
func splitSteps(s string) []string {
	var cuts [][2]int // where each step's marker starts and its text starts
	next := 1
	for _, m := range stepMarkerRE.FindAllStringSubmatchIndex(s, -1) {
		end := m[1]
		if end < len(s) && s[end] >= '0' && s[end] <= '9' {
			continue // a decimal number
		}
		if s[m[2]:m[3]] != strconv.Itoa(next) {
			continue
		}
		cuts = append(cuts, [2]int{m[2], end})
		next++
	}
	var steps []string
	add := func(t string) {
		if t = strings.TrimSpace(t); t != "" {
			steps = append(steps, t)
		}
	}
	if len(cuts) < 2 {
		add(strings.TrimSpace(s))
		return steps
	}
	add(s[:cuts[0][0]])
	for k, c := range cuts {
		stop := len(s)
		if k+1 < len(cuts) {
			stop = cuts[k+1][0]
		}
		add(s[c[1]:stop])
	}
	return steps
}

var urlRE = regexp.MustCompile(`https?://[^\s|，。；）)]+`)

// readPDFTableRow adds one error-code row of a PDF table, as manual.go does for an HTML row: the
// error code, a section holding the row's text (on the row's page, so citations carry it), the
// repair guide with the remedy cell's steps drawn from that section, and the parts and videos the
// row names. model is the product the table is about, "" when the document names none.
func readPDFTableRow(b *fixgraph.Batch, doc *fixgraph.Document, model string, t *pdfTable, r *pdfRow, order int, tableSec *fixgraph.Section) {
	code := extract.CanonicalCode(t.cell(r, colCode))
	lang := doc.Language
	symptom := t.cell(r, colSymptom)
	var raw []string
	for _, c := range r.cells {
		if s := joinWrapped(c); s != "" {
			raw = append(raw, s)
		}
	}
	path := append(slices.Clone(tableSec.HeadingPath), code)
	rowSec := newSection(doc, order, code, path, strings.Join(raw, "\n"))
	rowSec.Page = r.page
	rowSec.Products = tableSec.Products
	ec := addCodeRow(b, doc, model, code, symptom, t.cell(r, colCause), severity(t.cell(r, colSeverity)), rowSec)

	guide := &fixgraph.RepairGuide{
		Code:       code,
		Product:    model,
		Title:      strings.TrimSpace(code + " " + symptom),
		Steps:      splitSteps(t.cell(r, colSolution)),
		SectionID:  rowSec.ID,
		DocumentID: doc.ID,
		Language:   lang,
	}
	addGuide(b, ec, rowSec, guide)
	for _, url := range urlRE.FindAllString(t.cell(r, colVideo), -1) {
		addVideo(b, guide, url, nil)
	}

	parts := extract.Normalize(t.cell(r, colPart))
	skus := extract.PartNumbers(parts)
	for k, sku := range skus {
		// A part's name is the text after its number, up to the next number.
		rest := parts[strings.Index(parts, sku)+len(sku):]
		if k+1 < len(skus) {
			if stop := strings.Index(rest, skus[k+1]); stop >= 0 {
				rest = rest[:stop]
			}
		}
		name := strings.TrimSpace(strings.Trim(strings.TrimSpace(rest), "-–—:：()（）,，;；/、"))
		addPart(b, model, guide, rowSec, sku, text(lang, name))
	}
}
