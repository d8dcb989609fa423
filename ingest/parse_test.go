package ingest

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/fixtures"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

var fixedNow = func() time.Time { return time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC) }

// requirePdftotext skips a test that needs poppler's pdftotext when it is missing, except in CI,
// where the Makefile installs it and its absence is a failure.
func requirePdftotext(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pdftotext is not installed; `make deps` installs it")
		}
		t.Skip("pdftotext is not installed")
	}
}

// TestGolden parses every fixture and compares a readable summary of the batch with its golden file.
func TestGolden(t *testing.T) {
	requirePdftotext(t) // the Type 3 policy needs it
	p := &Pipeline{Now: fixedNow}
	err := fs.WalkDir(fixtures.Corpus, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		t.Run(name, func(t *testing.T) {
			data, err := fs.ReadFile(fixtures.Corpus, name)
			if err != nil {
				t.Fatal(err)
			}
			b, err := p.Parse(context.Background(), name, data)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			got := summarize(b)
			golden := filepath.Join("testdata", "golden", strings.ReplaceAll(name, "/", "_")+".txt")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./ingest -run TestGolden -update)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs from %s; run with -update and review the diff.\n%s", name, golden, firstDiff(string(want), got))
			}
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d:\n want %q\n  got %q", i+1, wl, gl)
		}
	}
	return ""
}

func clip(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ⏎ ")
	r := []rune(s)
	if len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// summarize renders what a batch holds, one line per node, in a stable order.
func summarize(b *fixgraph.Batch) string {
	var sb strings.Builder
	d := b.Document
	fmt.Fprintf(&sb, "document kind=%s lang=%s pages=%d title=%q\n", d.Kind, d.Language, d.Pages, d.Title)
	var lines []string
	for _, n := range b.Nodes {
		var l string
		switch n := n.(type) {
		case *fixgraph.Section:
			l = fmt.Sprintf("section %03d page=%d anchor=%q products=%q path=%q text=%q", n.Order, n.Page, n.Anchor, n.Products, n.HeadingPath, clip(n.Text, 80))
		case *fixgraph.Product:
			l = fmt.Sprintf("product %s name=%v category=%v brand=%q", n.Model, n.Name, n.Category, n.Brand)
		case *fixgraph.ErrorCode:
			l = fmt.Sprintf("code %s/%s severity=%s symptom=%v cause=%v", n.Product, n.Code, n.Severity, n.Symptom, n.Cause)
		case *fixgraph.RepairGuide:
			l = fmt.Sprintf("guide %s/%s lang=%s title=%q steps=%d warnings=%d first=%q", n.Product, n.Code, n.Language, n.Title, len(n.Steps), len(n.Warnings), clip(n.Steps[0], 40))
		case *fixgraph.Video:
			l = fmt.Sprintf("video %s title=%v", n.URL, n.Title)
		case *fixgraph.Part:
			l = fmt.Sprintf("part %s name=%v fits=%v", n.SKU, n.Name, n.Compatible)
		case *fixgraph.Warehouse:
			l = fmt.Sprintf("warehouse %s %q", n.Code, n.Name)
		case *fixgraph.StockLevel:
			l = fmt.Sprintf("stock %s@%s qty=%d at=%s", n.SKU, n.Warehouse, n.Quantity, n.UpdatedAt.Format(time.RFC3339))
		case *fixgraph.FAQ:
			l = fmt.Sprintf("faq product=%q lang=%s q=%q a=%q", n.Product, n.Language, n.Question, clip(n.Answer, 50))
		case *fixgraph.PolicyClause:
			l = fmt.Sprintf("clause %s %q page=%d text=%q", n.Number, n.Title, n.Page, clip(n.Text, 50))
		default:
			l = fmt.Sprintf("%T %s", n, n.NodeID())
		}
		if !slices.Contains(lines, l) {
			lines = append(lines, l)
		}
	}
	sort.SliceStable(lines, func(i, j int) bool { return kindRank(lines[i]) < kindRank(lines[j]) })
	for _, l := range lines {
		sb.WriteString(l + "\n")
	}
	rels := make(map[fixgraph.Rel]int)
	for _, e := range b.Edges {
		rels[e.Rel]++
	}
	var names []string
	for r, n := range rels {
		names = append(names, fmt.Sprintf("%s=%d", r, n))
	}
	slices.Sort(names)
	fmt.Fprintf(&sb, "edges %s\n", strings.Join(names, " "))
	return sb.String()
}

func kindRank(line string) int {
	order := []string{"product", "section", "code", "guide", "video", "part", "faq", "clause", "warehouse", "stock"}
	k, _, _ := strings.Cut(line, " ")
	if i := slices.Index(order, k); i >= 0 {
		return i
	}
	return len(order)
}
