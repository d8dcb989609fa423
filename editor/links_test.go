package editor_test

import (
	"slices"
	"testing"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/editor"
)

// TestAddLink: a link to a node that does not exist, or one that does not touch the entity, is
// refused and writes nothing; a link to a real part is saved and reaches the graph when published.
func TestAddLink(t *testing.T) {
	e := newEnv(t)
	g := e.guide(t, e102, "zh")
	bad := editor.Change{Node: g, Links: []fixgraph.Edge{{From: g.ID, Rel: fixgraph.RelNeedsPart, To: "part:NO-SUCH-PART"}}}
	if _, err := e.svc.Save(admin, g.ID, 0, bad); fixgraph.CodeOf(err) != fixgraph.EINVALID {
		t.Fatalf("a link to nothing: %v, want EINVALID", err)
	}
	if cur, _ := e.svc.Store.Get(g.ID); cur != nil {
		t.Fatalf("the refused save wrote revision %d", cur.Rev)
	}
	stray := editor.Change{Node: g, Links: []fixgraph.Edge{{From: "part:DC31-00178A", Rel: fixgraph.RelFitsIn, To: "product:WF-8012D"}}}
	if _, err := e.svc.Save(admin, g.ID, 0, stray); fixgraph.CodeOf(err) != fixgraph.EINVALID {
		t.Fatalf("a link that does not touch the guide: %v, want EINVALID", err)
	}

	var part string
	if err := e.graph.Scan(admin, fixgraph.PrefixPart+":", func(n fixgraph.Node) error {
		if part == "" && n.NodeID() != "part:DC31-00178A" {
			part = n.NodeID()
		}
		return nil
	}); err != nil || part == "" {
		t.Fatal("no second part in the fixtures", err)
	}
	link := fixgraph.Edge{From: g.ID, Rel: fixgraph.RelNeedsPart, To: part}
	d, err := e.svc.Save(admin, g.ID, 0, editor.Change{Node: g, Links: []fixgraph.Edge{link}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Transition(admin, g.ID, d.Rev, "publish"); err != nil {
		t.Fatal(err)
	}
	n, err := e.graph.Neighbors(reader, []string{g.ID}, fixgraph.RelNeedsPart, fixgraph.Out)
	if err != nil || !slices.Contains(n[g.ID], part) {
		t.Fatalf("after publishing, the guide needs %v (%v), want %s among them", n[g.ID], err, part)
	}
}
