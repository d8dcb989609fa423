package ingest

import (
	"cmp"
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

// pdfChunk is a stretch of a line's text with no wide gap in it: a table cell's line, or a whole
// line of prose.
type pdfChunk struct {
	x, end float64
	em     float64 // the size of its first run (see runEm)
	text   string
	runs   []pdfRun
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
			out = append(out, pdfChunk{x: firstX(cur), end: lastEnd(cur), text: s, runs: cur})
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

// stepMarkerRE finds what may number a step: 1. 2、 3) ４．, at the start, or after a space, the end
// of a sentence or a colon.
var stepMarkerRE = regexp.MustCompile(`(?:^|[\s。；;：:！!？?])(\d{1,2})(?:[.、．)）]\.?|\s*[)）])`)

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

// readPDFTableRow adds one row of a PDF table, as manual.go does for an HTML row: each code it
// names becomes an error code, with a section holding the row's text (on the row's page, so
// citations carry it), the repair guide with the remedy cell's steps, and the parts and videos the
// row names. model is the product the table is about, "" when the document names none.
func readPDFTableRow(b *fixgraph.Batch, doc *fixgraph.Document, model string, t *pdfTable, r *pdfRow, order int, tableSec *fixgraph.Section) {
	lang := doc.Language
	symptom := cmp.Or(t.cell(r, colSymptom), r.name)
	var steps []string
	if i, ok := t.cols[colSolution]; ok && i < len(r.cells) {
		for _, p := range r.cells[i] {
			steps = append(steps, splitSteps(p)...)
		}
	}
	var raw []string
	for _, c := range r.cells {
		if s := strings.Join(c, "\n"); s != "" {
			raw = append(raw, s)
		}
	}
	for k, code := range r.codes {
		path := append(slices.Clone(tableSec.HeadingPath), code)
		rowSec := newSection(doc, order*16+k, code, path, strings.Join(raw, "\n"))
		rowSec.Page = r.page
		rowSec.Products = tableSec.Products
		ec := addCodeRow(b, doc, model, code, symptom, t.cell(r, colCause), severity(t.cell(r, colSeverity)), rowSec)

		guide := &fixgraph.RepairGuide{
			Code:       code,
			Product:    model,
			Title:      strings.TrimSpace(code + " " + symptom),
			Steps:      slices.Clone(steps),
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
}
