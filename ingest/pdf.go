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

// pdfLine is one line of a PDF page: its text (table cells joined by " | "), its font size and page,
// and the positioned runs it was made of (none for text from pdftotext).
type pdfLine struct {
	text string
	size float64 // 0 when unknown (text from pdftotext -layout)
	page int
	runs []pdfRun
	// top and bottom place the line on its page, growing downwards; only their differences
	// within a page mean anything.
	top, bottom float64
	ocr         ocrScore // the confidence of its words when it was read by OCR
}

// PDFOptions sets how PDFs are read.
type PDFOptions struct {
	// Pdftotext is the path of poppler's pdftotext, used when the built-in reader returns garbled
	// text (Type 3 fonts). Empty looks it up on PATH; "-" never uses it.
	Pdftotext string
	// Tesseract is the path of the tesseract binary that reads pages without a text layer (see
	// ocr.go), with poppler's pdftoppm. Empty looks it up on PATH; "-" never uses OCR, nor does
	// Pdftotext "-" (no poppler tool at all).
	Tesseract string
	// OCRLanguages are the Tesseract languages to read with, such as "chi_sim+eng"; empty chooses
	// among chi_sim, chi_tra and eng, those installed, by what reads the document best.
	OCRLanguages string
	// OCRPages is the most pages of a file read by OCR; 0 means MaxOCRPages.
	OCRPages int
}

// readPDF returns the lines of every page. The built-in reader comes first; if its text looks
// garbled, pdftotext reads the file instead when it is installed; if that fails too the file is
// reported unreadable rather than indexed as garbage. Pages without text, and files without a text
// layer, are read by OCR when Tesseract is installed (withOCR, readScanned).
func readPDF(ctx context.Context, data []byte, opt PDFOptions) (lines []pdfLine, pages int, err error) {
	tool := opt.Pdftotext
	if tool == "" {
		tool, _ = exec.LookPath("pdftotext")
	}
	// The built-in reader checks the file and counts its pages; poppler, when installed, reads
	// the text: it decodes more fonts and keeps word spaces and order where the built-in reader
	// loses them. The built-in reader's own text is read only when poppler gives none.
	r, pages, err := openPDF(data)
	if err != nil {
		if cutOff(data) {
			return nil, 0, err
		}
		// Poppler reads structures the built-in reader does not (some object streams, files
		// joined by other tools), and encrypted PDFs that open without a password (only printing
		// or copying restricted); one that needs a password cannot be read by anyone here.
		if tool != "" && tool != "-" {
			if lines, perr := readPDFWithTSV(ctx, tool, data); perr == nil && len(lines) > 0 && !garbled(lines) {
				pages := max(popplerPages(ctx, tool, data), lines[len(lines)-1].page)
				lines, err = withOCR(ctx, data, lines, pages, opt)
				return lines, pages, err
			} else if ctx.Err() != nil {
				return nil, 0, ctx.Err()
			} else if perr == nil && len(lines) == 0 && !encrypted(data) {
				if pages := popplerPages(ctx, tool, data); pages > 0 {
					lines, err = readScanned(ctx, data, pages, opt)
					return lines, pages, err
				}
			}
		}
		if encrypted(data) {
			return nil, 0, fixgraph.WrapError(fixgraph.EUNREADABLE, err, "PDF is password-protected (encrypted): remove the password and upload it again")
		}
		return nil, 0, err
	}
	if tool != "" && tool != "-" {
		if lines, err := readPDFWithTSV(ctx, tool, data); err == nil && len(lines) > 0 && !garbled(lines) {
			lines, err = withOCR(ctx, data, lines, pages, opt)
			return lines, pages, err
		} else if ctx.Err() != nil {
			return nil, pages, ctx.Err()
		}
	}
	if lines, err = readPDFBuiltin(r, pages); err != nil {
		return nil, pages, err
	}
	if len(lines) > 0 && !garbled(lines) {
		lines, err = withOCR(ctx, data, lines, pages, opt)
		return lines, pages, err
	}
	if len(lines) == 0 {
		lines, err = readScanned(ctx, data, pages, opt)
		return lines, pages, err
	}
	why := "its text is garbled (fonts without a usable Unicode map, such as Type 3)"
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

// tempPDF writes data to a temporary file for poppler's tools and returns its path and a function
// that removes it.
func tempPDF(data []byte) (path string, done func(), err error) {
	f, err := os.CreateTemp("", "fixgraph-*.pdf")
	if err != nil {
		return "", nil, err
	}
	done = func() { os.Remove(f.Name()) }
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		done()
		return "", nil, err
	}
	return f.Name(), done, nil
}

// cutOff reports whether a PDF lacks the end-of-file marker every complete PDF ends with.
func cutOff(data []byte) bool {
	return bytes.HasPrefix(data, []byte("%PDF-")) && !bytes.Contains(data[max(0, len(data)-1024):], []byte("%%EOF"))
}

// encrypted reports whether a PDF says it is encrypted: an /Encrypt entry in its trailer.
func encrypted(data []byte) bool {
	return bytes.Contains(data, []byte("/Encrypt"))
}

// openPDF opens a PDF with the built-in reader and counts its pages: a file it cannot open or
// that has no pages is an EUNREADABLE error.
func openPDF(data []byte) (r *pdf.Reader, pages int, err error) {
	// The reader panics on some malformed files; a broken upload must be an error, not a crash.
	// What it panics with can quote the file's bytes: that goes into the cause, which is logged,
	// and not into the message, which users see.
	defer recoverPDF(&err)
	r, err = pdf.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		if cutOff(data) {
			return nil, 0, fixgraph.WrapError(fixgraph.EUNREADABLE, err, "not a readable PDF: the file is cut off (its end is missing); upload it again")
		}
		return nil, 0, fixgraph.WrapError(fixgraph.EUNREADABLE, err, "not a readable PDF")
	}
	pages = r.NumPage()
	if pages == 0 {
		return nil, 0, fixgraph.Errorf(fixgraph.EUNREADABLE, "PDF has no pages")
	}
	return r, pages, nil
}

// readPDFBuiltin reads the lines of every page with the built-in reader.
func readPDFBuiltin(r *pdf.Reader, pages int) (lines []pdfLine, err error) {
	defer recoverPDF(&err)
	for i := 1; i <= pages; i++ {
		p := r.Page(i)
		if p.V.IsNull() {
			continue
		}
		lines = append(lines, pageLines(p.Content().Text, i)...)
	}
	return lines, nil
}

// recoverPDF turns a panic of the built-in reader into an EUNREADABLE error in *err.
func recoverPDF(err *error) {
	if r := recover(); r != nil {
		*err = fixgraph.WrapError(fixgraph.EUNREADABLE, fmt.Errorf("the PDF reader failed: %.200v", r), "not a readable PDF")
	}
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
		runs := make([]pdfRun, 0, len(run))
		for _, t := range run {
			runs = append(runs, pdfRun{s: t.S, x: t.X, w: runWidth(t), size: t.FontSize, spaceAt: strings.TrimSpace(t.S) == ""})
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
			out = append(out, pdfLine{text: s, size: size, page: page, runs: runs, top: -texts[i].Y - 0.8*size, bottom: -texts[i].Y + 0.2*size})
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
	path, done, err := tempPDF(data)
	if err != nil {
		return nil, err
	}
	defer done()
	out, err := exec.CommandContext(ctx, tool, "-layout", "-enc", "UTF-8", path, "-").Output()
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

// parsePolicy turns a PDF into a batch: sections split at headings, each with the page it starts
// on. A PDF with an error-code table (see findCodeTables) is a manual: each row whose code cell is
// an error code becomes an error code of the product the document names, with its repair guide,
// parts and a section of its own on the row's page, linked as parseManual links an HTML table's
// rows. Any other PDF is a policy, with a policy clause for each numbered section.
func parsePolicy(ctx context.Context, doc *fixgraph.Document, data []byte, opt PDFOptions) (*fixgraph.Batch, error) {
	lines, pages, err := readPDF(ctx, data, opt)
	if err != nil {
		return nil, err
	}
	set := doc.Kind // a kind someone set the document to, or ""
	doc.Kind, doc.Pages = fixgraph.KindPolicy, pages
	levels := headingLevels(lines)

	// Error-code tables: their rows, wrapped lines joined, stand in the section text for the
	// lines they were read from.
	tables := findCodeTables(lines, levels)
	replace := make(map[int]string)
	tableAt := make(map[int][]*pdfTable) // two tables side by side share a header line
	for _, t := range tables {
		tableAt[t.headers[0]] = append(tableAt[t.headers[0]], t)
		replace[t.headers[0]] = strings.Join(t.header, " | ")
		for _, k := range append(slices.Clone(t.headers[1:]), t.skip...) {
			replace[k] = ""
		}
		var rows []string
		for _, r := range t.rows {
			rows = append(rows, r.text())
			if len(r.codes) > 0 {
				doc.Kind = fixgraph.KindManual
			}
		}
		text := strings.Join(append([]string{strings.Join(t.header, " | ")}, rows...), "\n")
		if len(tableAt[t.headers[0]]) > 1 {
			text = replace[t.headers[0]] + "\n" + text
		}
		replace[t.headers[0]] = text
	}

	type open struct {
		level int
		sec   *fixgraph.Section
		body  pdfBody
		ocr   ocrScore // of its lines read by OCR
	}
	var all []*open
	var stack []*open
	var pre pdfBody
	var preOCR ocrScore
	tableSec := make(map[*pdfTable]int) // index in all of the section a table is in
	for i, l := range lines {
		lvl := levels[i]
		if lvl == 0 {
			body, score := &pre, &preOCR
			if len(stack) > 0 {
				body, score = &stack[len(stack)-1].body, &stack[len(stack)-1].ocr
			}
			score.add(l.ocr)
			for _, t := range tableAt[i] {
				tableSec[t] = max(len(all)-1, 0)
			}
			text, ok := replace[i]
			if !ok {
				text = l.text
			}
			body.add(text)
			continue
		}
		for len(stack) > 0 && stack[len(stack)-1].level >= lvl {
			stack = stack[:len(stack)-1]
		}
		var path []string
		for _, o := range stack {
			path = append(path, o.sec.Heading)
		}
		o := &open{level: lvl, sec: &fixgraph.Section{Heading: l.text, HeadingPath: append(path, l.text), Page: l.page}, ocr: l.ocr}
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

	// Codes that headings and lines of running text define, besides the tables' codes; a
	// document that defines codes is a manual.
	tableKeys := make(map[string]bool)
	for _, t := range tables {
		for _, r := range t.rows {
			for _, c := range r.codes {
				tableKeys[fixgraph.CodeKey(c)] = true
			}
		}
	}
	paths := make([][]string, len(all))
	bodies := make([]string, len(all))
	for i, o := range all {
		paths[i] = o.sec.HeadingPath
		bodies[i] = strings.TrimSpace(o.body.String())
	}
	prose := proseCodes(paths, bodies, tableKeys)
	if len(prose) > 0 {
		doc.Kind = fixgraph.KindManual
	}
	switch set {
	case fixgraph.KindManual:
		doc.Kind = fixgraph.KindManual
	case fixgraph.KindPolicy, fixgraph.KindFAQ:
		doc.Kind = fixgraph.KindPolicy // its codes, if any, are not read
	}
	if doc.Kind == fixgraph.KindManual {
		doc.KindReason = codesReason(len(tableKeys)+len(prose), len(tableKeys) > 0, len(prose) > 0)
	}

	// A manual is about the product its title names, else the one product its text names.
	model := ""
	var named *fixgraph.Product // the product a manual without a model number is named for
	if doc.Kind == fixgraph.KindManual {
		if ms := extract.ProductModels(extract.Normalize(doc.Title)); len(ms) > 0 {
			model = ms[0]
		} else if ms := extract.ProductModels(extract.Normalize(text.String())); len(ms) == 1 {
			model = ms[0]
		} else if tp := titleProduct(doc.Title, doc.Language); tp != nil {
			model, named = tp.Model, tp
		}
	}

	b := &fixgraph.Batch{Document: doc}
	secs := make([]*fixgraph.Section, len(all))
	clauses := 0
	for i, o := range all {
		body := strings.TrimSpace(o.body.String())
		if i == 0 && pre.Len() > 0 {
			body = strings.TrimSpace(pre.String() + "\n" + body)
			o.ocr.add(preOCR)
		}
		sec := newSection(doc, i, o.sec.Heading, o.sec.HeadingPath, body)
		sec.Page = o.sec.Page
		sec.OCRConfidence = o.ocr.mean()
		sec.Products = extract.ProductModels(extract.Normalize(sec.Heading + "\n" + sec.Text))
		if len(sec.Products) == 0 && model != "" {
			sec.Products = []string{model}
		}
		secs[i] = sec
		b.Add(sec)
		b.Link(sec.ID, fixgraph.RelPartOf, doc.ID)
		if doc.Kind != fixgraph.KindPolicy {
			continue
		}
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
			clauses++
			b.Link(doc.ID, fixgraph.RelHasClause, c.ID)
			b.Link(sec.ID, fixgraph.RelDescribes, c.ID)
		}
	}
	if doc.Kind != fixgraph.KindManual {
		doc.KindReason = fmt.Sprintf("no error codes; read as a policy with %d numbered clauses", clauses)
		return b, nil
	}

	// The tables' error codes, each of the product its table's headings name, else the document's.
	products := make(map[string]bool)
	codes := make(map[string]map[string]bool) // model → codes its tables define
	order := len(secs)
	for _, t := range tables {
		sec := secs[tableSec[t]]
		tm := model
		if ms := extract.ProductModels(extract.Normalize(strings.Join(sec.HeadingPath, "\n"))); len(ms) > 0 {
			tm = ms[0]
		}
		for _, r := range t.rows {
			if len(r.codes) == 0 {
				continue
			}
			if tm != "" && !products[tm] {
				products[tm] = true
				if named != nil && tm == named.Model {
					b.Add(named)
				} else {
					b.Add(&fixgraph.Product{ID: fixgraph.ProductID(tm), Model: tm})
				}
				b.Link(doc.ID, fixgraph.RelManualFor, fixgraph.ProductID(tm))
			}
			if codes[tm] == nil {
				codes[tm] = make(map[string]bool)
			}
			for _, c := range r.codes {
				codes[tm][fixgraph.CodeKey(c)] = true
			}
			order++
			readPDFTableRow(b, doc, tm, t, r, order, sec)
		}
	}
	for _, pc := range prose {
		sec := secs[pc.section]
		if model != "" && !products[model] {
			products[model] = true
			if named != nil && model == named.Model {
				b.Add(named)
			} else {
				b.Add(&fixgraph.Product{ID: fixgraph.ProductID(model), Model: model})
			}
			b.Link(doc.ID, fixgraph.RelManualFor, fixgraph.ProductID(model))
		}
		if codes[model] == nil {
			codes[model] = make(map[string]bool)
		}
		codes[model][fixgraph.CodeKey(pc.code)] = true
		addProseCode(b, doc, model, pc, sec)
	}
	// Sections mention the codes the tables define for their product, parts and product models.
	for _, sec := range secs {
		sm := model
		if ms := extract.ProductModels(extract.Normalize(strings.Join(sec.HeadingPath, "\n"))); len(ms) > 0 {
			sm = ms[0]
		}
		known := codes[sm]
		if known == nil {
			known = map[string]bool{} // nil would admit every code
		}
		linkMentions(b, sec, sm, known)
	}
	markOCRSections(b, lines)
	return b, nil
}

// pdfBody is the text of a section as its lines are read.
type pdfBody struct {
	strings.Builder
	last string // the line added last
}

// add appends a line as appendLine does.
func (b *pdfBody) add(line string) {
	if line == "" {
		return
	}
	appendLine(&b.Builder, b.last, line)
	b.last = line
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

func total(m map[float64]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// headingLevels returns, for each line, 0 for body text or the heading level (1 is the top).
// With font sizes, a heading is a short line set clearly larger than the body text, and the
// sizes rank the levels. Without them (pdftotext), numbered clause lines are headings: 第…条 and
// "1." at level 1, "1.1" at level 2, and the first line is the title.
func headingLevels(lines []pdfLine) []int {
	levels := make([]int, len(lines))
	// The body's size is the one most prose is set in: lines split into cells (tables, often set
	// smaller) count only when there is little prose.
	chars := make(map[float64]int)
	prose := make(map[float64]int)
	for _, l := range lines {
		n := utf8.RuneCountInString(l.text)
		chars[math.Round(l.size*2)/2] += n
		if !strings.Contains(l.text, " | ") {
			prose[math.Round(l.size*2)/2] += n
		}
	}
	counted := prose
	if total(prose) < total(chars)/4 {
		counted = chars // little prose besides the tables (and the headings)
	}
	body, most := 0.0, 0
	for s, n := range counted {
		if n > most || n == most && s < body {
			body, most = s, n
		}
	}
	if body > 0 {
		ratio := 1.12
		var sizes []float64
		for s := range chars {
			if s >= body*ratio {
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
