package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/fixtures"
	"github.com/fixgraph/fixgraph/ingest"
	"github.com/fixgraph/fixgraph/search"
)

// manualResult is how fast a long manual is read: parsing (text, tables, codes) against embedding
// its sections, on one PDF of about the size a department uploads.
type manualResult struct {
	Pages         int     `json:"pages"`
	Sections      int     `json:"sections"`
	Codes         int     `json:"codes"`
	ParseSeconds  float64 `json:"parseSeconds"`
	PagesPerSec   float64 `json:"pagesPerSec"`
	EmbedSeconds  float64 `json:"embedSeconds,omitempty"`
	ExtractShare  float64 `json:"extractShare,omitempty"` // parse time / (parse + embedding time)
	EmbeddedTexts int     `json:"embeddedTexts,omitempty"`
}

// benchManual joins the demo corpus's PDFs with poppler's pdfunite into one PDF of at least pages
// pages, parses it as ingest does and embeds its sections with emb (when not nil).
func benchManual(ctx context.Context, emb search.Embedder, pages int, dir string) (manualResult, error) {
	var r manualResult
	unite, err := exec.LookPath("pdfunite")
	if err != nil {
		return r, fmt.Errorf("the manual bench needs pdfunite (poppler-utils): %w", err)
	}
	var parts []string
	have := 0
	for have < pages {
		for _, name := range []string{"manuals/dw-6035-service-zh.pdf", "policy/returns-zh.pdf", "policy/warranty-zh.pdf"} {
			data, err := fs.ReadFile(fixtures.Corpus, name)
			if err != nil {
				return r, err
			}
			path := filepath.Join(dir, strconv.Itoa(len(parts))+".pdf")
			if err := os.WriteFile(path, data, 0o600); err != nil {
				return r, err
			}
			parts = append(parts, path)
			b, err := (&ingest.Pipeline{}).Parse(ctx, name, data)
			if err != nil {
				return r, err
			}
			have += b.Document.Pages
		}
	}
	out := filepath.Join(dir, "manual.pdf")
	if msg, err := exec.CommandContext(ctx, unite, append(parts, out)...).CombinedOutput(); err != nil {
		return r, fmt.Errorf("pdfunite: %w: %s", err, msg)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		return r, err
	}
	p := &ingest.Pipeline{MaxFileSize: int64(len(data)) + 1}
	start := time.Now()
	b, err := p.Parse(ctx, "bench-manual.pdf", data)
	if err != nil {
		return r, err
	}
	r.ParseSeconds = time.Since(start).Seconds()
	r.Pages = b.Document.Pages
	r.PagesPerSec = float64(r.Pages) / r.ParseSeconds
	var texts []string
	for _, n := range b.Nodes {
		switch n := n.(type) {
		case *fixgraph.Section:
			r.Sections++
			texts = append(texts, n.Heading+"\n"+n.Text)
		case *fixgraph.ErrorCode:
			r.Codes++
		}
	}
	if emb == nil {
		return r, nil
	}
	start = time.Now()
	for i := 0; i < len(texts); i += 32 {
		if _, err := emb.Embed(ctx, texts[i:min(i+32, len(texts))], false); err != nil {
			return r, err
		}
	}
	r.EmbedSeconds = time.Since(start).Seconds()
	r.EmbeddedTexts = len(texts)
	r.ExtractShare = r.ParseSeconds / (r.ParseSeconds + r.EmbedSeconds)
	return r, nil
}

// ocrResult is how fast scanned pages are read: the demo service manual's pages rendered as images
// and read back by OCR.
type ocrResult struct {
	Pages       int     `json:"pages"`
	Codes       int     `json:"codes"`
	Seconds     float64 `json:"seconds"`
	PagesPerSec float64 `json:"pagesPerSec"`
}

// benchOCR scans the demo service manual (its pages as 300 dpi images in an image-only PDF) and
// times reading it back through OCR, as ingest does a scanned upload.
func benchOCR(ctx context.Context) (ocrResult, error) {
	var r ocrResult
	data, err := fs.ReadFile(fixtures.Corpus, "manuals/dw-6035-service-zh.pdf")
	if err != nil {
		return r, err
	}
	imgs, err := ingest.RasterPages(ctx, data, 300, 1, 2)
	if err != nil {
		return r, err
	}
	scan, err := ingest.ImagePDF(300, imgs...)
	if err != nil {
		return r, err
	}
	start := time.Now()
	b, err := (&ingest.Pipeline{}).Parse(ctx, "scanned-service-manual.pdf", scan)
	if err != nil {
		return r, err
	}
	r.Seconds = time.Since(start).Seconds()
	r.Pages = b.Document.Pages
	r.PagesPerSec = float64(r.Pages) / r.Seconds
	for _, n := range b.Nodes {
		if _, ok := n.(*fixgraph.ErrorCode); ok {
			r.Codes++
		}
	}
	return r, nil
}
