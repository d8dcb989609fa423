package ingest

import (
	"context"
	"slices"
	"strings"
	"testing"

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
