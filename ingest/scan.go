package ingest

import (
	"bytes"
	"compress/zlib"
	"context"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
)

// RasterPages renders pages of a PDF as grey images at dpi through poppler's pdftoppm, as a
// scanner would capture them. The OCR tests and the bench make scanned PDFs of text ones with it.
func RasterPages(ctx context.Context, data []byte, dpi int, pages ...int) ([]*image.Gray, error) {
	dir, err := os.MkdirTemp("", "fixgraph-raster-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	src := filepath.Join(dir, "in.pdf")
	if err := os.WriteFile(src, data, 0o600); err != nil {
		return nil, err
	}
	var out []*image.Gray
	for _, p := range pages {
		n := strconv.Itoa(p)
		base := filepath.Join(dir, "page"+n)
		if msg, err := exec.CommandContext(ctx, "pdftoppm", "-r", strconv.Itoa(dpi), "-gray", "-png", "-f", n, "-l", n, "-singlefile", src, base).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("pdftoppm: %w: %s", err, msg)
		}
		f, err := os.Open(base + ".png")
		if err != nil {
			return nil, err
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			return nil, err
		}
		g, ok := img.(*image.Gray)
		if !ok {
			g = image.NewGray(img.Bounds())
			draw.Draw(g, g.Bounds(), img, img.Bounds().Min, draw.Src)
		}
		out = append(out, g)
	}
	return out, nil
}

// ImagePDF writes a PDF whose pages are only the given grey images, each filling a page sized for
// it at dpi: what a scanner makes, with no text layer.
func ImagePDF(dpi float64, pages ...*image.Gray) ([]byte, error) {
	var objs []string
	kids := ""
	for i := range pages {
		kids += fmt.Sprintf("%d 0 R ", 3+3*i)
	}
	objs = append(objs, "<< /Type /Catalog /Pages 2 0 R >>", fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", kids, len(pages)))
	for i, img := range pages {
		b := img.Bounds()
		w, h := b.Dx(), b.Dy()
		var raw bytes.Buffer
		zw := zlib.NewWriter(&raw)
		for y := b.Min.Y; y < b.Max.Y; y++ {
			if _, err := zw.Write(img.Pix[(y-b.Min.Y)*img.Stride : (y-b.Min.Y)*img.Stride+w]); err != nil {
				return nil, err
			}
		}
		if err := zw.Close(); err != nil {
			return nil, err
		}
		pw, ph := float64(w)*72/dpi, float64(h)*72/dpi
		content := fmt.Sprintf("q %.2f 0 0 %.2f 0 0 cm /Im0 Do Q\n", pw, ph)
		im, cs := 4+3*i, 5+3*i
		objs = append(objs,
			fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.2f %.2f] /Resources << /XObject << /Im0 %d 0 R >> >> /Contents %d 0 R >>", pw, ph, im, cs),
			fmt.Sprintf("<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream", w, h, raw.Len(), raw.Bytes()),
			fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", len(content), content),
		)
	}
	var out bytes.Buffer
	out.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = out.Len()
		fmt.Fprintf(&out, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := out.Len()
	fmt.Fprintf(&out, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&out, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&out, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return out.Bytes(), nil
}
