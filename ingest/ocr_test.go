package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/fixgraph/fixgraph"
)

// mustHaveOCR skips a test when Tesseract (with Chinese and English data) or pdftoppm is not
// installed, and fails it when CI is set: scripts/deps.sh installs them.
func mustHaveOCR(tb testing.TB) {
	tb.Helper()
	_, err := findOCR(context.Background(), PDFOptions{})
	if err == nil {
		e, _ := findOCR(context.Background(), PDFOptions{})
		if len(e.chinese) != 2 || !e.eng {
			err = fmt.Errorf("tesseract has language data for %q, eng %v; want chi_sim, chi_tra and eng", e.chinese, e.eng)
		}
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("OCR is not installed (run scripts/deps.sh): %v", err)
		}
		tb.Skipf("OCR is not installed (scripts/deps.sh installs it): %v", err)
	}
}

// mustRasterise renders pages of a PDF as grey images at dpi (see RasterPages).
func mustRasterise(tb testing.TB, data []byte, dpi int, pages ...int) []*image.Gray {
	tb.Helper()
	out, err := RasterPages(context.Background(), data, dpi, pages...)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// imagePDF writes an image-only PDF of the pages (see ImagePDF).
func imagePDF(tb testing.TB, dpi float64, pages ...*image.Gray) []byte {
	tb.Helper()
	out, err := ImagePDF(dpi, pages...)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// codeFacts returns what a batch says of each error code: its symptom, cause and steps, one string
// per code key.
func codeFacts(b *fixgraph.Batch) map[string]string {
	out := make(map[string]string)
	for _, n := range b.Nodes {
		switch n := n.(type) {
		case *fixgraph.ErrorCode:
			k := fixgraph.CodeKey(n.Code)
			out[k] = n.Symptom[b.Document.Language] + " / " + n.Cause[b.Document.Language] + out[k]
		case *fixgraph.RepairGuide:
			k := fixgraph.CodeKey(n.Code)
			out[k] += " / " + strings.Join(n.Steps, " ")
		}
	}
	return out
}

// similarity is 1 minus the edit distance of two texts' letters and digits over the longer's length.
func similarity(a, b string) float64 {
	keep := func(s string) []rune {
		var out []rune
		for _, r := range strings.ToLower(s) {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				out = append(out, r)
			}
		}
		return out
	}
	x, y := keep(a), keep(b)
	if len(x) == 0 && len(y) == 0 {
		return 1
	}
	prev := make([]int, len(y)+1)
	cur := make([]int, len(y)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(x); i++ {
		cur[0] = i
		for j := 1; j <= len(y); j++ {
			c := prev[j-1]
			if x[i-1] != y[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return 1 - float64(prev[len(y)])/float64(max(len(x), len(y)))
}

// TestOCRMeasure compares what OCR'd scans of PDFs yield with what their text layers yield: codes
// found, codes made up, and how close each found code's symptom, cause and steps are, for
// Tesseract's page segmentation modes. The PDFs are the test tables, the service manual, and the
// code-table pages of the real manuals in ../../shared/corpus/manuals when they are there. It runs
// when FIXGRAPH_OCR_MEASURE is set (to the modes, e.g. "3 11"); it is how ocrPSM was chosen.
// FIXGRAPH_OCR_SKEW turns the pages by that many degrees, as if laid askew on the scanner.
func TestOCRMeasure(t *testing.T) {
	modes := strings.Fields(os.Getenv("FIXGRAPH_OCR_MEASURE"))
	if len(modes) == 0 {
		t.Skip("set FIXGRAPH_OCR_MEASURE to the page segmentation modes to compare, e.g. \"3 11\"")
	}
	mustHaveOCR(t)
	docs := []struct {
		file  string
		pages []int // nil: all
	}{
		{filepath.Join("..", "fixtures", serviceManual), nil},
		{"testdata/ocr/table-zh-hans.pdf", nil},
		{"testdata/ocr/table-zh-hant.pdf", nil},
		{"testdata/ocr/table-en.pdf", nil},
	}
	real := filepath.Join("..", "..", "shared", "corpus", "manuals", "docs")
	for _, d := range []struct {
		file  string
		pages []int
	}{
		{"ecowater-r15whf-zh.pdf", []int{17, 18}},
		{"bafang-dp-c240-display.pdf", []int{13, 14, 15}},
		{"aquark-mr-silence-service.pdf", []int{10, 11}},
	} {
		if _, err := os.Stat(filepath.Join(real, d.file)); err == nil {
			docs = append(docs, struct {
				file  string
				pages []int
			}{filepath.Join(real, d.file), d.pages})
		}
	}
	defer func(psm string) { ocrPSM = psm }(ocrPSM)
	for _, psm := range modes {
		ocrPSM = psm
		var found, want, extra, pages int
		var sim float64
		start := time.Now()
		for _, d := range docs {
			data, err := os.ReadFile(d.file)
			if err != nil {
				t.Fatal(err)
			}
			if d.pages != nil {
				data = mustPages(t, d.file, d.pages)
			}
			text, err := (&Pipeline{Now: fixedNow}).Parse(context.Background(), d.file, data)
			if err != nil {
				t.Fatal(err)
			}
			var imgs []*image.Gray
			for p := 1; p <= text.Document.Pages; p++ {
				imgs = append(imgs, mustRasterise(t, data, 300, p)...)
			}
			if deg, _ := strconv.ParseFloat(os.Getenv("FIXGRAPH_OCR_SKEW"), 64); deg != 0 {
				for _, img := range imgs {
					b := img.Bounds()
					img.Pix = rotateGray(img.Pix, b.Dx(), b.Dy(), -deg*math.Pi/180)
				}
			}
			pages += len(imgs)
			scan, err := (&Pipeline{Now: fixedNow}).Parse(context.Background(), d.file, imagePDF(t, 300, imgs...))
			if err != nil {
				t.Logf("psm %s %s: %v", psm, d.file, err)
				continue
			}
			exp, got := codeFacts(text), codeFacts(scan)
			var f, x int
			var s float64
			for k, v := range exp {
				if g, ok := got[k]; ok {
					f++
					s += similarity(v, g)
					if testing.Verbose() && similarity(v, g) < 0.8 {
						t.Logf("psm %s %s: %s %.2f\n  text %s\n  ocr  %s", psm, filepath.Base(d.file), k, similarity(v, g), v, g)
					}
				} else if testing.Verbose() {
					t.Logf("psm %s %s: %s missing", psm, filepath.Base(d.file), k)
				}
			}
			for k, v := range got {
				if _, ok := exp[k]; !ok {
					x++
					if testing.Verbose() {
						t.Logf("psm %s %s: %s made up: %s", psm, filepath.Base(d.file), k, v)
					}
				}
			}
			t.Logf("psm %s %s: codes %d/%d, %d made up, similarity %.3f", psm, filepath.Base(d.file), f, len(exp), x, s/float64(max(f, 1)))
			found, want, extra, sim = found+f, want+len(exp), extra+x, sim+s
		}
		t.Logf("psm %s: codes %d/%d, %d made up, mean similarity of found codes' facts %.3f; %d pages in %s", psm, found, want, extra, sim/float64(max(found, 1)), pages, time.Since(start).Round(time.Second))
	}
}

// mustPages returns a PDF of some pages of a PDF, through poppler's pdfseparate and pdfunite.
func mustPages(tb testing.TB, file string, pages []int) []byte {
	tb.Helper()
	dir := tb.TempDir()
	var parts []string
	for _, p := range pages {
		part := filepath.Join(dir, fmt.Sprintf("p%d.pdf", p))
		if msg, err := exec.Command("pdfseparate", "-f", strconv.Itoa(p), "-l", strconv.Itoa(p), file, part).CombinedOutput(); err != nil {
			tb.Fatalf("pdfseparate: %v: %s", err, msg)
		}
		parts = append(parts, part)
	}
	out := filepath.Join(dir, "pages.pdf")
	if msg, err := exec.Command("pdfunite", append(parts, out)...).CombinedOutput(); err != nil {
		tb.Fatalf("pdfunite: %v: %s", err, msg)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// mustScan makes a scanned copy of a text PDF: each page rendered at 300 dpi, turned by deg degrees
// (clockwise) as a page laid askew on the scanner, and wrapped, as an image only, in a PDF of its
// own.
func mustScan(tb testing.TB, name string, pages int, deg float64) []byte {
	tb.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		tb.Fatal(err)
	}
	var ps []int
	for p := 1; p <= pages; p++ {
		ps = append(ps, p)
	}
	imgs := mustRasterise(tb, data, 300, ps...)
	for i, img := range imgs {
		imgs[i] = trimBottom(img)
		if deg != 0 {
			b := imgs[i].Bounds()
			turned := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
			for y := 0; y < b.Dy(); y++ {
				copy(turned.Pix[y*turned.Stride:], imgs[i].Pix[y*imgs[i].Stride:y*imgs[i].Stride+b.Dx()])
			}
			turned.Pix = rotateGray(turned.Pix, b.Dx(), b.Dy(), -deg*math.Pi/180)
			imgs[i] = turned
		}
	}
	return imagePDF(tb, 300, imgs...)
}

// trimBottom cuts the blank bottom off a page image, leaving a margin: Tesseract's time grows with
// the page's area, and the test pages are half empty.
func trimBottom(img *image.Gray) *image.Gray {
	b := img.Bounds()
	last := b.Min.Y
	for y := b.Min.Y; y < b.Max.Y; y++ {
		row := img.Pix[(y-b.Min.Y)*img.Stride : (y-b.Min.Y)*img.Stride+b.Dx()]
		if slices.ContainsFunc(row, func(p uint8) bool { return p < 128 }) {
			last = y
		}
	}
	return img.SubImage(image.Rect(b.Min.X, b.Min.Y, b.Max.X, min(b.Max.Y, last+150))).(*image.Gray)
}

// TestOCRScannedTables reads scans of error-code tables (Simplified and Traditional Chinese,
// English; testdata/ocr/*.html printed to PDF with WenQuanYi Micro Hei and DejaVu Sans, then
// rendered to images here) into the nodes their text layers give: the same codes, each with its
// symptom and, where the text layer has one, its repair guide, in sections that say they were read
// by OCR and how sure it was.
func TestOCRScannedTables(t *testing.T) {
	mustHaveOCR(t)
	tests := []struct {
		file          string
		deg           float64 // how far the page lay askew on the scanner
		lang          string
		symptom, step string // in E1's symptom and steps; no step: the text layer gives no guide
		heading       string // a section's heading
	}{
		{"table-zh-hans.pdf", 0, "zh", "不加热", "燃气阀门", "1. 故障代码"},
		// The table's columns are named in Traditional characters, which the column names
		// (tablecols.go) do not include yet: neither the text layer nor OCR finds its remedies.
		{"table-zh-hant.pdf", 0, "zh", "不加熱", "", "1. 故障代碼"},
		{"table-en.pdf", 2, "en", "No heating", "gas valve", "1. Error codes"},
	}
	type facts struct {
		symptom string
		steps   []string
	}
	read := func(b *fixgraph.Batch) (codes []string, got map[string]*facts) {
		got = make(map[string]*facts)
		for _, n := range b.Nodes {
			switch n := n.(type) {
			case *fixgraph.ErrorCode:
				codes = append(codes, n.Code)
				got[n.Code] = &facts{symptom: n.Symptom[b.Document.Language]}
			case *fixgraph.RepairGuide:
				if f := got[n.Code]; f != nil {
					f.steps = n.Steps
				}
			}
		}
		return codes, got
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s at %g°", tt.file, tt.deg), func(t *testing.T) {
			name := filepath.Join("testdata", "ocr", tt.file)
			data, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			text, err := (&Pipeline{Now: fixedNow}).Parse(context.Background(), tt.file, data)
			if err != nil {
				t.Fatal(err)
			}
			b, err := (&Pipeline{Now: fixedNow}).Parse(context.Background(), tt.file, mustScan(t, name, 1, tt.deg))
			if err != nil {
				t.Fatal(err)
			}
			if b.Document.Kind != fixgraph.KindManual || b.Document.Language != tt.lang {
				t.Errorf("document kind %s, language %s; want a manual in %s", b.Document.Kind, b.Document.Language, tt.lang)
			}
			wantCodes, want := read(text)
			codes, got := read(b)
			if !slices.Equal(codes, wantCodes) || len(codes) != 4 {
				t.Fatalf("codes %q, want %q as the text layer gives\n%s", codes, wantCodes, summarize(b))
			}
			// Tesseract's fast Chinese models misread characters (有温过高 for 水温过高), worst in a
			// cell wrapped onto a second line set close under the first (水溫過高，自動停⏎機 has
			// come out as 當四廁, 自生全): symptoms are alike on the whole, not each equal.
			total := 0.0
			for _, c := range codes {
				sim := similarity(got[c].symptom, want[c].symptom)
				if total += sim; got[c].symptom == "" {
					t.Errorf("%s has no symptom, want one like %q", c, want[c].symptom)
				}
				if (len(got[c].steps) > 0) != (len(want[c].steps) > 0) {
					t.Errorf("%s's steps %q, want %q", c, got[c].steps, want[c].steps)
				}
			}
			if mean := total / float64(len(codes)); mean < 0.7 {
				t.Errorf("symptoms' mean similarity to the text layer's %.2f, want 0.7 or more", mean)
			}
			if e1 := got["E1"]; !strings.Contains(e1.symptom, tt.symptom) {
				t.Errorf("E1's symptom %q, want it to say %q", e1.symptom, tt.symptom)
			} else if tt.step != "" && (len(e1.steps) != 2 || !strings.Contains(strings.Join(e1.steps, " "), tt.step)) {
				t.Errorf("E1's steps %q, want two, saying %q", e1.steps, tt.step)
			}
			headings := 0
			for _, sec := range b.Sections() {
				if sec.Page != 1 || sec.OCRConfidence < 0.5 || sec.OCRConfidence > 1 {
					t.Errorf("section %q: page %d, OCR confidence %v; want page 1, read by OCR with a confidence over 0.5", sec.Heading, sec.Page, sec.OCRConfidence)
				}
				if sec.Heading == tt.heading {
					headings++
				}
			}
			if headings != 1 {
				t.Errorf("no section headed %q:\n%s", tt.heading, summarize(b))
			}
		})
	}
}

// TestOCRMixedPages reads a PDF whose first page has a text layer and whose second is a scan: the
// scanned page is read by OCR, the other is not, and only the scanned page's sections say so.
func TestOCRMixedPages(t *testing.T) {
	mustHaveOCR(t)
	dir := t.TempDir()
	text := filepath.Join(dir, "text.pdf")
	scan := filepath.Join(dir, "scan.pdf")
	both := filepath.Join(dir, "both.pdf")
	if err := os.WriteFile(text, minimalPDF([]pdfTextLine{
		{18, 72, 760, "WH-7100 service notes"},
		{14, 72, 730, "About these notes"},
		{11, 72, 712, "The error code table is on the next page."},
	}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(scan, mustScan(t, filepath.Join("testdata", "ocr", "table-en.pdf"), 1, 0), 0o600); err != nil {
		t.Fatal(err)
	}
	if msg, err := exec.Command("pdfunite", text, scan, both).CombinedOutput(); err != nil {
		t.Skipf("pdfunite: %v: %s", err, msg)
	}
	data, err := os.ReadFile(both)
	if err != nil {
		t.Fatal(err)
	}
	// One language, one reading of the page: TestOCRScannedTables covers choosing them.
	b, err := (&Pipeline{Now: fixedNow, PDF: PDFOptions{OCRLanguages: "eng"}}).Parse(context.Background(), "both.pdf", data)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, n := range b.Nodes {
		if c, ok := n.(*fixgraph.ErrorCode); ok {
			codes = append(codes, c.Code)
		}
	}
	if want := []string{"E1", "E2", "E3", "E5"}; !slices.Equal(codes, want) {
		t.Errorf("codes %q, want %q\n%s", codes, want, summarize(b))
	}
	for _, sec := range b.Sections() {
		if scanned := sec.OCRConfidence > 0; scanned != (sec.Page == 2) {
			t.Errorf("section %q on page %d: OCR confidence %v; want one on page 2 only", sec.Heading, sec.Page, sec.OCRConfidence)
		}
	}
}

// TestOCRBounds: a file with more pages to OCR than allowed is refused before any is read, a
// cancelled context stops OCR, and without Tesseract a scan is unreadable with a message naming
// what to install.
func TestOCRBounds(t *testing.T) {
	blank := image.NewGray(image.Rect(0, 0, 850, 1100))
	for i := range blank.Pix {
		blank.Pix[i] = 255
	}
	twoPages := imagePDF(t, 100, blank, blank)

	t.Run("without OCR", func(t *testing.T) {
		for _, opt := range []PDFOptions{{Tesseract: "-"}, {Tesseract: filepath.Join(t.TempDir(), "tesseract")}} {
			_, err := (&Pipeline{Now: fixedNow, PDF: opt}).Parse(context.Background(), "scan.pdf", twoPages)
			if fixgraph.CodeOf(err) != fixgraph.EUNREADABLE || !strings.Contains(err.Error(), "no text layer") {
				t.Errorf("tesseract %q: %v; want EUNREADABLE, saying the PDF has no text layer", opt.Tesseract, err)
			}
			if opt.Tesseract != "-" && !strings.Contains(err.Error(), "tesseract-ocr") {
				t.Errorf("tesseract %q: %v; want it to name the packages to install", opt.Tesseract, err)
			}
		}
	})
	mustHaveOCR(t)
	t.Run("too many pages", func(t *testing.T) {
		start := time.Now()
		_, err := (&Pipeline{Now: fixedNow, PDF: PDFOptions{OCRPages: 1}}).Parse(context.Background(), "scan.pdf", twoPages)
		if fixgraph.CodeOf(err) != fixgraph.ETOOLARGE || !strings.Contains(err.Error(), "at most 1 page") {
			t.Errorf("%v; want ETOOLARGE, saying OCR reads at most 1 page", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("refusing took %s; want no page read", d)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := (&Pipeline{Now: fixedNow}).Parse(ctx, "scan.pdf", twoPages)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%v; want context.Canceled", err)
		}
	})
	t.Run("blank pages", func(t *testing.T) {
		_, err := (&Pipeline{Now: fixedNow}).Parse(context.Background(), "scan.pdf", twoPages)
		if fixgraph.CodeOf(err) != fixgraph.EUNREADABLE || !strings.Contains(err.Error(), "OCR found no text") {
			t.Errorf("%v; want EUNREADABLE, saying OCR found no text", err)
		}
	})
}

// BenchmarkOCR reads a scan of the service manual, its two pages three times over (six pages of
// Chinese prose and code tables), and reports OCR pages per second, choosing the languages on the
// first page included.
func BenchmarkOCR(b *testing.B) {
	mustHaveOCR(b)
	data, err := os.ReadFile(filepath.Join("..", "fixtures", serviceManual))
	if err != nil {
		b.Fatal(err)
	}
	imgs := mustRasterise(b, data, 300, 1, 2)
	scan := imagePDF(b, 300, imgs[0], imgs[1], imgs[0], imgs[1], imgs[0], imgs[1])
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		lines, pages, err := readPDF(context.Background(), scan, PDFOptions{})
		if err != nil || pages != 6 || len(lines) == 0 {
			b.Fatalf("%d lines, %d pages, %v", len(lines), pages, err)
		}
	}
	b.ReportMetric(float64(6*b.N)/b.Elapsed().Seconds(), "pages/s")
}

// TestParseTesseractTSV reads Tesseract's words: boxes in points at the resolution given, cut to
// their line's box, confidence 0 to 1, bars that rules became trimmed or dropped.
func TestParseTesseractTSV(t *testing.T) {
	tsv := "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n" +
		"1\t1\t0\t0\t0\t0\t0\t0\t2480\t3508\t-1\t\n" +
		"4\t1\t2\t1\t1\t0\t300\t600\t900\t40\t-1\t\n" +
		"5\t1\t2\t1\t1\t1\t300\t600\t100\t40\t96.5\tF10\n" +
		"5\t1\t2\t1\t1\t2\t500\t596\t45\t60\t90\t干\n" + // reaches out of its line
		"5\t1\t2\t1\t1\t3\t600\t590\t10\t80\t40\t|\n" + // a rule
		"5\t1\t2\t1\t1\t4\t700\t600\t60\t40\t55\t“|\n" +
		"5\t1\t2\t1\t1\t5\t800\t600\t60\t40\t95\t \n" +
		"5\t1\t3\t1\t1\t1\t300\t700\t60\t40\tNaN\tbad\n"
	words, err := parseTesseractTSV([]byte(tsv), 2, 300)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range words {
		got = append(got, fmt.Sprintf("%s p%d %.1f,%.1f-%.1f,%.1f conf %.3f", w.s, w.page, w.x0, w.y0, w.x1, w.y1, w.score.mean()))
	}
	want := []string{
		"F10 p2 72.0,144.0-96.0,153.6 conf 0.965",
		"干 p2 120.0,144.0-130.8,153.6 conf 0.900",
		"“ p2 168.0,144.0-182.4,153.6 conf 0.550",
	}
	if !slices.Equal(got, want) {
		t.Errorf("words:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if words[0].line != words[1].line {
		t.Error("words of one Tesseract line on different lines")
	}
}

// TestOCRLines builds lines from OCR'd words as wordLines does from poppler's: Chinese read a
// character at a time is joined, words keep their spaces, cells their gap, and the line is as high
// as poppler would make it for its size.
func TestOCRLines(t *testing.T) {
	// word places a word in pixels at 300 dpi on OCR line 1, as Tesseract boxes it: Chinese
	// characters 38 px high for 10 pt type (42 px to the em), Latin by its letters.
	word := func(x, w, top, h float64, s string, conf float64) ocrWord {
		k := 72.0 / 300
		return ocrWord{pdfWord: pdfWord{page: 1, x0: x * k, x1: (x + w) * k, y0: top * k, y1: (top + h) * k, s: s}, line: 1, score: ocrScore{conf, 1}}
	}
	words := []ocrWord{
		word(100, 38, 500, 38, "故", 0.9),
		word(145, 36, 500, 38, "障", 0.9),
		word(190, 80, 500, 38, "代码", 0.9),
		word(274, 30, 503, 35, "E1", 0.9), // touching Chinese: 代码E1
		word(330, 42, 500, 38, "显示", 0.9),
		word(380, 10, 530, 8, "，", 0.9),
		word(395, 38, 500, 38, "请", 0.9),
		word(800, 80, 503, 31, "Remedy", 0.8), // a cell of its own
		word(900, 40, 503, 24, "now", 0.6),
		word(950, 10, 500, 45, "|", 0.3), // a rule, read
	}
	lines := ocrLines(words)
	if len(lines) != 1 {
		t.Fatalf("%d lines, want 1", len(lines))
	}
	l := lines[0]
	if want := "故障代码E1 显示,请 | Remedy now"; l.text != want { // NFKC, as poppler's lines
		t.Errorf("text %q, want %q", l.text, want)
	}
	// 38 px of Chinese ink at 300 dpi is 10.1 pt type; poppler's boxes are 1.17 em high.
	if l.size < 11.3 || l.size > 12.4 {
		t.Errorf("size %.2f, want about 11.8 (10 pt type)", l.size)
	}
	if c := l.ocr.mean(); c < 0.85 || c > 0.9 {
		t.Errorf("confidence %.3f, want the mean of its words' (0.87)", c)
	}
}

func TestCodeDigits(t *testing.T) {
	tests := []struct {
		in    string
		alone bool
		want  string
	}{
		{"E1O", false, "E10"},
		{"F0l", false, "F01"},
		{"El", true, "E1"},
		{"El", false, "El"},   // a word in running text
		{"EO1", false, "EO1"}, // which O is a letter cannot be told
		{"IO", true, "IO"},
		{"Error", true, "Error"},
		{"E21", false, "E21"},
	}
	for _, tt := range tests {
		if got := codeDigits(tt.in, tt.alone); got != tt.want {
			t.Errorf("codeDigits(%q, %v) = %q, want %q", tt.in, tt.alone, got, tt.want)
		}
	}
}

// TestCleanPGM erases a table's rules, and nothing else, from a page image, and finds blank pages.
func TestCleanPGM(t *testing.T) {
	const w, h = 600, 800
	pix := bytes.Repeat([]byte{255}, w*h)
	fill := func(x0, y0, x1, y1 int, v byte) {
		for y := y0; y < y1; y++ {
			for x := x0; x < x1; x++ {
				pix[y*w+x] = v
			}
		}
	}
	fill(50, 100, 550, 140, 235)  // a shaded header row
	fill(50, 100, 550, 102, 60)   // its top rule
	fill(200, 100, 202, 400, 60)  // a column rule, across the shading
	fill(60, 110, 90, 130, 0)     // a glyph in the header
	fill(220, 150, 250, 152, 0)   // a stroke shorter than a rule
	fill(50, 600, 550, 640, 30)   // a header row printed white on black
	fill(100, 610, 110, 630, 255) // its white text
	path := filepath.Join(t.TempDir(), "page.pgm")
	if err := os.WriteFile(path, append([]byte(fmt.Sprintf("P5\n# pdftoppm\n%d %d\n255\n", w, h)), pix...), 0o600); err != nil {
		t.Fatal(err)
	}
	blank, err := cleanPGM(path)
	if err != nil || blank {
		t.Fatalf("blank %v, %v", blank, err)
	}
	data, _ := os.ReadFile(path)
	_, _, off, ok := pgmHeader(data)
	if !ok {
		t.Fatal("cleanPGM wrote no PGM")
	}
	got := data[off:]
	at := func(x, y int) byte { return got[y*w+x] }
	for _, c := range []struct {
		x, y int
		want byte
		what string
	}{
		{300, 101, 255, "the top rule"},
		{201, 300, 255, "the column rule"},
		{201, 120, 235, "the column rule across the shading (takes the shade)"},
		{70, 120, 0, "the glyph"},
		{230, 151, 0, "the short stroke"},
		{300, 120, 235, "the shading"},
		{300, 620, 30, "the black header row"},
		{105, 620, 255, "its white text"},
	} {
		if v := at(c.x, c.y); v != c.want {
			t.Errorf("%s: pixel %d, want %d", c.what, v, c.want)
		}
	}
	if err := os.WriteFile(path, append([]byte(fmt.Sprintf("P5 %d %d 255\n", w, h)), bytes.Repeat([]byte{250}, w*h)...), 0o600); err != nil {
		t.Fatal(err)
	}
	if blank, err := cleanPGM(path); err != nil || !blank {
		t.Errorf("a blank page: blank %v, %v", blank, err)
	}
}

// TestSnapSizes: sizes estimated from ink that are within a few percent of each other are one size,
// and sizes apart stay apart, so heading levels keep their order.
func TestSnapSizes(t *testing.T) {
	sizes := []weighted{{11.6, 50}, {11.9, 200}, {12.2, 30}, {17.2, 10}, {17.8, 12}, {23.5, 5}}
	snap := snapSizes(sizes)
	var got []float64
	for _, s := range sizes {
		got = append(got, snap(s.v))
	}
	if want := []float64{11.9, 11.9, 11.9, 17.8, 17.8, 23.5}; !slices.Equal(got, want) {
		t.Errorf("snapped %v, want %v", got, want)
	}
}

// TestSkew finds the slope of a page's lines of text (rows of dark blocks, as words are) and turns
// the page level.
func TestSkew(t *testing.T) {
	const w, h = 1200, 1600
	for _, deg := range []float64{-3, -0.6, 0.03, 1.2, 4} {
		t.Run(fmt.Sprint(deg), func(t *testing.T) {
			pix := bytes.Repeat([]byte{255}, w*h)
			for row := 200; row < 1400; row += 60 {
				for word := 100; word < 1000; word += 150 {
					for y := row; y < row+30; y++ {
						for x := word; x < word+110; x++ {
							pix[y*w+x] = 20
						}
					}
				}
			}
			askew := rotateGray(pix, w, h, -deg*math.Pi/180)
			got := skew(askew, w, h) * 180 / math.Pi
			want := deg
			if math.Abs(deg) < 0.1 {
				want = 0
			}
			// A tenth of a degree is under 4 pixels across a page at 300 dpi.
			if math.Abs(got-want) > 0.15 {
				t.Fatalf("skew %.3f°, want %.2f°", got, want)
			}
			if got != 0 {
				if again := skew(rotateGray(askew, w, h, got*math.Pi/180), w, h) * 180 / math.Pi; math.Abs(again) > 0.15 {
					t.Errorf("turned level, the page still slopes %.3f°", again)
				}
			}
		})
	}
}
