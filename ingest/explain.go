package ingest

import (
	"bytes"
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/extract"
)

// Explanation is what ingest recognised in a file, for a department to see at once why a manual
// came out wrong: the kind it was read as and why, the troubleshooting tables with the role it
// gave each column, and every error code with its meaning, remedy and page.
type Explanation struct {
	Source     string           `json:"source"`
	Kind       fixgraph.DocKind `json:"kind,omitempty"`
	KindReason string           `json:"kindReason,omitempty"`
	Title      string           `json:"title,omitempty"`
	Language   string           `json:"language,omitempty"`
	Pages      int              `json:"pages,omitempty"`
	Sections   int              `json:"sections"`
	Tables     []TableNote      `json:"tables"`
	Codes      []CodeNote       `json:"codes"`
	Error      string           `json:"error,omitempty"`
}

// TableNote is a troubleshooting table as ingest read it.
type TableNote struct {
	Page    int          `json:"page,omitempty"`
	Columns []ColumnNote `json:"columns"`
	Rows    int          `json:"rows"`
	Codes   int          `json:"codes"`
}

// ColumnNote is a table column: its header and the role ingest gave it (code, symptom, cause,
// remedy, severity, video, part, or none).
type ColumnNote struct {
	Header string `json:"header"`
	Role   string `json:"role"`
}

// CodeNote is an error code ingest made.
type CodeNote struct {
	Code    string   `json:"code"`
	Product string   `json:"product,omitempty"`
	Symptom string   `json:"symptom,omitempty"`
	Cause   string   `json:"cause,omitempty"`
	Remedy  []string `json:"remedy,omitempty"`
	Page    int      `json:"page,omitempty"`
	Where   string   `json:"where,omitempty"` // the heading path of the section that defines it
}

var roleNames = [...]string{colCode: "code", colSymptom: "symptom", colCause: "cause", colSolution: "remedy",
	colSeverity: "severity", colVideo: "video", colPart: "part", colNone: "none"}

// Explain reads a file as ingest does, without writing anything, and says what it recognised.
// A file ingest refuses gets an explanation with the error.
func (p *Pipeline) Explain(ctx context.Context, source string, data []byte) *Explanation {
	ex := &Explanation{Source: source, Tables: []TableNote{}, Codes: []CodeNote{}}
	b, err := p.Parse(ctx, source, data)
	if err != nil {
		ex.Error = fixgraph.MessageOf(err)
		return ex
	}
	d := b.Document
	ex.Kind, ex.KindReason, ex.Title, ex.Language, ex.Pages = d.Kind, d.KindReason, d.Title, d.Language, d.Pages
	ex.Tables = p.tableNotes(ctx, source, data)

	sections := make(map[string]*fixgraph.Section)
	guides := make(map[string]*fixgraph.RepairGuide)
	for _, n := range b.Nodes {
		switch n := n.(type) {
		case *fixgraph.Section:
			sections[n.ID] = n
			ex.Sections++
		case *fixgraph.RepairGuide:
			guides[n.ID] = n
		}
	}
	fixedBy := make(map[string][]string)
	for _, e := range b.Edges {
		if e.Rel == fixgraph.RelFixedBy {
			fixedBy[e.From] = append(fixedBy[e.From], e.To)
		}
	}
	for _, n := range b.Nodes {
		ec, ok := n.(*fixgraph.ErrorCode)
		if !ok {
			continue
		}
		note := CodeNote{Code: ec.Code, Product: ec.Product, Symptom: ec.Symptom.In(d.Language), Cause: ec.Cause.In(d.Language)}
		for _, id := range fixedBy[ec.ID] {
			g := guides[id]
			if g == nil {
				continue
			}
			note.Remedy = append(note.Remedy, g.Steps...)
			if sec := sections[g.SectionID]; sec != nil && note.Where == "" {
				note.Page, note.Where = sec.Page, strings.Join(sec.HeadingPath, " › ")
			}
		}
		ex.Codes = append(ex.Codes, note)
	}
	return ex
}

// tableNotes reads the troubleshooting tables of a PDF or HTML file again, for their columns.
func (p *Pipeline) tableNotes(ctx context.Context, source string, data []byte) []TableNote {
	out := []TableNote{}
	switch ext := extOf(source); {
	case ext == ".pdf" || bytes.HasPrefix(data, []byte("%PDF-")):
		lines, _, err := readPDF(ctx, data, p.PDF)
		if err != nil {
			return out
		}
		for _, t := range findCodeTables(lines, headingLevels(lines)) {
			n := TableNote{Page: lines[t.headers[0]].page, Rows: len(t.rows)}
			for i, h := range t.header {
				n.Columns = append(n.Columns, ColumnNote{Header: h, Role: roleNames[t.roles[i]]})
			}
			for _, r := range t.rows {
				n.Codes += len(r.codes)
			}
			out = append(out, n)
		}
	case ext == ".html" || ext == ".htm" || ext == ".xhtml" || ext == "" && looksLikeHTML(data):
		data, err := htmlToUTF8(data, "")
		if err != nil {
			return out
		}
		page, err := parseHTMLPage(data)
		if err != nil {
			return out
		}
		for _, t := range page.tables {
			_, under := troubleshootingLayout(t.node)
			cells := headerCells(t.node)
			var n TableNote
			k := 0
			for _, c := range cells {
				role := colNone
				if k < len(under) {
					role = under[k]
				}
				n.Columns = append(n.Columns, ColumnNote{Header: extract.Clean(nodeText(c)), Role: roleNames[role]})
				k += max(1, min(atoiOr(attr(c, "colspan"), 1), 20))
			}
			for _, r := range troubleshootingRows(t.node) {
				n.Rows++
				codes, _ := extract.CellCodes(r.code)
				n.Codes += len(codes)
			}
			out = append(out, n)
		}
	}
	return slices.Clip(out)
}

// atoiOr returns s as a number, or or when it is none.
func atoiOr(s string, or int) int {
	if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
		return n
	}
	return or
}
