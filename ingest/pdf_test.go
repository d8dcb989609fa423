package ingest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fixgraph/fixgraph"
)

// serviceManual is the PDF fixture with an error-code table: the DW-6035 service manual printed by
// Chromium from fixtures/policy-src/dw-6035-service-zh.html. Its table runs onto page 2 (the
// header repeated there), its cells wrap, and its prose and a second table mention other codes.
const serviceManual = "manuals/dw-6035-service-zh.pdf"

func mustParseFixtureFile(t *testing.T, name string) *fixgraph.Batch {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "fixtures", name))
	if err != nil {
		t.Fatal(err)
	}
	b, err := (&Pipeline{Now: fixedNow}).Parse(context.Background(), name, data)
	if err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	return b
}

// TestPDFCodeTableGolden compares the service manual's batch with its golden file, named as
// TestGolden names the corpus's, so the two agree once the corpus embeds manuals/*.pdf.
func TestPDFCodeTableGolden(t *testing.T) {
	got := summarize(mustParseFixtureFile(t, serviceManual))
	golden := filepath.Join("testdata", "golden", strings.ReplaceAll(serviceManual, "/", "_")+".txt")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./ingest -run TestPDFCodeTableGolden -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s; run with -update and review the diff.\n%s", serviceManual, golden, firstDiff(string(want), got))
	}
}

// TestPDFCodeTable checks what the service manual's table becomes, row by row: the error codes of
// DW-6035 with the page their row is on, their guides' steps (wrapped lines joined, numbered
// steps split), their parts, and that codes the prose or another table only mention are not
// error codes.
func TestPDFCodeTable(t *testing.T) {
	b := mustParseFixtureFile(t, serviceManual)
	if b.Document.Kind != fixgraph.KindManual || b.Document.Pages != 2 {
		t.Errorf("document kind=%s pages=%d, want a manual of 2 pages", b.Document.Kind, b.Document.Pages)
	}
	nodes := make(map[string]fixgraph.Node)
	for _, n := range b.Nodes {
		nodes[n.NodeID()] = n
	}
	edges := make(map[fixgraph.Edge]bool)
	for _, e := range b.Edges {
		edges[e] = true
	}
	guides := make(map[string]*fixgraph.RepairGuide)
	var codes []string
	for _, n := range b.Nodes {
		switch n := n.(type) {
		case *fixgraph.ErrorCode:
			codes = append(codes, n.Code)
		case *fixgraph.RepairGuide:
			guides[n.Code] = n
		case *fixgraph.PolicyClause:
			t.Errorf("a manual has policy clause %q", n.Number)
		}
	}
	if want := []string{"F4", "F7", "F9", "F10", "F15", "F18"}; !slices.Equal(codes, want) {
		t.Errorf("error codes %q, want %q (F1, F2, F8, F21, F24 are only mentioned)", codes, want)
	}
	if _, ok := nodes[fixgraph.ProductID("DW-6035")]; !ok || !edges[fixgraph.Edge{From: b.Document.ID, Rel: fixgraph.RelManualFor, To: fixgraph.ProductID("DW-6035")}] {
		t.Error("no product DW-6035 that the document is a manual for")
	}

	tests := []struct {
		code    string
		page    int
		symptom string
		cause   string
		steps   []string
		parts   []string
	}{
		{"F4", 1, "程序运行中加热器不停机，水温超过 75°C", "加热继电器触点粘连；主控板驱动电路损坏", []string{
			"断电后测量加热继电器触点，常开状态下应不导通。",
			"触点粘连时更换主控板。",
			"通电运行强力洗程序，确认水温在 70°C 左右停止加热。",
		}, []string{"DD92-00318A 主控板"}},
		{"F7", 1, "上下喷臂只有一个转动，或交替喷淋不切换", "分水阀电机不转；分水阀位置传感器故障；阀体内有异物卡住", []string{
			"拆下下喷臂和过滤系统，检查分水阀入口有无碎玻璃、果核等异物。",
			"测量分水阀电机绕组电阻，应为 1.8–2.4 kΩ，超出范围时更换分水阀。",
			"进入自检模式，观察上下喷臂是否交替喷淋。",
		}, []string{"DD31-00042B 分水阀"}},
		{"F9", 2, "循环泵启动后很快停止，洗涤声音时有时无", "循环泵转速反馈信号丢失；泵电机霍尔传感器损坏", []string{
			"检查循环泵与主控板之间的连接线和插头。",
			"连接线正常时更换循环泵。",
		}, []string{"DD31-00016A 循环泵"}},
		{"F10", 2, "程序结束后餐具潮湿，烘干阶段听不到风扇声", "烘干风扇卡住或电机损坏", []string{
			"拆下右侧板，手动转动风扇叶轮，清除卡住叶轮的异物。",
			"叶轮转动顺畅但仍报 F10 时，更换烘干风扇。",
		}, []string{"DD81-00201C 烘干风扇"}},
		{"F15", 2, "按键无反应，显示屏闪烁 F15", "显示板与主控板通讯中断；排线松脱或受潮", []string{
			"重新插紧显示板排线，排线受潮时用电吹风冷风吹干后再装回。",
		}, nil},
		{"F18", 2, "程序结束后机门不自动打开", "自动开门推杆卡滞；推杆电机损坏", []string{
			"清洁推杆导槽，检查门铰链弹簧是否断裂。",
			"推杆仍不动作时更换自动开门装置。",
		}, []string{"DD34-00019E 开门装置"}},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			id := fixgraph.ErrorCodeID("DW-6035", tt.code)
			ec, ok := nodes[id].(*fixgraph.ErrorCode)
			if !ok {
				t.Fatalf("no error code %q", id)
			}
			if ec.Symptom["zh"] != tt.symptom || ec.Cause["zh"] != tt.cause {
				t.Errorf("symptom %q cause %q,\nwant %q and %q", ec.Symptom["zh"], ec.Cause["zh"], tt.symptom, tt.cause)
			}
			if !edges[fixgraph.Edge{From: fixgraph.ProductID("DW-6035"), Rel: fixgraph.RelHasError, To: id}] {
				t.Error("product DW-6035 has no HAS_ERROR edge to it")
			}
			g := guides[tt.code]
			if g == nil {
				t.Fatal("no repair guide")
			}
			if !slices.Equal(g.Steps, tt.steps) {
				t.Errorf("steps:\n%q\nwant:\n%q", g.Steps, tt.steps)
			}
			if g.Product != "DW-6035" || g.DocumentID != b.Document.ID || !edges[fixgraph.Edge{From: id, Rel: fixgraph.RelFixedBy, To: g.ID}] {
				t.Errorf("guide product=%q document=%q, or no FIXED_BY edge", g.Product, g.DocumentID)
			}
			sec, ok := nodes[g.SectionID].(*fixgraph.Section)
			if !ok {
				t.Fatalf("guide's section %q is not in the batch", g.SectionID)
			}
			if sec.Page != tt.page || sec.DocumentID != b.Document.ID || !strings.HasPrefix(sec.Text, tt.code+"\n") {
				t.Errorf("guide's section: page %d, text %q; want page %d and the row's text", sec.Page, sec.Text, tt.page)
			}
			for _, rel := range []fixgraph.Edge{
				{From: sec.ID, Rel: fixgraph.RelMentions, To: id},
				{From: sec.ID, Rel: fixgraph.RelDescribes, To: g.ID},
				{From: sec.ID, Rel: fixgraph.RelPartOf, To: b.Document.ID},
			} {
				if !edges[rel] {
					t.Errorf("no edge %s from the row's section", rel.Rel)
				}
			}
			var parts []string
			for e := range edges {
				if e.From == g.ID && e.Rel == fixgraph.RelNeedsPart {
					p := nodes[e.To].(*fixgraph.Part)
					parts = append(parts, p.SKU+" "+p.Name["zh"])
				}
			}
			if !slices.Equal(parts, tt.parts) {
				t.Errorf("parts %q, want %q", parts, tt.parts)
			}
		})
	}

	// The table's own section mentions the codes it defines and no code it does not.
	for _, sec := range b.Sections() {
		var mentioned []string
		for e := range edges {
			if e.From == sec.ID && e.Rel == fixgraph.RelMentions && fixgraph.KindOf(e.To) == fixgraph.PrefixErrorCode {
				mentioned = append(mentioned, e.To)
			}
		}
		for _, id := range mentioned {
			if _, ok := nodes[id]; !ok {
				t.Errorf("section %q mentions %s, which no table defines", sec.Heading, id)
			}
		}
		if sec.Heading == "3. 故障代码表 Fault code table" && len(mentioned) != len(tests) {
			t.Errorf("the table's section mentions %d codes, want %d", len(mentioned), len(tests))
		}
	}
}

// TestPDFTableRows reads tables from lines made by hand: which rows start, which continue, and
// which lines end a table.
func TestPDFTableRows(t *testing.T) {
	// line lays out cells at the given x positions in 10 pt glyphs: the text of each cell, one run
	// per character.
	line := func(page int, cells ...any) pdfLine {
		var l pdfLine
		l.page, l.size = page, 10
		var texts []string
		for k := 0; k < len(cells); k += 2 {
			x, s := cells[k].(float64), cells[k+1].(string)
			for _, r := range s {
				w := 5.0
				if isWide(string(r)) {
					w = 10
				}
				l.runs = append(l.runs, pdfRun{s: string(r), x: x, w: w, size: 10, spaceAt: r == ' '})
				x += w
			}
			texts = append(texts, s)
		}
		l.text = strings.Join(texts, " | ")
		return l
	}
	const c1, c2, c3 = 60.0, 120.0, 260.0
	tests := []struct {
		name  string
		lines []pdfLine
		want  []string // rows as text; nil: no table
	}{
		{"header, rows and a wrapped cell", []pdfLine{
			line(1, c1, "代码", c2, "现象", c3, "处理方法"),
			line(1, c1, "E1", c2, "不加热", c3, "1. 断电"),
			line(1, c2, "显示乱跳", c3, "2. 更换传感器"),
			line(1, c1, "E2", c2, "水温过高", c3, "拔下插头"),
		}, []string{"E1 | 不加热显示乱跳 | 1. 断电 2. 更换传感器", "E2 | 水温过高 | 拔下插头"}},
		{"header wrapped over two lines", []pdfLine{
			line(1, c1, "故障", c2, "现象", c3, "处理"),
			line(1, c1, "代码", c2, "Symptom", c3, "Remedy"),
			line(1, c1, "E1", c2, "不加热", c3, "断电"),
		}, []string{"E1 | 不加热 | 断电"}},
		{"prose after the table ends it", []pdfLine{
			line(1, c1, "Code", c2, "Symptom", c3, "Remedy"),
			line(1, c1, "E1", c2, "no heat", c3, "unplug"),
			line(1, 50.0, "After the table, a paragraph starting at the margin mentions E5."),
			line(1, c1, "E9 is mentioned at the start of a line that runs across the columns."),
		}, []string{"E1 | no heat | unplug"}},
		{"repeated header on the next page", []pdfLine{
			line(1, c1, "Code", c2, "Symptom", c3, "Remedy"),
			line(1, c1, "E1", c2, "no heat", c3, "unplug"),
			line(2, c1, "Code", c2, "Symptom", c3, "Remedy"),
			line(2, c1, "E2", c2, "too hot", c3, "call service"),
		}, []string{"E1 | no heat | unplug", "E2 | too hot | call service"}},
		{"cells centred against a taller neighbour", []pdfLine{
			line(1, c1, "Error code", c2, "Description", c3, "Solution"),
			line(1, c3, "1). Water pump"),
			line(1, c1, "E3", c2, "No water protection", c3, "2). PC board wiring"),
			line(1, c3, "3). Water flow switch"),
			line(1, c2, "Power supply excesses", c3, "1). Recover when power is back"),
			line(1, c1, "E5", c2, "operation range"),
			line(1, c3, "2). Replace PC board"),
			line(1, c1, "Eb", c2, "Ambient too cold", c3, "Out of range"),
		}, []string{"E3 | No water protection | 1). Water pump 2). PC board wiring 3). Water flow switch",
			"E5 | Power supply excesses operation range | 1). Recover when power is back 2). Replace PC board",
			"Eb | Ambient too cold | Out of range"}},
		{"a code's name in its cell and several causes for one code", []pdfLine{
			line(1, c1, "Anzeige", c2, "Ursachen", c3, "Lösungen"),
			line(1, c2, "Druck zu niedrig", c3, "Techniker rufen"),
			line(1, c1, "E04", c2, "Tauscher verschmutzt", c3, "Tauscher reinigen"),
			line(1, c1, "Druck", c2, "Fühler defekt", c3, "Fühler ersetzen"),
			line(1, c1, "E16 / E17", c2, "Lüfter getrennt", c3, "Stecker prüfen"),
		}, []string{"E04 Druck | Druck zu niedrig Tauscher verschmutzt Fühler defekt | Techniker rufen Tauscher reinigen Fühler ersetzen",
			"E16 / E17 | Lüfter getrennt | Stecker prüfen"}},
		{"not an error-code table", []pdfLine{
			line(1, c1, "部件", c2, "正常值", c3, "说明"),
			line(1, c1, "加热器", c2, "26–30 Ω", c3, "断路时显示 F2"),
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i := range tt.lines {
				tt.lines[i].top = float64(i) * 14 // lines 14 pt apart, 10 pt high
				tt.lines[i].bottom = tt.lines[i].top + 10
			}
			tables := findCodeTables(tt.lines, make([]int, len(tt.lines)))
			var got []string
			for _, tb := range tables {
				for _, r := range tb.rows {
					got = append(got, r.text())
				}
			}
			if tt.want == nil && len(tables) > 0 {
				t.Fatalf("found a table with rows %q", got)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("rows:\n%q\nwant:\n%q", got, tt.want)
			}
		})
	}
}

func TestSplitSteps(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"1. 断电。2. 更换主控板。", []string{"断电。", "更换主控板。"}},
		{"1. Unplug it. 2. Replace the board.", []string{"Unplug it.", "Replace the board."}},
		{"1、清洁滤网；2、检查排水管", []string{"清洁滤网；", "检查排水管"}},
		{"测量电阻，应为 1.8–2.4 kΩ。", []string{"测量电阻，应为 1.8–2.4 kΩ。"}},
		{"1. 测量电阻，应为 1.8–2.4 kΩ。 2. 绝缘电阻不低于 2 MΩ。", []string{"测量电阻，应为 1.8–2.4 kΩ。", "绝缘电阻不低于 2 MΩ。"}},
		{"按以下步骤：1. 断电 2. 复位", []string{"按以下步骤：", "断电", "复位"}},
		{"2. 只有一个编号", []string{"2. 只有一个编号"}},
		{"", nil},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := splitSteps(tt.in); !slices.Equal(got, tt.want) {
				t.Errorf("splitSteps(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestPDFUnreadable covers PDFs that must be reported, not indexed: one with no text layer (a
// scanned page, only an image) and a truncated one.
func TestPDFUnreadable(t *testing.T) {
	tests := []struct {
		file, want string
	}{
		{"scanned.pdf", "no text layer"},
		{"broken.pdf", "not a readable PDF"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			// Without pdftotext, and with it when it is installed: neither finds text to index.
			opts := []PDFOptions{{Pdftotext: "-"}}
			if _, err := exec.LookPath("pdftotext"); err == nil {
				opts = append(opts, PDFOptions{})
			}
			for _, opt := range opts {
				p := &Pipeline{Now: fixedNow, PDF: opt}
				b, err := p.Parse(context.Background(), tt.file, data)
				if err == nil {
					t.Fatalf("pdftotext %q: parsed into %d nodes, want an error", opt.Pdftotext, len(b.Nodes))
				}
				if fixgraph.CodeOf(err) != fixgraph.EUNREADABLE || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("pdftotext %q: error %q (code %s), want EUNREADABLE saying %q", opt.Pdftotext, err, fixgraph.CodeOf(err), tt.want)
				}
			}
		})
	}
}

// TestPDFEncryptedAndCutOff: a PDF that needs a password and one cut off in the middle are
// refused with messages that say so; one whose owner only restricted printing or copying opens
// without a password and is read.
func TestPDFEncryptedAndCutOff(t *testing.T) {
	read := func(name string) []byte {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	whole, err := os.ReadFile("../fixtures/policy/returns-zh.pdf")
	if err != nil {
		t.Fatal(err)
	}
	p := &Pipeline{Now: fixedNow}
	for _, tt := range []struct {
		name string
		data []byte
		want string
	}{
		{"locked.pdf", read("locked.pdf"), "password-protected"},
		{"cut.pdf", whole[:len(whole)*2/3], "cut off"},
	} {
		_, err := p.Parse(context.Background(), tt.name, tt.data)
		if fixgraph.CodeOf(err) != fixgraph.EUNREADABLE || !strings.Contains(fixgraph.MessageOf(err), tt.want) {
			t.Errorf("%s: error %v (code %s), want EUNREADABLE saying %q", tt.name, err, fixgraph.CodeOf(err), tt.want)
		}
	}
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext is not installed")
	}
	b, err := p.Parse(context.Background(), "restricted.pdf", read("restricted.pdf"))
	if err != nil {
		t.Fatalf("restricted.pdf (no password to open): %v", err)
	}
	if !strings.Contains(b.Document.Title, "退换货") {
		t.Errorf("restricted.pdf read with title %q", b.Document.Title)
	}
}
