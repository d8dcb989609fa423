package editor

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/fixgraph/fixgraph"
)

// field is one row of an entity page's field table.
type field struct {
	Name  string
	Value string   // a single value
	List  []string // an ordered list (steps), shown numbered
}

// fields lists a node's fields in declaration order: texts in the page's language first, lists
// as lists, empty fields left out.
func fields(n fixgraph.Node, lang string) []field {
	v := reflect.ValueOf(n)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	t := v.Type()
	var out []field
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name == "" || name == "-" {
			name = t.Field(i).Name
		}
		switch x := v.Field(i).Interface().(type) {
		case fixgraph.Text:
			for _, l := range textLangs(x, lang) {
				out = append(out, field{Name: name + " (" + l + ")", Value: x[l]})
			}
		case []string:
			if len(x) > 0 {
				out = append(out, field{Name: name, List: x})
			}
		case []fixgraph.Edge:
			for _, e := range x {
				out = append(out, field{Name: name, Value: fmt.Sprintf("%s %s %s", e.From, e.Rel, e.To)})
			}
		default:
			if s := fmt.Sprint(x); s != "" && s != "0" && !v.Field(i).IsZero() {
				out = append(out, field{Name: name, Value: s})
			}
		}
	}
	return out
}

// textLangs returns t's languages, lang first.
func textLangs(t fixgraph.Text, lang string) []string {
	var ls []string
	for l, s := range t {
		if s != "" {
			ls = append(ls, l)
		}
	}
	slices.SortFunc(ls, func(a, b string) int {
		switch {
		case a == lang:
			return -1
		case b == lang:
			return 1
		}
		return strings.Compare(a, b)
	})
	return ls
}

// flatten writes an entity as lines for a diff: one per field value, step, link and setting.
func flatten(e *Entity, lang string) []string {
	n, err := e.Decode()
	if err != nil {
		return []string{"(unreadable: " + err.Error() + ")"}
	}
	var out []string
	for _, f := range fields(n, lang) {
		if f.Name == "id" || f.Name == "sectionId" || f.Name == "documentId" {
			continue
		}
		if f.List != nil {
			for _, s := range f.List {
				out = append(out, f.Name+": "+s) // unnumbered: a step put in shifts no other line
			}
			continue
		}
		for _, l := range strings.Split(f.Value, "\n") {
			out = append(out, f.Name+": "+l)
		}
	}
	for _, l := range e.Links {
		out = append(out, fmt.Sprintf("link: %s —%s→ %s", l.From, l.Rel, l.To))
	}
	for _, l := range e.Detached {
		out = append(out, fmt.Sprintf("detached: %s —%s→ %s", l.From, l.Rel, l.To))
	}
	out = append(out, "visibility: "+string(e.Visibility))
	if e.Department != "" {
		out = append(out, "department: "+e.Department)
	}
	return out
}

// diffLine is a line of a diff: kept (" "), removed ("-") or added ("+").
type diffLine struct {
	Op   string
	Text string
}

// diffLines returns the line diff from a to b by longest common subsequence. Revisions are a
// few dozen lines, so the quadratic table is small; unchanged lines are kept so the diff reads
// in context.
func diffLines(a, b []string) []diffLine {
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []diffLine
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			out = append(out, diffLine{" ", a[i]})
			i, j = i+1, j+1
		case j < len(b) && (i == len(a) || lcs[i][j+1] >= lcs[i+1][j]):
			out = append(out, diffLine{"+", b[j]})
			j++
		default:
			out = append(out, diffLine{"-", a[i]})
			i++
		}
	}
	return out
}

// picture is an entity's neighbourhood in the graph, laid out in columns by kind so that the
// chain error code → guides → parts → warehouses reads left to right.
type picture struct {
	Width, Height int
	Nodes         []picNode
	Edges         []picEdge
	Rels          []picRel
}

type picNode struct {
	ID, Label, Kind string
	X, Y            int
	Self            bool
}

type picEdge struct {
	Path string // SVG path data
	Back bool   // drawn against the columns' order (a part FITS a product)
	Qty  string // stock at the warehouse end, "×12"
	QX   int
	QY   int
}

// picRel is a relation named once above the gap between two columns.
type picRel struct {
	X     int
	Label string
}

// pictureRels are the relations the picture follows; section and document plumbing is left to
// the links list.
var pictureRels = []fixgraph.Rel{fixgraph.RelHasError, fixgraph.RelFixedBy, fixgraph.RelNeedsPart, fixgraph.RelHasVideo,
	fixgraph.RelStockedAt, fixgraph.RelAbout, fixgraph.RelFitsIn, fixgraph.RelManualFor, fixgraph.RelHasClause}

// column places each kind; kinds left of others come first in the chain.
var column = map[string]int{
	fixgraph.PrefixProduct: 0, fixgraph.PrefixDocument: 0,
	fixgraph.PrefixErrorCode: 1, fixgraph.PrefixFAQ: 1, fixgraph.PrefixClause: 1,
	fixgraph.PrefixGuide: 2,
	fixgraph.PrefixPart:  3, fixgraph.PrefixVideo: 3,
	fixgraph.PrefixWarehouse: 4,
}

const (
	picMaxNodes = 36
	picBoxW     = 170
	picBoxH     = 34
	picColW     = 230
	picRowH     = 50
)

// neighbourhood walks up to three steps from id along pictureRels and lays the nodes out.
// Warehouses show the part's stock there.
func (h *Handler) neighbourhood(ctx context.Context, id, lang string) (*picture, error) {
	g := h.Service.Graph
	type edge struct {
		from, to string
		rel      fixgraph.Rel
	}
	seen := map[string]bool{id: true}
	order := []string{id}
	var edges []edge
	edgeSeen := map[edge]bool{}
	frontier := []string{id}
	for depth := 0; depth < 3 && len(frontier) > 0 && len(order) < picMaxNodes; depth++ {
		var next []string
		for _, rel := range pictureRels {
			for _, dir := range []fixgraph.Direction{fixgraph.Out, fixgraph.In} {
				m, err := g.Neighbors(ctx, frontier, rel, dir)
				if err != nil {
					return nil, err
				}
				for _, from := range frontier {
					for _, other := range m[from] {
						e := edge{from, other, rel}
						if dir == fixgraph.In {
							e = edge{other, from, rel}
						}
						// Products fan out to every code and FAQ: only follow them from the start.
						if fixgraph.KindOf(from) == fixgraph.PrefixProduct && from != id && !seen[other] {
							continue
						}
						if !seen[other] {
							if len(order) >= picMaxNodes {
								continue
							}
							seen[other] = true
							order = append(order, other)
							next = append(next, other)
						}
						if !edgeSeen[e] {
							edgeSeen[e] = true
							edges = append(edges, e)
						}
					}
				}
			}
		}
		frontier = next
	}
	nodes, err := g.Nodes(ctx, order)
	if err != nil {
		return nil, err
	}
	// Stock at each warehouse a part is stocked at.
	stockIDs := map[edge]string{}
	var sids []string
	byID := map[string]fixgraph.Node{}
	for i, n := range nodes {
		if n != nil {
			byID[order[i]] = n
		}
	}
	for _, e := range edges {
		if e.rel == fixgraph.RelStockedAt {
			p, ok1 := byID[e.from].(*fixgraph.Part)
			w, ok2 := byID[e.to].(*fixgraph.Warehouse)
			if ok1 && ok2 {
				stockIDs[e] = fixgraph.StockID(p.SKU, w.Code)
				sids = append(sids, stockIDs[e])
			}
		}
	}
	stock := map[string]*fixgraph.StockLevel{}
	if len(sids) > 0 {
		levels, err := g.Nodes(ctx, sids)
		if err != nil {
			return nil, err
		}
		for i, n := range levels {
			if s, ok := n.(*fixgraph.StockLevel); ok {
				stock[sids[i]] = s
			}
		}
	}
	pic := &picture{}
	const top = 24 // room for the relation names above the columns
	rows := map[int]int{}
	pos := map[string]picNode{}
	for _, nid := range order {
		n := byID[nid]
		if n == nil {
			continue
		}
		col, ok := column[fixgraph.KindOf(nid)]
		if !ok {
			col = 2
		}
		pn := picNode{ID: nid, Kind: fixgraph.KindOf(nid), Label: clip(label(n, lang), 16), Self: nid == id,
			X: 10 + col*picColW, Y: top + rows[col]*picRowH}
		rows[col]++
		pos[nid] = pn
		pic.Nodes = append(pic.Nodes, pn)
	}
	for col, n := range rows {
		pic.Width = max(pic.Width, 10+col*picColW+picBoxW+10)
		pic.Height = max(pic.Height, top+n*picRowH)
	}
	gapRels := map[int][]string{}
	for _, e := range edges {
		a, ok1 := pos[e.from]
		b, ok2 := pos[e.to]
		if !ok1 || !ok2 {
			continue
		}
		var pe picEdge
		if b.X > a.X {
			x1, y1, x2, y2 := a.X+picBoxW, a.Y+picBoxH/2, b.X, b.Y+picBoxH/2
			pe.Path = fmt.Sprintf("M %d %d C %d %d %d %d %d %d", x1, y1, x1+30, y1, x2-30, y2, x2, y2)
			if gap := b.X / picColW; !slices.Contains(gapRels[gap], string(e.rel)) {
				gapRels[gap] = append(gapRels[gap], string(e.rel))
			}
		} else {
			// Against the flow: a dashed curve under the picture, from bottom to bottom.
			x1, y1, x2, y2 := a.X+picBoxW/2, a.Y+picBoxH, b.X+picBoxW/2, b.Y+picBoxH
			pe.Path = fmt.Sprintf("M %d %d C %d %d %d %d %d %d", x1, y1, x1, pic.Height+10, x2, pic.Height+10, x2, y2)
			pe.Back = true
		}
		if s := stock[stockIDs[e]]; s != nil {
			pe.Qty, pe.QX, pe.QY = fmt.Sprintf("×%d", s.Quantity), b.X-4, b.Y+picBoxH/2-4
		}
		pic.Edges = append(pic.Edges, pe)
	}
	for gap, rels := range gapRels {
		pic.Rels = append(pic.Rels, picRel{X: gap*picColW - (picColW-picBoxW)/2 + 10, Label: strings.Join(rels, " · ")})
	}
	slices.SortFunc(pic.Rels, func(a, b picRel) int { return a.X - b.X })
	pic.Height += 20
	return pic, nil
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// edgeValue is how an edge travels in a form field.
func edgeValue(e fixgraph.Edge) string { return e.From + "\x1f" + string(e.Rel) + "\x1f" + e.To }
