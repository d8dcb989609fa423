package ingest

import (
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/fixgraph/fixgraph/extract"
)

// Troubleshooting tables in PDFs are rebuilt from where their words stand, since a PDF keeps no
// table structure. Real manuals make this hard: cells wrap over several lines, a short cell is
// centred against a tall neighbour (so its line sits between the neighbour's lines, or a row's
// remedy starts above its code), one code's cell spans several cause/remedy sub-rows, column
// positions drift, and tables run over page breaks. The method:
//
//  1. A header is a line (or two or three lines, for wrapped header cells) whose cells name a
//     code or symptom column and another column (columnWords, in several languages).
//  2. The columns are where the header's cells stand, with the boundaries moved into the blank
//     gutters that the body's words leave between them.
//  3. The body runs on while its lines fit the columns: no heading, no line of prose running
//     across a boundary, no wide blank; on the next page it goes on where the header repeats or
//     the first lines fit the columns again.
//  4. Rows: the anchor column (codes, else symptoms) is cut into blocks, one per code (or per
//     paragraph). Every other column's lines are shared out among the blocks by dynamic
//     programming: contiguous groups whose middles (for centred tables) or tops (for tables aligned
//     at the top) lie closest to their block's, whichever fits the table better.

// pdfTable is a troubleshooting table found in a PDF.
type pdfTable struct {
	cols     map[column]int    // what each named column holds → its index
	roles    []column          // each column's role, colNone for one the header does not name
	geom     map[int]*pageGeom // where its columns stand on each page it is on
	windowed bool              // read from its side of a line it shares with a table beside it
	header   []string          // header cells, wrapped lines joined
	unit     float64           // the header's line height, the table's measure for gaps
	pitch    float64           // the distance between the lines of a cell
	rows     []*pdfRow
	headers  []int // indexes of the header lines: the first header and its repeats
	skip     []int // indexes of the other lines the table's text was read from
}

// pdfRow is one table row: each column's text, the codes its code cell (or symptom) names, and
// where it starts.
type pdfRow struct {
	cells [][]string // per column, its paragraphs (sub-rows), wrapped lines joined
	codes []string   // as printed
	name  string     // the code cell's text after its codes (a code's name)
	page  int
	line  int // index of its first line
}

// cell returns the text of a column of the row, its paragraphs joined by "; ", or "".
func (t *pdfTable) cell(r *pdfRow, c column) string {
	i, ok := t.cols[c]
	if !ok || i >= len(r.cells) {
		return ""
	}
	return strings.Join(r.cells[i], "; ")
}

// text renders a row as one line, its cells joined by " | " as table rows are elsewhere in PDF
// text, without empty cells at the end.
func (r *pdfRow) text() string {
	cells := make([]string, len(r.cells))
	for i, c := range r.cells {
		cells[i] = strings.Join(c, " ")
	}
	for len(cells) > 1 && cells[len(cells)-1] == "" {
		cells = cells[:len(cells)-1]
	}
	return strings.Join(cells, " | ")
}

// headerGap is the gap, in line heights, that separates header cells: more than a word space,
// less than the padding of a cell.
const headerGap = 0.6

// lineCells splits a line's runs where the gap between them is over gap line heights.
func lineCells(l pdfLine, gap float64) []pdfChunk {
	var out []pdfChunk
	var cur []pdfRun
	flush := func() {
		if s := runsText(cur); s != "" {
			out = append(out, pdfChunk{x: firstX(cur), end: lastEnd(cur), em: runEm(cur[0]), text: s, runs: cur})
		}
		cur = nil
	}
	end := math.Inf(-1)
	for _, r := range l.runs {
		if r.spaceAt {
			if len(cur) > 0 {
				cur = append(cur, r) // a word space, kept for runsText
			}
			continue
		}
		if len(cur) > 0 && r.x-end > gap*runEm(r) {
			flush()
		}
		cur = append(cur, r)
		end = r.x + r.w
	}
	flush()
	return out
}

func lastEnd(runs []pdfRun) float64 {
	e := 0.0
	for _, r := range runs {
		if !r.spaceAt {
			e = math.Max(e, r.x+r.w)
		}
	}
	return e
}

// findCodeTables finds the troubleshooting tables among a PDF's lines (see the method above).
// Only lines with positioned runs are read; text from pdftotext -layout is not.
func findCodeTables(lines []pdfLine, levels []int) []*pdfTable {
	var out []*pdfTable
	for i := 0; i < len(lines); {
		t, n, extents := readTableHeader(lines, levels, i)
		if t == nil {
			i++
			continue
		}
		// Two tables side by side under one header line ("Code | Meaning | Code | Meaning"):
		// each is read alone, from the words on its side of the gap between them.
		parts := []*pdfTable{t}
		views := [][]pdfLine{lines}
		exts := [][][2]float64{extents}
		if j := sideBySide(t.header); j > 0 {
			cut := (extents[j-1][1] + extents[j][0]) / 2
			left, right := subTable(t, 0, j), subTable(t, j, len(t.header))
			parts = []*pdfTable{left, right}
			views = [][]pdfLine{windowLines(lines, math.Inf(-1), cut), windowLines(lines, cut, math.Inf(1))}
			exts = [][][2]float64{extents[:j], extents[j:]}
		}
		start, end := i, i+n
		for k, t := range parts {
			t.headers = append(t.headers, i)
			for h := i + 1; h < i+n; h++ {
				t.skip = append(t.skip, h)
			}
			t.windowed = len(parts) > 1
			end = max(end, t.readBody(views[k], levels, i+n, exts[k]))
			if len(t.rows) > 0 {
				out = append(out, t)
			}
		}
		i = end
		// Lines of a table are not headings, whatever their size.
		for k := start; k < i && len(out) > 0; k++ {
			levels[k] = 0
		}
	}
	return out
}

// sideBySide returns where a header's second table starts when the header holds two tables side by
// side (the roles of its first cells again, from a code or symptom column on), or 0.
func sideBySide(header []string) int {
	first := headerRole(header[0])
	if first != colCode && first != colSymptom {
		return 0
	}
	for j := 2; j+1 < len(header); j++ {
		if headerRole(header[j]) != first {
			continue
		}
		if _, ok := headerRoles(header[:j]); !ok {
			continue
		}
		if _, ok := headerRoles(header[j:]); ok {
			return j
		}
	}
	return 0
}

// subTable is the table of a header's columns from..to.
func subTable(t *pdfTable, from, to int) *pdfTable {
	sub := &pdfTable{unit: t.unit, header: slices.Clone(t.header[from:to]), cols: make(map[column]int)}
	sub.roles, _ = headerRoles(sub.header)
	for j, r := range sub.roles {
		if r != colNone {
			sub.cols[r] = j
		}
	}
	return sub
}

// windowLines returns the lines with only the runs that start at or right of left and before
// right, keeping their indexes, for a table that shares its lines with another beside it.
func windowLines(lines []pdfLine, left, right float64) []pdfLine {
	out := make([]pdfLine, len(lines))
	for i, l := range lines {
		l.runs = slices.DeleteFunc(slices.Clone(l.runs), func(r pdfRun) bool { return r.x < left || r.x >= right })
		out[i] = l
	}
	return out
}

// readTableHeader reads a troubleshooting table's header starting at line i and returns the
// table, how many lines its header takes and each column's x extent, or nil.
func readTableHeader(lines []pdfLine, levels []int, i int) (*pdfTable, int, [][2]float64) {
	if len(lines[i].runs) == 0 {
		return nil, 0, nil
	}
	var first []pdfChunk
	for _, c := range lineCells(lines[i], headerGap) {
		first = append(first, splitHeaderCell(c)...)
	}
	if len(first) < 2 || len(first) > 8 {
		return nil, 0, nil
	}
	t := &pdfTable{unit: lineHeight(lines[i])}
	var extents [][2]float64
	for _, c := range first {
		if utf8.RuneCountInString(c.text) > 40 {
			return nil, 0, nil
		}
		extents = append(extents, [2]float64{c.x, c.end})
		t.header = append(t.header, c.text)
	}
	roles, ok := headerRoles(t.header)
	n := 1
	// Header cells wrapped over more lines: each piece stands under a cell of the first line.
	for ; n < 3; n++ {
		k := i + n
		if k >= len(lines) || lines[k].page != lines[i].page || lines[k].top-lines[k-1].bottom > 0.8*t.unit {
			break
		}
		more := lineCells(lines[k], headerGap)
		cells := make([]string, len(extents))
		aligned := len(more) > 0
		for _, c := range more {
			j := slices.IndexFunc(extents, func(e [2]float64) bool { return c.x < e[1]+t.unit && c.end > e[0]-t.unit })
			if j < 0 || cells[j] != "" || utf8.RuneCountInString(c.text) > 40 {
				aligned = false
				break
			}
			cells[j] = c.text
		}
		if !aligned {
			break
		}
		joined := make([]string, len(t.header))
		for j, c := range cells {
			joined[j] = joinWrapped([]string{t.header[j], c})
		}
		r2, ok2 := headerRoles(joined)
		if ok && (!ok2 || codesIn(cells, r2)) {
			break // the first row, not more header
		}
		if !anyRole(cells) && (ok || !ok2) {
			break // a header is whole once it names its columns; more lines of it name more
		}
		t.header, roles, ok = joined, r2, ok2
		for j, c := range more {
			_ = j
			if jj := slices.IndexFunc(extents, func(e [2]float64) bool { return c.x < e[1]+t.unit && c.end > e[0]-t.unit }); jj >= 0 {
				extents[jj] = [2]float64{math.Min(extents[jj][0], c.x), math.Max(extents[jj][1], c.end)}
			}
		}
	}
	if !ok {
		return nil, 0, nil
	}
	t.roles = roles
	t.cols = make(map[column]int)
	for j, r := range roles {
		if r != colNone {
			t.cols[r] = j
		}
	}
	return t, n, extents
}

// splitHeaderCell splits a chunk of a header line that holds the headers of two or more columns
// a word space apart ("Code Bedeutung", where the table is tight), at the word boundaries that make
// every part name a role and cover the most of its text with role words. A chunk that its role's
// words cover whole ("Error code") stays whole.
func splitHeaderCell(c pdfChunk) []pdfChunk {
	words := wordRuns(c.runs)
	if len(words) < 2 || len(words) > 8 {
		return []pdfChunk{c}
	}
	if _, cover := headerRoleCover(c.text); cover >= 0.99 {
		return []pdfChunk{c} // "Error code": one role's words, whole
	}
	chunk := func(ws [][]pdfRun) pdfChunk {
		var runs []pdfRun
		for k, w := range ws {
			if k > 0 {
				runs = append(runs, pdfRun{s: " ", x: lastEnd(ws[k-1]), spaceAt: true, size: w[0].size})
			}
			runs = append(runs, w...)
		}
		return pdfChunk{x: firstX(runs), end: lastEnd(runs), em: runEm(runs[0]), text: runsText(runs), runs: runs}
	}
	// best[i]: the best split of words[i:] and its score; a part scores its role words' share.
	type split struct {
		parts []pdfChunk
		score float64
	}
	best := make([]*split, len(words)+1)
	best[len(words)] = &split{}
	for i := len(words) - 1; i >= 0; i-- {
		for j := i + 1; j <= len(words); j++ {
			if best[j] == nil {
				continue
			}
			part := chunk(words[i:j])
			role, cover := headerRoleCover(part.text)
			if role == colNone {
				continue
			}
			if sc := cover - 0.1 + best[j].score; best[i] == nil || sc > best[i].score {
				best[i] = &split{parts: append([]pdfChunk{part}, best[j].parts...), score: sc}
			}
		}
	}
	if best[0] == nil || len(best[0].parts) < 2 {
		return []pdfChunk{c}
	}
	return best[0].parts
}

// wordRuns groups runs into words: at space runs, and at gaps wider than a fifth of an em
// (glyph-by-glyph text).
func wordRuns(runs []pdfRun) [][]pdfRun {
	var out [][]pdfRun
	var cur []pdfRun
	end := math.Inf(-1)
	for _, r := range runs {
		if r.spaceAt || len(cur) > 0 && r.x-end > 0.2*runEm(r) {
			if len(cur) > 0 {
				out = append(out, cur)
				cur = nil
			}
			if r.spaceAt {
				continue
			}
		}
		cur = append(cur, r)
		end = r.x + r.w
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// codesIn reports whether the cells under a code column hold a code: a table's first row.
func codesIn(cells []string, roles []column) bool {
	for j, r := range roles {
		if r == colCode && j < len(cells) {
			if codes, _ := extract.CellCodes(cells[j]); len(codes) > 0 {
				return true
			}
		}
	}
	return false
}

func anyRole(cells []string) bool {
	for _, c := range cells {
		if headerRole(c) != colNone {
			return true
		}
	}
	return false
}

// lineHeight is a line's height: its box when known, else its font size.
func lineHeight(l pdfLine) float64 {
	if h := l.bottom - l.top; h > 0 {
		return h
	}
	return math.Max(l.size, 1)
}

// runEm estimates a run's em. Its size is the height of its box where poppler gave it, which for
// CJK fonts is much taller than the em; CJK characters are an em wide, so their width tells.
func runEm(r pdfRun) float64 {
	n, wide := 0, 0
	for _, c := range r.s {
		n++
		if isWide(string(c)) {
			wide++
		}
	}
	if n > 0 && 2*wide > n && r.w > 0 {
		return math.Min(r.size, r.w/float64(n))
	}
	return r.size
}
