package ingest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ledongthuc/pdf"

	"github.com/fixgraph/fixgraph"
)

// Scanned pages, PDF pages without a text layer, are read by OCR: poppler's pdftoppm renders each
// such page to a grey image, which is turned level when it was scanned askew and cleared of table
// rules (cleanPGM), and Tesseract 5 reads its words with their boxes. The words become the
// pdfWord boxes that pdftotext -tsv gives for text pages, in points, so headings, error-code tables
// and codes are found on scanned pages by the same code as on text pages:
//
//   - Tesseract's boxes cover ink, not the font's em box as poppler's do, and the ink of a word
//     depends on its letters ("Error" has no descender, "typing" has both). Each OCR line's font
//     size is estimated from its words (a Chinese character's ink is about 0.9 em; Latin words by
//     whether they have ascenders and descenders), sizes within a few percent across the document
//     are made one, and every word of a line gets the box poppler would give it: 1.17 em high,
//     standing on the line's baseline.
//   - Tesseract reads Chinese a character or two at a time, with a space between: neighbouring
//     words are joined without a space where Chinese meets Chinese, or touches other text.
//   - Each line keeps the mean confidence of its words, and sections read from OCR'd lines carry
//     it (fixgraph.Section.OCRConfidence).
//
// OCR is slow (seconds per page), so it is bounded: at most MaxOCRPages pages of a file (a file with
// more pages to OCR is refused as too large before any is read, rather than indexed in part), one
// page at a time with a time limit each, stopping when the context is cancelled.

// MaxOCRPages is the most pages of one PDF that are read by OCR, unless PDFOptions.OCRPages says
// otherwise. A page takes about 3 CPU-seconds (0.35 pages/s on two cores at load 1, 0.2 at load
// 8–11), so 200 pages take 10 to 17 minutes.
const MaxOCRPages = 200

const (
	// ocrDPI is the resolution pages are rendered at: Tesseract reads body text best with capital
	// letters 20–40 pixels high, 9–11 pt type at 300 dpi.
	ocrDPI = 300
	// ocrMaxSide bounds a rendered page's longer side in pixels (A3 at 300 dpi is 4,961): larger
	// pages are rendered at a lower resolution.
	ocrMaxSide = 5000
	// ocrPageTimeout bounds rendering and reading one page (seconds, usually); a page over it
	// makes the file unreadable.
	ocrPageTimeout = 3 * time.Minute
	// ocrMinLineConfidence drops lines Tesseract is this unsure of: specks, rules and the
	// lettering of pictures.
	ocrMinLineConfidence = 0.4
)

// ocrPSM is Tesseract's page segmentation mode: 11, sparse text, reads each run of text on its
// own and leaves putting them into lines and tables to ocrLines and the table code, as for text
// pages. Tesseract's own layout analysis (3) reads a table row across its gutters as one line when
// a cell's lines stand half a line off its neighbour's, misreading both (and 4 and 6 do so always).
// Measured by TestOCRMeasure on 12 pages (the test tables, the service manual, the code tables of
// three real manuals in English and Chinese), the facts of the codes found matched their text
// layers' at 0.95 with 11 (39 of 40 codes) and 0.83 with 3 (38 of 40; 0.57 and 0.61 on the two
// English manuals); on the first five pages 6 scored 0.94 at twice the time, and 4 scored 0.86.
var ocrPSM = "11"

// ocrInstall names what to install for OCR, for error messages.
const ocrInstall = "tesseract-ocr with tesseract-ocr-chi-sim, tesseract-ocr-chi-tra and tesseract-ocr-eng, and poppler-utils (scripts/deps.sh)"

// ocrScore adds up the confidence of a line's OCR'd words.
type ocrScore struct {
	sum   float64 // of the words' confidence, each 0..1
	words int
}

func (s *ocrScore) add(o ocrScore) {
	s.sum += o.sum
	s.words += o.words
}

// mean returns the words' mean confidence, 0..1, or 0 for text that was not OCR'd.
func (s ocrScore) mean() float64 {
	if s.words == 0 {
		return 0
	}
	return math.Round(s.sum/float64(s.words)*1000) / 1000
}

// ocrEngine is the pair of tools OCR needs, the languages installed, and which of them read a
// document best, as its pages have shown.
type ocrEngine struct {
	pdftoppm, tesseract string
	fixed               string   // the languages to read with, when PDFOptions names them
	chinese             []string // chi_sim and chi_tra, those installed
	eng                 bool     // whether eng is installed

	// What the pages read so far have shown: the Chinese model that reads the document best (""
	// until both were tried), and whether its pages are mostly in Latin letters.
	han   string
	latin bool
}

// errOCROff is findOCR's error when PDFOptions turn OCR off.
var errOCROff = errors.New("OCR is turned off")

// findOCR returns an engine to read one document with, or an error saying what is missing.
func findOCR(ctx context.Context, opt PDFOptions) (*ocrEngine, error) {
	e := &ocrEngine{tesseract: opt.Tesseract, fixed: opt.OCRLanguages}
	if e.tesseract == "-" || opt.Pdftotext == "-" {
		return nil, errOCROff // Pdftotext "-" runs no poppler tool, and OCR needs pdftoppm
	}
	if e.tesseract == "" {
		e.tesseract, _ = exec.LookPath("tesseract")
	}
	// pdftoppm comes with pdftotext: next to the one configured, else on PATH.
	if opt.Pdftotext != "" && opt.Pdftotext != "-" && filepath.IsAbs(opt.Pdftotext) {
		if p := filepath.Join(filepath.Dir(opt.Pdftotext), "pdftoppm"); isExecutable(p) {
			e.pdftoppm = p
		}
	}
	if e.pdftoppm == "" {
		e.pdftoppm, _ = exec.LookPath("pdftoppm")
	}
	if e.tesseract == "" || !isExecutable(e.tesseract) || e.pdftoppm == "" {
		return nil, fmt.Errorf("OCR needs %s", ocrInstall)
	}
	langs, err := tesseractLanguages(ctx, e.tesseract)
	if err != nil {
		return nil, err
	}
	for _, l := range []string{"chi_sim", "chi_tra"} {
		if slices.Contains(langs, l) {
			e.chinese = append(e.chinese, l)
		}
	}
	e.eng = slices.Contains(langs, "eng")
	if e.fixed == "" && len(e.chinese) == 0 && !e.eng {
		return nil, fmt.Errorf("tesseract has no Chinese or English language data: OCR needs %s", ocrInstall)
	}
	return e, nil
}

// Languages to read a page with. Measured on scanned tables (see TestOCRLanguages): Chinese is read
// best by one Chinese model alone, chi_sim for Simplified and chi_tra for Traditional text (mean
// word confidence 0.86 against 0.80, and 0.80 against 0.69); adding eng, or the other Chinese
// model, makes Tesseract read some Chinese words as Latin garbage ("537K He) ALANS") or in the
// other script. English is read best with eng (0.95 against 0.84 with chi_sim alone, which drops
// spaces); eng+chi_sim keeps the Chinese words of a mostly English page.

// chineseLangs returns the Chinese model the document is read with so far.
func (e *ocrEngine) chineseLangs() string {
	switch {
	case e.han != "":
		return e.han
	case len(e.chinese) > 0:
		return e.chinese[0]
	}
	return ""
}

// latinLangs returns the languages for a page mostly in Latin letters.
func (e *ocrEngine) latinLangs() string {
	switch {
	case !e.eng:
		return ""
	case slices.Contains(e.chinese, "chi_sim"):
		return "eng+chi_sim"
	case len(e.chinese) > 0:
		return "eng+" + e.chinese[0]
	}
	return "eng"
}

// readImage reads a page image: with the languages the document's pages so far were read best
// with, and again with others when the page shows that they may read it better (Latin text read
// by a Chinese model or the reverse; the first Chinese page by both Chinese models), keeping the
// reading with the higher mean confidence.
func (e *ocrEngine) readImage(ctx context.Context, img string, page int, dpi float64) ([]ocrWord, error) {
	read := func(langs string) ([]ocrWord, error) {
		var out bytes.Buffer
		// Tesseract's own threads only slow it on a busy machine (pages took five times as long
		// on two loaded cores); pages are read one after another instead.
		if err := run(ctx, &out, e.tesseract, img, "-", "-l", langs, "--psm", ocrPSM, "tsv"); err != nil {
			return nil, err
		}
		return parseTesseractTSV(out.Bytes(), page, dpi)
	}
	if e.fixed != "" {
		return read(e.fixed)
	}
	first := e.chineseLangs()
	if e.latin || first == "" {
		first = e.latinLangs()
	}
	best, err := read(first)
	if err != nil {
		return nil, err
	}
	han, letters := scriptShare(best)
	if letters < 10 {
		return best, nil // too little to judge by
	}
	chosen, alt := first, ""
	switch {
	case first != e.latinLangs() && han < 0.2:
		alt = e.latinLangs()
	case first == e.latinLangs() && han > 0.3:
		alt = e.chineseLangs()
	case first != e.latinLangs() && e.han == "" && len(e.chinese) == 2:
		alt = e.chinese[1]
		if first == alt {
			alt = e.chinese[0]
		}
	}
	if alt != "" && alt != first {
		again, err := read(alt)
		if err != nil {
			return nil, err
		}
		if meanConfidence(again) > meanConfidence(best) {
			best, chosen = again, alt
		}
	}
	e.latin = chosen == e.latinLangs()
	if !e.latin && e.han == "" && (len(e.chinese) == 1 || alt != "" && alt != e.latinLangs()) {
		e.han = chosen
	}
	return best, nil
}

// scriptShare returns the share of a page's letters that are Chinese, and how many letters it has.
func scriptShare(words []ocrWord) (han float64, letters int) {
	n := 0
	for _, w := range words {
		for _, r := range w.s {
			switch {
			case unicode.Is(unicode.Han, r):
				n++
				letters++
			case unicode.IsLetter(r):
				letters++
			}
		}
	}
	if letters == 0 {
		return 0, 0
	}
	return float64(n) / float64(letters), letters
}

// meanConfidence returns the mean confidence of words read.
func meanConfidence(words []ocrWord) float64 {
	var s ocrScore
	for _, w := range words {
		s.add(w.score)
	}
	return s.mean()
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// tesseractLangs caches what `tesseract --list-langs` says, per tesseract binary.
var tesseractLangs struct {
	sync.Mutex
	m map[string][]string
}

// tesseractLanguages returns the languages a tesseract binary has data for, asking it once.
func tesseractLanguages(ctx context.Context, tool string) ([]string, error) {
	tesseractLangs.Lock()
	defer tesseractLangs.Unlock()
	if langs, ok := tesseractLangs.m[tool]; ok {
		return langs, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, tool, "--list-langs").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("running %s --list-langs: %w: %.200s", tool, err, bytes.TrimSpace(out))
	}
	langs := []string{}
	for _, l := range strings.Split(string(out), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.Contains(l, " ") {
			langs = append(langs, l)
		}
	}
	if tesseractLangs.m == nil {
		tesseractLangs.m = make(map[string][]string)
	}
	tesseractLangs.m[tool] = langs
	return langs, nil
}

// withOCR adds to a document's text lines the lines of its pages that have none, read by OCR. When
// OCR is not installed the lines are returned as they are.
func withOCR(ctx context.Context, data []byte, lines []pdfLine, pages int, opt PDFOptions) ([]pdfLine, error) {
	missing := pagesWithout(lines, pages)
	if len(missing) == 0 {
		return lines, nil
	}
	e, err := findOCR(ctx, opt)
	if err != nil {
		return lines, nil
	}
	scanned, err := e.read(ctx, data, missing, opt)
	if err != nil {
		return nil, err
	}
	all := append(slices.Clip(lines), scanned...)
	slices.SortStableFunc(all, func(a, b pdfLine) int { return a.page - b.page })
	return all, nil
}

// readScanned reads a PDF without a text layer by OCR, or says why it cannot.
func readScanned(ctx context.Context, data []byte, pages int, opt PDFOptions) ([]pdfLine, error) {
	const why = "it has no text layer (a scan or images only)"
	e, err := findOCR(ctx, opt)
	if errors.Is(err, errOCROff) {
		return nil, fixgraph.WrapError(fixgraph.EUNREADABLE, err, "PDF cannot be read: %s, and OCR is turned off", why)
	} else if err != nil {
		return nil, fixgraph.WrapError(fixgraph.EUNREADABLE, err, "PDF cannot be read: %s, and reading it by OCR needs %s", why, ocrInstall)
	}
	all := make([]int, pages)
	for i := range all {
		all[i] = i + 1
	}
	lines, err := e.read(ctx, data, all, opt)
	if err != nil {
		return nil, err
	}
	if len(lines) == 0 {
		return nil, fixgraph.Errorf(fixgraph.EUNREADABLE, "PDF has no extractable text: %s, and OCR found no text on its pages", why)
	}
	return lines, nil
}

// markOCRSections gives the sections of a batch that are on OCR'd pages and carry no confidence
// yet (a table row's) the mean confidence of their page's OCR'd words.
func markOCRSections(b *fixgraph.Batch, lines []pdfLine) {
	pages := make(map[int]*ocrScore)
	for _, l := range lines {
		if l.ocr.words > 0 {
			if pages[l.page] == nil {
				pages[l.page] = &ocrScore{}
			}
			pages[l.page].add(l.ocr)
		}
	}
	if len(pages) == 0 {
		return
	}
	for _, sec := range b.Sections() {
		if s := pages[sec.Page]; s != nil && sec.OCRConfidence == 0 {
			sec.OCRConfidence = s.mean()
		}
	}
}

// pagesWithout returns the pages, 1 to pages, that no line is on.
func pagesWithout(lines []pdfLine, pages int) []int {
	have := make(map[int]bool)
	for _, l := range lines {
		have[l.page] = true
	}
	var out []int
	for p := 1; p <= pages; p++ {
		if !have[p] {
			out = append(out, p)
		}
	}
	return out
}

// read OCRs the given pages of a PDF, one at a time, and returns their lines.
func (e *ocrEngine) read(ctx context.Context, data []byte, pages []int, opt PDFOptions) ([]pdfLine, error) {
	limit := opt.OCRPages
	if limit <= 0 {
		limit = MaxOCRPages
	}
	if len(pages) > limit {
		return nil, fixgraph.Errorf(fixgraph.ETOOLARGE, "PDF has %d pages without a text layer; OCR reads at most %d pages of a file: split it, or give it a text layer", len(pages), limit)
	}
	dir, err := os.MkdirTemp("", "fixgraph-ocr-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	src := filepath.Join(dir, "in.pdf")
	if err := os.WriteFile(src, data, 0o600); err != nil {
		return nil, err
	}
	sizes := pageSizes(data)
	if len(sizes) == 0 {
		// A file the built-in reader cannot open: poppler's sizes.
		_, sizes, _ = pdfinfo(ctx, sibling(e.pdftoppm, "pdfinfo"), src)
	}
	var words []ocrWord
	for _, p := range pages {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		dpi := float64(ocrDPI)
		if side := sizes[p]; side > 0 {
			dpi = math.Min(dpi, math.Floor(ocrMaxSide*72/side))
		}
		ws, err := e.page(ctx, src, dir, p, dpi)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fixgraph.WrapError(fixgraph.EUNREADABLE, err, "PDF page %d cannot be read by OCR", p)
		}
		words = append(words, ws...)
	}
	return ocrLines(words), nil
}

// page renders one page and reads its words.
func (e *ocrEngine) page(ctx context.Context, src, dir string, page int, dpi float64) ([]ocrWord, error) {
	ctx, cancel := context.WithTimeout(ctx, ocrPageTimeout)
	defer cancel()
	n := strconv.Itoa(page)
	base := filepath.Join(dir, "page")
	img := base + ".pgm"
	defer os.Remove(img)
	if err := run(ctx, nil, e.pdftoppm, "-r", strconv.Itoa(int(dpi)), "-gray", "-f", n, "-l", n, "-singlefile", src, base); err != nil {
		return nil, err
	}
	if blank, err := cleanPGM(img); err != nil {
		return nil, err
	} else if blank {
		return nil, nil
	}
	return e.readImage(ctx, img, page, dpi)
}

// run runs a tool with OMP_THREAD_LIMIT=1, its output into stdout when that is not nil.
func run(ctx context.Context, stdout *bytes.Buffer, tool string, args ...string) error {
	cmd := exec.CommandContext(ctx, tool, args...)
	cmd.Env = append(os.Environ(), "OMP_THREAD_LIMIT=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if stdout != nil {
		cmd.Stdout = stdout
	}
	if err := cmd.Run(); err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("running %s: out of time", filepath.Base(tool))
		}
		return fmt.Errorf("running %s: %w: %.200s", filepath.Base(tool), err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// cleanPGM prepares a page image that pdftoppm wrote (binary PGM) for Tesseract: it erases the
// rules of tables, dark runs longer than any stroke of a letter, which Tesseract otherwise takes
// for a picture, dropping the cells inside, or reads as letters. It reports whether the page is
// blank, next to no dark pixels, so there is nothing to read.
func cleanPGM(path string) (blank bool, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return false, err
	}
	w, h, off, ok := pgmHeader(data)
	if !ok {
		return false, nil // not what pdftoppm writes; let Tesseract judge
	}
	pix := data[off:]
	inked := 0
	for _, px := range pix {
		if px < 128 {
			inked++
		}
	}
	if inked < 300 {
		return true, nil
	}
	// Scans are seldom level; rows of a table that slope run into each other's lines.
	if angle := skew(pix, w, h); angle != 0 {
		copy(pix, rotateGray(pix, w, h, angle))
	}
	// A rule is a line of grey or darker pixels a twenty-fifth of the page long (a third of an
	// inch, more than a stroke of 30 pt type) and at most a five-hundredth of it thick (1.7 pt):
	// a dark band (a header row printed white on black) is no rule. Where a letter touches a
	// rule, the rule is thicker, and the letter stays.
	long, thick := max(w, h)/25, max(3, max(w, h)/500)
	dark := func(x, y int) bool { return x >= 0 && x < w && y >= 0 && y < h && pix[y*w+x] < 200 }
	// extent counts the dark pixels through (x, y) along (dx, dy), up to thick+1.
	extent := func(x, y, dx, dy int) int {
		n := 1
		for k := 1; n <= thick && dark(x+k*dx, y+k*dy); k++ {
			n++
		}
		for k := 1; n <= thick && dark(x-k*dx, y-k*dy); k++ {
			n++
		}
		return n
	}
	rule := make([]bool, len(pix))
	// mark finds the rules along lines of n pixels: line m's pixel i is at(m, i), and across the
	// line is (dx, dy).
	mark := func(lines, n int, at func(m, i int) (x, y int), dx, dy int) {
		for m := 0; m < lines; m++ {
			for i := 0; i < n; {
				if !dark(at(m, i)) {
					i++
					continue
				}
				j := i
				for j < n && dark(at(m, j)) {
					j++
				}
				if j-i >= long {
					for k := i; k < j; k++ {
						if x, y := at(m, k); extent(x, y, dx, dy) <= thick {
							rule[y*w+x] = true
						}
					}
				}
				i = j
			}
		}
	}
	mark(h, w, func(m, i int) (int, int) { return i, m }, 0, 1) // horizontal rules
	mark(w, h, func(m, i int) (int, int) { return m, i }, 1, 0) // vertical rules
	// The rules' anti-aliased edges are rule too.
	edge := slices.Clone(rule)
	for i, r := range rule {
		if !r {
			continue
		}
		x, y := i%w, i/w
		for _, n := range [][2]int{{x - 1, y}, {x + 1, y}, {x, y - 1}, {x, y + 1}} {
			if k := n[1]*w + n[0]; n[0] >= 0 && n[0] < w && n[1] >= 0 && n[1] < h && pix[k] < 235 {
				edge[k] = true
			}
		}
	}
	// A rule's pixels take the shade beside it, so a rule across a shaded cell leaves no pale
	// stripe (read as a quote mark).
	for i, r := range edge {
		if !r {
			continue
		}
		x, y := i%w, i/w
		shade := -1
		for _, d := range [][2]int{{-1, 0}, {1, 0}, {0, -1}, {0, 1}} {
			for k := 1; k <= 8; k++ {
				nx, ny := x+d[0]*k, y+d[1]*k
				if nx < 0 || nx >= w || ny < 0 || ny >= h {
					break
				}
				if !edge[ny*w+nx] {
					shade = max(shade, int(pix[ny*w+nx]))
					break
				}
			}
		}
		if shade < 0 {
			shade = 255
		}
		pix[i] = byte(shade)
	}
	return false, os.WriteFile(path, data, 0o600)
}

// skew estimates the angle (radians) a scanned page's lines slope by, down to the right, or 0 when
// they are level within a tenth of a degree: the angle at which the dark pixels, projected along
// it, bunch up into the sharpest rows (the sum of squared row counts is largest), searched over
// ±5° and refined. A sample of every fourth pixel each way is enough.
func skew(pix []byte, w, h int) float64 {
	const step = 4
	var xs, ys []float64
	for y := 0; y < h; y += step {
		for x := 0; x < w; x += step {
			if pix[y*w+x] < 128 {
				xs, ys = append(xs, float64(x)), append(ys, float64(y))
			}
		}
	}
	rows := make([]float64, h/step+2*w/step+2)
	score := func(a float64) float64 {
		clear(rows)
		t := math.Tan(a)
		off := float64(w) // keeps row indexes positive for slopes up to 45°
		for i := range xs {
			rows[int((ys[i]-xs[i]*t+off)/step)]++
		}
		sum := 0.0
		for _, n := range rows {
			sum += n * n
		}
		return sum
	}
	deg := math.Pi / 180
	best, bestScore := 0.0, score(0)
	for _, span := range []struct{ from, to, by float64 }{{-5, 5, 0.25}, {-0.25, 0.25, 0.05}} {
		centre := best
		for a := span.from; a <= span.to+1e-9; a += span.by {
			if sc := score(centre + a*deg); sc > bestScore*1.0001 {
				best, bestScore = centre+a*deg, sc
			}
		}
	}
	if math.Abs(best) < 0.1*deg {
		return 0
	}
	return best
}

// rotateGray returns a grey image turned by angle (radians) about its centre, so that lines
// sloping down to the right by angle come out level: each pixel takes the bilinear blend of the
// four it comes from, white beyond the edges.
func rotateGray(pix []byte, w, h int, angle float64) []byte {
	out := make([]byte, len(pix))
	sin, cos := math.Sincos(angle)
	cx, cy := float64(w)/2, float64(h)/2
	at := func(x, y int) float64 {
		if x < 0 || x >= w || y < 0 || y >= h {
			return 255
		}
		return float64(pix[y*w+x])
	}
	for y := 0; y < h; y++ {
		dy := float64(y) - cy
		for x := 0; x < w; x++ {
			dx := float64(x) - cx
			sx, sy := cx+dx*cos-dy*sin, cy+dx*sin+dy*cos
			x0, y0 := int(math.Floor(sx)), int(math.Floor(sy))
			fx, fy := sx-float64(x0), sy-float64(y0)
			v := (at(x0, y0)*(1-fx)+at(x0+1, y0)*fx)*(1-fy) + (at(x0, y0+1)*(1-fx)+at(x0+1, y0+1)*fx)*fy
			out[y*w+x] = byte(math.Round(v))
		}
	}
	return out
}

// pgmHeader reads the header of a binary 8-bit PGM image: its size and where its pixels start.
func pgmHeader(data []byte) (w, h, off int, ok bool) {
	if !bytes.HasPrefix(data, []byte("P5")) {
		return 0, 0, 0, false
	}
	// P5, width, height, maxval, each after white space, with comments from # to the line's end;
	// one white-space byte before the pixels.
	var fields []int
	i := 2
	for len(fields) < 3 && i < len(data) {
		switch c := data[i]; {
		case c == '#':
			for i < len(data) && data[i] != '\n' {
				i++
			}
		case c >= '0' && c <= '9':
			j := i
			for j < len(data) && j-i < 9 && data[j] >= '0' && data[j] <= '9' {
				j++
			}
			v, _ := strconv.Atoi(string(data[i:j]))
			fields = append(fields, v)
			i = j
			continue
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
		default:
			return 0, 0, 0, false
		}
		i++
	}
	i++ // the white space after maxval
	if len(fields) < 3 || fields[2] != 255 || fields[0] <= 0 || fields[1] <= 0 || len(data)-i != fields[0]*fields[1] {
		return 0, 0, 0, false
	}
	return fields[0], fields[1], i, true
}

// popplerPages returns how many pages poppler finds in a PDF, or 0; pdftotext names the poppler
// tools to use.
func popplerPages(ctx context.Context, pdftotext string, data []byte) int {
	path, done, err := tempPDF(data)
	if err != nil {
		return 0
	}
	defer done()
	n, _, err := pdfinfo(ctx, sibling(pdftotext, "pdfinfo"), path)
	if err != nil {
		return 0
	}
	return n
}

// sibling returns the path of another poppler tool: beside the one given when it is there, else
// found on PATH, else "".
func sibling(tool, name string) string {
	if filepath.IsAbs(tool) {
		if p := filepath.Join(filepath.Dir(tool), name); isExecutable(p) {
			return p
		}
	}
	p, _ := exec.LookPath(name)
	return p
}

// pdfinfo returns a PDF's page count and each page's longer side in points, as poppler's pdfinfo
// reads them.
func pdfinfo(ctx context.Context, tool, path string) (pages int, sizes map[int]float64, err error) {
	if tool == "" {
		return 0, nil, errors.New("pdfinfo (poppler-utils) is not installed")
	}
	var out bytes.Buffer
	if err := run(ctx, &out, tool, "-f", "1", "-l", "1000000", path); err != nil {
		return 0, nil, err
	}
	sizes = make(map[int]float64)
	for _, l := range strings.Split(out.String(), "\n") {
		var p int
		var w, h float64
		if _, err := fmt.Sscanf(l, "Page %d size: %g x %g", &p, &w, &h); err == nil {
			sizes[p] = math.Max(w, h)
		} else if v, ok := strings.CutPrefix(l, "Pages:"); ok {
			pages, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	return pages, sizes, nil
}

// pageSizes returns each page's longer side in points, from its crop or media box; 0 where unknown.
func pageSizes(data []byte) (sizes map[int]float64) {
	sizes = make(map[int]float64)
	defer func() {
		if recover() != nil {
			sizes = map[int]float64{}
		}
	}()
	r, err := pdf.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return sizes
	}
	for i := 1; i <= r.NumPage(); i++ {
		box := inherited(r.Page(i).V, "CropBox")
		if box.Len() != 4 {
			box = inherited(r.Page(i).V, "MediaBox")
		}
		if box.Len() == 4 {
			w := math.Abs(box.Index(2).Float64() - box.Index(0).Float64())
			h := math.Abs(box.Index(3).Float64() - box.Index(1).Float64())
			sizes[i] = math.Max(w, h)
		}
	}
	return sizes
}

// inherited returns a page's entry, or the nearest of its parents' (page tree nodes pass boxes
// down to their pages).
func inherited(page pdf.Value, key string) pdf.Value {
	v := page
	for depth := 0; depth < 32 && !v.IsNull(); depth++ {
		if r := v.Key(key); !r.IsNull() {
			return r
		}
		v = v.Key("Parent")
	}
	return pdf.Value{}
}

// ocrWord is a word as Tesseract reads it, in points, with the OCR line it is on.
type ocrWord struct {
	pdfWord
	line  int      // its OCR line, numbered across the document
	score ocrScore // of the Tesseract words it was made of
}

// parseTesseractTSV reads the words (level 5) of Tesseract's TSV output: level, page_num,
// block_num, par_num, line_num, word_num, left, top, width, height, conf, text; boxes in pixels,
// turned into points at dpi.
func parseTesseractTSV(out []byte, page int, dpi float64) ([]ocrWord, error) {
	k := 72 / dpi
	var words []ocrWord
	lines := make(map[[3]string]int)
	boxes := make(map[[3]string][2]float64) // each line's top and bottom
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) < 12 || f[0] != "5" && f[0] != "4" {
			continue
		}
		key := [3]string{f[2], f[3], f[4]}
		if f[0] == "4" {
			// Tesseract's word boxes of Chinese often reach well above or below their line's,
			// which fits the ink: words are cut to their line's box.
			top, err1 := strconv.ParseFloat(f[7], 64)
			h, err2 := strconv.ParseFloat(f[9], 64)
			if err1 == nil && err2 == nil && h > 0 {
				boxes[key] = [2]float64{top, top + h}
			}
			continue
		}
		// Table rules come out as bars at a word's edges, or as words of their own.
		text := strings.Trim(strings.TrimSpace(strings.Join(f[11:], " ")), "|¦‖_")
		if text == "" {
			continue
		}
		var v [5]float64
		ok := true
		for i, c := range []int{6, 7, 8, 9, 10} {
			x, err := strconv.ParseFloat(f[c], 64)
			if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
				ok = false
				break
			}
			v[i] = x
		}
		if !ok || v[2] <= 0 || v[3] <= 0 || v[4] < 0 {
			continue
		}
		if box, ok := boxes[key]; ok {
			if top, bottom := math.Max(v[1], box[0]), math.Min(v[1]+v[3], box[1]); bottom > top {
				v[1], v[3] = top, bottom-top
			}
		}
		line, seen := lines[key]
		if !seen {
			line = len(lines)
			lines[key] = line
		}
		words = append(words, ocrWord{
			pdfWord: pdfWord{page: page, x0: v[0] * k, y0: v[1] * k, x1: (v[0] + v[2]) * k, y1: (v[1] + v[3]) * k, s: text},
			line:    page<<20 | line,
			score:   ocrScore{sum: math.Min(v[4], 100) / 100, words: 1},
		})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading tesseract's output: %w", err)
	}
	return words, nil
}

// The em box poppler gives a word runs from emAscent above the baseline to emDescent below it.
const (
	emAscent  = 0.93
	emDescent = 0.24
)

// inkExtent returns how far a character's ink reaches above the baseline and below it (negative),
// in ems, in common fonts; ok is false for characters too small or too varied to tell a size by
// (dots, dashes, symbols).
func inkExtent(r rune) (top, bottom float64, ok bool) {
	switch {
	case isWide(string(r)) && !unicode.IsPunct(r):
		return 0.8, -0.1, true // Chinese: about 0.9 em of ink
	case strings.ContainsRune("gpqy", r):
		return 0.52, -0.21, true
	case r == 'j':
		return 0.7, -0.21, true
	case r == 't':
		return 0.64, 0, true
	case r == 'i':
		return 0.7, 0, true
	case strings.ContainsRune("()[]{}|/\\", r):
		return 0.76, -0.21, true
	case strings.ContainsRune("bdfhkl", r) || unicode.IsUpper(r) || unicode.IsDigit(r) || strings.ContainsRune("!?%&#@", r):
		return 0.74, 0, true
	case unicode.IsLower(r):
		return 0.52, 0, true
	}
	return 0, 0, false
}

// inkEm estimates a word's font size (em) from its ink box and what its characters reach, and how
// far below the baseline its ink goes (in ems, negative); n is how many characters the estimate
// rests on, 0 for none (punctuation).
func inkEm(w pdfWord) (em, bottom, n float64) {
	top := 0.0
	for _, r := range w.s {
		if t, b, ok := inkExtent(r); ok {
			top, bottom = math.Max(top, t), math.Min(bottom, b)
			n++
		}
	}
	if n == 0 {
		return 0, 0, 0
	}
	return (w.y1 - w.y0) / (top - bottom), bottom, n
}

// ocrLines turns a document's OCR'd words into lines as wordLines makes them from poppler's: every
// line's words get em boxes on its baseline, sizes are made uniform, Chinese is joined, and each
// line keeps its words' confidence.
func ocrLines(words []ocrWord) []pdfLine {
	// The size and baseline of each OCR line, from its words.
	type lineGeom struct{ em, base, weight float64 }
	byLine := make(map[int][]int)
	var order []int
	for i, w := range words {
		if _, ok := byLine[w.line]; !ok {
			order = append(order, w.line)
		}
		byLine[w.line] = append(byLine[w.line], i)
	}
	geom := make(map[int]*lineGeom)
	var sizes []weighted
	for _, id := range order {
		var ems []weighted
		for _, i := range byLine[id] {
			if em, _, n := inkEm(words[i].pdfWord); n > 0 {
				ems = append(ems, weighted{em, n})
			}
		}
		if len(ems) == 0 {
			continue // punctuation only
		}
		g := &lineGeom{em: weightedMedian(ems), weight: 0}
		for _, e := range ems {
			g.weight += e.w
		}
		// Each word's baseline is as far above its ink's bottom as its letters reach below, in
		// the line's size.
		var bs []weighted
		for _, i := range byLine[id] {
			w := words[i].pdfWord
			if _, bottom, n := inkEm(w); n > 0 {
				bs = append(bs, weighted{w.y1 + bottom*g.em, n})
			}
		}
		g.base = weightedMedian(bs)
		geom[id] = g
		sizes = append(sizes, weighted{g.em, g.weight})
	}
	snap := snapSizes(sizes)
	var out []pdfWord
	conf := make(map[wordKey][]*ocrWord)
	for _, id := range order {
		g := geom[id]
		if g == nil {
			continue
		}
		em := snap(g.em)
		var line []ocrWord
		for _, i := range byLine[id] {
			w := words[i]
			w.y0, w.y1 = g.base-emAscent*em, g.base+emDescent*em
			if w.s = strayMarks(&w.pdfWord, w.score.mean(), em); w.s == "" {
				continue
			}
			if n := len(line); n > 0 && joins(line[n-1].pdfWord, w.pdfWord, em) {
				p := &line[n-1]
				p.s += w.s
				p.x0, p.x1 = math.Min(p.x0, w.x0), math.Max(p.x1, w.x1)
				p.score.add(w.score)
				continue
			}
			line = append(line, w)
		}
		for i := range line {
			w := &line[i]
			alone := (i == 0 || w.x0-line[i-1].x1 > 1.5*em) && (i == len(line)-1 || line[i+1].x0-w.x1 > 1.5*em)
			w.s = codeDigits(w.s, alone)
			out = append(out, w.pdfWord)
			k := wordKey{w.page, w.x0, w.s}
			conf[k] = append(conf[k], w)
		}
	}
	var lines []pdfLine
	for _, l := range wordLines(out) {
		for _, r := range l.runs {
			if r.spaceAt {
				continue
			}
			for _, w := range conf[wordKey{l.page, r.x, r.s}] {
				if mid := (w.y0 + w.y1) / 2; mid >= l.top && mid <= l.bottom {
					l.ocr.add(w.score)
					break
				}
			}
		}
		if l.ocr.mean() >= ocrMinLineConfidence {
			lines = append(lines, l)
		}
	}
	return lines
}

// strayMarks removes from an OCR'd word the quote marks and bars that Tesseract makes up in the
// blank between a table's cells (they stand for the gap, the rules having been erased, and are read
// unsure), moving its box's edge to where the rest of the word starts or ends. A word that is all
// such marks, or punctuation read unsure (specks: a dot in a gutter breaks a table's columns),
// becomes "". Quotes read with confidence stay.
func strayMarks(w *pdfWord, conf, em float64) string {
	const marks = "“”\"'‘’「」『』|¦"
	if conf >= 0.75 {
		return w.s
	}
	if conf < 0.6 && !strings.ContainsFunc(w.s, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) {
		return ""
	}
	s := strings.TrimLeft(w.s, marks)
	if s == "" {
		return ""
	}
	if s != w.s {
		w.x0 = math.Max(w.x0, w.x1-advance(s, em))
	}
	if t := strings.TrimRight(s, marks); t != s {
		s = t
		w.x1 = math.Min(w.x1, w.x0+advance(s, em))
	}
	return s
}

// advance estimates how wide text is set: an em for a Chinese character, less for others.
func advance(s string, em float64) float64 {
	w := 0.0
	for _, r := range s {
		switch {
		case isWide(string(r)):
			w += em
		case unicode.IsUpper(r) || unicode.IsDigit(r):
			w += 0.62 * em
		case unicode.IsLetter(r):
			w += 0.5 * em
		default:
			w += 0.3 * em
		}
	}
	return w
}

// codeDigits reads as digits the letters OCR confuses with them (l and I for 1, O for 0) where
// they stand among the digits of a word shaped like an error code: E1O is E10, F0l is F01. A word
// of a capital and an l or I that stands alone, as in a table's code column, is a code too: El is
// E1.
func codeDigits(s string, alone bool) string {
	m := codeShapeRE.FindStringSubmatch(s)
	switch {
	case m == nil:
		return s
	case strings.ContainsAny(m[2], "0123456789"):
	case alone && len(m[1]) == 1 && (m[2] == "l" || m[2] == "I"):
	default:
		return s
	}
	return m[1] + strings.NewReplacer("l", "1", "I", "1", "O", "0").Replace(m[2])
}

var codeShapeRE = regexp.MustCompile(`^([A-Z]{1,3})([0-9lIO]{1,4})$`)

type wordKey struct {
	page int
	x    float64
	s    string
}

// joins reports whether OCR'd word b, right of a on its line, continues a without a space: Chinese
// after Chinese close by (Chinese has no spaces, but Tesseract reads it a character or two at a
// time), and Chinese touching other text ("2024年", "F15时").
func joins(a, b pdfWord, em float64) bool {
	ar, _ := utf8.DecodeLastRuneInString(a.s)
	br, _ := utf8.DecodeRuneInString(b.s)
	aw, bw := isWide(string(ar)), isWide(string(br))
	punct := aw && unicode.IsPunct(ar) || bw && unicode.IsPunct(br)
	gap := (b.x0 - a.x1) / em
	switch {
	case aw && bw:
		return gap < 0.8 || punct && gap < 1
	case aw || bw:
		return gap < 0.25 || punct && gap < 0.6
	}
	return false
}

type weighted struct{ v, w float64 }

// weightedMedian returns the value at half the total weight.
func weightedMedian(xs []weighted) float64 {
	xs = slices.Clone(xs)
	slices.SortFunc(xs, func(a, b weighted) int { return cmpFloat(a.v, b.v) })
	total := 0.0
	for _, x := range xs {
		total += x.w
	}
	acc := 0.0
	for _, x := range xs {
		acc += x.w
		if acc >= total/2 {
			return x.v
		}
	}
	return 0
}

// snapSizes returns a function that maps a line's estimated size to its group's: sizes are
// grouped from the smallest up, each group spanning 8%, and each group's size is its weighted
// median. Type is set in a few sizes; estimates from ink scatter around them, and heading levels
// are told apart by size.
func snapSizes(sizes []weighted) func(float64) float64 {
	sorted := slices.Clone(sizes)
	slices.SortFunc(sorted, func(a, b weighted) int { return cmpFloat(a.v, b.v) })
	type group struct{ lo, hi, size float64 }
	var groups []group
	for i := 0; i < len(sorted); {
		j := i + 1
		for j < len(sorted) && sorted[j].v <= sorted[i].v*1.08 {
			j++
		}
		groups = append(groups, group{sorted[i].v, sorted[j-1].v, weightedMedian(sorted[i:j])})
		i = j
	}
	return func(v float64) float64 {
		for _, g := range groups {
			if v >= g.lo && v <= g.hi {
				return math.Round(g.size*10) / 10
			}
		}
		return v
	}
}
