package ingest

import (
	"cmp"
	"encoding/xml"
	"html"
	"io"
	"path"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/extract"
)

// A .docx is read with archive/zip and encoding/xml from the standard library, not a DOCX
// library: what fixgraph needs is a small subset of WordprocessingML (paragraph styles and
// outline levels, numbering, tables with merged cells, hyperlinks, bookmarks), and no pure-Go
// DOCX reader is kept well enough to be worth a dependency for that. Reading the parts ourselves
// also keeps every read under the package limits (office.go).
//
// The document becomes an HTML page (blocks.go) that the HTML reader splits into sections.

// docxReader reads the main document part of a .docx into blocks.
type docxReader struct {
	pkg       *officePackage
	part      string
	dec       *xml.Decoder
	styles    map[string]*docxStyle
	numbering docxNumbering
	links     map[string]string // relationship id → external URL
	styled    bool              // some paragraph has a heading style or outline level
}

// parseDOCX reads a Word document into a batch through the HTML reader.
func (p *Pipeline) parseDOCX(doc *fixgraph.Document, data []byte) (*fixgraph.Batch, error) {
	pkg, err := p.openOffice(data, "Word")
	if err != nil {
		return nil, err
	}
	main := "word/document.xml"
	var rels docxRels
	if err := pkg.decodePart("_rels/.rels", &rels); err != nil {
		return nil, err
	}
	for _, r := range rels.Rels {
		if strings.HasSuffix(r.Type, "/officeDocument") && r.TargetMode != "External" {
			main = strings.TrimPrefix(path.Clean("/"+r.Target), "/")
			break
		}
	}
	f := pkg.part(main)
	if f == nil {
		return nil, fixgraph.Errorf(fixgraph.EUNREADABLE, "not a Word document: the .docx has no main document part (%s)", main)
	}
	r := &docxReader{pkg: pkg, part: main, links: make(map[string]string)}
	var docRels docxRels
	if err := pkg.decodePart(relsOf(main), &docRels); err != nil {
		return nil, err
	}
	for _, rel := range docRels.Rels {
		if rel.TargetMode == "External" && strings.HasSuffix(rel.Type, "/hyperlink") {
			r.links[rel.ID] = rel.Target
		}
	}
	if err := r.readStyles(pkg, docRels.target(main, "/styles", "styles.xml")); err != nil {
		return nil, err
	}
	if err := pkg.decodePart(docRels.target(main, "/numbering", "numbering.xml"), &r.numbering); err != nil {
		return nil, err
	}
	var core docxCore
	if err := pkg.decodePart("docProps/core.xml", &core); err != nil {
		return nil, err
	}

	rc, err := f.Open()
	if err != nil {
		return nil, pkg.partError(main, err)
	}
	defer rc.Close()
	r.dec = newXMLDecoder(rc, pkg, main)
	blocks, err := r.readDocument()
	if err != nil {
		return nil, err
	}
	if !hasText(blocks) {
		return nil, fixgraph.Errorf(fixgraph.EUNREADABLE, "the Word document has no text (only images, or nothing at all)")
	}
	if !r.styled {
		blocks = guessHeadings(blocks)
	}
	title := extract.Clean(stripControls(core.Title))
	blocks = withTitleHeading(cmp.Or(title, fileTitle(doc.Source)), blocks)
	return parsePage(doc, pageHTML(title, extract.LanguageTag(core.Language), blocks))
}

// relsOf returns the name of a part's relationships part.
func relsOf(part string) string {
	return path.Join(path.Dir(part), "_rels", path.Base(part)+".rels")
}

// target returns the part that main's relationship of type suffix points to, or the part named
// fallback beside main.
func (rels *docxRels) target(main, suffix, fallback string) string {
	for _, r := range rels.Rels {
		if strings.HasSuffix(r.Type, suffix) && r.TargetMode != "External" {
			if strings.HasPrefix(r.Target, "/") {
				return strings.TrimPrefix(path.Clean(r.Target), "/")
			}
			return path.Join(path.Dir(main), r.Target)
		}
	}
	return path.Join(path.Dir(main), fallback)
}

type docxRels struct {
	Rels []struct {
		ID         string `xml:"Id,attr"`
		Type       string `xml:"Type,attr"`
		Target     string `xml:"Target,attr"`
		TargetMode string `xml:"TargetMode,attr"`
	} `xml:"Relationship"`
}

type docxCore struct {
	Title    string `xml:"title"`
	Language string `xml:"language"`
}

type valAttr struct {
	Val string `xml:"val,attr"`
}

type docxNumPr struct {
	NumID valAttr `xml:"numId"`
	Ilvl  valAttr `xml:"ilvl"`
}

type docxStyle struct {
	Type    string  `xml:"type,attr"`
	ID      string  `xml:"styleId,attr"`
	Name    valAttr `xml:"name"`
	BasedOn valAttr `xml:"basedOn"`
	PPr     struct {
		OutlineLvl *valAttr   `xml:"outlineLvl"`
		NumPr      *docxNumPr `xml:"numPr"`
	} `xml:"pPr"`
}

type docxNumbering struct {
	Abstract []struct {
		ID     string `xml:"abstractNumId,attr"`
		Levels []struct {
			Ilvl   string  `xml:"ilvl,attr"`
			NumFmt valAttr `xml:"numFmt"`
		} `xml:"lvl"`
	} `xml:"abstractNum"`
	Nums []struct {
		ID       string  `xml:"numId,attr"`
		Abstract valAttr `xml:"abstractNumId"`
	} `xml:"num"`
}

// ordered reports whether list numId numbers its items at level ilvl (a bulleted list does not).
func (n *docxNumbering) ordered(numID, ilvl string) bool {
	if ilvl == "" {
		ilvl = "0"
	}
	for _, num := range n.Nums {
		if num.ID != numID {
			continue
		}
		for _, a := range n.Abstract {
			if a.ID != num.Abstract.Val {
				continue
			}
			for _, l := range a.Levels {
				if l.Ilvl == ilvl {
					return l.NumFmt.Val != "bullet" && l.NumFmt.Val != "none" && l.NumFmt.Val != ""
				}
			}
		}
	}
	return false
}

// headingStyleRE matches the names and ids Word gives heading styles: "heading 1", "Heading1",
// "标题 1", and the Title style.
var headingStyleRE = regexp.MustCompile(`(?i)^(?:heading|标题|標題|titre|überschrift|título|titolo)\s*([1-9])$`)

func (r *docxReader) readStyles(pkg *officePackage, part string) error {
	var styles struct {
		Styles []*docxStyle `xml:"style"`
	}
	if err := pkg.decodePart(part, &styles); err != nil {
		return err
	}
	r.styles = make(map[string]*docxStyle, len(styles.Styles))
	for _, s := range styles.Styles {
		if s.Type == "" || s.Type == "paragraph" {
			r.styles[s.ID] = s
		}
	}
	return nil
}

// styleChain returns a style and the styles it is based on, nearest first.
func (r *docxReader) styleChain(id string) []*docxStyle {
	var out []*docxStyle
	for id != "" && len(out) < 16 {
		s := r.styles[id]
		if s == nil {
			break
		}
		out = append(out, s)
		id = s.BasedOn.Val
	}
	return out
}

// styleHeading returns the heading level a paragraph style gives, or 0.
func (r *docxReader) styleHeading(id string) int {
	for _, s := range r.styleChain(id) {
		for _, name := range []string{s.Name.Val, s.ID} {
			name = strings.TrimSpace(name)
			if m := headingStyleRE.FindStringSubmatch(name); m != nil {
				return int(m[1][0] - '0')
			}
			if strings.EqualFold(name, "title") || name == "标题" {
				return 1
			}
		}
		if s.PPr.OutlineLvl != nil {
			return outlineLevel(s.PPr.OutlineLvl.Val)
		}
	}
	if m := headingStyleRE.FindStringSubmatch(id); m != nil { // a style used but not defined
		return int(m[1][0] - '0')
	}
	return 0
}

// outlineLevel turns w:outlineLvl (0 to 8; 9 is body text) into a heading level.
func outlineLevel(v string) int {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 8 {
		return 0
	}
	return n + 1
}

// isTOCStyle reports whether a style is one of a table of contents' ("toc 1", "目录 1").
func (r *docxReader) isTOCStyle(id string) bool {
	for _, s := range r.styleChain(id) {
		n := strings.ToLower(strings.TrimSpace(s.Name.Val))
		if strings.HasPrefix(n, "toc ") || strings.HasPrefix(n, "目录") || n == "toc heading" {
			return true
		}
	}
	return false
}

// styleNumPr returns the list numbering a style gives its paragraphs, if any.
func (r *docxReader) styleNumPr(id string) *docxNumPr {
	for _, s := range r.styleChain(id) {
		if s.PPr.NumPr != nil {
			return s.PPr.NumPr
		}
	}
	return nil
}

func (r *docxReader) token() (xml.Token, error) {
	t, err := r.dec.Token()
	if err == io.EOF {
		return nil, fixgraph.Errorf(fixgraph.EUNREADABLE, "part %q of the .docx ends early: the file was cut off", r.part)
	}
	if err != nil {
		return nil, r.pkg.partError(r.part, err)
	}
	return t, nil
}

func (r *docxReader) skip() error {
	if err := r.dec.Skip(); err != nil {
		return r.pkg.partError(r.part, err)
	}
	return nil
}

func (r *docxReader) decode(v any, start *xml.StartElement) error {
	if err := r.dec.DecodeElement(v, start); err != nil {
		return r.pkg.partError(r.part, err)
	}
	return nil
}

func (r *docxReader) tooDeep(depth int) error {
	if depth > maxXMLDepth {
		return fixgraph.Errorf(fixgraph.EUNREADABLE, "part %q of the .docx nests tables or fields more than %d deep; refused", r.part, maxXMLDepth)
	}
	return nil
}

// readDocument reads the body of the main part.
func (r *docxReader) readDocument() ([]block, error) {
	for {
		t, err := r.dec.Token()
		if err == io.EOF {
			return nil, fixgraph.Errorf(fixgraph.EUNREADABLE, "not a Word document: part %q has no body", r.part)
		}
		if err != nil {
			return nil, r.pkg.partError(r.part, err)
		}
		if s, ok := t.(xml.StartElement); ok && s.Name.Local == "body" {
			return r.readContainer(1, nil)
		}
	}
}

// blockWrappers are elements around paragraphs and tables that are read through: content
// controls, custom XML, tracked insertions.
var blockWrappers = map[string]bool{"sdt": true, "sdtContent": true, "customXml": true, "ins": true, "moveTo": true, "smartTag": true}

// cellProps are a table cell's properties.
type cellProps struct {
	GridSpan valAttr  `xml:"gridSpan"`
	VMerge   *valAttr `xml:"vMerge"`
}

// readContainer reads paragraphs and tables up to the end of the element it is in: the body, a
// table cell (whose properties go to props), a content control.
func (r *docxReader) readContainer(depth int, props *cellProps) ([]block, error) {
	if err := r.tooDeep(depth); err != nil {
		return nil, err
	}
	var out []block
	for {
		t, err := r.token()
		if err != nil {
			return nil, err
		}
		switch t := t.(type) {
		case xml.EndElement:
			return out, nil
		case xml.StartElement:
			switch name := t.Name.Local; {
			case name == "p":
				b, ok, err := r.readParagraph(depth)
				if err != nil {
					return nil, err
				}
				if ok {
					out = append(out, b)
				}
			case name == "tbl":
				b, err := r.readTable(depth + 1)
				if err != nil {
					return nil, err
				}
				if b.text != "" {
					out = append(out, b)
				}
			case name == "tcPr" && props != nil:
				if err := r.decode(props, &t); err != nil {
					return nil, err
				}
			case blockWrappers[name]:
				inner, err := r.readContainer(depth+1, nil)
				if err != nil {
					return nil, err
				}
				out = append(out, inner...)
			default:
				if err := r.skip(); err != nil {
					return nil, err
				}
			}
		}
	}
}

// paragraph collects a paragraph's properties and text.
type paragraph struct {
	style      string
	numPr      *docxNumPr
	outline    string
	html, text strings.Builder
	bookmark   string
	runs, bold int // runs with text, and how many of them are bold
}

// inlineWrappers are elements around runs that are read through.
var inlineWrappers = map[string]bool{"ins": true, "moveTo": true, "smartTag": true, "customXml": true, "sdt": true, "sdtContent": true, "fldSimple": true, "dir": true, "bdo": true}

// readParagraph reads a w:p into a block; ok is false for a paragraph without text or one of a
// table of contents.
func (r *docxReader) readParagraph(depth int) (b block, ok bool, err error) {
	var p paragraph
	if err := r.readInline(&p, depth, ""); err != nil {
		return block{}, false, err
	}
	text := extract.Clean(p.text.String())
	if text == "" || r.isTOCStyle(p.style) {
		return block{}, false, nil
	}
	b = block{kind: blockPara, html: strings.TrimSpace(p.html.String()), text: text, id: p.bookmark}
	b.bold = p.runs > 0 && p.bold == p.runs
	level := outlineLevel(p.outline)
	if level == 0 && p.outline == "" {
		level = r.styleHeading(p.style)
	}
	numPr := p.numPr
	if numPr == nil {
		numPr = r.styleNumPr(p.style)
	}
	switch {
	case level > 0:
		r.styled = true
		b.kind, b.level, b.html = blockHeading, level, html.EscapeString(text)
	case numPr != nil && numPr.NumID.Val != "" && numPr.NumID.Val != "0":
		b.kind, b.list, b.ordered = blockItem, numPr.NumID.Val, r.numbering.ordered(numPr.NumID.Val, numPr.Ilvl.Val)
	}
	return b, true, nil
}

// readInline reads the content of a paragraph, or of a hyperlink or wrapper inside it, up to
// its end. href is the link the runs stand in, if any.
func (r *docxReader) readInline(p *paragraph, depth int, href string) error {
	if err := r.tooDeep(depth); err != nil {
		return err
	}
	for {
		t, err := r.token()
		if err != nil {
			return err
		}
		switch t := t.(type) {
		case xml.EndElement:
			return nil
		case xml.StartElement:
			switch name := t.Name.Local; {
			case name == "pPr":
				var props struct {
					Style      valAttr    `xml:"pStyle"`
					NumPr      *docxNumPr `xml:"numPr"`
					OutlineLvl *valAttr   `xml:"outlineLvl"`
				}
				if err := r.decode(&props, &t); err != nil {
					return err
				}
				p.style, p.numPr = props.Style.Val, props.NumPr
				if props.OutlineLvl != nil {
					p.outline = props.OutlineLvl.Val
				}
			case name == "r":
				if err := r.readRun(p, href); err != nil {
					return err
				}
			case name == "hyperlink":
				link := r.links[attrLocal(t, "id")]
				if a := attrLocal(t, "anchor"); a != "" {
					link = "#" + a
				}
				if err := r.readInline(p, depth+1, link); err != nil {
					return err
				}
			case name == "bookmarkStart":
				if n := attrLocal(t, "name"); p.bookmark == "" && n != "" && n != "_GoBack" {
					p.bookmark = n
				}
				if err := r.skip(); err != nil {
					return err
				}
			case inlineWrappers[name]:
				if err := r.readInline(p, depth+1, href); err != nil {
					return err
				}
			default: // deletions, comments, proofing marks, math
				if err := r.skip(); err != nil {
					return err
				}
			}
		}
	}
}

// attrLocal returns the value of the attribute with local name key, whatever its namespace.
func attrLocal(s xml.StartElement, key string) string {
	for _, a := range s.Attr {
		if a.Name.Local == key {
			return a.Value
		}
	}
	return ""
}

// readRun reads a w:r: its text, tabs and line breaks. Hidden text, deleted text, field codes and
// drawings (text boxes included) are left out.
func (r *docxReader) readRun(p *paragraph, href string) error {
	var text strings.Builder
	bold, hidden := false, false
	for {
		t, err := r.token()
		if err != nil {
			return err
		}
		switch t := t.(type) {
		case xml.EndElement:
			s := text.String()
			if hidden || s == "" {
				return nil
			}
			if strings.TrimSpace(s) != "" {
				p.runs++
				if bold {
					p.bold++
				}
			}
			p.text.WriteString(s)
			esc := strings.ReplaceAll(html.EscapeString(s), "\n", "<br>")
			if href != "" && !strings.HasPrefix(strings.ToLower(strings.TrimSpace(href)), "javascript:") {
				esc = `<a href="` + html.EscapeString(href) + `">` + esc + "</a>"
			}
			p.html.WriteString(esc)
			return nil
		case xml.StartElement:
			switch t.Name.Local {
			case "rPr":
				var props struct {
					Bold   *valAttr `xml:"b"`
					Vanish *valAttr `xml:"vanish"`
				}
				if err := r.decode(&props, &t); err != nil {
					return err
				}
				bold, hidden = onOff(props.Bold), onOff(props.Vanish)
			case "t":
				var s string
				if err := r.decode(&s, &t); err != nil {
					return err
				}
				text.WriteString(stripControls(s))
			case "tab", "ptab":
				text.WriteString(" ")
				if err := r.skip(); err != nil {
					return err
				}
			case "br", "cr":
				if attrLocal(t, "type") != "page" && attrLocal(t, "type") != "column" {
					text.WriteString("\n")
				}
				if err := r.skip(); err != nil {
					return err
				}
			case "noBreakHyphen":
				text.WriteString("-")
				if err := r.skip(); err != nil {
					return err
				}
			default:
				if err := r.skip(); err != nil {
					return err
				}
			}
		}
	}
}

// onOff reads a WordprocessingML toggle: present and not "0", "false" or "off".
func onOff(v *valAttr) bool {
	return v != nil && v.Val != "0" && v.Val != "false" && v.Val != "off"
}

// docxCell is a table cell: its content as HTML, the grid columns it spans, and whether it
// continues the merged cell above.
type docxCell struct {
	html, text string
	span       int
	merge      string // "restart", "continue" or ""
}

// readTable reads a w:tbl into a table block: the first row as header cells (a first row that is
// one cell across the whole table is its caption instead), w:gridSpan as colspan, and a vertically
// merged cell's text repeated in each row it covers, as a reader sees it.
func (r *docxReader) readTable(depth int) (block, error) {
	if err := r.tooDeep(depth); err != nil {
		return block{}, err
	}
	var rows [][]docxCell
	var befores []int
	for {
		t, err := r.token()
		if err != nil {
			return block{}, err
		}
		if e, ok := t.(xml.EndElement); ok && e.Name.Local == "tbl" {
			break
		}
		s, ok := t.(xml.StartElement)
		if !ok {
			continue
		}
		switch {
		case s.Name.Local == "tr":
			row, before, err := r.readRow(depth)
			if err != nil {
				return block{}, err
			}
			rows = append(rows, row)
			befores = append(befores, before)
		case blockWrappers[s.Name.Local]:
			// read through: rows inside a content control
		default:
			if err := r.skip(); err != nil {
				return block{}, err
			}
		}
	}
	return tableBlock(rows, befores), nil
}

// readRow reads a w:tr; before is the number of grid columns left empty before its first cell.
func (r *docxReader) readRow(depth int) (cells []docxCell, before int, err error) {
	for {
		t, err := r.token()
		if err != nil {
			return nil, 0, err
		}
		if e, ok := t.(xml.EndElement); ok && e.Name.Local == "tr" {
			return cells, before, nil
		}
		s, ok := t.(xml.StartElement)
		if !ok {
			continue
		}
		switch {
		case s.Name.Local == "trPr":
			var props struct {
				GridBefore valAttr `xml:"gridBefore"`
			}
			if err := r.decode(&props, &s); err != nil {
				return nil, 0, err
			}
			before, _ = strconv.Atoi(props.GridBefore.Val)
			before = min(max(before, 0), maxTableColumns)
		case s.Name.Local == "tc":
			var props cellProps
			content, err := r.readContainer(depth+1, &props)
			if err != nil {
				return nil, 0, err
			}
			span, _ := strconv.Atoi(props.GridSpan.Val)
			c := docxCell{span: min(max(span, 1), maxTableColumns)}
			if props.VMerge != nil {
				c.merge = cmp.Or(props.VMerge.Val, "continue")
			}
			var b strings.Builder
			writeBlocks(&b, content, false)
			c.html = b.String()
			for _, bl := range content {
				c.text += bl.text + " "
			}
			cells = append(cells, c)
		case blockWrappers[s.Name.Local]:
		default:
			if err := r.skip(); err != nil {
				return nil, 0, err
			}
		}
	}
}

// maxTableColumns bounds the grid columns a Word table may claim (Word allows 63).
const maxTableColumns = 1000

// tableBlock writes the rows of a Word table as an HTML table.
func tableBlock(rows [][]docxCell, befores []int) block {
	// Place each cell on the grid, carrying vertically merged cells down.
	carry := make(map[int]docxCell)
	var grid [][]placedCell
	for i, row := range rows {
		col := befores[i]
		var out []placedCell
		for _, c := range row {
			switch c.merge {
			case "continue":
				if above, ok := carry[col]; ok {
					c.html, c.text = above.html, above.text
				}
			case "restart":
				carry[col] = c
			default:
				delete(carry, col)
			}
			out = append(out, placedCell{c, col})
			col += c.span
		}
		if strings.TrimSpace(joinCellText(out, func(p placedCell) string { return p.text })) != "" {
			grid = append(grid, out)
		}
	}
	if len(grid) == 0 {
		return block{kind: blockTable}
	}
	var b, text strings.Builder
	b.WriteString("<table>")
	if len(grid) > 1 && len(grid[0]) == 1 && grid[0][0].span > 1 && grid[0][0].span >= gridWidth(grid[1]) {
		b.WriteString("<caption>" + html.EscapeString(extract.Clean(grid[0][0].text)) + "</caption>")
		text.WriteString(grid[0][0].text + "\n")
		grid = grid[1:]
	}
	for i, row := range grid {
		tag := "td"
		if i == 0 {
			tag = "th"
		} else if i%sheetTableRows == 0 {
			// A long table is written as several, each with the header (see sheetTableRows).
			b.WriteString("</table>\n<table>")
			writeDOCXRow(&b, grid[0], "th")
		}
		writeDOCXRow(&b, row, tag)
		for _, c := range row {
			text.WriteString(c.text + " ")
		}
		text.WriteString("\n")
	}
	b.WriteString("</table>\n")
	return block{kind: blockTable, html: b.String(), text: extract.CleanBlock(text.String())}
}

// writeDOCXRow writes a table row of tag cells (th or td).
func writeDOCXRow(b *strings.Builder, row []placedCell, tag string) {
	b.WriteString("<tr>")
	for _, c := range row {
		span := ""
		if c.span > 1 {
			span = ` colspan="` + strconv.Itoa(c.span) + `"`
		}
		b.WriteString("<" + tag + span + ">" + c.html + "</" + tag + ">")
	}
	b.WriteString("</tr>\n")
}

// placedCell is a cell at its column of the table's grid.
type placedCell struct {
	docxCell
	col int
}

// gridWidth returns the grid columns a row of cells covers.
func gridWidth(row []placedCell) int {
	if len(row) == 0 {
		return 0
	}
	return row[len(row)-1].col + row[len(row)-1].span
}

func joinCellText[T any](cells []T, text func(T) string) string {
	var b strings.Builder
	for _, c := range cells {
		b.WriteString(text(c))
	}
	return b.String()
}

// guessHeadings finds the headings of a document whose author set none: a short paragraph all in
// bold, or one worded as a chapter or section (第一章, 第一节, 一、), that does not end as a
// sentence does.
func guessHeadings(blocks []block) []block {
	for i, b := range blocks {
		if b.kind != blockPara || utf8.RuneCountInString(b.text) > maxHeadingRunes || endsSentence(b.text) {
			continue
		}
		level := textHeadingLevel(b.text)
		worded := chapterRE.MatchString(b.text) || subsectionRE.MatchString(b.text) || cnNumberedRE.MatchString(b.text)
		if b.bold || worded {
			blocks[i].kind, blocks[i].level, blocks[i].html = blockHeading, cmp.Or(level, 2), html.EscapeString(b.text)
		}
	}
	return blocks
}
