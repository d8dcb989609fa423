package ingest

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"fmt"
	"hash/crc32"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/fixgraph/fixgraph"
)

// mustParse parses data as the file source, checks the batch as the fuzz targets do, and returns it.
func mustParse(tb testing.TB, source string, data []byte) *fixgraph.Batch {
	tb.Helper()
	b, err := fuzzPipeline().Parse(context.Background(), source, data)
	if err != nil {
		tb.Fatalf("Parse(%s): %v", source, err)
	}
	if t, ok := tb.(*testing.T); ok {
		checkBatch(t, source, b)
	}
	return b
}

// nodes returns the batch's nodes of type T.
func nodes[T fixgraph.Node](b *fixgraph.Batch) []T {
	var out []T
	for _, n := range b.Nodes {
		if t, ok := n.(T); ok {
			out = append(out, t)
		}
	}
	return out
}

// sectionByHeading returns the batch's section with the heading, or fails.
func sectionByHeading(tb testing.TB, b *fixgraph.Batch, heading string) *fixgraph.Section {
	tb.Helper()
	for _, s := range b.Sections() {
		if s.Heading == heading {
			return s
		}
	}
	tb.Fatalf("no section %q in:\n%s", heading, summarize(b))
	return nil
}

// codeTableDOCX is a washer manual in Word: headings in three styles, a numbered list, a bulleted
// list, a table of contents, and an error-code table with Chinese headers whose first remedy is
// a numbered list inside its cell.
func codeTableDOCX(tb testing.TB) []byte {
	tb.Helper()
	body := WPara("TOC1", "安装 ........ 1") +
		WPara("Title", "WF-8012D 滚筒洗衣机使用说明书") +
		WPara("Heading1", "安装") +
		WPara("", "请按以下步骤安装排水管。") +
		WItem("1", "取下运输螺栓") +
		WItem("1", "连接进水管") +
		WItem("1", "将排水管挂在水槽边缘") +
		WPara("2", "安全注意事项") +
		WItem("2", "请勿让儿童靠近") +
		WItem("2", "使用前检查电源线 <接地>") +
		WPara("Heading1", "故障代码") +
		WPara("", "显示屏出现以下代码时，请按表处理。") +
		WTable(
			[]string{"故障代码", "故障现象", "处理方法"},
			[]string{"E1", "不进水", WCell("", WItem("1", "检查水龙头是否打开"), WItem("1", "清洗进水阀过滤网"))},
			[]string{"E2", "排水超时", "清理排水泵过滤器"},
		)
	return MustDOCX(tb, DOCXFile{Title: "WF-8012D 使用说明书", Body: body, Styles: WStyles, Numbering: WNumbering})
}

func TestDOCXManual(t *testing.T) {
	b := mustParse(t, "manuals/wf-8012d.docx", codeTableDOCX(t))
	doc := b.Document
	if doc.Kind != fixgraph.KindManual || doc.Title != "WF-8012D 使用说明书" || doc.Language != "zh" {
		t.Errorf("document kind %q title %q language %q", doc.Kind, doc.Title, doc.Language)
	}
	install := sectionByHeading(t, b, "安装")
	if want := "请按以下步骤安装排水管。\n取下运输螺栓\n连接进水管\n将排水管挂在水槽边缘"; install.Text != want {
		t.Errorf("安装 text %q, want %q", install.Text, want)
	}
	safety := sectionByHeading(t, b, "安全注意事项")
	if !slices.Equal(safety.HeadingPath, []string{"安装", "安全注意事项"}) || !strings.Contains(safety.Text, "使用前检查电源线 <接地>") {
		t.Errorf("安全注意事项 path %q text %q", safety.HeadingPath, safety.Text)
	}
	for _, s := range b.Sections() {
		if strings.Contains(s.Heading+s.Text, "........") {
			t.Errorf("the table of contents is in section %q: %q", s.Heading, s.Text)
		}
	}

	codes := nodes[*fixgraph.ErrorCode](b)
	guides := nodes[*fixgraph.RepairGuide](b)
	if len(codes) != 2 || len(guides) != 2 {
		t.Fatalf("%d codes and %d guides, want 2 and 2:\n%s", len(codes), len(guides), summarize(b))
	}
	tests := []struct {
		code, symptom string
		steps         []string
	}{
		{"E1", "不进水", []string{"检查水龙头是否打开", "清洗进水阀过滤网"}},
		{"E2", "排水超时", []string{"清理排水泵过滤器"}},
	}
	for i, tt := range tests {
		ec, g := codes[i], guides[i]
		if ec.Code != tt.code || ec.Product != "WF-8012D" || ec.ID != fixgraph.ErrorCodeID("WF-8012D", tt.code) || ec.Symptom["zh"] != tt.symptom {
			t.Errorf("code %d = %+v; want %s of WF-8012D with symptom %q", i, ec, tt.code, tt.symptom)
		}
		if g.Code != tt.code || !slices.Equal(g.Steps, tt.steps) {
			t.Errorf("guide %d = %s steps %q; want %s steps %q", i, g.Code, g.Steps, tt.code, tt.steps)
		}
	}
}

// TestDOCXTables: merged cells read as a person reads them. A title row across the table is its
// caption, so the row under it is the header; w:gridSpan is a colspan; a vertically merged cell's
// text stands in each row it covers; a table inside a cell keeps its text.
func TestDOCXTables(t *testing.T) {
	merged := `<w:vMerge w:val="restart"/>`
	body := WPara("Heading1", "WH-5020 故障代码") +
		WTable(
			[]string{WCell(`<w:gridSpan w:val="3"/>`, WPara("", "故障代码表"))},
			[]string{"故障代码", "故障现象", "处理方法"},
			[]string{"F1", WCell(merged, WPara("", "不加热")), "检查加热管"},
			[]string{"F2", WCell(`<w:vMerge/>`, WPara("", "")), "检查温控器"},
			[]string{"F3", WCell(`<w:gridSpan w:val="2"/>`, WPara("", "联系售后"))},
		) +
		WPara("Heading1", "规格") +
		WTable(
			[]string{"项目", "参数"},
			[]string{"额定功率", WCell("", WTable([]string{"2000 W"}, []string{"3000 W"}))},
		)
	b := mustParse(t, "wh-5020.docx", MustDOCX(t, DOCXFile{Body: body, Styles: WStyles}))
	codes := nodes[*fixgraph.ErrorCode](b)
	want := map[string]string{"F1": "不加热", "F2": "不加热", "F3": "联系售后"}
	if len(codes) != len(want) {
		t.Fatalf("%d codes, want %d:\n%s", len(codes), len(want), summarize(b))
	}
	for _, ec := range codes {
		if ec.Product != "WH-5020" || ec.Symptom["zh"] != want[ec.Code] {
			t.Errorf("code %s of %q: symptom %q, want %q", ec.Code, ec.Product, ec.Symptom["zh"], want[ec.Code])
		}
	}
	if spec := sectionByHeading(t, b, "规格"); !strings.Contains(spec.Text, "2000 W") || !strings.Contains(spec.Text, "3000 W") {
		t.Errorf("规格 text %q lacks the nested table", spec.Text)
	}
}

// TestDOCXFAQ: question headings, and 问：/答： paragraphs under a heading, are FAQs.
func TestDOCXFAQ(t *testing.T) {
	tests := []struct {
		name, body string
		want       map[string]string // question → answer
	}{
		{"question headings", WPara("Heading1", "常见问题") +
			WPara("2", "保修期多长？") + WPara("", "整机保修三年。") +
			WPara("2", "如何预约上门维修？") + WPara("", "拨打客服热线 400-820-1234。") +
			WPara("2", "E102 是什么意思？") + WPara("", "排水泵堵塞，请清理过滤器。"),
			map[string]string{"保修期多长？": "整机保修三年。", "如何预约上门维修？": "拨打客服热线 400-820-1234。", "E102 是什么意思？": "排水泵堵塞，请清理过滤器。"}},
		{"question and answer paragraphs", WPara("Heading1", "售后问答") +
			WPara("", "问：保修期多长？") + WPara("", "答：整机保修三年。") + WPara("", "电机保修十年。") +
			WPara("", "问：能开发票吗？") + WPara("", "答：可以，下单时填写抬头。") +
			WPara("", "Q: Do you ship abroad?") + WPara("", "A: No, mainland China only."),
			map[string]string{"保修期多长？": "整机保修三年。\n电机保修十年。", "能开发票吗？": "可以，下单时填写抬头。", "Do you ship abroad?": "No, mainland China only."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := mustParse(t, "faq.docx", MustDOCX(t, DOCXFile{Title: "售后常见问题", Body: tt.body, Styles: WStyles}))
			if b.Document.Kind != fixgraph.KindFAQ {
				t.Fatalf("kind %q, want faq:\n%s", b.Document.Kind, summarize(b))
			}
			faqs := nodes[*fixgraph.FAQ](b)
			got := make(map[string]string)
			for _, f := range faqs {
				got[f.Question] = f.Answer
			}
			if len(got) != len(tt.want) {
				t.Errorf("FAQs %q, want %q", got, tt.want)
			}
			for q, a := range tt.want {
				if got[q] != a {
					t.Errorf("answer to %q = %q, want %q", q, got[q], a)
				}
			}
		})
	}
}

// TestDOCXHeadings: heading styles Word, WPS and outline levels give; and, in a document whose
// author used no heading style, bold short paragraphs and chapter wording.
func TestDOCXHeadings(t *testing.T) {
	bold := func(text string) string {
		return `<w:p><w:r><w:rPr><w:b/></w:rPr><w:t>` + text + `</w:t></w:r></w:p>`
	}
	outline := func(lvl, text string) string {
		return `<w:p><w:pPr><w:outlineLvl w:val="` + lvl + `"/></w:pPr>` + WRun(text) + `</w:p>`
	}
	tests := []struct {
		name, body string
		want       [][]string // heading paths
	}{
		{"styles", WPara("Heading1", "Installation") + WPara("", "x") + WPara("2", "Water") + WPara("", "y") +
			WPara("Chapter", "Use") + WPara("", "z") + WPara("ChapterSub", "Programs") + WPara("", "w") + outline("1", "Eco") + WPara("", "v"),
			[][]string{{"Installation"}, {"Installation", "Water"}, {"Use"}, {"Use", "Programs"}, {"Use", "Eco"}}},
		{"undefined heading style ids", WPara("heading1", "A") + WPara("", "x") + WPara("Heading2", "B") + WPara("", "y"),
			[][]string{{"A"}, {"A", "B"}}},
		{"guessed", bold("第一章 安装") + WPara("", "按说明安装。") + bold("注意事项") + WPara("", "勿用湿手操作。") +
			WPara("", "第二章 使用") + WPara("", "按下电源键。") + bold("这是一句加粗的提示。"),
			[][]string{{"第一章 安装"}, {"第一章 安装", "注意事项"}, {"第二章 使用"}}},
		{"none", WPara("", "只有一段文字。"), [][]string{{"notes"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := mustParse(t, "notes.docx", MustDOCX(t, DOCXFile{Body: tt.body, Styles: WStyles}))
			var got [][]string
			for _, s := range b.Sections() {
				got = append(got, s.HeadingPath)
			}
			if !slices.EqualFunc(got, tt.want, slices.Equal) {
				t.Errorf("heading paths %q, want %q", got, tt.want)
			}
		})
	}
}

// TestDOCXLinksAndHiddenText: an external hyperlink in a video column becomes the guide's video;
// hidden and deleted text and field codes are left out.
func TestDOCXLinksAndHiddenText(t *testing.T) {
	link := `<w:p><w:hyperlink r:id="rIdVideo">` + WRun("视频") + `</w:hyperlink></w:p>`
	body := WPara("Heading1", "DW-6035 故障代码") +
		`<w:p><w:r><w:rPr><w:vanish/></w:rPr><w:t>隐藏的文字</w:t></w:r><w:del><w:r><w:delText>删掉的文字</w:delText></w:r></w:del>` +
		`<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> PAGE </w:instrText></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r>` + WRun("可见的文字") + `</w:p>` +
		WTable([]string{"代码", "现象", "处理", "视频"}, []string{"E4", "漏水", "关闭水阀", WCell("", link)})
	b := mustParse(t, "dw.docx", MustDOCX(t, DOCXFile{Body: body, Styles: WStyles, Links: map[string]string{"rIdVideo": "https://video.example.com/e4"}}))
	sec := sectionByHeading(t, b, "DW-6035 故障代码")
	if sec.Text != "可见的文字" {
		t.Errorf("text %q, want only the visible text", sec.Text)
	}
	videos := nodes[*fixgraph.Video](b)
	if len(videos) != 1 || videos[0].URL != "https://video.example.com/e4" {
		t.Errorf("videos %+v, want the linked one:\n%s", videos, summarize(b))
	}
}

// faqSheetRows is an FAQ import sheet as customer service teams keep them.
var faqSheetRows = [][]string{
	{"FAQ 导入模板（请勿修改表头）"},
	{"分类", "标准问题", "相似问题", "答案", "产品"},
	{"售后", "保修期多长？", "保修几年\n能保修多久；质保期是多久", "整机保修三年，电机十年。", ""},
	{"故障", "洗衣机不排水怎么办？", "不排水|水排不出去", "1. 断电\n2. 清理排水泵过滤器", "WF-8012D"},
	{"售后", "保修期多长？", "保修多长时间", "整机保修三年，电机十年。", ""},
	{"", "", "没有问题的行", "", ""},
}

func TestXLSXFAQ(t *testing.T) {
	data := MustXLSX(t, "", "", XLSXSheet{Name: "FAQ", Rows: faqSheetRows}, XLSXSheet{Name: "下拉选项", Rows: [][]string{{"售后"}, {"故障"}}, Hidden: true})
	b := mustParse(t, "faq-import.xlsx", data)
	if d := b.Document; d.Kind != fixgraph.KindFAQ || d.Title != "faq-import" || d.Language != "zh" || !strings.Contains(d.KindReason, "FAQ import sheet") {
		t.Errorf("document kind %q (%s) title %q language %q", d.Kind, d.KindReason, d.Title, d.Language)
	}
	faqs := nodes[*fixgraph.FAQ](b)
	if len(faqs) != 2 {
		t.Fatalf("%d FAQs, want 2 (the repeated question merged, the empty row skipped):\n%s", len(faqs), summarize(b))
	}
	tests := []struct {
		question, answer, product string
		variants                  []string
		path                      []string
	}{
		{"保修期多长？", "整机保修三年，电机十年。", "", []string{"保修几年", "能保修多久", "质保期是多久", "保修多长时间"}, []string{"售后", "保修期多长？"}},
		{"洗衣机不排水怎么办？", "1. 断电\n2. 清理排水泵过滤器", "WF-8012D", []string{"不排水", "水排不出去"}, []string{"故障", "洗衣机不排水怎么办？"}},
	}
	secs := make(map[string]*fixgraph.Section)
	for _, s := range b.Sections() {
		secs[s.ID] = s
	}
	for i, tt := range tests {
		f := faqs[i]
		if f.Question != tt.question || f.Answer != tt.answer || f.Product != tt.product || !slices.Equal(f.Variants, tt.variants) {
			t.Errorf("FAQ %d = %q %q %q %q; want %q %q %q %q", i, f.Question, f.Answer, f.Product, f.Variants, tt.question, tt.answer, tt.product, tt.variants)
		}
		sec := secs[f.SectionID]
		if sec == nil {
			t.Fatalf("FAQ %q has no section", f.Question)
		}
		if want := strings.Join(append(slices.Clone(tt.variants), tt.answer), "\n"); sec.Heading != tt.question || sec.Text != want || !slices.Equal(sec.HeadingPath, tt.path) {
			t.Errorf("section of %q = %q %q %q; want %q %q %q", f.Question, sec.Heading, sec.HeadingPath, sec.Text, tt.question, tt.path, want)
		}
	}
	if got := summarize(b); strings.Contains(got, "下拉选项") {
		t.Errorf("the hidden sheet was read:\n%s", got)
	}
}

// TestXLSXCodeTable: a fault-code table kept in a spreadsheet gives error codes and guides; steps
// numbered inside a cell are the guide's steps; a workbook with an FAQ sheet and a code sheet
// gives both.
func TestXLSXCodeTable(t *testing.T) {
	codes := XLSXSheet{Name: "WF-8012D", Rows: [][]string{
		{"WF-8012D 故障代码表"},
		{"故障代码", "故障现象", "可能原因", "处理方法"},
		{"E1", "不进水", "水龙头未开", "1. 打开水龙头 2. 清洗进水阀过滤网"},
		{"E2", "排水超时", "", "清理排水泵过滤器"},
	}}
	english := XLSXSheet{Name: "Codes", Rows: [][]string{
		{"", "Error code", "Meaning", "Remedy"},
		{"", "F21", "Overheated", "Unplug and wait ten minutes.\nCall service if it returns."},
	}}
	t.Run("codes", func(t *testing.T) {
		b := mustParse(t, "WF-8012D codes.xlsx", MustXLSX(t, "", "", codes, english))
		if b.Document.Kind != fixgraph.KindManual || b.Document.Language != "zh" {
			t.Errorf("kind %q language %q, want a manual in Chinese", b.Document.Kind, b.Document.Language)
		}
		want := map[string][]string{
			"E1":  {"打开水龙头", "清洗进水阀过滤网"},
			"E2":  {"清理排水泵过滤器"},
			"F21": {"Unplug and wait ten minutes. Call service if it returns."},
		}
		guides := nodes[*fixgraph.RepairGuide](b)
		if len(guides) != len(want) {
			t.Fatalf("%d guides, want %d:\n%s", len(guides), len(want), summarize(b))
		}
		for _, g := range guides {
			if g.Product != "WF-8012D" || !slices.Equal(g.Steps, want[g.Code]) {
				t.Errorf("guide %s of %q: steps %q, want %q", g.Code, g.Product, g.Steps, want[g.Code])
			}
		}
		if ec := nodes[*fixgraph.ErrorCode](b); len(ec) != 3 || ec[0].Cause["zh"] != "水龙头未开" {
			t.Errorf("codes %+v", ec)
		}
	})
	t.Run("merged cells", func(t *testing.T) {
		f := excelize.NewFile()
		defer f.Close()
		for i, row := range [][]any{{"WH-5020 故障代码"}, {"故障代码", "故障现象", "处理方法"}, {"F1", "不加热", "检查加热管"}, {"F2", nil, "检查温控器"}, {"F3", "漏水", "关闭进水阀"}} {
			f.SetSheetRow("Sheet1", fmt.Sprintf("A%d", i+1), &row)
		}
		f.MergeCell("Sheet1", "A1", "C1")
		f.MergeCell("Sheet1", "B3", "B4")
		var buf bytes.Buffer
		if err := f.Write(&buf); err != nil {
			t.Fatal(err)
		}
		b := mustParse(t, "WH-5020.xlsx", buf.Bytes())
		want := map[string]string{"F1": "不加热", "F2": "不加热", "F3": "漏水"}
		codes := nodes[*fixgraph.ErrorCode](b)
		for _, ec := range codes {
			if ec.Product != "WH-5020" || ec.Symptom["zh"] != want[ec.Code] {
				t.Errorf("code %s of %q: symptom %q, want %q", ec.Code, ec.Product, ec.Symptom["zh"], want[ec.Code])
			}
		}
		if len(codes) != len(want) {
			t.Errorf("%d codes, want %d:\n%s", len(codes), len(want), summarize(b))
		}
	})
	t.Run("with an FAQ sheet", func(t *testing.T) {
		b := mustParse(t, "WF-8012D.xlsx", MustXLSX(t, "WF-8012D 售后知识库", "", XLSXSheet{Name: "FAQ", Rows: faqSheetRows}, codes))
		if b.Document.Kind != fixgraph.KindFAQ || b.Document.Title != "WF-8012D 售后知识库" {
			t.Errorf("document kind %q title %q", b.Document.Kind, b.Document.Title)
		}
		if f, ec := nodes[*fixgraph.FAQ](b), nodes[*fixgraph.ErrorCode](b); len(f) != 2 || len(ec) != 2 {
			t.Errorf("%d FAQs and %d codes, want 2 and 2:\n%s", len(f), len(ec), summarize(b))
		}
	})
}

// TestLongCodeTables: a sheet or Word table longer than one HTML table's rows is read as
// several tables, each with the header, so every row's code is found.
func TestLongCodeTables(t *testing.T) {
	rows := [][]string{{"故障代码", "故障现象", "处理方法"}}
	for i := range 2*sheetTableRows + 7 {
		rows = append(rows, []string{fmt.Sprintf("E%d", i+1), fmt.Sprintf("现象%d", i+1), "断电重启"})
	}
	tests := []struct {
		name, source string
		data         []byte
	}{
		{"xlsx", "WF-8012D.xlsx", MustXLSX(t, "", "", XLSXSheet{Name: "Codes", Rows: rows})},
		{"docx", "WF-8012D.docx", MustDOCX(t, DOCXFile{Styles: WStyles, Body: WPara("Heading1", "Codes") + WTable(rows...)})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := mustParse(t, tt.source, tt.data)
			if n := len(nodes[*fixgraph.ErrorCode](b)); n != len(rows)-1 {
				t.Errorf("%d codes, want %d", n, len(rows)-1)
			}
			if n := len(b.Sections()) - len(nodes[*fixgraph.ErrorCode](b)); n != 1 {
				t.Errorf("%d sections besides the rows', want the table's one", n)
			}
		})
	}
}

func TestMarkdown(t *testing.T) {
	md := "---\ntitle: \"DW-6035 洗碗机手册\"\nauthor: x\n---\n\n" +
		"# 安装\n\n安装前请断开电源。\n\n1. 放平机身\n2. 连接进水管\n\n" +
		"## 故障代码\n\n| 故障代码 | 故障现象 | 处理方法 |\n|---|---|---|\n| E4 | 漏水 | 关闭水阀，联系售后 |\n| E9 | 加热异常 | 断电重启 |\n\n" +
		"## 说明\n\n<table><tr><th>项目</th><th>参数</th></tr><tr><td>容量</td><td>13 套</td></tr></table>\n\n" +
		"<script>alert(1)</script>\n\n文字里的 <b>粗体</b> 和 `代码 <x>`。\n"
	b := mustParse(t, "docs/dw-6035.md", []byte(md))
	if b.Document.Title != "DW-6035 洗碗机手册" || b.Document.Kind != fixgraph.KindManual {
		t.Errorf("document title %q kind %q", b.Document.Title, b.Document.Kind)
	}
	if s := sectionByHeading(t, b, "安装"); s.Text != "安装前请断开电源。\n放平机身\n连接进水管" {
		t.Errorf("安装 text %q", s.Text)
	}
	codes := nodes[*fixgraph.ErrorCode](b)
	if len(codes) != 2 || codes[0].Product != "DW-6035" || codes[1].Symptom["zh"] != "加热异常" {
		t.Errorf("codes:\n%s", summarize(b))
	}
	notes := sectionByHeading(t, b, "说明")
	if !strings.Contains(notes.Text, "13 套") || strings.Contains(notes.Text, "alert") || !strings.Contains(notes.Text, "代码 <x>") {
		t.Errorf("说明 text %q", notes.Text)
	}

	t.Run("without headings", func(t *testing.T) {
		b := mustParse(t, "notes/readme.markdown", []byte("Just a note about the *WF-8012D*.\n"))
		if s := b.Sections(); len(s) != 1 || s[0].Heading != "readme" || s[0].Text != "Just a note about the WF-8012D." {
			t.Errorf("sections:\n%s", summarize(b))
		}
	})
}

func TestPlainText(t *testing.T) {
	text := "WF-8012D 洗衣机使用说明\n\n" +
		"第一章 安装\n安装前请阅读本章。\n\n" +
		"1. 拆除运输螺栓\n2. 连接进水管\n3. 接通电源\n\n" +
		"注意事项\n\n" +
		"- 请勿让儿童靠近 <机器>\n- 使用接地插座\n\n" +
		"第二章 常见问题\n\n" +
		"问：保修多久？\n答：整机三年。\n问：可以开发票吗？\n答：可以。\n问：能上门吗？\n答：能。\n\n" +
		"TROUBLESHOOTING\n\n" +
		"If the drum does not turn,\ncheck the belt.\n"
	b := mustParse(t, "manual.txt", []byte(text))
	var got [][]string
	for _, s := range b.Sections() {
		got = append(got, s.HeadingPath)
	}
	want := [][]string{
		{"WF-8012D 洗衣机使用说明"},
		{"第一章 安装"},
		{"第一章 安装", "注意事项"},
		{"第二章 常见问题"},
		{"第二章 常见问题", "TROUBLESHOOTING"},
	}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("heading paths %q, want %q:\n%s", got, want, summarize(b))
	}
	secs := b.Sections()
	if want := "安装前请阅读本章。\n拆除运输螺栓\n连接进水管\n接通电源"; secs[1].Text != want {
		t.Errorf("第一章 text %q, want %q", secs[1].Text, want)
	}
	if want := "请勿让儿童靠近 <机器>\n使用接地插座"; secs[2].Text != want {
		t.Errorf("注意事项 text %q, want %q", secs[2].Text, want)
	}
	if want := "If the drum does not turn,\ncheck the belt."; secs[4].Text != want {
		t.Errorf("TROUBLESHOOTING text %q, want %q", secs[4].Text, want)
	}

	t.Run("question and answer lines", func(t *testing.T) {
		b := mustParse(t, "faq.txt", []byte("售后问答\n\n问：保修多久？\n答：整机三年。\n问：可以开发票吗？\n答：可以。\n问：能上门吗？\n答：能。\n"))
		if faqs := nodes[*fixgraph.FAQ](b); b.Document.Kind != fixgraph.KindFAQ || len(faqs) != 3 || faqs[0].Answer != "整机三年。" {
			t.Errorf("FAQ text:\n%s", summarize(b))
		}
	})
	t.Run("encodings", func(t *testing.T) {
		for name, data := range map[string][]byte{
			"utf-8 bom": append([]byte("\xef\xbb\xbf"), "标题\n\n正文。"...),
			"utf-16":    {0xff, 0xfe, 0x07, 0x68, 0x98, 0x98, '\n', 0, '\n', 0, 0x63, 0x6b, 0x87, 0x65, 0x02, 0x30},
			"gb18030":   {0xb1, 0xea, 0xcc, 0xe2, '\n', '\n', 0xd5, 0xfd, 0xce, 0xc4, 0xa1, 0xa3},
		} {
			b := mustParse(t, "x.txt", data)
			if s := b.Sections(); len(s) != 1 || s[0].Heading != "标题" || s[0].Text != "正文。" {
				t.Errorf("%s:\n%s", name, summarize(b))
			}
		}
	})
}

// lyingZip writes a zip whose one part declares far fewer bytes than it holds.
func lyingZip(tb testing.TB, name string, content []byte, declared uint64) []byte {
	tb.Helper()
	var compressed bytes.Buffer
	fw, err := flate.NewWriter(&compressed, flate.BestSpeed)
	if err != nil {
		tb.Fatal(err)
	}
	fw.Write(content)
	fw.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: name, Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(content[:declared]),
		CompressedSize64: uint64(compressed.Len()), UncompressedSize64: declared})
	if err != nil {
		tb.Fatal(err)
	}
	w.Write(compressed.Bytes())
	zw.Close()
	return buf.Bytes()
}

// TestBadOfficeFiles: damaged, encrypted, oversized and hostile files are refused with an
// error that says what is wrong, and nothing panics or runs away.
func TestBadOfficeFiles(t *testing.T) {
	docx := codeTableDOCX(t)
	xlsx := MustXLSX(t, "", "", XLSXSheet{Name: "FAQ", Rows: faqSheetRows})
	withDocument := func(xml string) []byte {
		parts := DOCXParts(DOCXFile{Body: WPara("", "x")})
		parts["word/document.xml"] = xml
		return MustZip(t, zip.Deflate, parts)
	}
	bomb := `<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<w:document ` + docxW + `><w:body><w:p><w:r><w:t>&lol3;</w:t></w:r></w:p></w:body></w:document>`
	nested := strings.Repeat(`<w:tbl><w:tr><w:tc>`, 200) + WPara("", "deep") + strings.Repeat(`</w:tc></w:tr></w:tbl>`, 200)
	manyParts := DOCXParts(DOCXFile{Body: WPara("Heading1", "x") + WPara("", "y")})
	for i := range 20 {
		manyParts[fmt.Sprintf("word/media/image%d.png", i)] = "png"
	}
	big := DOCXParts(DOCXFile{Body: WPara("Heading1", "x") + WPara("", "y")})
	for i := range 3 {
		var b strings.Builder
		for j := 0; b.Len() < 600<<10; j++ {
			fmt.Fprintf(&b, "%d %x ", j*i, j*7919)
		}
		big[fmt.Sprintf("word/part%d.bin", i)] = b.String()
	}
	sharedStrings := `<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">]><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&a;</t></si></sst>`
	cell := func(r int) string { return fmt.Sprintf(`<row r="%d"><c r="A%d"><v>%d</v></c></row>`, r, r, r) }
	lastRow := func(int) string { return `<row r="1048576"><c r="A1048576"><v>1</v></c></row>` }
	wide := func(r int) string { return fmt.Sprintf(`<row r="%d"><c r="XFD%d"><v>1</v></c></row>`, r, r) }

	tests := []struct {
		name, source string
		data         []byte
		pipeline     func(*Pipeline)
		code, msg    string
	}{
		{"truncated docx", "a.docx", docx[:len(docx)/2], nil, fixgraph.EUNREADABLE, "damaged or was cut off"},
		{"truncated xlsx", "a.xlsx", xlsx[:len(xlsx)-100], nil, fixgraph.EUNREADABLE, "damaged or was cut off"},
		{"encrypted docx", "a.docx", MustEncryptOffice(t, docx, "secret"), nil, fixgraph.EUNREADABLE, "encrypted/password-protected Office file"},
		{"encrypted xlsx", "a.xlsx", MustXLSX(t, "", "secret", XLSXSheet{Name: "FAQ", Rows: faqSheetRows}), nil, fixgraph.EUNREADABLE, "encrypted/password-protected Office file"},
		{"Word 97-2003", "a.docx", append(slices.Clone(cfbSignature), make([]byte, 4096)...), nil, fixgraph.EUNSUPPORTED, "Word 97–2003 binary file"},
		{"not a word document", "a.docx", MustZip(t, zip.Deflate, map[string]string{"readme.txt": "hello"}), nil, fixgraph.EUNREADABLE, "no main document part"},
		{"no text", "a.docx", MustDOCX(t, DOCXFile{Body: `<w:p><w:r><w:drawing/></w:r></w:p>`}), nil, fixgraph.EUNREADABLE, "has no text"},
		{"zip bomb", "a.docx", withDocument(`<w:document ` + docxW + `><w:body><w:p><w:r><w:t>` + strings.Repeat(" ", 20<<20) + `</w:t></w:r></w:p></w:body></w:document>`), nil, fixgraph.ETOOLARGE, "refused as a zip bomb"},
		{"over the package limit", "a.docx", MustZip(t, zip.Deflate, big), func(p *Pipeline) { p.MaxZipBytes = 1 << 20 }, fixgraph.ETOOLARGE, "expands to more than 1048576 bytes"},
		{"too many parts", "a.docx", MustZip(t, zip.Deflate, manyParts), func(p *Pipeline) { p.MaxZipEntries = 10 }, fixgraph.ETOOLARGE, "over the limit of 10 parts"},
		{"part longer than declared", "a.docx", lyingZip(t, "word/document.xml", bytes.Repeat([]byte("<w:p/>"), 1<<16), 100), nil, fixgraph.EUNREADABLE, "is damaged"},
		{"entity bomb", "a.docx", withDocument(bomb), nil, fixgraph.EUNREADABLE, "declares a DOCTYPE"},
		{"entity bomb after a long comment", "a.docx", withDocument(`<?xml version="1.0"?><!--` + strings.Repeat("x", 4096) + `-->` + bomb[len(`<?xml version="1.0"?>`):]), nil, fixgraph.EUNREADABLE, "declares a DOCTYPE"},
		{"undefined entity", "a.docx", withDocument(`<w:document ` + docxW + `><w:body><w:p><w:r><w:t>&lol;</w:t></w:r></w:p></w:body></w:document>`), nil, fixgraph.EUNREADABLE, "not well-formed XML"},
		{"nested too deep", "a.docx", MustDOCX(t, DOCXFile{Body: nested}), nil, fixgraph.EUNREADABLE, "more than 64 deep"},
		{"entity bomb in a workbook", "a.xlsx", MustRawXLSX(t, map[string]string{"xl/sharedStrings.xml": sharedStrings}, SheetRows(1, func(int) string { return `<row r="1"><c r="A1" t="s"><v>0</v></c></row>` })), nil, fixgraph.EUNREADABLE, "declares a DOCTYPE"},
		{"a million rows", "a.xlsx", MustRawXLSX(t, nil, SheetRows(1_000_000, cell)), nil, fixgraph.ETOOLARGE, "more than 100000 rows"},
		{"too many cells", "a.xlsx", MustRawXLSX(t, nil, SheetRows(200, wide)), nil, fixgraph.ETOOLARGE, "more than 2000000 cells"},
		{"rows far apart in many sheets", "a.xlsx", MustRawXLSX(t, nil, SheetRows(1, lastRow), SheetRows(1, lastRow), SheetRows(1, lastRow), SheetRows(1, lastRow), SheetRows(1, lastRow)), nil, fixgraph.ETOOLARGE, "span more than"},
		{"empty workbook", "a.xlsx", MustXLSX(t, "", "", XLSXSheet{Name: "Sheet1"}), nil, fixgraph.EUNREADABLE, "no sheet with data"},
		{"a Word document named .xlsx", "a.xlsx", docx, nil, fixgraph.EUNREADABLE, "not a readable .xlsx workbook"},
		{"binary named .txt", "a.txt", []byte("MZ\x90\x00\x03\x00\x00\x00"), nil, fixgraph.EUNREADABLE, "NUL bytes"},
		{"binary named .md", "a.md", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), nil, fixgraph.EUNREADABLE, "NUL bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := fuzzPipeline()
			if tt.pipeline != nil {
				tt.pipeline(p)
			}
			b, err := p.Parse(context.Background(), tt.source, tt.data)
			if err == nil {
				t.Fatalf("parsed:\n%s", summarize(b))
			}
			checkAppError(t, err)
			if fixgraph.CodeOf(err) != tt.code || !strings.Contains(fixgraph.MessageOf(err), tt.msg) {
				t.Errorf("error %s %q; want %s containing %q", fixgraph.CodeOf(err), err, tt.code, tt.msg)
			}
		})
	}
}

// TestMarkdownPathological: inputs on which goldmark's parse is quadratic or worse (unclosed
// link openers, quotes and lists nested on one line or by indentation) parse in well under a
// second once tamed; untamed, each of these took 10 to 20 seconds.
func TestMarkdownPathological(t *testing.T) {
	var indent strings.Builder
	for i := range 2000 {
		indent.WriteString(strings.Repeat(" ", 2*i) + "- x\n")
	}
	tests := []struct{ name, md string }{
		{"link openers", "# x\n\n" + strings.Repeat("[a](", 100_000)},
		{"link openers over lines", "# x\n\n" + strings.Repeat("[a](\n", 100_000)},
		{"brackets", strings.Repeat("[", 200_000) + "x" + strings.Repeat("]", 200_000)},
		{"quotes", strings.Repeat(">", 100_000) + " x\n"},
		{"lists on a line", strings.Repeat("- ", 100_000) + "x\n"},
		{"numbered lists on a line", strings.Repeat("1. ", 100_000) + "x\n"},
		{"lists by indentation", indent.String()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			b, err := fuzzPipeline().Parse(context.Background(), "x.md", []byte(tt.md))
			checkParse(t, "x.md", b, err)
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
	if got := tameMarkdown([]byte("> - 1. [a](b)\n\n    code\n")); string(got) != "> - 1. [a](b)\n\n    code\n" {
		t.Errorf("an ordinary file was changed: %q", got)
	}
}
