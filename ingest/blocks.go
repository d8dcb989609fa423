package ingest

import (
	"html"
	"path"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/extract"
)

// Word documents, Markdown, plain text and spreadsheets all become an HTML page that the HTML
// reader splits into sections (parseHTMLPage), so headings, lists and tables take one path to
// sections, FAQs, error codes and repair guides. DOCX and plain text first become blocks, which
// pageHTML writes as HTML.

type blockKind int

const (
	blockPara blockKind = iota
	blockHeading
	blockItem  // a list item
	blockTable // html holds the whole table
)

// block is a paragraph-level piece of a document. html is its inner HTML, already escaped; text
// is its plain text, for the heuristics that look at wording.
type block struct {
	kind    blockKind
	level   int    // heading level, 1 to 6
	ordered bool   // list item of a numbered list
	list    string // list item: which list it belongs to; a change starts a new list
	id      string // anchor
	bold    bool   // paragraph: all its text is bold
	html    string
	text    string
}

// pageHTML writes blocks as an HTML page with a title (none when empty) and a language (told
// from the blocks' text when empty). Runs of paragraphs that are question-and-answer pairs
// (问：… 答：…, Q: … A: …) become a definition list, as FAQ pages mark them, when they are most
// of the page (qaPage); paragraphs numbered 1, 2, 3 by hand become an ordered list, so steps
// typed without Word's numbering are steps too.
func pageHTML(title, lang string, blocks []block) []byte {
	if lang == "" {
		// The HTML reader would tell the language from the sections' text, which leaves out
		// troubleshooting tables: a spreadsheet of codes would be taken for English by its
		// sheet's name.
		var all strings.Builder
		for _, bl := range blocks {
			all.WriteString(bl.text + "\n")
		}
		lang = extract.DetectLanguage(all.String())
	}
	var b strings.Builder
	b.WriteString("<!DOCTYPE html><html")
	if lang != "" {
		b.WriteString(` lang="` + html.EscapeString(lang) + `"`)
	}
	b.WriteString("><head><meta charset=\"utf-8\">")
	if title != "" {
		b.WriteString("<title>" + html.EscapeString(title) + "</title>")
	}
	b.WriteString("</head><body>\n")
	writeBlocks(&b, blocks, qaPage(blocks))
	b.WriteString("</body></html>\n")
	return []byte(b.String())
}

// qaPage reports whether question-and-answer paragraphs make up at least half of a page's
// paragraphs, list items and tables. Only then are they written as a FAQ's markup: a page with
// three pairs or more in it is a FAQ page, and a manual with a few questions in one chapter is
// to stay a manual.
func qaPage(blocks []block) bool {
	qa, other := 0, 0
	for i := 0; i < len(blocks); {
		switch n := qaRun(blocks[i:]); {
		case n > 0:
			qa += n
			i += n
		case blocks[i].kind == blockHeading:
			i++
		default:
			other++
			i++
		}
	}
	return qa > 0 && qa >= other
}

// writeBlocks writes blocks as HTML: a table cell's content, or a page's body. qa says whether
// question-and-answer paragraphs are written as a definition list.
func writeBlocks(b *strings.Builder, blocks []block, qa bool) {
	for i := 0; i < len(blocks); {
		bl := blocks[i]
		switch bl.kind {
		case blockHeading:
			tag := "h" + strconv.Itoa(min(max(bl.level, 1), 6))
			b.WriteString("<" + tag + idAttr(bl.id) + ">" + bl.html + "</" + tag + ">\n")
			i++
		case blockTable:
			b.WriteString(bl.html)
			i++
		case blockItem:
			tag := "ul"
			if bl.ordered {
				tag = "ol"
			}
			b.WriteString("<" + tag + ">")
			j := i
			for ; j < len(blocks) && blocks[j].kind == blockItem && blocks[j].list == bl.list && blocks[j].ordered == bl.ordered; j++ {
				b.WriteString("<li" + idAttr(blocks[j].id) + ">" + blocks[j].html + "</li>")
			}
			b.WriteString("</" + tag + ">\n")
			i = j
		default:
			if n := qaRun(blocks[i:]); qa && n > 0 {
				writeQA(b, blocks[i:i+n])
				i += n
				continue
			}
			if n := numberedRun(blocks[i:]); n > 0 {
				b.WriteString("<ol>")
				for _, s := range blocks[i : i+n] {
					b.WriteString("<li" + idAttr(s.id) + ">" + html.EscapeString(stripStepNumber(s.text)) + "</li>")
				}
				b.WriteString("</ol>\n")
				i += n
				continue
			}
			b.WriteString("<p" + idAttr(bl.id) + ">" + bl.html + "</p>\n")
			i++
		}
	}
}

func idAttr(id string) string {
	if id == "" {
		return ""
	}
	return ` id="` + html.EscapeString(id) + `"`
}

var (
	questionRE = regexp.MustCompile(`^\s*(?:问题|问|Q|Question)\s*\d{0,3}\s*[:：.．、]\s*`)
	answerRE   = regexp.MustCompile(`^\s*(?:答案|回答|答|A|Answer)\s*\d{0,3}\s*[:：.．、]\s*`)
	stepRE     = regexp.MustCompile(`^\s*(\d{1,2})\s*[.、．)）]\s*`)
)

// qaRun returns how many paragraphs from the first are question-and-answer pairs: a question
// paragraph, an answer paragraph, and the answer's further paragraphs up to the next question.
// It returns 0 unless the run starts with a question answered at once.
func qaRun(blocks []block) int {
	if len(blocks) < 2 || !isPara(blocks[0]) || !questionRE.MatchString(blocks[0].text) || !isPara(blocks[1]) || !answerRE.MatchString(blocks[1].text) {
		return 0
	}
	n := 2
	for n < len(blocks) && isPara(blocks[n]) {
		if questionRE.MatchString(blocks[n].text) {
			if n+1 >= len(blocks) || !isPara(blocks[n+1]) || !answerRE.MatchString(blocks[n+1].text) {
				break
			}
			n += 2
			continue
		}
		n++
	}
	return n
}

func isPara(b block) bool { return b.kind == blockPara }

// writeQA writes a run found by qaRun as a definition list.
func writeQA(b *strings.Builder, blocks []block) {
	b.WriteString("<dl>")
	open := ""
	for _, bl := range blocks {
		switch {
		case questionRE.MatchString(bl.text):
			b.WriteString(open + "<dt" + idAttr(bl.id) + ">" + html.EscapeString(questionRE.ReplaceAllString(bl.text, "")) + "</dt><dd>")
			open = ""
		case answerRE.MatchString(bl.text) && open == "":
			b.WriteString(html.EscapeString(answerRE.ReplaceAllString(bl.text, "")))
			open = "</dd>"
		default:
			b.WriteString("<br>" + bl.html)
		}
	}
	b.WriteString("</dd></dl>\n")
}

// numberedRun returns how many paragraphs from the first are numbered 1, 2, 3… by hand; 0 unless
// at least two are.
func numberedRun(blocks []block) int {
	n := 0
	for n < len(blocks) && isPara(blocks[n]) {
		m := stepRE.FindStringSubmatch(blocks[n].text)
		if m == nil || m[1] != strconv.Itoa(n+1) || strings.TrimSpace(blocks[n].text[len(m[0]):]) == "" {
			break
		}
		n++
	}
	if n < 2 {
		return 0
	}
	return n
}

func stripStepNumber(s string) string {
	return strings.TrimSpace(stepRE.ReplaceAllString(s, ""))
}

// Heading-like lines in text without markup.
var (
	chapterRE    = regexp.MustCompile(`^第[0-9一二三四五六七八九十百零〇两]+[章篇部]`)
	subsectionRE = regexp.MustCompile(`^第[0-9一二三四五六七八九十百零〇两]+节`)
	clauseRE     = regexp.MustCompile(`^第[0-9一二三四五六七八九十百零〇两]+条`)
	cnNumberedRE = regexp.MustCompile(`^[一二三四五六七八九十]+[、.．]`)
	cnParenRE    = regexp.MustCompile(`^[（(][一二三四五六七八九十]+[）)]`)
	numberedRE   = regexp.MustCompile(`^(\d{1,2}(?:\.\d{1,2}){0,3})(?:[.、．)]\s*|\s+)\S`)
)

// maxHeadingRunes is the longest a line without markup may be and still be taken for a heading.
const maxHeadingRunes = 60

// textHeadingLevel returns the heading level that a line's wording suggests (第一章 1, 第一节 2,
// 一、 2, 1. 2, 1.1 3, （一） 3, 第一条 3, ALL CAPS 2), or 0 when the wording is not a heading's.
// A heading is short and does not end as a sentence does.
func textHeadingLevel(line string) int {
	line = strings.TrimSpace(line)
	if line == "" || utf8.RuneCountInString(line) > maxHeadingRunes || endsSentence(line) {
		return 0
	}
	switch {
	case chapterRE.MatchString(line):
		return 1
	case subsectionRE.MatchString(line), cnNumberedRE.MatchString(line):
		return 2
	case clauseRE.MatchString(line), cnParenRE.MatchString(line):
		return 3
	}
	if m := numberedRE.FindStringSubmatch(line); m != nil {
		return min(2+strings.Count(m[1], "."), 6)
	}
	if allCaps(line) {
		return 2
	}
	return 0
}

// endsSentence reports whether s ends with punctuation that closes a sentence or a clause.
func endsSentence(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return strings.ContainsRune(".。,，;；:：!！、", r)
}

// allCaps reports whether s has at least three letters, all Latin capitals.
func allCaps(s string) bool {
	letters := 0
	for _, r := range s {
		if unicode.IsLetter(r) {
			if !unicode.IsUpper(r) || r > unicode.MaxLatin1 {
				return false
			}
			letters++
		}
	}
	return letters >= 3
}

// stripControls removes control characters but tabs and line breaks from text a file holds:
// they mean nothing to a reader, and text may end up in graph ids (a title standing in for a
// product model), which may hold none.
func stripControls(s string) string {
	if !strings.ContainsFunc(s, isControlChar) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isControlChar(r) {
			return -1
		}
		return r
	}, s)
}

func isControlChar(r rune) bool {
	return r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f || r >= 0x80 && r < 0xa0
}

// fileTitle is the title of a document that names none: its file name without the extension.
func fileTitle(source string) string {
	base := path.Base(strings.ReplaceAll(source, "\\", "/"))
	if base == "." || base == "/" {
		return ""
	}
	return stripControls(strings.TrimSuffix(base, path.Ext(base)))
}

// withTitleHeading puts a heading with the title in front of blocks that have none, so a
// document without headings is one section rather than refused.
func withTitleHeading(title string, blocks []block) []block {
	for _, b := range blocks {
		if b.kind == blockHeading {
			return blocks
		}
	}
	if title == "" {
		title = "Document"
	}
	return append([]block{{kind: blockHeading, level: 1, html: html.EscapeString(title), text: title}}, blocks...)
}

// hasText reports whether any block has text.
func hasText(blocks []block) bool {
	for _, b := range blocks {
		if extract.Clean(b.text) != "" {
			return true
		}
	}
	return false
}

// parsePage parses an HTML page made from another format as the HTML reader parses a page: a
// FAQ when its markup is a FAQ's, else a manual.
func parsePage(doc *fixgraph.Document, page []byte) (*fixgraph.Batch, error) {
	p, err := parseHTMLPage(page)
	if err != nil {
		return nil, err
	}
	if doc.Kind == fixgraph.KindFAQ || doc.Kind == "" && isFAQPage(p) {
		return parseFAQ(doc, p)
	}
	return parseManual(doc, p)
}
