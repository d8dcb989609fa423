package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/fixtures"
	"github.com/fixgraph/fixgraph/graph"
)

// The fuzz targets feed the parsers arbitrary bytes seeded from the real fixtures. Beyond "no
// panic", each checks what the rest of fixgraph relies on: a file is either a batch the graph
// stores can hold or an application error with a code that says what is wrong with the file
// (never EINTERNAL, which means a bug); every id is well formed; text is valid UTF-8.
//
//	go test ./ingest -run '^$' -fuzz '^FuzzParseManual$' -fuzztime 3m
//
// Inputs that failed once are kept under testdata/fuzz/FuzzX/ and run as regression tests with
// every go test.

// seedCorpus adds the fixture files whose names match one of the suffixes.
func seedCorpus(f *testing.F, suffixes ...string) {
	f.Helper()
	err := fs.WalkDir(fixtures.Corpus, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		for _, s := range suffixes {
			if strings.HasSuffix(name, s) {
				data, err := fs.ReadFile(fixtures.Corpus, name)
				if err != nil {
					return err
				}
				f.Add(data)
				break
			}
		}
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}
}

// fuzzPipeline parses without writing anywhere, at a fixed time, and never runs pdftotext (a
// process per input would slow the fuzzer a hundredfold; its output is read by the same code
// as the built-in reader's).
func fuzzPipeline() *Pipeline {
	return &Pipeline{Now: fixedNow, PDF: PDFOptions{Pdftotext: "-"}}
}

// checkParse checks the result of Pipeline.Parse on source.
func checkParse(t *testing.T, source string, b *fixgraph.Batch, err error) {
	t.Helper()
	if err != nil {
		checkAppError(t, err)
		if b != nil {
			t.Errorf("Parse returned a batch and the error %v", err)
		}
		return
	}
	checkBatch(t, source, b)
}

// checkAppError checks that err is an application error saying what is wrong with the input.
func checkAppError(t *testing.T, err error) {
	t.Helper()
	var e *fixgraph.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *fixgraph.Error", err, err)
	}
	if code := fixgraph.CodeOf(err); code == fixgraph.EINTERNAL || code == "" {
		t.Fatalf("bad input gave error code %q: %v", code, err)
	}
	if e.Message == "" || !utf8.ValidString(e.Message) {
		t.Fatalf("error message %q is empty or not UTF-8", e.Message)
	}
}

// knownPrefixes are the kinds of node id the parsers may make.
var knownPrefixes = map[string]bool{
	fixgraph.PrefixDocument: true, fixgraph.PrefixSection: true, fixgraph.PrefixProduct: true,
	fixgraph.PrefixErrorCode: true, fixgraph.PrefixGuide: true, fixgraph.PrefixVideo: true,
	fixgraph.PrefixPart: true, fixgraph.PrefixWarehouse: true, fixgraph.PrefixStock: true,
	fixgraph.PrefixFAQ: true, fixgraph.PrefixClause: true,
}

// checkID checks that id is what the graph stores can key on: a known kind, a colon, a non-empty
// rest, valid UTF-8, and no control characters (the embedded store separates the parts of its
// keys with NUL; Neo4j and the editor show ids).
func checkID(t *testing.T, what, id string) {
	t.Helper()
	kind, rest, ok := strings.Cut(id, ":")
	if !ok || !knownPrefixes[kind] || strings.TrimSpace(rest) == "" {
		t.Fatalf("%s has a malformed id %q", what, id)
	}
	if !utf8.ValidString(id) || strings.ContainsFunc(id, isControl) {
		t.Fatalf("%s id %q has control characters or invalid UTF-8", what, id)
	}
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 }

// checkBatch checks a parsed batch: a document named by its source, well-formed ids on every node
// and edge, sections with unique ids that belong to the document and are linked to it, valid UTF-8
// text, and nodes that encode as JSON (as the stores write them).
func checkBatch(t *testing.T, source string, b *fixgraph.Batch) {
	t.Helper()
	if b == nil || b.Document == nil {
		t.Fatal("Parse returned no error and no batch")
	}
	doc := b.Document
	if doc.ID != fixgraph.DocumentID(source) {
		t.Fatalf("document id %q, want %q", doc.ID, fixgraph.DocumentID(source))
	}
	switch doc.Kind {
	case fixgraph.KindManual, fixgraph.KindFAQ, fixgraph.KindPolicy, fixgraph.KindStock:
	default:
		t.Fatalf("document kind %q", doc.Kind)
	}
	if !utf8.ValidString(doc.Title) {
		t.Fatalf("document title %q is not UTF-8", doc.Title)
	}
	ids := make(map[string]bool)
	for _, n := range b.Nodes {
		if n == nil {
			t.Fatal("nil node in batch")
		}
		checkID(t, fmt.Sprintf("%T", n), n.NodeID())
		ids[n.NodeID()] = true
		if _, err := json.Marshal(n); err != nil {
			t.Fatalf("node %q does not encode: %v", n.NodeID(), err)
		}
	}
	partOf := make(map[string]bool)
	for _, e := range b.Edges {
		if e.Rel == "" {
			t.Fatalf("edge %+v has no relation", e)
		}
		checkID(t, "edge start", e.From)
		checkID(t, "edge end", e.To)
		if e.Rel == fixgraph.RelPartOf && e.To == doc.ID {
			partOf[e.From] = true
		}
	}
	secs := b.Sections()
	if len(secs) == 0 && doc.Kind != fixgraph.KindStock {
		t.Fatalf("a %s document with no sections", doc.Kind)
	}
	seen := make(map[string]bool)
	for _, s := range secs {
		if s.ID == "" {
			t.Fatal("section with an empty id")
		}
		if seen[s.ID] {
			t.Fatalf("two sections with id %q", s.ID)
		}
		seen[s.ID] = true
		if s.DocumentID != doc.ID {
			t.Fatalf("section %q belongs to %q, not the document %q", s.ID, s.DocumentID, doc.ID)
		}
		if !partOf[s.ID] {
			t.Fatalf("section %q is not linked to its document", s.ID)
		}
		for _, str := range append([]string{s.Heading, s.Text}, s.HeadingPath...) {
			if !utf8.ValidString(str) {
				t.Fatalf("section %q has text that is not UTF-8: %q", s.ID, str)
			}
		}
		for _, m := range s.Products {
			checkID(t, "section product", fixgraph.ProductID(m))
		}
	}
}

// FuzzParseManual parses arbitrary bytes as an HTML manual page: headings, troubleshooting tables,
// schema.org Product data.
func FuzzParseManual(f *testing.F) {
	seedCorpus(f, "-en.html", "-zh.html")
	f.Add([]byte(`<html lang="en"><head><title>WF-8012D manual</title></head><body><h1>Troubleshooting</h1>
<table><tr><th>Code</th><th>Symptom</th><th>Cause</th><th>Solution</th><th>Part</th><th>Video</th></tr>
<tr><td>E-102</td><td>Does not drain</td><td>Pump blocked</td><td>1. Unplug. 2. Clean the filter.</td><td>DC31-00178A</td><td><a href="https://v.example/e102">video</a></td></tr></table>
<h2 id="e102">E102 drain pump</h2><ol><li>Unplug the washer.</li><li>Open the filter cover.</li></ol>
<div class="warning">Hot water may flow out.</div></body></html>`))
	f.Add([]byte(`<html><head><script type="application/ld+json">{"@type":"Product","model":"WH-5020","name":"热水器","category":"热水器","brand":"Aurora"}</script></head>
<body><h1>热水器</h1><p>说明</p><h2>故障代码</h2><table><tr><th>代码</th><th>现象</th><th>原因</th><th>处理方法</th><th>严重程度</th></tr>
<tr><td>F1</td><td>不加热</td><td>加热管损坏</td><td>联系售后</td><td>高</td></tr></table></body></html>`))
	f.Add([]byte(`<html><head><script type="application/ld+json">{"@type":"Product","model":"A\u0000B-1234","name":"x"}</script></head><body><h1>x</h1><p>y</p></body></html>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := fuzzPipeline().Parse(context.Background(), "manual.html", data)
		checkParse(t, "manual.html", b, err)
	})
}

// FuzzParseFAQ parses arbitrary bytes as an HTML FAQ page: FAQPage JSON-LD, dl/dt/dd, question
// headings.
func FuzzParseFAQ(f *testing.F) {
	seedCorpus(f, "faq-general-en.html", "faq-general-zh.html", "faq-products-en.html", "faq-products-zh.html")
	f.Add([]byte(`<html><head><script type="application/ld+json">{"@context":"https://schema.org","@type":"FAQPage","mainEntity":[
{"@type":"Question","name":"How long is the warranty?","acceptedAnswer":{"@type":"Answer","text":"<p>Two years for the WF-8012D.</p>"}}]}</script></head><body></body></html>`))
	f.Add([]byte(`<html lang="zh"><body class="faq"><h1>常见问题</h1><dl><dt id="q1">保修多久？</dt><dd>整机保修两年。</dd><dt>E102 是什么？</dt><dd>排水泵堵塞，配件 DC31-00178A。</dd></dl></body></html>`))
	f.Add([]byte(`<html><body><h1>FAQ</h1><h2>WH-5020</h2><h3>Why is the water cold?</h3><p>Check the heater.</p><h3>What does E1 mean?</h3><p>Sensor fault.</p></body></html>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := fuzzPipeline().Parse(context.Background(), "faq.html", data)
		checkParse(t, "faq.html", b, err)
	})
}

// FuzzParsePDF parses arbitrary bytes as a PDF: policies with numbered clauses and manuals with
// error-code tables. The seeds are small PDFs written here and the small fixture PDFs; the
// fuzzer mutates them.
func FuzzParsePDF(f *testing.F) {
	for _, name := range []string{"broken.pdf", "scanned.pdf"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add(minimalPDF([]pdfTextLine{
		{18, 72, 760, "Warranty policy"},
		{14, 72, 730, "1. Scope"},
		{11, 72, 712, "This policy covers the WF-8012D washer."},
		{14, 72, 690, "2. Period"},
		{11, 72, 672, "Two years from the date of purchase."},
	}))
	f.Add(minimalPDF([]pdfTextLine{
		{18, 72, 760, "DW-6035 service manual"},
		{14, 72, 730, "Error codes"},
		{11, 72, 712, "Code"}, {11, 160, 712, "Symptom"}, {11, 300, 712, "Cause"}, {11, 420, 712, "Remedy"},
		{11, 72, 694, "F21"}, {11, 160, 694, "No drain"}, {11, 300, 694, "Pump blocked"}, {11, 420, 694, "Clean the filter DC31-00178A"},
		{11, 72, 676, "F3"}, {11, 160, 676, "No heat"}, {11, 300, 676, "Heater"}, {11, 420, 676, "Replace the heater"},
	}))
	f.Add([]byte("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 1 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 64<<10 {
			return // keep each input fast; the fixture PDFs are parsed by TestGolden
		}
		b, err := fuzzPipeline().Parse(context.Background(), "policy.pdf", data)
		checkParse(t, "policy.pdf", b, err)
	})
}

// FuzzParseStockLevels parses arbitrary bytes as a stock feed, CSV or JSON, and as a stock CSV
// document through the pipeline.
func FuzzParseStockLevels(f *testing.F) {
	seedCorpus(f, ".csv")
	for _, s := range []string{
		"sku,warehouse,quantity\nDC31-00178A,WH-SH01,3\n",
		"零件编号,仓库,数量,更新时间\nDC31-00178A,WH-SH01,3,2026-11-04 08:00\n",
		`[{"sku": "DC31-00178A", "warehouse": "WH-SH01", "quantity": 7, "updatedAt": "2026-11-04T08:00:00Z"}]`,
		`{"levels": [{"part_number": "DC31-00178A", "warehouse_code": "WH-SH01", "qty": "7", "updated_at": "2026-11-04"}]}`,
		`[{"sku": "A", "warehouse": "W", "quantity": 1}, {"sku": "a", "warehouse": "w", "quantity": 2}]`,
		`[{"sku": "A\u0000", "warehouse": "W", "quantity": 1}]`,
	} {
		f.Add([]byte(s))
	}
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, ct := range []string{"", "text/csv", "application/json"} {
			levels, err := ParseStockLevels(data, ct, now)
			if err != nil {
				checkAppError(t, err)
				if code := fixgraph.CodeOf(err); code != fixgraph.EUNREADABLE {
					t.Fatalf("ParseStockLevels(%q) error code %q, want %q: %v", ct, code, fixgraph.EUNREADABLE, err)
				}
				continue
			}
			checkLevels(t, levels)
		}
		b, err := fuzzPipeline().Parse(context.Background(), "stock.csv", data)
		checkParse(t, "stock.csv", b, err)
		if err == nil {
			var levels []*fixgraph.StockLevel
			for _, n := range b.Nodes {
				if l, ok := n.(*fixgraph.StockLevel); ok {
					levels = append(levels, l)
				}
			}
			checkLevels(t, levels)
		}
	})
}

// checkLevels checks parsed stock levels: at least one, each with an upper-case part number and
// warehouse code that make its id, a quantity ≥ 0 and a time, no part twice in one warehouse.
func checkLevels(t *testing.T, levels []*fixgraph.StockLevel) {
	t.Helper()
	if len(levels) == 0 {
		t.Fatal("a feed without levels parsed")
	}
	seen := make(map[string]bool)
	for _, l := range levels {
		if l.SKU == "" || l.Warehouse == "" || l.SKU != strings.ToUpper(l.SKU) || l.Warehouse != strings.ToUpper(l.Warehouse) {
			t.Fatalf("level %+v: part number or warehouse empty or not upper case", l)
		}
		if l.ID != fixgraph.StockID(l.SKU, l.Warehouse) {
			t.Fatalf("level id %q, want %q", l.ID, fixgraph.StockID(l.SKU, l.Warehouse))
		}
		checkID(t, "stock level", l.ID)
		checkID(t, "part", fixgraph.PartID(l.SKU))
		checkID(t, "warehouse", fixgraph.WarehouseID(l.Warehouse))
		if l.Quantity < 0 || l.UpdatedAt.IsZero() {
			t.Fatalf("level %+v: negative quantity or no time", l)
		}
		if seen[l.ID] {
			t.Fatalf("level %q twice", l.ID)
		}
		seen[l.ID] = true
	}
}

// pdfTextLine is a line of text at a position and font size, for minimalPDF.
type pdfTextLine struct {
	size, x, y float64
	text       string
}

// minimalPDF writes a one-page PDF with the lines in Helvetica: a seed small enough to fuzz fast.
func minimalPDF(lines []pdfTextLine) []byte {
	var content bytes.Buffer
	for _, l := range lines {
		fmt.Fprintf(&content, "BT /F1 %g Tf %g %g Td (%s) Tj ET\n", l.size, l.x, l.y, l.text)
	}
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", content.Len(), content.String()),
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
	return out.Bytes()
}

// TestMinimalPDFSeeds checks that the generated seeds parse, so the PDF fuzzer starts from
// inputs that reach the section, clause and table code.
func TestMinimalPDFSeeds(t *testing.T) {
	b, err := fuzzPipeline().Parse(context.Background(), "policy.pdf", minimalPDF([]pdfTextLine{
		{18, 72, 760, "Warranty policy"},
		{14, 72, 730, "1. Scope"},
		{11, 72, 712, "This policy covers the WF-8012D washer."},
	}))
	if err != nil {
		t.Fatal(err)
	}
	checkBatch(t, "policy.pdf", b)
	if n := len(b.Sections()); n < 2 {
		t.Errorf("%d sections, want the title and the clause:\n%s", n, summarize(b))
	}
}

// TestControlCharactersInIDs: a part number, warehouse or model with a NUL in it once went into
// graph ids, whose parts the embedded store separates with NUL, so the node ran into its
// neighbours' keys and the next version of the file failed for good. Feeds with such codes are
// refused, a model with them is ignored, and the store refuses such ids itself.
func TestControlCharactersInIDs(t *testing.T) {
	ctx := context.Background()
	p := fuzzPipeline()
	for _, feed := range []string{"sku,warehouse,quantity\nDC31\x00,WH-SH01,3\n", "sku,warehouse,quantity\nDC31,\"WH\nSH01\",3\n"} {
		if _, err := p.Parse(ctx, "stock.csv", []byte(feed)); fixgraph.CodeOf(err) != fixgraph.EUNREADABLE || !strings.Contains(err.Error(), "control characters") {
			t.Errorf("feed %q: %v; want it refused for its control characters", feed, err)
		}
	}
	page := `<html><head><title>WF-8012D</title><script type="application/ld+json">{"@type":"Product","model":"WF\u00008012D"}</script></head><body><h1>Manual</h1><p>Text.</p></body></html>`
	b, err := p.Parse(ctx, "manual.html", []byte(page))
	if err != nil {
		t.Fatal(err)
	}
	checkBatch(t, "manual.html", b)

	g, err := graph.OpenBolt(filepath.Join(t.TempDir(), "graph.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	doc := &fixgraph.Document{ID: fixgraph.DocumentID("x.csv"), Source: "x.csv"}
	bad := &fixgraph.Batch{Document: doc, Nodes: []fixgraph.Node{&fixgraph.Part{ID: fixgraph.PartID("A\x00B"), SKU: "A\x00B"}}}
	if _, err := g.Apply(ctx, bad); fixgraph.CodeOf(err) != fixgraph.EINVALID {
		t.Errorf("Apply of a node id with NUL = %v; want invalid", err)
	}
	bad = &fixgraph.Batch{Document: doc, Edges: []fixgraph.Edge{{From: doc.ID, Rel: fixgraph.RelMentions, To: "part:A\x00"}}}
	if _, err := g.Apply(ctx, bad); fixgraph.CodeOf(err) != fixgraph.EINVALID {
		t.Errorf("Apply of an edge to an id with NUL = %v; want invalid", err)
	}
	if _, err := g.Node(ctx, doc.ID); fixgraph.CodeOf(err) != fixgraph.ENOTFOUND {
		t.Errorf("a refused batch left its document behind: %v", err)
	}
}

// TestStockFeedInGB18030 reads a CSV feed in GB18030, as the stock feed connector fetches it:
// it was read as UTF-8 (names garbled), while the same file ingested as a .csv was decoded.
func TestStockFeedInGB18030(t *testing.T) {
	feed, err := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte("配件编号,名称,仓库,仓库名称,数量\nDC31-00178A,排水泵,WH-SH01,上海中心仓,3\n"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := parseStockRows(feed, "text/csv", fixedNow())
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].name != "排水泵" || rows[0].warehouseName != "上海中心仓" || rows[0].level.Quantity != 3 {
		t.Errorf("rows = %+v", rows[0])
	}
}

// TestHTMLWithACutOffCharacter: a page that is UTF-8 but for a character cut off at its end was
// passed through as it was, invalid UTF-8 and all, into titles and section text. (A short page
// with such a character is refused: more than 1% of it does not decode.)
func TestHTMLWithACutOffCharacter(t *testing.T) {
	page := "<h1>说明</h1><p>" + strings.Repeat("排水泵过滤器需要定期清洗。", 20) + "度\xe4"
	b, err := fuzzPipeline().Parse(context.Background(), "manual.html", []byte(page))
	if err != nil {
		t.Fatal(err)
	}
	checkBatch(t, "manual.html", b)
	if text := b.Sections()[0].Text; !strings.HasSuffix(text, "度\uFFFD") {
		t.Errorf("text ends %q", text[len(text)-10:])
	}
}

// TestStockFeedWithABareQuote: a quote inside an unquoted field on a row's first field made
// encoding/csv's FieldPos panic (the broken record has no field), which took down serve when the
// stock feed connector polled such a feed.
func TestStockFeedWithABareQuote(t *testing.T) {
	for _, ct := range []string{"text/csv", ""} {
		_, err := ParseStockLevels([]byte("sku,warehouse,quantity\nDC3\"000,WH-SH01,1\n"), ct, fixedNow())
		if fixgraph.CodeOf(err) != fixgraph.EUNREADABLE || !strings.Contains(err.Error(), "line 2 is not valid CSV") {
			t.Errorf("content type %q: %v; want line 2 refused", ct, err)
		}
	}
}
