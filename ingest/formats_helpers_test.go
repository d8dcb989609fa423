package ingest

import (
	"archive/zip"
	"bytes"
	"fmt"
	"html"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// The helpers below write real Word and Excel files for the tests: Word documents as the zip of
// XML parts Word writes (the parts fixgraph reads), workbooks with excelize. They are exported so
// the pipeline tests of package ingest_test can use them too.

// DOCXFile describes a Word document for MustDOCX. Body, Styles and Numbering are the children of
// w:body, w:styles and w:numbering, written with the w: prefix (r: for relationship ids).
type DOCXFile struct {
	Title     string            // the title in docProps/core.xml; none when empty
	Body      string            //
	Styles    string            // none when empty
	Numbering string            // none when empty
	Links     map[string]string // hyperlink relationship id → URL
}

const (
	docxW = `xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"`
	relNS = `http://schemas.openxmlformats.org/officeDocument/2006/relationships`
)

// DOCXParts returns the parts of a Word document, by name.
func DOCXParts(d DOCXFile) map[string]string {
	parts := map[string]string{
		"[Content_Types].xml": `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`,
		"_rels/.rels": `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="` + relNS + `/officeDocument" Target="word/document.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/></Relationships>`,
		"word/document.xml": `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document ` + docxW + `><w:body>` + d.Body + `<w:sectPr><w:pgSz w:w="11906" w:h="16838"/></w:sectPr></w:body></w:document>`,
	}
	rels := `<Relationship Id="rIdStyles" Type="` + relNS + `/styles" Target="styles.xml"/><Relationship Id="rIdNumbering" Type="` + relNS + `/numbering" Target="numbering.xml"/>`
	ids := make([]string, 0, len(d.Links))
	for id := range d.Links {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		rels += `<Relationship Id="` + id + `" Type="` + relNS + `/hyperlink" Target="` + html.EscapeString(d.Links[id]) + `" TargetMode="External"/>`
	}
	parts["word/_rels/document.xml.rels"] = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` + rels + `</Relationships>`
	if d.Styles != "" {
		parts["word/styles.xml"] = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:styles ` + docxW + `>` + d.Styles + `</w:styles>`
	}
	if d.Numbering != "" {
		parts["word/numbering.xml"] = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:numbering ` + docxW + `>` + d.Numbering + `</w:numbering>`
	}
	if d.Title != "" {
		parts["docProps/core.xml"] = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>` + html.EscapeString(d.Title) + `</dc:title><dc:creator>fixgraph tests</dc:creator></cp:coreProperties>`
	}
	return parts
}

// MustDOCX writes a Word document.
func MustDOCX(tb testing.TB, d DOCXFile) []byte {
	tb.Helper()
	return MustZip(tb, zip.Deflate, DOCXParts(d))
}

// MustZip writes parts into a zip with method (zip.Deflate or zip.Store), in name order.
func MustZip(tb testing.TB, method uint16, parts map[string]string) []byte {
	tb.Helper()
	names := make([]string, 0, len(parts))
	for n := range parts {
		names = append(names, n)
	}
	slices.Sort(names)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: n, Method: method})
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := io.WriteString(w, parts[n]); err != nil {
			tb.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// MustRepack writes a zip's entries again with method: stored entries let a fuzzer's mutations
// reach the XML.
func MustRepack(tb testing.TB, data []byte, method uint16) []byte {
	tb.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		tb.Fatal(err)
	}
	parts := make(map[string]string)
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			tb.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			tb.Fatal(err)
		}
		parts[f.Name] = string(b)
	}
	return MustZip(tb, method, parts)
}

// Word markup for the tests' documents.

// WPara is a paragraph of text with the style (a style id), or none.
func WPara(style, text string) string {
	ppr := ""
	if style != "" {
		ppr = `<w:pPr><w:pStyle w:val="` + style + `"/></w:pPr>`
	}
	return `<w:p>` + ppr + WRun(text) + `</w:p>`
}

// WRun is a run of text; line breaks in it become w:br.
func WRun(text string) string {
	var b strings.Builder
	b.WriteString("<w:r>")
	for i, line := range strings.Split(text, "\n") {
		if i > 0 {
			b.WriteString("<w:br/>")
		}
		b.WriteString(`<w:t xml:space="preserve">` + html.EscapeString(line) + `</w:t>`)
	}
	b.WriteString("</w:r>")
	return b.String()
}

// WItem is a paragraph of list numId at level 0.
func WItem(numID, text string) string {
	return `<w:p><w:pPr><w:pStyle w:val="ListParagraph"/><w:numPr><w:ilvl w:val="0"/><w:numId w:val="` + numID + `"/></w:numPr></w:pPr>` + WRun(text) + `</w:p>`
}

// WCell is a table cell holding paragraphs; props are its w:tcPr children.
func WCell(props string, paras ...string) string {
	if len(paras) == 0 {
		paras = []string{"<w:p/>"}
	}
	return `<w:tc><w:tcPr><w:tcW w:w="2000" w:type="dxa"/>` + props + `</w:tcPr>` + strings.Join(paras, "") + `</w:tc>`
}

// WTable is a table of rows, each a list of cells written with WCell, or of plain texts.
func WTable(rows ...[]string) string {
	var b strings.Builder
	b.WriteString(`<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/></w:tblPr><w:tblGrid><w:gridCol w:w="2000"/></w:tblGrid>`)
	for _, row := range rows {
		b.WriteString("<w:tr>")
		for _, c := range row {
			if !strings.HasPrefix(c, "<w:tc>") {
				c = WCell("", WPara("", c))
			}
			b.WriteString(c)
		}
		b.WriteString("</w:tr>")
	}
	b.WriteString("</w:tbl>")
	return b.String()
}

// WStyles defines heading styles as Word does (ids Heading1, names "heading 1"), the Chinese
// names WPS gives them (id "2", name "标题 2"), a style with only an outline level, a list
// paragraph style and a table of contents style.
const WStyles = `<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/></w:style>
<w:style w:type="paragraph" w:styleId="Title"><w:name w:val="Title"/><w:basedOn w:val="Normal"/></w:style>
<w:style w:type="paragraph" w:styleId="Heading1"><w:name w:val="heading 1"/><w:basedOn w:val="Normal"/><w:pPr><w:outlineLvl w:val="0"/></w:pPr></w:style>
<w:style w:type="paragraph" w:styleId="2"><w:name w:val="标题 2"/><w:basedOn w:val="Normal"/></w:style>
<w:style w:type="paragraph" w:styleId="Chapter"><w:name w:val="Chapter heading"/><w:basedOn w:val="Normal"/><w:pPr><w:outlineLvl w:val="0"/></w:pPr></w:style>
<w:style w:type="paragraph" w:styleId="ChapterSub"><w:name w:val="Chapter sub"/><w:basedOn w:val="Chapter"/><w:pPr><w:outlineLvl w:val="2"/></w:pPr></w:style>
<w:style w:type="paragraph" w:styleId="ListParagraph"><w:name w:val="List Paragraph"/><w:basedOn w:val="Normal"/></w:style>
<w:style w:type="paragraph" w:styleId="TOC1"><w:name w:val="toc 1"/><w:basedOn w:val="Normal"/></w:style>`

// WNumbering defines list 1 as numbered (decimal) and list 2 as bulleted.
const WNumbering = `<w:abstractNum w:abstractNumId="0"><w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1."/></w:lvl></w:abstractNum>
<w:abstractNum w:abstractNumId="1"><w:lvl w:ilvl="0"><w:numFmt w:val="bullet"/><w:lvlText w:val="•"/></w:lvl></w:abstractNum>
<w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num><w:num w:numId="2"><w:abstractNumId w:val="1"/></w:num>`

// XLSXSheet is a worksheet for MustXLSX.
type XLSXSheet struct {
	Name   string
	Rows   [][]string
	Hidden bool
}

// MustXLSX writes a workbook with excelize; password, when set, encrypts it as Excel does.
func MustXLSX(tb testing.TB, title, password string, sheets ...XLSXSheet) []byte {
	tb.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, s := range sheets {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", s.Name); err != nil {
				tb.Fatal(err)
			}
		} else if _, err := f.NewSheet(s.Name); err != nil {
			tb.Fatal(err)
		}
		for r, row := range s.Rows {
			vals := make([]any, len(row))
			for c, v := range row {
				vals[c] = v
			}
			if err := f.SetSheetRow(s.Name, fmt.Sprintf("A%d", r+1), &vals); err != nil {
				tb.Fatal(err)
			}
		}
		if s.Hidden {
			if err := f.SetSheetVisible(s.Name, false); err != nil {
				tb.Fatal(err)
			}
		}
	}
	if title != "" {
		if err := f.SetDocProps(&excelize.DocProperties{Title: title}); err != nil {
			tb.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf, excelize.Options{Password: password}); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// MustEncryptOffice encrypts an Office file with a password, as Word and Excel do: the result is a
// CFB container holding the encrypted package.
func MustEncryptOffice(tb testing.TB, data []byte, password string) []byte {
	tb.Helper()
	out, err := excelize.Encrypt(data, &excelize.Options{Password: password})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// MustRawXLSX writes a workbook whose sheets S1, S2… have the sheetData that each of sheets
// streams into the zip, so that a million rows cost no more memory than a few. Parts come from
// extra by name (a shared string table, say).
func MustRawXLSX(tb testing.TB, extra map[string]string, sheets ...func(w io.Writer) error) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	write := func(name string, fill func(io.Writer) error) {
		w, err := zw.Create(name)
		if err != nil {
			tb.Fatal(err)
		}
		if err := fill(w); err != nil {
			tb.Fatal(err)
		}
	}
	text := func(s string) func(io.Writer) error {
		return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
	}
	var list, rels, types strings.Builder
	for i := range sheets {
		fmt.Fprintf(&list, `<sheet name="S%d" sheetId="%d" r:id="rId%d"/>`, i+1, i+1, i+1)
		fmt.Fprintf(&rels, `<Relationship Id="rId%d" Type="%s/worksheet" Target="worksheets/sheet%d.xml"/>`, i+1, relNS, i+1)
		fmt.Fprintf(&types, `<Override PartName="/xl/worksheets/sheet%d.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>`, i+1)
	}
	write("[Content_Types].xml", text(`<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>`+types.String()+`</Types>`))
	write("_rels/.rels", text(`<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="`+relNS+`/officeDocument" Target="xl/workbook.xml"/></Relationships>`))
	write("xl/workbook.xml", text(`<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="`+relNS+`"><sheets>`+list.String()+`</sheets></workbook>`))
	write("xl/_rels/workbook.xml.rels", text(`<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`+rels.String()+`</Relationships>`))
	for i, fill := range sheets {
		write(fmt.Sprintf("xl/worksheets/sheet%d.xml", i+1), func(w io.Writer) error {
			if _, err := io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`); err != nil {
				return err
			}
			if err := fill(w); err != nil {
				return err
			}
			_, err := io.WriteString(w, `</sheetData></worksheet>`)
			return err
		})
	}
	names := make([]string, 0, len(extra))
	for n := range extra {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		write(n, text(extra[n]))
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// SheetRows returns sheetData content of n rows, row r written by row(r).
func SheetRows(n int, row func(r int) string) func(io.Writer) error {
	return func(w io.Writer) error {
		var b bytes.Buffer
		for r := 1; r <= n; r++ {
			b.WriteString(row(r))
			if b.Len() > 1<<16 || r == n {
				if _, err := w.Write(b.Bytes()); err != nil {
					return err
				}
				b.Reset()
			}
		}
		return nil
	}
}
