package ingest_test

import (
	"context"
	"testing"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/ingest"
)

// topFAQ returns the FAQ whose section is the best hit of a search for q, or nil.
func (s *stores) topFAQ(tb testing.TB, q string) *fixgraph.FAQ {
	tb.Helper()
	ctx := context.Background()
	hits, err := s.Text.Search(ctx, q, 5, fixgraph.SearchFilter{})
	if err != nil {
		tb.Fatal(err)
	}
	if len(hits) == 0 {
		return nil
	}
	var found *fixgraph.FAQ
	s.Graph.Scan(ctx, fixgraph.PrefixFAQ+":", func(n fixgraph.Node) error {
		if f := n.(*fixgraph.FAQ); f.SectionID == hits[0].Section.ID {
			found = f
		}
		return nil
	})
	return found
}

// TestXLSXFAQIsSearchable: an FAQ import sheet's similar questions are stored as the FAQ's
// variants, and a search worded as a variant, not as the standard question, finds the FAQ.
func TestXLSXFAQIsSearchable(t *testing.T) {
	ctx := context.Background()
	s := mustStores(t)
	data := ingest.MustXLSX(t, "售后知识库", "", ingest.XLSXSheet{Name: "FAQ", Rows: [][]string{
		{"分类", "标准问题", "相似问题", "答案"},
		{"售后", "保修期多长？", "质保期是多久\n能保修几年", "整机保修三年，电机十年。"},
		{"故障", "洗衣机不排水怎么办？", "水排不出去；滚筒里积水", "断电后清理排水泵过滤器。"},
		{"服务", "可以开发票吗？", "发票怎么开|报销凭证", "下单时填写抬头即可。"},
	}})
	if r := s.p.IngestFile(ctx, "kb/faq.xlsx", data); r.Err != nil || r.Kind != fixgraph.KindFAQ || r.Sections != 3 {
		t.Fatalf("ingest = %+v; want an FAQ document with 3 sections", r)
	}
	tests := []struct{ query, question string }{
		{"质保期是多久", "保修期多长？"},
		{"滚筒里积水", "洗衣机不排水怎么办？"},
		{"报销凭证", "可以开发票吗？"},
		{"保修期多长", "保修期多长？"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			f := s.topFAQ(t, tt.query)
			if f == nil || f.Question != tt.question {
				t.Fatalf("best hit for %q is FAQ %+v; want %q", tt.query, f, tt.question)
			}
			if len(f.Variants) != 2 {
				t.Errorf("variants %q, want 2", f.Variants)
			}
		})
	}
}

// TestBadOfficeFileKeepsStoredDocument: a damaged, encrypted or oversized new version of a Word
// document or workbook fails with its error and leaves the stored version whole and searchable.
func TestBadOfficeFileKeepsStoredDocument(t *testing.T) {
	ctx := context.Background()
	s := mustStores(t)
	docx := ingest.MustDOCX(t, ingest.DOCXFile{Title: "WH-5020 热水器说明书", Styles: ingest.WStyles, Body: ingest.WPara("Heading1", "故障代码") +
		ingest.WTable([]string{"故障代码", "故障现象", "处理方法"}, []string{"F1", "加热管干烧保护", "检查进水阀后重新上电"})})
	xlsx := ingest.MustXLSX(t, "", "", ingest.XLSXSheet{Name: "FAQ", Rows: [][]string{{"问题", "答案", "相似问法"}, {"热水器漏电怎么办？", "立即断电并联系售后。", "热水器麻手"}}})
	tests := []struct {
		source      string
		good, bad   []byte
		code, query string
	}{
		{"kb/wh-5020.docx", docx, docx[:len(docx)/3], fixgraph.EUNREADABLE, "加热管干烧保护"},
		{"kb/wh-5020-faq.xlsx", xlsx, ingest.MustXLSX(t, "", "secret", ingest.XLSXSheet{Name: "FAQ", Rows: [][]string{{"问题", "答案"}, {"x？", "y"}}}), fixgraph.EUNREADABLE, "热水器麻手"},
		{"kb/wh-5020-notes.docx", docx, ingest.MustEncryptOffice(t, docx, "secret"), fixgraph.EUNREADABLE, "检查进水阀后重新上电"},
	}
	for _, tt := range tests {
		t.Run(tt.source, func(t *testing.T) {
			if r := s.p.IngestFile(ctx, tt.source, tt.good); r.Err != nil || r.Outcome != ingest.Added {
				t.Fatalf("first version: %+v", r)
			}
			r := s.p.IngestFile(ctx, tt.source, tt.bad)
			if r.Outcome != ingest.Failed || fixgraph.CodeOf(r.Err) != tt.code {
				t.Fatalf("bad version = %+v; want failed with %s", r, tt.code)
			}
			n, err := s.Graph.Node(ctx, fixgraph.DocumentID(tt.source))
			if err != nil || n.(*fixgraph.Document).Version != 1 {
				t.Fatalf("stored document = %+v, %v; want version 1 untouched", n, err)
			}
			if !s.searchHas(t, tt.query, tt.source) {
				t.Errorf("%q no longer finds the stored document", tt.query)
			}
		})
	}
	if ecs, _ := s.Graph.ErrorCodes(ctx, "F1"); len(ecs) != 1 || ecs[0].Product != "WH-5020" {
		t.Errorf("F1 codes = %+v; want WH-5020's", ecs)
	}
}
