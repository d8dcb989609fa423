package ingest

import (
	"math"
	"slices"
	"strings"
)

// Where a PDF table's columns stand on each page, and how a line is divided among them.

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
