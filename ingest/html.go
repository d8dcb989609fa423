package ingest

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/extract"
)

// htmlPage is an HTML page split into headed sections in document order.
type htmlPage struct {
	doc      *goquery.Document
	title    string
	lang     string
	sections []*htmlSection
	tables   []*htmlTable // troubleshooting tables, with the section each stands in
	jsonLD   []map[string]any
}

type htmlSection struct {
	heading  string
	level    int
	anchor   string
	path     []string
	text     strings.Builder
	lists    [][]string // items of each ordered or unordered list in the section, in order
	warnings []string   // text of warning and caution boxes
	dls      []*html.Node
	parent   *htmlSection
}

type htmlTable struct {
	node    *html.Node
	section *htmlSection
}

var skipped = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Template: true,
	atom.Nav: true, atom.Head: true, atom.Svg: true, atom.Button: true, atom.Form: true,
}

var blocks = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.Li: true, atom.Tr: true, atom.Br: true, atom.Dt: true, atom.Dd: true,
	atom.Table: true, atom.Ul: true, atom.Ol: true, atom.Section: true, atom.Article: true, atom.Pre: true,
	atom.Blockquote: true, atom.Figcaption: true, atom.Main: true, atom.Aside: true, atom.Header: true, atom.Footer: true,
	atom.Caption: true, atom.Dl: true,
}

func headingLevel(a atom.Atom) int {
	switch a {
	case atom.H1:
		return 1
	case atom.H2:
		return 2
	case atom.H3:
		return 3
	case atom.H4:
		return 4
	case atom.H5:
		return 5
	case atom.H6:
		return 6
	}
	return 0
}

// parseHTMLPage reads raw HTML and splits it into sections by its heading hierarchy.
func parseHTMLPage(data []byte) (*htmlPage, error) {
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(data))
	if err != nil {
		return nil, fixgraph.WrapError(fixgraph.EUNREADABLE, err, "not readable as HTML")
	}
	p := &htmlPage{doc: doc}
	p.title = extract.Clean(doc.Find("title").First().Text())
	p.lang = extract.LanguageTag(doc.Find("html").AttrOr("lang", ""))
	doc.Find(`script[type="application/ld+json"]`).Each(func(_ int, s *goquery.Selection) {
		p.jsonLD = append(p.jsonLD, flattenJSONLD(s.Text())...)
	})
	body := doc.Find("body")
	if body.Length() == 0 {
		return p, nil
	}
	w := &walker{page: p}
	for _, n := range body.Nodes {
		w.walk(n)
	}
	if p.title == "" && len(p.sections) > 0 {
		p.title = p.sections[0].heading
	}
	if p.lang == "" {
		var all strings.Builder
		for _, s := range p.sections {
			all.WriteString(s.heading)
			all.WriteString(s.text.String())
		}
		p.lang = extract.DetectLanguage(all.String())
	}
	return p, nil
}

type walker struct {
	page  *htmlPage
	cur   *htmlSection
	stack []*htmlSection
	pre   strings.Builder // text before the first heading
}

func (w *walker) write(s string) {
	if w.cur == nil {
		w.pre.WriteString(s)
		return
	}
	w.cur.text.WriteString(s)
}

func (w *walker) walk(n *html.Node) {
	switch n.Type {
	case html.TextNode:
		w.write(inlineSpace(n.Data))
		return
	case html.ElementNode:
	default:
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			w.walk(c)
		}
		return
	}
	if skipped[n.DataAtom] {
		return
	}
	if lvl := headingLevel(n.DataAtom); lvl > 0 {
		w.startSection(n, lvl)
		return
	}
	if n.DataAtom == atom.Table && w.cur != nil && troubleshootingColumns(n) != nil {
		w.page.tables = append(w.page.tables, &htmlTable{node: n, section: w.cur})
		return
	}
	if w.cur != nil {
		switch {
		case n.DataAtom == atom.Ol || n.DataAtom == atom.Ul:
			var items []string
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				if c.DataAtom == atom.Li {
					if t := extract.Clean(nodeText(c)); t != "" {
						items = append(items, t)
					}
				}
			}
			w.cur.lists = append(w.cur.lists, items)
		case n.DataAtom == atom.Dl:
			w.cur.dls = append(w.cur.dls, n)
		case hasClass(n, "warning") || hasClass(n, "caution") || hasClass(n, "danger"):
			if t := extract.Clean(nodeText(n)); t != "" {
				w.cur.warnings = append(w.cur.warnings, t)
			}
		}
	}
	block := blocks[n.DataAtom]
	if block {
		w.write("\n")
	}
	if n.DataAtom == atom.Td || n.DataAtom == atom.Th {
		w.write(" ")
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		w.walk(c)
	}
	if block {
		w.write("\n")
	}
}

func (w *walker) startSection(n *html.Node, lvl int) {
	heading := extract.Clean(nodeText(n))
	if heading == "" {
		return
	}
	for len(w.stack) > 0 && w.stack[len(w.stack)-1].level >= lvl {
		w.stack = w.stack[:len(w.stack)-1]
	}
	s := &htmlSection{heading: heading, level: lvl, anchor: anchorOf(n)}
	for _, a := range w.stack {
		s.path = append(s.path, a.heading)
	}
	s.path = append(s.path, heading)
	if len(w.stack) > 0 {
		s.parent = w.stack[len(w.stack)-1]
	}
	w.stack = append(w.stack, s)
	w.page.sections = append(w.page.sections, s)
	w.cur = s
}

// anchorOf returns the id to link to for a heading: its own, an anchor inside it, or its section's.
func anchorOf(n *html.Node) string {
	if id := attr(n, "id"); id != "" {
		return id
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.DataAtom == atom.A {
			if id := attr(c, "id"); id != "" {
				return id
			}
			if name := attr(c, "name"); name != "" {
				return name
			}
		}
	}
	if p := n.Parent; p != nil && (p.DataAtom == atom.Section || p.DataAtom == atom.Article) {
		return attr(p, "id")
	}
	return ""
}

// inlineSpace turns every run of white space in a text node, line breaks included, into one space:
// in HTML only block elements break lines.
func inlineSpace(s string) string {
	if !strings.ContainsAny(s, "\n\r\t") {
		return s
	}
	var b strings.Builder
	space := false
	for _, r := range s {
		if r == ' ' || r == '\n' || r == '\r' || r == '\t' || r == '\f' {
			space = true
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	if space {
		b.WriteByte(' ')
	}
	return b.String()
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return strings.TrimSpace(a.Val)
		}
	}
	return ""
}

func hasClass(n *html.Node, class string) bool {
	for _, c := range strings.Fields(attr(n, "class")) {
		if strings.EqualFold(c, class) {
			return true
		}
	}
	return false
}

// nodeText returns the text under n, with line breaks between block elements.
func nodeText(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(inlineSpace(n.Data))
			return
		}
		if n.Type == html.ElementNode && skipped[n.DataAtom] {
			return
		}
		block := n.Type == html.ElementNode && blocks[n.DataAtom]
		if block {
			b.WriteString("\n")
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
		if block {
			b.WriteString("\n")
		}
	}
	walk(n)
	return b.String()
}

// flattenJSONLD returns the objects of a JSON-LD block: a single object, an array, or an @graph.
func flattenJSONLD(raw string) []map[string]any {
	var v any
	if err := json.Unmarshal([]byte(strings.TrimSpace(raw)), &v); err != nil {
		return nil
	}
	var out []map[string]any
	var add func(any)
	add = func(v any) {
		switch v := v.(type) {
		case []any:
			for _, e := range v {
				add(e)
			}
		case map[string]any:
			if g, ok := v["@graph"]; ok {
				add(g)
				return
			}
			out = append(out, v)
		}
	}
	add(v)
	return out
}

// ldType reports whether a JSON-LD object has @type t (which may be a list).
func ldType(o map[string]any, t string) bool {
	switch v := o["@type"].(type) {
	case string:
		return strings.EqualFold(v, t)
	case []any:
		for _, e := range v {
			if s, ok := e.(string); ok && strings.EqualFold(s, t) {
				return true
			}
		}
	}
	return false
}

// ldString returns the text of a JSON-LD value: a string, a number, or an object's name or text.
func ldString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case map[string]any:
		if s := ldString(v["name"]); s != "" {
			return s
		}
		return ldString(v["text"])
	case []any:
		if len(v) > 0 {
			return ldString(v[0])
		}
	}
	return ""
}

// htmlToText returns the text of an HTML fragment (JSON-LD answers may hold markup).
func htmlToText(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return extract.CleanBlock(s)
	}
	nodes, err := html.ParseFragment(strings.NewReader(s), &html.Node{Type: html.ElementNode, Data: "div", DataAtom: atom.Div})
	if err != nil {
		return extract.CleanBlock(s)
	}
	var b strings.Builder
	for _, n := range nodes {
		b.WriteString(nodeText(n))
	}
	return extract.CleanBlock(b.String())
}
