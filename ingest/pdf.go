package ingest

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ledongthuc/pdf"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/extract"
)

// pdfLine is one line of a PDF page: its text (table cells joined by " | "), its font size and page.
type pdfLine struct {
	text string
	size float64 // 0 when unknown (text from pdftotext)
	page int
}

// PDFOptions sets how PDFs are read.
type PDFOptions struct {
	// Pdftotext is the path of poppler's pdftotext, used when the built-in reader returns garbled
	// text (Type 3 fonts). Empty looks it up on PATH; "-" never uses it.
	Pdftotext string
}

// readPDF returns the lines of every page. The built-in reader comes first; if its text looks
// garbled, pdftotext reads the file instead when it is installed; if that fails too the file is
// reported unreadable rather than indexed as garbage.
func readPDF(ctx context.Context, data []byte, opt PDFOptions) (lines []pdfLine, pages int, err error) {
	lines, pages, err = readPDFBuiltin(data)
	if err != nil {
		return nil, 0, err
	}
	if len(lines) > 0 && !garbled(lines) {
		return lines, pages, nil
	}
	why := "its text is garbled (fonts without a usable Unicode map, such as Type 3)"
	if len(lines) == 0 {
		why = "it has no text layer (a scan or images only)"
	}
	tool := opt.Pdftotext
	if tool == "" {
		tool, _ = exec.LookPath("pdftotext")
	}
	if tool == "" || tool == "-" {
		return nil, pages, fixgraph.Errorf(fixgraph.EUNREADABLE, "PDF cannot be read: %s, and pdftotext (poppler-utils) is not installed", why)
	}
	lines, err = readPDFWithPdftotext(ctx, tool, data)
	if err != nil {
		return nil, pages, fixgraph.WrapError(fixgraph.EUNREADABLE, err, "PDF cannot be read: %s, and pdftotext failed", why)
	}
	if len(lines) == 0 {
		return nil, pages, fixgraph.Errorf(fixgraph.EUNREADABLE, "PDF has no extractable text: %s", why)
	}
	if garbled(lines) {
		return nil, pages, fixgraph.Errorf(fixgraph.EUNREADABLE, "PDF text is garbled even through pdftotext")
	}
	return lines, pages, nil
}

func readPDFBuiltin(data []byte) (lines []pdfLine, pages int, err error) {
	// The reader panics on some malformed files; a broken upload must be an error, not a crash.
	defer func() {
		if r := recover(); r != nil {
			lines, pages, err = nil, 0, fixgraph.Errorf(fixgraph.EUNREADABLE, "not a readable PDF: %v", r)
		}
	}()
	r, err := pdf.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, 0, fixgraph.WrapError(fixgraph.EUNREADABLE, err, "not a readable PDF")
	}
	pages = r.NumPage()
	if pages == 0 {
		return nil, 0, fixgraph.Errorf(fixgraph.EUNREADABLE, "PDF has no pages")
	}
	for i := 1; i <= pages; i++ {
		p := r.Page(i)
		if p.V.IsNull() {
			continue
		}
		lines = append(lines, pageLines(p.Content().Text, i)...)
	}
	return lines, pages, nil
}

// pageLines rebuilds lines from positioned text: runs are grouped by their baseline and sorted left
// to right. A wide gap between runs on one line separates table cells.
func pageLines(texts []pdf.Text, page int) []pdfLine {
	texts = slices.DeleteFunc(slices.Clone(texts), func(t pdf.Text) bool { return strings.TrimSpace(t.S) == "" && t.S != " " })
	sort.SliceStable(texts, func(i, j int) bool {
		if math.Abs(texts[i].Y-texts[j].Y) > 0.5 {
			return texts[i].Y > texts[j].Y
		}
		return texts[i].X < texts[j].X
	})
	var out []pdfLine
	for i := 0; i < len(texts); {
		j := i + 1
		tol := math.Max(texts[i].FontSize*0.4, 1)
		for j < len(texts) && math.Abs(texts[j].Y-texts[i].Y) <= tol {
			j++
		}
		run := texts[i:j]
		sort.SliceStable(run, func(a, b int) bool { return run[a].X < run[b].X })
		var b strings.Builder
		size := 0.0
		end := math.Inf(-1)
		for _, t := range run {
			size = math.Max(size, t.FontSize)
			if end > math.Inf(-1) {
				gap := t.X - end
				switch {
				case gap > 2.5*t.FontSize:
					b.WriteString(" | ")
				case gap > 0.4*t.FontSize:
					if !strings.HasSuffix(b.String(), " ") && !strings.HasPrefix(t.S, " ") {
						b.WriteString(" ")
					}
				}
			}
			b.WriteString(t.S)
			end = t.X + runWidth(t)
		}
		if s := extract.Normalize(b.String()); s != "" {
			out = append(out, pdfLine{text: s, size: size, page: page})
		}
		i = j
	}
	return out
}

// runWidth is the width of a text run: as the PDF gives it, or estimated from the font size when
// the reader reports none (em-wide CJK characters, about half an em for Latin ones).
func runWidth(t pdf.Text) float64 {
	if t.W > 0 {
		return t.W
	}
	w := 0.0
	for _, r := range t.S {
		if isWide(string(r)) {
			w += t.FontSize
		} else {
			w += 0.5 * t.FontSize
		}
	}
	return w
}

func readPDFWithPdftotext(ctx context.Context, tool string, data []byte) ([]pdfLine, error) {
	f, err := os.CreateTemp("", "fixgraph-*.pdf")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return nil, err
	}
	f.Close()
	out, err := exec.CommandContext(ctx, tool, "-layout", "-enc", "UTF-8", f.Name(), "-").Output()
	if err != nil {
		return nil, fmt.Errorf("running %s: %w", tool, err)
	}
	var lines []pdfLine
	for i, page := range strings.Split(string(out), "\f") {
		for _, l := range strings.Split(page, "\n") {
			// -layout keeps columns apart with runs of spaces: those are table cells.
			cellsOf := columnGap.Split(strings.TrimSpace(l), -1)
			if s := extract.Normalize(strings.Join(cellsOf, " | ")); s != "" {
				lines = append(lines, pdfLine{text: s, page: i + 1})
			}
		}
	}
	return lines, nil
}

var columnGap = regexp.MustCompile(`\s{3,}`)

// garbled reports whether extracted text is mostly characters that no real document is written in:
// private-use code points, controls, replacement characters, or stray symbols.
func garbled(lines []pdfLine) bool {
	var good, bad int
	for _, l := range lines {
		for _, r := range l.text {
			switch {
			case r == utf8.RuneError || unicode.Is(unicode.Co, r) || unicode.IsControl(r):
				bad++
			case unicode.Is(unicode.Han, r) || unicode.IsLetter(r) && r < 0x250 || unicode.IsDigit(r) || unicode.IsSpace(r):
				good++
			case unicode.IsPunct(r) || strings.ContainsRune("|+-=%/°℃¥$×~·<>", r):
				good++
			default:
				bad++
			}
		}
	}
	return good+bad == 0 || float64(bad) > 0.15*float64(good+bad)
}

var (
	// Clause numbers: 第二条, 第3章, 2.1, 一、, (三).
	clauseNumberRE = regexp.MustCompile(`^(第[一二三四五六七八九十百零〇\d]+[条章节部分]|\d+(?:\.\d+)*\.?|[一二三四五六七八九十]+、|[（(][一二三四五六七八九十\d]+[)）])\s*(.*)$`)
)

// parsePolicy turns a policy PDF into a batch: sections split at headings, each with the page it
// starts on, and a policy clause for each numbered section.
func parsePolicy(ctx context.Context, doc *fixgraph.Document, data []byte, opt PDFOptions) (*fixgraph.Batch, error) {
	lines, pages, err := readPDF(ctx, data, opt)
	if err != nil {
		return nil, err
	}
	doc.Kind, doc.Pages = fixgraph.KindPolicy, pages
	levels := headingLevels(lines)
	type open struct {
		level int
		sec   *fixgraph.Section
		body  strings.Builder
	}
	var all []*open
	var stack []*open
	var pre strings.Builder
	for i, l := range lines {
		lvl := levels[i]
		if lvl == 0 {
			body := &pre
			if len(stack) > 0 {
				body = &stack[len(stack)-1].body
			}
			prev := ""
			if body.Len() > 0 {
				prev = lines[i-1].text
			}
			appendLine(body, prev, l.text)
			continue
		}
		for len(stack) > 0 && stack[len(stack)-1].level >= lvl {
			stack = stack[:len(stack)-1]
		}
		var path []string
		for _, o := range stack {
			path = append(path, o.sec.Heading)
		}
		o := &open{level: lvl, sec: &fixgraph.Section{Heading: l.text, HeadingPath: append(path, l.text), Page: l.page}}
		stack = append(stack, o)
		all = append(all, o)
	}
	if len(all) == 0 {
		return nil, fixgraph.Errorf(fixgraph.EUNREADABLE, "PDF has text but no headings, so it cannot be split into sections")
	}
	doc.Title = all[0].sec.Heading
	var text strings.Builder
	for _, l := range lines {
		text.WriteString(l.text)
	}
	doc.Language = extract.DetectLanguage(text.String())

	b := &fixgraph.Batch{Document: doc}
	for i, o := range all {
		body := strings.TrimSpace(o.body.String())
		if i == 0 && pre.Len() > 0 {
			body = strings.TrimSpace(pre.String() + "\n" + body)
		}
		sec := newSection(doc, i, o.sec.Heading, o.sec.HeadingPath, body)
		sec.Page = o.sec.Page
		sec.Products = extract.ProductModels(extract.Normalize(sec.Heading + "\n" + sec.Text))
		b.Add(sec)
		b.Link(sec.ID, fixgraph.RelPartOf, doc.ID)
		linkMentions(b, sec, "", nil)
		if m := clauseNumberRE.FindStringSubmatch(sec.Heading); m != nil {
			c := &fixgraph.PolicyClause{
				ID:         fixgraph.HashID(fixgraph.PrefixClause, doc.ID, sec.Heading),
				Number:     strings.TrimSuffix(m[1], "."),
				Title:      strings.TrimSpace(m[2]),
				Text:       body,
				Page:       sec.Page,
				SectionID:  sec.ID,
				DocumentID: doc.ID,
			}
			b.Add(c)
			b.Link(doc.ID, fixgraph.RelHasClause, c.ID)
			b.Link(sec.ID, fixgraph.RelDescribes, c.ID)
		}
	}
	return b, nil
}

// appendLine adds a line of body text to b. PDF lines are wrapped paragraphs: a line that does not
// end a sentence continues on the next, directly for Chinese and after a space for English. Table
// rows and lines after a finished sentence start a new line.
func appendLine(b *strings.Builder, prev, line string) {
	switch {
	case prev == "":
	case strings.Contains(prev, " | ") || strings.Contains(line, " | ") || strings.ContainsAny(lastRune(prev), "。；：！？.;:!?"):
		b.WriteString("\n")
	case strings.HasSuffix(prev, "-") || isWide(lastRune(prev)) && isWide(firstRune(line)):
	default:
		b.WriteString(" ")
	}
	b.WriteString(line)
}

func lastRune(s string) string {
	_, n := utf8.DecodeLastRuneInString(s)
	return s[len(s)-n:]
}

func firstRune(s string) string {
	_, n := utf8.DecodeRuneInString(s)
	return s[:n]
}

func isWide(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.Is(unicode.Han, r) || r >= 0x3000 && r <= 0x30ff || r >= 0xff00 && r <= 0xffef
}

// headingLevels returns, for each line, 0 for body text or the heading level (1 is the top).
// With font sizes, a heading is a short line set clearly larger than the body text, and the
// sizes rank the levels. Without them (pdftotext), numbered clause lines are headings: 第…条 and
// "1." at level 1, "1.1" at level 2, and the first line is the title.
func headingLevels(lines []pdfLine) []int {
	levels := make([]int, len(lines))
	chars := make(map[float64]int)
	for _, l := range lines {
		chars[math.Round(l.size*2)/2] += utf8.RuneCountInString(l.text)
	}
	body, most := 0.0, 0
	for s, n := range chars {
		if n > most {
			body, most = s, n
		}
	}
	if body > 0 {
		var sizes []float64
		for s := range chars {
			if s >= body*1.12 {
				sizes = append(sizes, s)
			}
		}
		slices.Sort(sizes)
		slices.Reverse(sizes)
		for i, l := range lines {
			s := math.Round(l.size*2) / 2
			if k := slices.Index(sizes, s); k >= 0 && utf8.RuneCountInString(l.text) <= 60 {
				levels[i] = k + 1
			}
		}
		return levels
	}
	for i, l := range lines {
		if utf8.RuneCountInString(l.text) > 40 || strings.Contains(l.text, " | ") {
			continue
		}
		switch m := clauseNumberRE.FindStringSubmatch(l.text); {
		case i == 0:
			levels[i] = 1
		case m == nil || m[2] == "":
		case strings.Count(strings.TrimSuffix(m[1], "."), ".") > 0:
			levels[i] = 3
		default:
			levels[i] = 2
		}
	}
	return levels
}
