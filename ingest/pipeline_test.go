package ingest_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/fixtures"
	"github.com/fixgraph/fixgraph/ingest"
	"github.com/fixgraph/fixgraph/internal/fixgraphtest"
	"github.com/fixgraph/fixgraph/search"
)

type stores struct {
	*fixgraphtest.Stores
	p *ingest.Pipeline
}

func mustStores(tb testing.TB) *stores {
	s := fixgraphtest.MustOpen(tb)
	return &stores{Stores: s, p: s.Pipeline}
}

func fixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := fs.ReadFile(fixtures.Corpus, name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// searchHas reports whether a search for q returns a section of the document from source.
func (s *stores) searchHas(tb testing.TB, q, source string) bool {
	tb.Helper()
	hits, err := s.Text.Search(context.Background(), q, 20, fixgraph.SearchFilter{})
	if err != nil {
		tb.Fatal(err)
	}
	for _, h := range hits {
		n, err := s.Graph.Node(context.Background(), h.Section.ID)
		if err == nil && n.(*fixgraph.Section).DocumentID == fixgraph.DocumentID(source) {
			return true
		}
	}
	return false
}

// TestBadFilesFailAloneAndLoseNothing ingests a batch where some files are bad. Each bad file gets
// a clear error; the good ones are ingested; a bad new version of a stored document leaves the
// stored version as it was.
func TestBadFilesFailAloneAndLoseNothing(t *testing.T) {
	ctx := context.Background()
	s := mustStores(t)
	manual := fixture(t, "manuals/wf-8012d-en.html")
	if r := s.p.IngestFile(ctx, "docs/washer.html", manual); r.Err != nil {
		t.Fatal(r.Err)
	}
	genBefore, _ := s.Graph.Generation(ctx)

	broken, err := os.ReadFile("testdata/broken.pdf")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := map[string][]byte{
		"a-broken.pdf":        broken,
		"b-empty.html":        nil,
		"c-no-headings.html":  []byte("<html><body><p>Just a paragraph, no headings at all.</p></body></html>"),
		"d-broken.docx":       []byte("PK\x03\x04 not something we read"),
		"i-unknown.odt":       []byte("PK\x03\x04 an OpenDocument text"),
		"e-faq.html":          fixture(t, "faq/faq-general-en.html"),
		"f-stock.csv":         fixture(t, "stock/stock.csv"),
		"g-bad-stock.csv":     []byte("sku,warehouse,quantity\nDC31-00178A,WH-SH01,twelve\n"),
		"h-washer-again.html": []byte("<html><body><p>truncated upload"),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	results, err := s.p.IngestPaths(ctx, []string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct{ code, msg string }{
		"a-broken.pdf":        {fixgraph.EUNREADABLE, "not a readable PDF"},
		"b-empty.html":        {fixgraph.EUNREADABLE, "file is empty"},
		"c-no-headings.html":  {fixgraph.EUNREADABLE, "no headings"},
		"d-broken.docx":       {fixgraph.EUNREADABLE, "not a readable .docx file"},
		"i-unknown.odt":       {fixgraph.EUNSUPPORTED, `unsupported file type ".odt"`},
		"e-faq.html":          {},
		"f-stock.csv":         {},
		"g-bad-stock.csv":     {fixgraph.EUNREADABLE, `line 2: quantity "twelve"`},
		"h-washer-again.html": {fixgraph.EUNREADABLE, "no headings"},
	}
	if len(results) != len(want) {
		t.Fatalf("%d results for %d files", len(results), len(want))
	}
	for _, r := range results {
		w := want[filepath.Base(r.Source)]
		if w.code == "" {
			if r.Err != nil || r.Outcome != ingest.Added {
				t.Errorf("%s: outcome %s, err %v; want added", r.Source, r.Outcome, r.Err)
			}
			continue
		}
		if r.Outcome != ingest.Failed || fixgraph.CodeOf(r.Err) != w.code || !strings.Contains(r.Error, w.msg) {
			t.Errorf("%s: outcome %s, code %s, error %q; want failed with %s containing %q", r.Source, r.Outcome, fixgraph.CodeOf(r.Err), r.Error, w.code, w.msg)
		}
	}

	// A failed new version of a stored document changes nothing of it.
	res := s.p.IngestFile(ctx, "docs/washer.html", []byte("<html><body><p>truncated"))
	if res.Err == nil {
		t.Fatal("truncated washer manual was accepted")
	}
	doc, err := s.Graph.Node(ctx, fixgraph.DocumentID("docs/washer.html"))
	if err != nil || doc.(*fixgraph.Document).Version != 1 {
		t.Fatalf("stored manual = %+v, %v; want version 1 untouched", doc, err)
	}
	if !s.searchHas(t, "drain pump filter", "docs/washer.html") {
		t.Error("the stored manual is no longer searchable")
	}
	if ecs, _ := s.Graph.ErrorCodes(ctx, "E102"); len(ecs) != 1 {
		t.Errorf("E102 codes = %d; want 1", len(ecs))
	}
	if genAfter, _ := s.Graph.Generation(ctx); genAfter != genBefore+2 {
		t.Errorf("generation %d → %d; want exactly the two good files written", genBefore, genAfter)
	}
}

func TestReingestUnchangedAndChanged(t *testing.T) {
	ctx := context.Background()
	s := mustStores(t)
	data := fixture(t, "manuals/dw-6035-zh.html")
	first := s.p.IngestFile(ctx, "dw.html", data)
	again := s.p.IngestFile(ctx, "dw.html", data)
	if first.Outcome != ingest.Added || again.Outcome != ingest.Unchanged || again.Version != 1 {
		t.Fatalf("first %+v, again %+v", first, again)
	}
	changed := strings.Replace(string(data), "</body>", `<h2 id="new">新增章节：软水盐</h2><p>每月检查一次软水盐余量。</p></body>`, 1)
	next := s.p.IngestFile(ctx, "dw.html", []byte(changed))
	if next.Outcome != ingest.Updated || next.Version != 2 || next.Sections != first.Sections+1 {
		t.Fatalf("changed = %+v; want updated to version 2 with one more section", next)
	}
	if !s.searchHas(t, "软水盐余量", "dw.html") {
		t.Error("new section not searchable")
	}
}

func TestType3PDF(t *testing.T) {
	ctx := context.Background()
	data := fixture(t, "policy/service-fees-type3.pdf")

	// Without pdftotext, the garbled text of a Type 3 font is reported, never indexed.
	p := &ingest.Pipeline{PDF: ingest.PDFOptions{Pdftotext: "-"}}
	_, err := p.Parse(ctx, "fees.pdf", data)
	if fixgraph.CodeOf(err) != fixgraph.EUNREADABLE || !strings.Contains(err.Error(), "garbled") || !strings.Contains(err.Error(), "pdftotext") {
		t.Fatalf("without pdftotext: %v; want an unreadable error naming garbled text and pdftotext", err)
	}

	if _, err := exec.LookPath("pdftotext"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pdftotext is not installed; `make deps` installs it")
		}
		t.Skip("pdftotext is not installed")
	}
	b, err := (&ingest.Pipeline{}).Parse(ctx, "fees.pdf", data)
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	for _, s := range b.Sections() {
		text.WriteString(s.Heading + "\n" + s.Text + "\n")
	}
	for _, want := range []string{"上门服务费", "50元/次", "五、付款与投诉"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("pdftotext text lacks %q", want)
		}
	}
}

func TestOversizedFileIsRefused(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.html")
	if err := os.WriteFile(big, []byte("<h1>x</h1>"+strings.Repeat("a", 2048)), 0o644); err != nil {
		t.Fatal(err)
	}
	s := mustStores(t)
	s.p.MaxFileSize = 1024
	results, err := s.p.IngestPaths(context.Background(), []string{big}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 1 || fixgraph.CodeOf(results[0].Err) != fixgraph.ETOOLARGE || !strings.Contains(results[0].Error, "1024 bytes") {
		t.Fatalf("results = %+v; want one too_large error naming the limit", results)
	}
}

// downIndex is the search index while its server is away: every write fails.
type downIndex struct {
	*search.Hybrid
	down bool
}

func (d *downIndex) Update(ctx context.Context, doc *fixgraph.Document, secs []*fixgraph.Section, removed []string) error {
	if d.down {
		return fixgraph.Errorf(fixgraph.EUNAVAILABLE, "search server is down")
	}
	return d.Hybrid.Update(ctx, doc, secs, removed)
}

// TestReingestRepairsIndex: when the index write fails after the graph's, the file is reported
// failed; ingesting it again, once the index is back, makes it searchable although the graph
// already has it.
func TestReingestRepairsIndex(t *testing.T) {
	ctx := context.Background()
	s := mustStores(t)
	ix := &downIndex{Hybrid: s.Index, down: true}
	p := &ingest.Pipeline{Graph: s.Graph, Index: ix}
	data := fixture(t, "faq/faq-general-zh.html")
	if r := p.IngestFile(ctx, "faq-general-zh.html", data); r.Err == nil || fixgraph.CodeOf(r.Err) != fixgraph.EUNAVAILABLE {
		t.Fatalf("ingest with the index down = %+v, want an unavailable error", r)
	}
	if s.searchHas(t, "发票", "faq-general-zh.html") {
		t.Fatal("the file is searchable although indexing failed")
	}
	ix.down = false
	r := p.IngestFile(ctx, "faq-general-zh.html", data)
	if r.Err != nil || r.Outcome != ingest.Unchanged {
		t.Fatalf("re-ingest = %+v, want unchanged (the graph has it)", r)
	}
	if !s.searchHas(t, "发票", "faq-general-zh.html") {
		t.Error("re-ingest did not repair the index")
	}
	// Once the index is current, an unchanged file does not write to it again.
	ix.down = true
	if r := p.IngestFile(ctx, "faq-general-zh.html", data); r.Err != nil {
		t.Errorf("unchanged file with a current index wrote to it: %v", r.Err)
	}
}

// TestPersonalDataIsMaskedBeforeStorage: a phone number and an e-mail address in an uploaded FAQ
// never reach the graph or the index; the service hotline stays; with masking off they are kept.
func TestPersonalDataIsMaskedBeforeStorage(t *testing.T) {
	ctx := context.Background()
	page := []byte(`<html lang="zh"><body><h1>售后问答</h1><dl>
<dt>如何联系维修师傅？</dt><dd>请拨打客服热线 400-820-1234，或联系王师傅 13812345678，邮箱 wang.shifu@example.com。</dd>
<dt>保修多久？</dt><dd>整机三年。</dd><dt>能上门吗？</dt><dd>可以。</dd></dl></body></html>`)
	s := mustStores(t)
	if r := s.p.IngestFile(ctx, "faq.html", page); r.Err != nil {
		t.Fatal(r.Err)
	}
	var stored strings.Builder
	s.Graph.Scan(ctx, "", func(n fixgraph.Node) error {
		fmt.Fprintf(&stored, "%+v\n", n)
		return nil
	})
	for _, secret := range []string{"13812345678", "wang.shifu@example.com"} {
		if strings.Contains(stored.String(), secret) {
			t.Errorf("the graph holds %s", secret)
		}
		if s.servedText(t, secret) {
			t.Errorf("search finds %s", secret)
		}
	}
	if !strings.Contains(stored.String(), "400-820-1234") || !strings.Contains(stored.String(), "138****5678") {
		t.Errorf("the hotline or the masked number is missing:\n%s", stored.String())
	}

	off := mustStores(t)
	off.p.PII.Disabled = true
	if r := off.p.IngestFile(ctx, "faq.html", page); r.Err != nil {
		t.Fatal(r.Err)
	}
	if !off.servedText(t, "13812345678") {
		t.Error("with masking off, the number is not kept")
	}
}

// TestWriteEditorialDocument: the editor's version of a repair guide, written through the
// pipeline as an editorial document over an ingested manual, is what the graph serves, with its
// personal data masked, and its section is searchable; the same write again changes nothing;
// removing it by its source brings back the manual's guide and takes its section out of search.
func TestWriteEditorialDocument(t *testing.T) {
	ctx := context.Background()
	s := mustStores(t)
	if r := s.p.IngestFile(ctx, "manuals/wf-8012d-zh.html", fixture(t, "manuals/wf-8012d-zh.html")); r.Err != nil {
		t.Fatal(r.Err)
	}
	var ingested *fixgraph.RepairGuide
	s.Graph.Scan(ctx, fixgraph.PrefixGuide+":", func(n fixgraph.Node) error {
		if g := n.(*fixgraph.RepairGuide); g.Code == "E102" && ingested == nil {
			ingested = g
		}
		return nil
	})
	if ingested == nil {
		t.Fatal("the manual has no guide for E102")
	}

	source := fixgraph.EditorialSource(ingested.ID)
	steps := []string{"关闭进水阀并断电", "取下底部检修盖，清理排水泵叶轮里的絮状异物", "仍不排水请致电王师傅 13812345678"}
	b := editorialGuide(ingested, source, steps)
	res := s.p.Write(ctx, source, b)
	if res.Err != nil || res.Outcome != ingest.Added || res.DocumentID != "doc:editor:"+ingested.ID || res.Sections != 1 {
		t.Fatalf("Write = %+v; want the editorial document added with its section", res)
	}
	guideSteps := func() []string {
		t.Helper()
		n, err := s.Graph.Node(ctx, ingested.ID)
		if err != nil {
			t.Fatal(err)
		}
		return n.(*fixgraph.RepairGuide).Steps
	}
	got := guideSteps()
	if len(got) != 3 || got[1] != steps[1] || strings.Contains(got[2], "13812345678") || !strings.Contains(got[2], "138****5678") {
		t.Errorf("guide steps = %q; want the editor's, with the phone number masked", got)
	}
	if !s.searchHas(t, "排水泵叶轮絮状异物", source) {
		t.Error("the editorial section is not searchable")
	}
	if s.servedText(t, "13812345678") {
		t.Error("search finds the unmasked phone number")
	}
	if again := s.p.Write(ctx, source, editorialGuide(ingested, source, steps)); again.Err != nil || again.Outcome != ingest.Unchanged {
		t.Errorf("writing the same editorial document again = %+v; want unchanged", again)
	}

	if r := s.p.Remove(ctx, source); r.Err != nil || r.Outcome != ingest.Removed || r.DocumentID != res.DocumentID {
		t.Fatalf("Remove(%q) = %+v", source, r)
	}
	if got := guideSteps(); !slices.Equal(got, ingested.Steps) {
		t.Errorf("guide steps after removing the editorial document = %q; want the manual's %q", got, ingested.Steps)
	}
	if s.searchHas(t, "排水泵叶轮絮状异物", source) {
		t.Error("the removed editorial section is still searchable")
	}
	if r := s.p.Write(ctx, source, nil); fixgraph.CodeOf(r.Err) != fixgraph.EINVALID {
		t.Errorf("Write(nil batch) = %+v; want an invalid error", r)
	}
}

// editorialGuide is what the editor writes for its version of guide g: an editorial document
// from source with one section holding the steps, and the guide drawn from it.
func editorialGuide(g *fixgraph.RepairGuide, source string, steps []string) *fixgraph.Batch {
	text := strings.Join(steps, "\n")
	sum := sha256.Sum256([]byte(text))
	doc := &fixgraph.Document{
		ID: fixgraph.DocumentID(source), Source: source, Title: g.Title, Kind: fixgraph.KindManual, Language: "zh",
		ContentHash: hex.EncodeToString(sum[:]), Visibility: fixgraph.VisibilityPublic, Status: fixgraph.StatusPublished,
	}
	sec := &fixgraph.Section{ID: fixgraph.HashID(fixgraph.PrefixSection, doc.ID, text), DocumentID: doc.ID, Heading: g.Title, HeadingPath: []string{g.Title}, Text: text, Language: "zh"}
	mine := *g
	mine.Steps, mine.SectionID, mine.DocumentID = slices.Clone(steps), sec.ID, doc.ID
	b := &fixgraph.Batch{Document: doc}
	b.Add(sec, &mine)
	b.Link(sec.ID, fixgraph.RelPartOf, doc.ID)
	b.Link(sec.ID, fixgraph.RelDescribes, mine.ID)
	return b
}
