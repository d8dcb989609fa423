package ingest

import (
	"math"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/fixgraph/fixgraph/extract"
)

// How a PDF table's lines become rows: the anchor column's cells, and every other column's lines
// shared out among them.

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
