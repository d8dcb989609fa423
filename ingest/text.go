package ingest

import (
	"bytes"
	"html"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/unicode"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/extract"
)

// textToUTF8 returns a text file's bytes as UTF-8 without a byte-order mark or control
// characters: UTF-16 when a mark says so, else UTF-8 or GB18030 as for CSV feeds. Binary data is
// refused.
func textToUTF8(data []byte) ([]byte, error) {
	if bytes.HasPrefix(data, []byte{0xff, 0xfe}) || bytes.HasPrefix(data, []byte{0xfe, 0xff}) {
		out, err := unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder().Bytes(data)
		if err != nil {
			return nil, fixgraph.WrapError(fixgraph.EUNREADABLE, err, "file starts as UTF-16 text but does not decode as UTF-16")
		}
		data = out
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if bytes.IndexByte(data, 0) >= 0 {
		return nil, fixgraph.Errorf(fixgraph.EUNREADABLE, "not a text file: it has NUL bytes (a binary file with a text file's name?)")
	}
	out, err := csvToUTF8(data)
	if err != nil {
		return nil, err
	}
	return []byte(stripControls(extract.RepairMojibake(string(out)))), nil
}

// bulletRE matches a line that starts a bulleted item.
var bulletRE = regexp.MustCompile(`^\s*[-*+•·●▪◦–]\s+`)

// parseText reads a plain text file into a batch through the HTML reader. Paragraphs are
// separated by blank lines. A paragraph's first line is a heading when its wording is a
// heading's (第一章, 一、, 1. Title, ALL CAPS; textHeadingLevel), and a paragraph of one short
// line that does not end as a sentence does is a heading of the text after it. Lines starting
// with bullets or numbered 1, 2, 3 are lists; 问：/答： lines question-and-answer pairs.
func parseText(doc *fixgraph.Document, data []byte) (*fixgraph.Batch, error) {
	data, err := textToUTF8(data)
	if err != nil {
		return nil, err
	}
	s := strings.ReplaceAll(strings.ReplaceAll(string(data), "\r\n", "\n"), "\r", "\n")
	var paras [][]string
	var cur []string
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimRight(line, " \t\u3000")
		if strings.TrimSpace(line) == "" {
			if len(cur) > 0 {
				paras = append(paras, cur)
				cur = nil
			}
			continue
		}
		cur = append(cur, line)
	}
	if len(cur) > 0 {
		paras = append(paras, cur)
	}
	var blocks []block
	for i, lines := range paras {
		next := ""
		if i+1 < len(paras) {
			next = strings.TrimSpace(paras[i+1][0])
		}
		blocks = append(blocks, textBlocks(lines, next, len(blocks) == 0, strconv.Itoa(i))...)
	}
	if !hasText(blocks) {
		return nil, fixgraph.Errorf(fixgraph.EUNREADABLE, "the text file has no text")
	}
	blocks = withTitleHeading(fileTitle(doc.Source), blocks)
	return parsePage(doc, pageHTML("", "", blocks))
}

// textBlocks turns one paragraph of a text file into blocks. next is the first line of the
// paragraph after it ("" at the end); first says whether nothing came before it; id names the
// paragraph's lists.
func textBlocks(lines []string, next string, first bool, id string) []block {
	var out []block
	head := strings.TrimSpace(lines[0])
	level := textHeadingLevel(head)
	if level > 0 && len(lines) > 1 && (isListLine(lines[1], 2) || nextNumber(head, lines[1])) {
		level = 0 // the first step of a list
	}
	if level > 0 && len(lines) == 1 && nextNumber(head, next) {
		level = 0 // one step per paragraph
	}
	if level == 0 && len(lines) == 1 && next != "" && utf8.RuneCountInString(head) <= maxHeadingRunes && !endsSentence(head) &&
		!questionRE.MatchString(head) && !answerRE.MatchString(head) && !bulletRE.MatchString(head) {
		level = 2
		if first {
			level = 1
		}
	}
	if questionRE.MatchString(head) || answerRE.MatchString(head) {
		level = 0
	}
	if level > 0 {
		out = append(out, block{kind: blockHeading, level: level, html: html.EscapeString(head), text: head})
		lines = lines[1:]
	}
	var para []string
	flush := func() {
		if len(para) > 0 {
			for k, l := range para {
				para[k] = html.EscapeString(l)
			}
			out = append(out, block{kind: blockPara, html: strings.Join(para, "<br>"), text: extract.Clean(strings.Join(para, " "))})
			para = nil
		}
	}
	for k := 0; k < len(lines); k++ {
		line := strings.TrimSpace(lines[k])
		switch {
		case bulletRE.MatchString(lines[k]):
			flush()
			out = append(out, textItem(bulletRE.ReplaceAllString(line, ""), false, id))
		case stepRE.MatchString(line) && (len(out) > 0 && out[len(out)-1].kind == blockItem && out[len(out)-1].ordered ||
			k+1 < len(lines) && nextNumber(line, lines[k+1])):
			flush()
			out = append(out, textItem(stripStepNumber(line), true, id))
		case len(out) > 0 && out[len(out)-1].kind == blockItem && len(para) == 0 && lines[k] != line:
			// an indented line continues the item above
			last := &out[len(out)-1]
			last.text += " " + line
			last.html += " " + html.EscapeString(line)
		case questionRE.MatchString(line) || answerRE.MatchString(line):
			flush()
			para = append(para, line)
		default:
			para = append(para, line)
		}
	}
	flush()
	return out
}

func textItem(s string, ordered bool, list string) block {
	return block{kind: blockItem, ordered: ordered, list: list, html: html.EscapeString(s), text: s}
}

// isListLine reports whether line is a bulleted item, or a step numbered n.
func isListLine(line string, n int) bool {
	if bulletRE.MatchString(line) {
		return true
	}
	m := stepRE.FindStringSubmatch(strings.TrimSpace(line))
	return m != nil && m[1] == strconv.Itoa(n)
}

// nextNumber reports whether line is the step after the one that head numbers.
func nextNumber(head, line string) bool {
	m := stepRE.FindStringSubmatch(head)
	if m == nil {
		return false
	}
	n, _ := strconv.Atoi(m[1])
	return isListLine(line, n+1) && !bulletRE.MatchString(line)
}
