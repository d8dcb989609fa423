package editor

import (
	"slices"
	"strings"
	"testing"

	"github.com/fixgraph/fixgraph"
)

// sides returns what a diff says its two sides were: the kept and removed lines, and the kept
// and added ones.
func sides(d []diffLine) (a, b []string) {
	for _, l := range d {
		switch l.Op {
		case " ":
			a, b = append(a, l.Text), append(b, l.Text)
		case "-":
			a = append(a, l.Text)
		case "+":
			b = append(b, l.Text)
		}
	}
	return a, b
}

// hunksSorted returns d with the lines of each change (a run of removed and added lines) in the
// usual order, removed first; the order within a change is the diff's own business.
func hunksSorted(d []diffLine) []diffLine {
	out := slices.Clone(d)
	for i := 0; i < len(out); {
		j := i
		for j < len(out) && out[j].Op != " " {
			j++
		}
		slices.SortStableFunc(out[i:j], func(x, y diffLine) int { return -strings.Compare(x.Op, y.Op) }) // "-" before "+"
		if j == i {
			j++
		}
		i = j
	}
	return out
}

func lcsLen(a, b []string) int {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	if a[0] == b[0] {
		return 1 + lcsLen(a[1:], b[1:])
	}
	return max(lcsLen(a[1:], b), lcsLen(a, b[1:]))
}

func TestDiffLines(t *testing.T) {
	for _, c := range []struct {
		name string
		a, b []string
		want []diffLine // nil: only check that the diff is right and minimal
	}{
		{name: "same", a: []string{"x", "y"}, b: []string{"x", "y"}, want: []diffLine{{" ", "x"}, {" ", "y"}}},
		{name: "both empty"},
		{name: "all new", b: []string{"p", "q"}, want: []diffLine{{"+", "p"}, {"+", "q"}}},
		{name: "all gone", a: []string{"p", "q"}, want: []diffLine{{"-", "p"}, {"-", "q"}}},
		{name: "insert in the middle", a: []string{"1", "2", "3"}, b: []string{"1", "2", "new", "3"},
			want: []diffLine{{" ", "1"}, {" ", "2"}, {"+", "new"}, {" ", "3"}}},
		{name: "insert at both ends", a: []string{"m"}, b: []string{"s", "m", "e"},
			want: []diffLine{{"+", "s"}, {" ", "m"}, {"+", "e"}}},
		{name: "delete in the middle", a: []string{"1", "2", "3", "4"}, b: []string{"1", "4"},
			want: []diffLine{{" ", "1"}, {"-", "2"}, {"-", "3"}, {" ", "4"}}},
		{name: "change in the middle", a: []string{"steps 1: a", "steps 2: old", "steps 3: c"}, b: []string{"steps 1: a", "steps 2: new", "steps 3: c"},
			want: []diffLine{{" ", "steps 1: a"}, {"-", "steps 2: old"}, {"+", "steps 2: new"}, {" ", "steps 3: c"}}},
		{name: "two lines changed", a: []string{"k", "o1", "o2", "k2"}, b: []string{"k", "n1", "n2", "k2"},
			want: []diffLine{{" ", "k"}, {"-", "o1"}, {"-", "o2"}, {"+", "n1"}, {"+", "n2"}, {" ", "k2"}}},
		{name: "step moved", a: []string{"a", "b", "c"}, b: []string{"b", "c", "a"},
			want: []diffLine{{"-", "a"}, {" ", "b"}, {" ", "c"}, {"+", "a"}}},
		{name: "repeated lines", a: []string{"a", "b", "a", "b", "c"}, b: []string{"b", "a", "b", "a", "c"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := diffLines(c.a, c.b)
			if a, b := sides(d); !slices.Equal(a, c.a) || !slices.Equal(b, c.b) {
				t.Fatalf("the diff %q does not give back its sides: %q, %q", d, a, b)
			}
			kept := 0
			for _, l := range d {
				if l.Op == " " {
					kept++
				}
			}
			if want := lcsLen(c.a, c.b); kept != want {
				t.Fatalf("the diff %q keeps %d lines; the longest common subsequence has %d", d, kept, want)
			}
			if c.want != nil && !slices.Equal(hunksSorted(d), c.want) {
				t.Fatalf("diff = %q, want %q", d, c.want)
			}
		})
	}
}

func TestFlattenForHistory(t *testing.T) {
	guide := func(steps string) *Entity {
		return &Entity{ID: "guide:x", Visibility: "public", Node: []byte(`{"id":"guide:x","title":"E102 排水","steps":[` + steps + `],"sectionId":"sec:1","documentId":"doc:1","language":"zh"}`)}
	}
	got := flatten(guide(`"一","二"`), "zh")
	want := []string{"title: E102 排水", "steps: 一", "steps: 二", "language: zh", "visibility: public"}
	if !slices.Equal(got, want) {
		t.Fatalf("flatten = %q, want %q", got, want)
	}
	// A step put in between is one added line in the history, not a change of every later step.
	d := diffLines(flatten(guide(`"一","二","三"`), "zh"), flatten(guide(`"一","新","二","三"`), "zh"))
	var changed []diffLine
	for _, l := range d {
		if l.Op != " " {
			changed = append(changed, l)
		}
	}
	if !slices.Equal(changed, []diffLine{{"+", "steps: 新"}}) {
		t.Fatalf("inserting a step changes %q", changed)
	}
	e := guide(`"一"`)
	e.Links = []fixgraph.Edge{{From: "guide:x", Rel: fixgraph.RelNeedsPart, To: "part:P1"}}
	e.Detached = []fixgraph.Edge{{From: "code:M:E1", Rel: fixgraph.RelFixedBy, To: "guide:x"}}
	e.Department = "support"
	got = flatten(e, "zh")
	for _, w := range []string{"link: guide:x —NEEDS_PART→ part:P1", "detached: code:M:E1 —FIXED_BY→ guide:x", "department: support"} {
		if !slices.Contains(got, w) {
			t.Errorf("flatten misses %q: %q", w, got)
		}
	}
}
