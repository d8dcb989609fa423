package ingest

import (
	"archive/zip"
	"context"
	"testing"
)

// The fuzz targets for Word, Excel, Markdown and plain text files check what the others in
// fuzz_test.go check. Word and Excel seeds are written by the tests' helpers, once deflated as
// Office writes them and once stored, so that mutations reach the XML inside.

// FuzzParseDOCX parses arbitrary bytes as a Word document: styles, numbering, tables with merged
// cells, hyperlinks, question-and-answer paragraphs.
func FuzzParseDOCX(f *testing.F) {
	manual := codeTableDOCX(f)
	faq := MustDOCX(f, DOCXFile{Title: "售后问答", Styles: WStyles, Body: WPara("Heading1", "问答") +
		WPara("", "问：保修多久？") + WPara("", "答：三年。") + WPara("", "Q: Invoice?") + WPara("", "A: Yes.") + WPara("", "问：上门吗？") + WPara("", "答：上门。")})
	tables := MustDOCX(f, DOCXFile{Styles: WStyles, Links: map[string]string{"rId9": "https://v.example.com/e4"}, Body: WPara("Heading1", "WH-5020") +
		WTable([]string{WCell(`<w:gridSpan w:val="3"/>`, WPara("", "表"))}, []string{"代码", "现象", "视频"},
			[]string{"F1", WCell(`<w:vMerge w:val="restart"/>`, WPara("", "不加热")), WCell("", `<w:p><w:hyperlink r:id="rId9">`+WRun("看")+`</w:hyperlink></w:p>`)},
			[]string{"F2", WCell(`<w:vMerge/>`), WCell("", WTable([]string{"a"}, []string{"b"}))})})
	for _, d := range [][]byte{manual, faq, tables} {
		f.Add(d)
		f.Add(MustRepack(f, d, zip.Store))
	}
	f.Add(manual[:len(manual)/2])
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := fuzzPipeline().Parse(context.Background(), "f.docx", data)
		checkParse(t, "f.docx", b, err)
	})
}

// FuzzParseXLSX parses arbitrary bytes as an Excel workbook: FAQ import sheets and code tables.
func FuzzParseXLSX(f *testing.F) {
	faq := MustXLSX(f, "知识库", "", XLSXSheet{Name: "FAQ", Rows: faqSheetRows})
	codes := MustXLSX(f, "", "", XLSXSheet{Name: "WF-8012D", Rows: [][]string{
		{"故障代码表"}, {"故障代码", "故障现象", "处理方法", "视频"}, {"E1", "不进水", "1. 开水龙头 2. 洗滤网", "https://v.example.com/e1"},
	}}, XLSXSheet{Name: "Hidden", Rows: [][]string{{"x", "y"}}, Hidden: true})
	for _, d := range [][]byte{faq, codes} {
		f.Add(d)
		f.Add(MustRepack(f, d, zip.Store))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := fuzzPipeline().Parse(context.Background(), "f.xlsx", data)
		checkParse(t, "f.xlsx", b, err)
	})
}

// FuzzParseMarkdown parses arbitrary bytes as a Markdown file and as a plain text file.
func FuzzParseMarkdown(f *testing.F) {
	for _, s := range []string{
		"---\ntitle: 手册\n---\n# 安装\n\n1. 放平\n2. 接水\n\n## 故障代码\n\n| 故障代码 | 故障现象 | 处理方法 |\n|---|---|---|\n| E4 | 漏水 | 关水阀 |\n",
		"# FAQ\n\n## Why is it cold?\n\nCheck the heater.\n\n## What is E1?\n\nSensor.\n\n## Warranty?\n\nTwo years.\n",
		"<table><tr><th>Code</th><th>Remedy</th></tr><tr><td>E1</td><td><ol><li>a</li></ol></td></tr></table>\n> quote\n- [link](javascript:x)\n",
		"WF-8012D 说明\n\n第一章 安装\n安装前阅读。\n\n1. 拆螺栓\n2. 接水管\n\n注意\n\n- 勿近儿童\n\n问：保修？\n答：三年。\n",
		"\xff\xfe#\x00 \x00A\x00\n\x00",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, source := range []string{"f.md", "f.txt"} {
			b, err := fuzzPipeline().Parse(context.Background(), source, data)
			checkParse(t, source, b, err)
		}
	})
}
