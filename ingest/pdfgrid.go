package ingest

import (
	"math"
	"regexp"
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

// placed is a piece of a body line in one column: its text and where it stands.
type placed struct {
	text        string
	line        int
	page        int
	top, bottom float64 // page*pageSpan + y, so lines compare across pages
}

// pageGeom is where a table's columns stand on one page: pages of a book shift their text by
// the binding margin, so a table continued on the next page stands elsewhere.
type pageGeom struct {
	extents [][2]float64 // the header cells' x extents, shifted to this page
	bounds  []float64    // the x between column k and k+1
	gaps    [][2]float64 // the blank stretch (gutter) each boundary stands in
	left    float64      // no table text starts left of this
	edge    float64      // right of this, short lines are page furniture
}

// readBody reads the table's body from line i on and returns the index of the first line after
// the table.
func (t *pdfTable) readBody(lines []pdfLine, levels []int, i int, extents [][2]float64) int {
	t.geom = make(map[int]*pageGeom)
	t.place(lines, levels, i, lines[i-1].page, extents)
	var body []int
	lastBottom := lines[i-1].bottom
	page := lines[i-1].page
	for i < len(lines) {
		l := lines[i]
		if len(l.runs) == 0 {
			if t.windowed && lines[i].page == page {
				i++ // text of the table beside this one only
				continue
			}
			break
		}
		if levels[i] != 0 && len(lineCells(l, headerGap)) < 2 {
			// A heading ends the table, unless it is a page number or running head in a larger
			// type, alone at the foot or head of its page.
			// The same for a thumb index or margin mark beside the table.
			edge := i+1 >= len(lines) || lines[i+1].page != l.page || lines[i-1].page != l.page
			beside := l.page == page && t.furniture(l)
			if !edge && !beside || len(strings.Fields(l.text)) > 3 {
				break
			}
			t.skip = append(t.skip, i)
			i++
			continue
		}
		if l.page != page {
			// Page furniture (running heads, page numbers) and a repeated header are skipped; the
			// table goes on if what follows fits its columns.
			if l.page != page+1 {
				break
			}
			shift := pageMargin(lines, l.page) - pageMargin(lines, page)
			moved := make([][2]float64, len(extents))
			for k, e := range t.geom[page].extents {
				moved[k] = [2]float64{e[0] + shift, e[1] + shift}
			}
			t.place(lines, levels, i, l.page, moved)
			k := i
			for k < len(lines) && lines[k].page == l.page && k-i < 4 {
				if h, n, ext := readTableHeader(lines, levels, k); h != nil && len(h.header) == len(t.header) {
					t.headers = append(t.headers, k)
					for m := i; m < k+n; m++ {
						t.skip = append(t.skip, m)
					}
					k += n
					t.place(lines, levels, k, l.page, ext)
					break
				}
				if t.fits(lines[k]) {
					break
				}
				k++
			}
			if k >= len(lines) || lines[k].page != l.page || !t.fits(lines[k]) {
				break
			}
			for m := i; m < k; m++ {
				if !slices.Contains(t.skip, m) {
					t.skip = append(t.skip, m)
				}
			}
			i, page, lastBottom = k, l.page, lines[k].top
			continue
		}
		if l.top-lastBottom > 4*t.unit {
			break // a wide blank: the table is over
		}
		if !t.fits(l) {
			if t.furniture(l) {
				t.skip = append(t.skip, i)
				i++
				continue
			}
			break
		}
		body = append(body, i)
		lastBottom = l.bottom
		i++
	}
	// A page number or running foot under the table's last line on a page is not a cell.
	body = slices.DeleteFunc(body, func(k int) bool {
		last := k+1 >= len(lines) || lines[k+1].page != lines[k].page
		if !last || k == 0 || lines[k-1].page != lines[k].page || len(strings.Fields(lines[k].text)) > 3 {
			return false
		}
		if lines[k].top-lines[k-1].bottom > 2*t.unit {
			t.skip = append(t.skip, k)
			return true
		}
		return false
	})
	if len(body) == 0 {
		return i
	}
	byPage := make(map[int][]int)
	for _, k := range body {
		byPage[lines[k].page] = append(byPage[lines[k].page], k)
	}
	for p, ks := range byPage {
		t.gutters(t.geom[p], lines, ks)
	}
	if trimmed := t.trimTail(lines, body); len(trimmed) < len(body) {
		i = body[len(trimmed)]
		body = trimmed
		t.skip = slices.DeleteFunc(t.skip, func(k int) bool { return k >= i })
	}
	t.codesByContent(lines, body)
	t.rows = t.buildRows(lines, body)
	t.skip = append(t.skip, body...)
	return i
}

// place sets where the table's columns stand on a page from its header cells' extents there: the
// boundaries go into the gutters of the lines that follow line i on that page.
func (t *pdfTable) place(lines []pdfLine, levels []int, i, page int, extents [][2]float64) {
	g := &pageGeom{extents: extents, bounds: make([]float64, len(extents)-1), gaps: make([][2]float64, len(extents)-1)}
	for k := range g.bounds {
		g.bounds[k] = math.Max(extents[k][1], extents[k+1][0]-0.5*t.unit)
		g.gaps[k] = [2]float64{g.bounds[k], g.bounds[k]}
	}
	// The first column may start left of its header (centred cells); the last may run on to the
	// margin.
	g.left = extents[0][0] - 3*t.unit
	g.edge = extents[len(extents)-1][1] + 3*t.unit
	var near []int
	for k := i; k < len(lines) && k < i+80 && lines[k].page == page && (levels[k] == 0 || len(lineCells(lines[k], headerGap)) > 1); k++ {
		near = append(near, k)
	}
	t.gutters(g, lines, near)
	t.geom[page] = g
}

// pageMargin is where a page's text starts: the least x at which a line of several words starts.
func pageMargin(lines []pdfLine, page int) float64 {
	m := math.Inf(1)
	for _, l := range lines {
		if l.page == page && len(l.runs) > 4 {
			m = math.Min(m, firstX(l.runs))
		}
	}
	if math.IsInf(m, 1) {
		return 0
	}
	return m
}

// furniture reports whether a line is a page's running head, number or margin mark: short, and
// outside the table's width.
func (t *pdfTable) furniture(l pdfLine) bool {
	g := t.geom[l.page]
	words := 0
	for _, r := range l.runs {
		if !r.spaceAt {
			words++
			if r.x+r.w > g.left && r.x < g.edge {
				return false
			}
		}
	}
	return words <= 4
}

// fits reports whether a line belongs to the table (see split).
func (t *pdfTable) fits(l pdfLine) bool {
	_, ok := t.split(l)
	return ok
}

// split divides a line into the table's columns: the line's cells (text between gaps wider than
// a word space) each go to the column they start in. A cell that starts a little left of a
// boundary, or runs a little past one, is a cell; a run of words lying well across a boundary is
// prose, and a line with any is not part of the table, nor is one that starts left of it.
func (t *pdfTable) split(l pdfLine) ([]string, bool) {
	g := t.geom[l.page]
	if g == nil {
		return nil, false
	}
	cells := make([]string, len(g.bounds)+1)
	any := false
	for _, whole := range lineCells(l, headerGap) {
		if whole.x < g.left {
			return nil, false
		}
		parts, ok := cutAtBounds(whole, g)
		if !ok {
			return nil, false
		}
		for _, c := range parts {
			k := 0
			for k < len(g.bounds) && c.x+min(c.em, (c.end-c.x)/2) >= g.bounds[k] {
				k++
			}
			cells[k] = strings.TrimSpace(cells[k] + " " + c.text)
			any = true
		}
	}
	return cells, any
}

// cutAtBounds cuts a chunk of a line at the column boundaries inside it where its words leave the
// boundary's gutter blank: tight tables leave no more than a space between two cells. A boundary
// inside a word, or with words reaching into its gutter, is no cut: near the chunk's end it is a
// long cell running past a gutter, well inside it the line is prose across the table (reported as
// false).
func cutAtBounds(c pdfChunk, g *pageGeom) ([]pdfChunk, bool) {
	out := []pdfChunk{}
	runs := c.runs
	for k, b := range g.bounds {
		if b <= c.x || b >= c.end {
			continue
		}
		// The last word ending left of b and the first starting right of it.
		cut := -1
		inside := false
		for i, r := range runs {
			if r.spaceAt {
				continue
			}
			tol := 0.1 * runEm(r)
			if r.x+tol < b && b < r.x+r.w-tol {
				inside = true
				break
			}
			if r.x >= b-tol {
				cut = i
				break
			}
		}
		if !inside && cut > 0 {
			prevEnd := lastEnd(runs[:cut])
			em := runEm(runs[cut])
			switch {
			case runs[cut].x-prevEnd < 0.15*em:
				inside = true // letters of one word, set a glyph at a time
			case prevEnd > g.gaps[k][0]+0.3*em || runs[cut].x < g.gaps[k][1]-0.3*em:
				// Words reach into the gutter that the table's cells leave blank: a word space
				// that happens to fall on the boundary, in prose.
				inside = true
			}
		}
		if inside {
			if c.x+1.5*c.em < b && b < c.end-1.5*c.em {
				return nil, false
			}
			continue
		}
		if cut <= 0 {
			continue
		}
		left := runs[:cut]
		if s := runsText(left); s != "" {
			out = append(out, pdfChunk{x: firstX(left), end: lastEnd(left), em: runEm(firstWord(left)), text: s, runs: left})
		}
		runs = runs[cut:]
	}
	if s := runsText(runs); s != "" {
		out = append(out, pdfChunk{x: firstX(runs), end: lastEnd(runs), em: runEm(firstWord(runs)), text: s, runs: runs})
	}
	return out, true
}

// firstWord returns the first run of runs that is not a space.
func firstWord(runs []pdfRun) pdfRun {
	for _, r := range runs {
		if !r.spaceAt {
			return r
		}
	}
	return runs[0]
}

// column returns the column a run on a page stands in, by its middle.
func (t *pdfTable) column(page int, r pdfRun) int {
	bounds := t.geom[page].bounds
	mid := r.x + r.w/2
	k := 0
	for k < len(bounds) && mid >= bounds[k] {
		k++
	}
	return k
}

// gutters moves each boundary to the blank stretch between the middles of the two columns'
// header cells that the fewest of the given lines cover with a word (the widest such stretch),
// so that a few lines of prose among them do not hide the gutter.
func (t *pdfTable) gutters(g *pageGeom, lines []pdfLine, which []int) {
	const step = 0.5
	extents := g.extents
	for k := range g.bounds {
		lo := (extents[k][0] + extents[k][1]) / 2
		hi := (extents[k+1][0] + extents[k+1][1]) / 2
		if hi-lo < 2*step {
			continue
		}
		n := int((hi - lo) / step)
		count := make([]int, n)
		for _, i := range which {
			if spansColumns(lines[i], extents) {
				continue // a line of prose across the table has word spaces, not gutters
			}
			for _, r := range lines[i].runs {
				if r.spaceAt {
					continue
				}
				a := max(0, int((r.x-lo)/step))
				b := min(n, int(math.Ceil((r.x+r.w-lo)/step)))
				for x := a; x < b; x++ {
					count[x]++
				}
			}
		}
		least := slices.Min(count)
		bestStart, bestLen := -1, 0
		for x := 0; x < n; {
			if count[x] != least {
				x++
				continue
			}
			y := x
			for y < n && count[y] == least {
				y++
			}
			if y-x > bestLen {
				bestStart, bestLen = x, y-x
			}
			x = y
		}
		if bestStart >= 0 {
			g.bounds[k] = lo + (float64(bestStart)+float64(bestLen)/2)*step
			g.gaps[k] = [2]float64{lo + float64(bestStart)*step, lo + float64(bestStart+bestLen)*step}
		}
	}
}

// spansColumns reports whether a line is one stretch of text (no gap wider than a word space)
// reaching from the middle of one column's header to the middle of the next: prose. (A row of a
// tight table may have such a stretch too, but then beside other cells.)
func spansColumns(l pdfLine, extents [][2]float64) bool {
	cells := lineCells(l, headerGap)
	if len(cells) != 1 {
		return false
	}
	for _, c := range cells {
		for k := 0; k+1 < len(extents); k++ {
			if c.x < (extents[k][0]+extents[k][1])/2 && c.end > (extents[k+1][0]+extents[k+1][1])/2 {
				return true
			}
		}
	}
	return false
}

// buildRows splits the body's lines into columns and shares them out among rows.
func (t *pdfTable) buildRows(lines []pdfLine, body []int) []*pdfRow {
	ncol := len(t.header)
	pieces, blocks, anchor, codeCol := t.cut(lines, body)
	if len(blocks) == 0 {
		return nil
	}
	// Share out every other column, under both alignments; keep the one that fits better.
	var best [][][]placed
	bestCost := math.Inf(1)
	for _, centred := range []bool{true, false} {
		assign, cost := shareRows(pieces, anchor, blocks, centred, t.pitch)
		if cost < bestCost {
			best, bestCost = assign, cost
		}
	}
	rows := make([]*pdfRow, len(blocks))
	for b, blk := range blocks {
		r := &pdfRow{cells: make([][]string, ncol), page: blk[0].page, line: blk[0].line}
		for c := range ncol {
			group := blk
			if c != anchor {
				group = best[c][b]
			}
			if c == anchor && codeCol {
				r.cells[c] = []string{joinPlaced(group)}
			} else {
				r.cells[c] = paragraphs(group, t.pitch)
			}
			if len(group) > 0 && group[0].line < r.line {
				r.line = group[0].line
			}
		}
		text := joinPlaced(blk)
		switch {
		case codeCol && headerRole(text) != colNone:
			// The header again, where a page repeats it in a way not caught above.
		case codeCol:
			r.codes, r.name = extract.CellCodes(text)
		default:
			r.codes = extract.TextCodes(text)
		}
		rows[b] = r
	}
	return rows
}

// cut splits the body's lines into each column's pieces and cuts the anchor column into the cells
// that start rows. A table continued on the next page goes on where it stopped: the pieces of each
// page after the first are placed right under the last line of the page before, so a row broken
// by the page stays whole.
func (t *pdfTable) cut(lines []pdfLine, body []int) (pieces [][]placed, blocks [][]placed, anchor int, codeCol bool) {
	pieces = make([][]placed, len(t.header))
	offset, page, lastBottom := 0.0, -1, 0.0
	for _, i := range body {
		l := lines[i]
		if l.page != page {
			if page >= 0 {
				offset = lastBottom + 0.5*t.unit - l.top
			}
			page = l.page
		}
		lastBottom = offset + l.bottom
		cells, _ := t.split(l)
		for c, text := range cells {
			if text != "" {
				pieces[c] = append(pieces[c], placed{text: text, line: i, page: l.page, top: offset + l.top, bottom: offset + l.bottom})
			}
		}
	}
	t.pitch = linePitch(pieces, t.unit)
	anchor, codeCol = t.anchorColumn()
	return pieces, t.anchorBlocks(pieces[anchor], codeCol), anchor, codeCol
}

// trimTail ends the body before lines that follow its last row after a blank wider than two
// lines: a note under the table, set in one of its columns.
func (t *pdfTable) trimTail(lines []pdfLine, body []int) []int {
	_, blocks, _, _ := t.cut(lines, body)
	if len(blocks) == 0 {
		return body
	}
	lastAnchor := blocks[len(blocks)-1][len(blocks[len(blocks)-1])-1].line
	for k := 1; k < len(body); k++ {
		prev, l := lines[body[k-1]], lines[body[k]]
		if body[k] > lastAnchor && l.page == prev.page && l.top-prev.top > 2.5*t.pitch {
			return body[:k]
		}
	}
	return body
}

// codesByContent names a code column that no header word named: the leftmost column whose
// cells are mostly codes on their own (a column headed "LED", "Anzeige" or nothing a header word
// knows, holding E1, 03, Eb…).
func (t *pdfTable) codesByContent(lines []pdfLine, body []int) {
	if _, ok := t.cols[colCode]; ok {
		return
	}
	cells := make([][]string, len(t.header))
	for _, i := range body {
		row, _ := t.split(lines[i])
		for c, text := range row {
			if text != "" && c < len(cells) {
				cells[c] = append(cells[c], text)
			}
		}
	}
	for c, texts := range cells {
		if t.roles[c] != colNone && t.roles[c] != colSymptom || len(texts) < 2 {
			continue
		}
		codes := 0
		for _, s := range texts {
			if found, rest := extract.CellCodes(s); len(found) > 0 && rest == "" {
				codes++
			}
		}
		if 10*codes >= 6*len(texts) {
			if t.roles[c] == colSymptom {
				delete(t.cols, colSymptom)
			}
			t.roles[c], t.cols[colCode] = colCode, c
			return
		}
	}
}

// anchorColumn returns the column whose cells start rows: the code column, else the symptom
// column, else the first; and whether it is the code column.
func (t *pdfTable) anchorColumn() (int, bool) {
	if c, ok := t.cols[colCode]; ok {
		return c, true
	}
	if c, ok := t.cols[colSymptom]; ok {
		return c, false
	}
	return 0, false
}

// anchorBlocks cuts the anchor column into the cells that start rows: in a code column, a new
// cell at each piece that starts with a code or is one short token (N/A, ---), the pieces after it
// (a code's name) belonging to it; elsewhere, at each blank wider than a line's spacing.
func (t *pdfTable) anchorBlocks(ps []placed, codeCol bool) [][]placed {
	var out [][]placed
	for k, p := range ps {
		start := k == 0
		if !start && codeCol && !strings.HasSuffix(ps[k-1].text, "-") { // F01- ⏎ E is one code, wrapped
			codes, _ := extract.CellCodes(p.text)
			start = len(codes) > 0 || !strings.ContainsAny(strings.TrimSpace(p.text), " \u3000") && utf8.RuneCountInString(p.text) <= 4
		}
		if !start && (!codeCol || len(out) == 0) {
			start = p.top-ps[k-1].top > 1.5*t.pitch || p.page != ps[k-1].page
		}
		if start {
			out = append(out, []placed{p})
		} else {
			out[len(out)-1] = append(out[len(out)-1], p)
		}
	}
	return out
}

// shareRows gives every piece of the columns other than the anchor column to a row. A row is
// a band from one boundary to the next, and a piece belongs to the band its middle is in; the
// boundary between two rows lies somewhere between the two rows' anchor cells, the same for every
// column. Of the possible boundaries it takes those that put each row's cells closest to its
// anchor: their middles on the anchor's middle (centred cells) or their tops on its top (cells
// aligned at the top). A row left without a cell in a column that has cells elsewhere costs one
// line pitch. It returns, per column, the pieces of each row, and the total cost.
func shareRows(pieces [][]placed, anchor int, blocks [][]placed, centred bool, pitch float64) ([][][]placed, float64) {
	n := len(blocks)
	ref := func(g []placed) float64 {
		if centred {
			return (g[0].top + g[len(g)-1].bottom) / 2
		}
		return g[0].top
	}
	mid := func(p placed) float64 { return (p.top + p.bottom) / 2 }
	type item struct {
		col int
		p   placed
	}
	var items []item
	for c, ps := range pieces {
		if c == anchor {
			continue
		}
		for _, p := range ps {
			items = append(items, item{c, p})
		}
	}
	slices.SortStableFunc(items, func(a, b item) int { return cmpFloat(mid(a.p), mid(b.p)) })
	mids := make([]float64, len(items))
	for i, it := range items {
		mids[i] = mid(it.p)
	}
	// A boundary is an index into items: the first item of the next row. Between rows r and r+1
	// it may be any index whose item's middle lies between the two anchors' middles.
	cands := make([][]int, n+1)
	cands[0] = []int{0}
	cands[n] = []int{len(items)}
	for r := 0; r+1 < n; r++ {
		lo, hi := mid(blocks[r][len(blocks[r])-1]), mid(blocks[r+1][0])
		first, _ := slices.BinarySearch(mids, lo)
		last, _ := slices.BinarySearch(mids, hi)
		for k := first; k <= max(first, last); k++ {
			cands[r+1] = append(cands[r+1], k)
		}
	}
	has := make([]bool, len(pieces))
	for c := range pieces {
		has[c] = c != anchor && len(pieces[c]) > 0
	}
	rowCost := func(r, from, to int) float64 {
		target := ref(blocks[r])
		cost := 0.0
		groups := make(map[int][]placed)
		for _, it := range items[from:to] {
			groups[it.col] = append(groups[it.col], it.p)
		}
		for c := range pieces {
			if !has[c] {
				continue
			}
			if g := groups[c]; len(g) > 0 {
				cost += math.Abs(ref(g) - target)
				if midList(g[0].text) {
					cost += 2 * pitch // a cell does not start at step 2 of a numbered list
				}
			} else {
				cost += pitch
			}
		}
		return cost
	}
	// f[r][j]: the least cost of rows before r when row r starts at cands[r][j].
	f := make([][]float64, n+1)
	from := make([][]int, n+1)
	for r := range f {
		f[r] = make([]float64, len(cands[r]))
		from[r] = make([]int, len(cands[r]))
		for j := range f[r] {
			f[r][j] = math.Inf(1)
		}
	}
	f[0][0] = 0
	for r := 0; r < n; r++ {
		for i, a := range cands[r] {
			if math.IsInf(f[r][i], 1) {
				continue
			}
			for j, b := range cands[r+1] {
				if b < a {
					continue
				}
				if v := f[r][i] + rowCost(r, a, b); v < f[r+1][j] {
					f[r+1][j], from[r+1][j] = v, i
				}
			}
		}
	}
	assign := make([][][]placed, len(pieces))
	for c := range assign {
		assign[c] = make([][]placed, n)
	}
	j := 0
	for r := n; r > 0; r-- {
		i := from[r][j]
		for _, it := range items[cands[r-1][i]:cands[r][j]] {
			assign[it.col][r-1] = append(assign[it.col][r-1], it.p)
		}
		j = i
	}
	return assign, f[n][0]
}

// listItemRE is the number that starts an item of a numbered list: 2. 3) 4、 5).
var listItemRE = regexp.MustCompile(`^\s*(\d{1,2})\s*(?:[.、．]|[)）]\.?)`)

// midList reports whether text starts with an item of a numbered list other than the first.
func midList(text string) bool {
	m := listItemRE.FindStringSubmatch(text)
	return m != nil && m[1] != "1" && m[1] != "0"
}

// linePitch is the distance from one line of a cell to the next: a short step between a column's
// pieces (the lower quartile of those under three line heights).
func linePitch(pieces [][]placed, unit float64) float64 {
	var steps []float64
	for _, ps := range pieces {
		for k := 1; k < len(ps); k++ {
			if d := ps[k].top - ps[k-1].top; d > 0.4*unit && d < 3*unit {
				steps = append(steps, d)
			}
		}
	}
	if len(steps) == 0 {
		return unit
	}
	slices.Sort(steps)
	return steps[len(steps)/4] // steps within cells are the short ones; steps between rows are longer
}

// paragraphs joins a cell's pieces into its paragraphs: a step wider than the line pitch between
// two pieces separates sub-rows of the cell (one code's several causes and remedies).
func paragraphs(ps []placed, pitch float64) []string {
	var out []string
	var cur []string
	for k, p := range ps {
		if k > 0 && (p.top-ps[k-1].top > 1.25*pitch || p.page != ps[k-1].page) && len(cur) > 0 {
			out = append(out, joinWrapped(cur))
			cur = nil
		}
		cur = append(cur, p.text)
	}
	if len(cur) > 0 {
		out = append(out, joinWrapped(cur))
	}
	return out
}

func joinPlaced(ps []placed) string {
	texts := make([]string, len(ps))
	for i, p := range ps {
		texts[i] = p.text
	}
	return joinWrapped(texts)
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
