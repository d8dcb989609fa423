package ingest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"os/exec"
	"slices"
	"strconv"
	"strings"

	"github.com/fixgraph/fixgraph/extract"
)

// pdfWord is one word of a PDF page as poppler places it: its box in points from the page's top
// left corner.
type pdfWord struct {
	page           int
	x0, y0, x1, y1 float64
	s              string
}

// readPDFWithTSV reads a PDF's words with their boxes through poppler's `pdftotext -tsv` and
// rebuilds the lines of each page from them. Poppler decodes fonts the built-in reader garbles
// (Type 3, shuffled glyph order, lost word spaces), and its word boxes are what tables are rebuilt
// from.
func readPDFWithTSV(ctx context.Context, tool string, data []byte) ([]pdfLine, error) {
	path, done, err := tempPDF(data)
	if err != nil {
		return nil, err
	}
	defer done()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, tool, "-tsv", "-enc", "UTF-8", path, "-")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("running %s: %w: %.200s", tool, err, strings.TrimSpace(stderr.String()))
	}
	words, err := parsePdftotextTSV(out)
	if err != nil {
		return nil, err
	}
	return wordLines(words), nil
}

// parsePdftotextTSV reads the word rows (level 5) of pdftotext's TSV output: level, page, par,
// block, line, word, left, top, width, height, conf, text.
func parsePdftotextTSV(out []byte) ([]pdfWord, error) {
	var words []pdfWord
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if len(fields) < 12 || fields[0] != "5" {
			continue
		}
		text := strings.TrimSpace(strings.Join(fields[11:], " "))
		if text == "" {
			continue
		}
		var nums [5]float64
		ok := true
		for i, k := range []int{1, 6, 7, 8, 9} {
			v, err := strconv.ParseFloat(fields[k], 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				ok = false
				break
			}
			nums[i] = v
		}
		if !ok || nums[4] <= 0 {
			continue
		}
		words = append(words, pdfWord{page: int(nums[0]), x0: nums[1], y0: nums[2], x1: nums[1] + nums[3], y1: nums[2] + nums[4], s: text})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading pdftotext's output: %w", err)
	}
	return words, nil
}

// wordLines groups a document's words into lines: per page, words whose vertical middles are
// within a third of their height of each other share a line, read left to right. Each word is a
// run of the line; a space run stands between words that a space separates.
func wordLines(words []pdfWord) []pdfLine {
	slices.SortStableFunc(words, func(a, b pdfWord) int {
		if a.page != b.page {
			return a.page - b.page
		}
		return cmpFloat((a.y0+a.y1)/2, (b.y0+b.y1)/2)
	})
	var out []pdfLine
	for i := 0; i < len(words); {
		mid := (words[i].y0 + words[i].y1) / 2
		h := words[i].y1 - words[i].y0
		j := i + 1
		for j < len(words) && words[j].page == words[i].page && (words[j].y0+words[j].y1)/2-mid <= 0.35*h {
			j++
		}
		line := slices.Clone(words[i:j])
		slices.SortStableFunc(line, func(a, b pdfWord) int { return cmpFloat(a.x0, b.x0) })
		if l, ok := wordsLine(line); ok {
			out = append(out, l)
		}
		i = j
	}
	return out
}

// wordsLine makes a pdfLine of one line's words.
func wordsLine(line []pdfWord) (pdfLine, bool) {
	l := pdfLine{page: line[0].page}
	for k, w := range line {
		size := w.y1 - w.y0
		l.size = math.Max(l.size, size)
		if k > 0 {
			prev := line[k-1]
			// Poppler ends a word at a space, so words are a space apart.
			l.runs = append(l.runs, pdfRun{s: " ", x: prev.x1, w: math.Max(w.x0-prev.x1, 0), size: size, spaceAt: true})
		}
		l.runs = append(l.runs, pdfRun{s: w.s, x: w.x0, w: w.x1 - w.x0, size: size})
		l.top = math.Min(nonZero(l.top, w.y0), w.y0)
		l.bottom = math.Max(l.bottom, w.y1)
	}
	var chunks []string
	for _, c := range lineChunks(l) {
		chunks = append(chunks, c.text)
	}
	l.text = extract.Normalize(strings.Join(chunks, " | "))
	return l, l.text != ""
}

func nonZero(v, or float64) float64 {
	if v == 0 {
		return or
	}
	return v
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
