package ingest

import (
	"bytes"
	"cmp"
	"html"
	"regexp"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	goldhtml "github.com/yuin/goldmark/renderer/html"
	gtext "github.com/yuin/goldmark/text"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/extract"
)

// markdown renders CommonMark with GitHub's tables. Raw HTML in the source is kept: the result is
// read by the HTML reader, never served, and manuals written in Markdown often hold HTML tables.
// Soft line breaks between Chinese characters are dropped rather than made spaces.
var markdown = goldmark.New(
	goldmark.WithExtensions(extension.Table),
	goldmark.WithParserOptions(parser.WithAutoHeadingID()),
	goldmark.WithRendererOptions(goldhtml.WithUnsafe(), goldhtml.WithEastAsianLineBreaks(goldhtml.EastAsianLineBreaksSimple)),
)

// frontTitleRE finds the title field of a front matter block.
var frontTitleRE = regexp.MustCompile(`(?m)^title:[ \t]*["']?(.*?)["']?[ \t]*$`)

// parseMarkdown reads a Markdown file into a batch through the HTML reader: headings become
// sections, GitHub tables troubleshooting tables, lists steps. A file without headings is one
// section headed by its front matter title or its file name.
func parseMarkdown(doc *fixgraph.Document, data []byte) (*fixgraph.Batch, error) {
	data, err := textToUTF8(data)
	if err != nil {
		return nil, err
	}
	title := ""
	if front, rest, ok := frontMatter(data); ok {
		if t := frontTitleRE.FindSubmatch(front); t != nil {
			title = extract.Clean(string(t[1]))
		}
		data = rest
	}
	data = tameMarkdown(data)
	root := markdown.Parser().Parse(gtext.NewReader(data))
	headed := false
	ast.Walk(root, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if _, ok := n.(*ast.Heading); ok && entering {
			headed = true
			return ast.WalkStop, nil
		}
		return ast.WalkContinue, nil
	})
	var body bytes.Buffer
	if err := markdown.Renderer().Render(&body, data, root); err != nil {
		return nil, fixgraph.WrapError(fixgraph.EUNREADABLE, err, "not readable as Markdown")
	}
	var page bytes.Buffer
	page.WriteString(`<!DOCTYPE html><html lang="` + extract.DetectLanguage(string(data)) + `"><head><meta charset="utf-8">`)
	if title != "" {
		page.WriteString("<title>" + html.EscapeString(title) + "</title>")
	}
	page.WriteString("</head><body>\n")
	if !headed {
		page.WriteString("<h1>" + html.EscapeString(cmp.Or(title, fileTitle(doc.Source), "Document")) + "</h1>\n")
	}
	page.Write(body.Bytes())
	page.WriteString("</body></html>\n")
	if !hasPageText(body.Bytes()) {
		return nil, fixgraph.Errorf(fixgraph.EUNREADABLE, "the Markdown file has no text")
	}
	return parsePage(doc, page.Bytes())
}

// goldmark's parse is quadratic, or worse, in the link openers of one paragraph and in the
// quotes and lists nested in one another (a file of 200 KB can take a minute). Past these
// limits, which no written manual comes near, markers are escaped and read as text, and deeper
// indentation is cut.
const (
	maxMarkdownBrackets = 1000 // [ in one block, between blank lines
	maxMarkdownNesting  = 32   // quote and list markers at the start of one line
	maxMarkdownIndent   = 64   // columns of indentation (a tab counts 4)
)

// tameMarkdown escapes the link openers of blocks with more than maxMarkdownBrackets of them and
// the container markers past maxMarkdownNesting on a line, and cuts indentation past
// maxMarkdownIndent.
func tameMarkdown(data []byte) []byte {
	wild := bytes.Count(data, []byte("[")) > maxMarkdownBrackets
	for rest := data; !wild && len(rest) > 0; {
		var line []byte
		line, rest, _ = bytes.Cut(rest, []byte("\n"))
		wild = !bytes.Equal(tameLine(line), line)
	}
	if !wild {
		return data
	}
	var out bytes.Buffer
	lines := bytes.SplitAfter(data, []byte("\n"))
	start := 0
	flush := func(end int) {
		block := bytes.Join(lines[start:end], nil)
		if bytes.Count(block, []byte("[")) > maxMarkdownBrackets {
			block = bytes.ReplaceAll(block, []byte("["), []byte(`\[`))
		}
		for _, line := range bytes.SplitAfter(block, []byte("\n")) {
			out.Write(tameLine(line))
		}
		start = end
	}
	for i, l := range lines {
		if len(bytes.TrimSpace(l)) == 0 {
			flush(i)
		}
	}
	flush(len(lines))
	return out.Bytes()
}

// tameLine returns line with its indentation cut to maxMarkdownIndent columns and a backslash
// before its container marker past maxMarkdownNesting; line itself when neither is needed.
func tameLine(line []byte) []byte {
	width, i := 0, 0
	for ; i < len(line) && (line[i] == ' ' || line[i] == '\t'); i++ {
		if line[i] == '\t' {
			width += 4
		} else {
			width++
		}
	}
	if width > maxMarkdownIndent {
		line = append(bytes.Repeat([]byte(" "), maxMarkdownIndent), line[i:]...)
	}
	if at := nestingCut(line); at >= 0 {
		return append(append(append([]byte(nil), line[:at]...), '\\'), line[at:]...)
	}
	return line
}

// nestingCut returns where the container marker past maxMarkdownNesting starts on line (block
// quote >, bullet -+*, number 1. or 1)), or -1.
func nestingCut(line []byte) int {
	depth := 0
	for i := 0; i < len(line); {
		switch c := line[i]; {
		case c == ' ' || c == '\t':
			i++
			continue
		case c == '>':
			depth++
			if depth > maxMarkdownNesting {
				return i
			}
			i++
			continue
		case c == '-' || c == '+' || c == '*':
			if i+1 < len(line) && (line[i+1] == ' ' || line[i+1] == '\t') {
				depth++
				if depth > maxMarkdownNesting {
					return i
				}
				i += 2
				continue
			}
		case c >= '0' && c <= '9':
			j := i
			for j < len(line) && j-i < 9 && line[j] >= '0' && line[j] <= '9' {
				j++
			}
			if j+1 < len(line) && (line[j] == '.' || line[j] == ')') && (line[j+1] == ' ' || line[j+1] == '\t') {
				depth++
				if depth > maxMarkdownNesting {
					return i
				}
				i = j + 2
				continue
			}
		}
		return -1
	}
	return -1
}

// maxFrontMatter is the longest front matter block looked for.
const maxFrontMatter = 8 << 10

// frontMatter splits a YAML front matter block (between lines of ---) off the start of a
// Markdown file.
func frontMatter(data []byte) (front, rest []byte, ok bool) {
	first, after, found := bytes.Cut(data, []byte("\n"))
	if !found || string(bytes.TrimRight(first, " \t\r")) != "---" {
		return nil, data, false
	}
	for off := 0; off < len(after) && off < maxFrontMatter; {
		line, next, _ := bytes.Cut(after[off:], []byte("\n"))
		if l := string(bytes.TrimRight(line, " \t\r")); l == "---" || l == "..." {
			return after[:off], after[min(off+len(line)+1, len(after)):], true
		}
		if len(next) == 0 {
			break
		}
		off += len(line) + 1
	}
	return nil, data, false
}

// hasPageText reports whether rendered HTML has any text outside its tags.
func hasPageText(b []byte) bool {
	in := false
	for _, c := range b {
		switch {
		case c == '<':
			in = true
		case c == '>':
			in = false
		case !in && c != ' ' && c != '\n' && c != '\t' && c != '\r':
			return true
		}
	}
	return false
}
