package graph

import (
	"context"
	"slices"
	"testing"

	"github.com/fixgraph/fixgraph"
)

// noGeneration hides the store's generation, so Guarded reads the editorial documents on every
// call instead of caching them.
type noGeneration struct{ sharedStore }

// sharedStore is what Guarded reads of both stores, their generation aside.
type sharedStore interface {
	GuardedStore
	contributor
	linker
}

// principals are who the editorial rules apply to: all, the least and the most trusted.
var principals = []*fixgraph.Principal{fixgraph.Anonymous, fixgraph.Local}

func TestGuardedDetachedEdges(t *testing.T) { forEachStore(t, testGuardedDetachedEdges) }

// testGuardedDetachedEdges: an edge that a published editorial document detaches is gone from
// Neighbors, both ways, while the store keeps it; a draft does not detach; publishing again
// without it brings the edge back.
func testGuardedDetachedEdges(t *testing.T, s store) {
	ctx := context.Background()
	m := manualBatch("m.html", "h1", "不排水")
	if _, err := s.Apply(ctx, m); err != nil {
		t.Fatal(err)
	}
	code, guide := fixgraph.ErrorCodeID("WF-8012D", "E102"), guideOf(t, m).ID
	wrong := fixgraph.Edge{From: code, Rel: fixgraph.RelFixedBy, To: guide}

	// linked reports whether g follows the wrong edge from either end, as p.
	linked := func(g Guarded, p *fixgraph.Principal) (out, in bool) {
		t.Helper()
		pctx := fixgraph.WithPrincipal(ctx, p)
		o, err := g.Neighbors(pctx, []string{code}, fixgraph.RelFixedBy, fixgraph.Out)
		if err != nil {
			t.Fatal(err)
		}
		i, err := g.Neighbors(pctx, []string{guide}, fixgraph.RelFixedBy, fixgraph.In)
		if err != nil {
			t.Fatal(err)
		}
		return slices.Contains(o[code], guide), slices.Contains(i[guide], code)
	}
	guards := map[string]Guarded{"cached": {Store: s}, "uncached": {Store: noGeneration{s}}}
	check := func(when string, want bool) {
		t.Helper()
		for name, g := range guards {
			for _, p := range principals {
				if out, in := linked(g, p); out != want || in != want {
					t.Errorf("%s, %s as %s: edge followed out %v, in %v; want %v", when, name, p.ID, out, in, want)
				}
			}
		}
	}
	check("before any editorial document", true)

	ec := &fixgraph.ErrorCode{ID: code, Code: "E102", Product: "WF-8012D", Symptom: fixgraph.Text{"zh": "排水超时"}}
	if _, err := s.Apply(ctx, editorialBatch(code, "e1", fixgraph.StatusDraft, []fixgraph.Edge{wrong}, ec)); err != nil {
		t.Fatal(err)
	}
	check("with a draft detaching it", true)

	if _, err := s.Apply(ctx, editorialBatch(code, "e2", fixgraph.StatusPublished, []fixgraph.Edge{wrong}, ec)); err != nil {
		t.Fatal(err)
	}
	check("detached by a published editorial document", false)
	if raw, err := s.Neighbors(ctx, []string{code}, fixgraph.RelFixedBy, fixgraph.Out); err != nil || !slices.Contains(raw[code], guide) {
		t.Errorf("the store itself lost the detached edge: %v, %v", raw, err)
	}
	// Other edges of the same nodes stay.
	if parts, err := (Guarded{Store: s}).Neighbors(ctx, []string{guide}, fixgraph.RelNeedsPart, fixgraph.Out); err != nil || len(parts[guide]) != 1 {
		t.Errorf("NEEDS_PART of the guide = %v, %v; want its part", parts, err)
	}

	// The same content published again without the detached edge is a new version.
	if res, err := s.Apply(ctx, editorialBatch(code, "e2", fixgraph.StatusPublished, nil, ec)); err != nil || res.Unchanged {
		t.Fatalf("publishing again without the detached edge = %+v, %v; want a new version", res, err)
	}
	check("published again without the detached edge", true)
}

func TestGuardedArchivedEntities(t *testing.T) { forEachStore(t, testGuardedArchivedEntities) }

// testGuardedArchivedEntities: an entity whose editorial document is archived is missing for
// every principal, through every read that hides, while the store keeps it; removing the
// editorial document shows it again.
func testGuardedArchivedEntities(t *testing.T, s store) {
	ctx := context.Background()
	m := manualBatch("m.html", "h1", "不排水")
	if _, err := s.Apply(ctx, m); err != nil {
		t.Fatal(err)
	}
	code, guide := fixgraph.ErrorCodeID("WF-8012D", "E102"), guideOf(t, m).ID
	mine := *guideOf(t, m)
	mine.Steps = []string{"关闭水龙头"}
	ec := &fixgraph.ErrorCode{ID: code, Code: "E102", Product: "WF-8012D"}

	// visible reports, for each way of reading, whether g shows id to p.
	visible := func(g Guarded, p *fixgraph.Principal, id string) map[string]bool {
		t.Helper()
		pctx := fixgraph.WithPrincipal(ctx, p)
		out := map[string]bool{}
		_, err := g.Node(pctx, id)
		out["Node"] = err == nil
		ns, err := g.Nodes(pctx, []string{id})
		if err != nil {
			t.Fatal(err)
		}
		out["Nodes"] = ns[0] != nil
		if err := g.Scan(pctx, fixgraph.KindOf(id)+":", func(n fixgraph.Node) error {
			out["Scan"] = out["Scan"] || n.NodeID() == id
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if fixgraph.KindOf(id) == fixgraph.PrefixErrorCode {
			ecs, err := g.ErrorCodes(pctx, "E102")
			if err != nil {
				t.Fatal(err)
			}
			out["ErrorCodes"] = len(ecs) == 1 && ecs[0].ID == id
		}
		return out
	}
	guards := map[string]Guarded{"cached": {Store: s}, "uncached": {Store: noGeneration{s}}}
	check := func(when string, want bool) {
		t.Helper()
		for name, g := range guards {
			for _, p := range principals {
				for _, id := range []string{code, guide} {
					for read, got := range visible(g, p, id) {
						if got != want {
							t.Errorf("%s, %s as %s: %s(%s) visible %v, want %v", when, name, p.ID, read, id, got, want)
						}
					}
				}
			}
		}
	}

	edGuide := editorialBatch(guide, "e1", fixgraph.StatusPublished, nil, &mine)
	edCode := editorialBatch(code, "e1", fixgraph.StatusPublished, nil, ec)
	for _, b := range []*fixgraph.Batch{edGuide, edCode} {
		if _, err := s.Apply(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	check("published", true)

	for _, b := range []*fixgraph.Batch{edGuide, edCode} {
		b.Document.Status = fixgraph.StatusArchived
		if _, err := s.Apply(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	check("archived", false)
	if ns, err := s.Nodes(ctx, []string{code, guide}); err != nil || ns[0] == nil || ns[1] == nil {
		t.Errorf("the store itself lost the archived entities: %v, %v", ns, err)
	}

	for _, b := range []*fixgraph.Batch{edGuide, edCode} {
		if _, err := s.Remove(ctx, b.Document.ID); err != nil {
			t.Fatal(err)
		}
	}
	check("editorial documents removed", true)
}

func TestGuardedArchivedSections(t *testing.T) { forEachStore(t, testGuardedArchivedSections) }

// testGuardedArchivedSections: a section that describes only archived entities is hidden with
// them, so search cannot serve their text; one that still describes a live entity stays.
func testGuardedArchivedSections(t *testing.T, s store) {
	ctx := fixgraph.WithPrincipal(context.Background(), fixgraph.Anonymous)
	doc := &fixgraph.Document{ID: fixgraph.DocumentID("faq.html"), Source: "faq.html", ContentHash: "f1", Kind: fixgraph.KindFAQ,
		Status: fixgraph.StatusPublished, Visibility: fixgraph.VisibilityPublic}
	f1 := &fixgraph.FAQ{ID: "faq:one", Question: "一？", Answer: "一。", DocumentID: doc.ID}
	f2 := &fixgraph.FAQ{ID: "faq:two", Question: "二？", Answer: "二。", DocumentID: doc.ID}
	only := &fixgraph.Section{ID: "sec:only-one", DocumentID: doc.ID, Heading: "一？", Text: "一。"}
	both := &fixgraph.Section{ID: "sec:both", DocumentID: doc.ID, Heading: "一和二", Text: "一。二。"}
	b := &fixgraph.Batch{Document: doc}
	b.Add(f1, f2, only, both)
	b.Link(only.ID, fixgraph.RelDescribes, f1.ID)
	b.Link(both.ID, fixgraph.RelDescribes, f1.ID)
	b.Link(both.ID, fixgraph.RelDescribes, f2.ID)
	if _, err := s.Apply(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	g := Guarded{Store: s}
	visible := func() map[string]bool {
		t.Helper()
		ns, err := g.Nodes(ctx, []string{only.ID, both.ID})
		if err != nil {
			t.Fatal(err)
		}
		return map[string]bool{only.ID: ns[0] != nil, both.ID: ns[1] != nil}
	}
	archive := func(f *fixgraph.FAQ) {
		t.Helper()
		if _, err := s.Apply(context.Background(), editorialBatch(f.ID, "a", fixgraph.StatusArchived, nil, f)); err != nil {
			t.Fatal(err)
		}
	}
	if v := visible(); !v[only.ID] || !v[both.ID] {
		t.Fatalf("before archiving: %v", v)
	}
	archive(f1)
	if v := visible(); v[only.ID] || !v[both.ID] {
		t.Errorf("with the first FAQ archived: %v, want only %s hidden", v, only.ID)
	}
	archive(f2)
	if v := visible(); v[only.ID] || v[both.ID] {
		t.Errorf("with both FAQs archived: %v, want both sections hidden", v)
	}
}

func TestGuardedEditorialRulesKeepTheirAudience(t *testing.T) {
	forEachStore(t, testGuardedEditorialRulesKeepTheirAudience)
}

// testGuardedEditorialRulesKeepTheirAudience: a department's editorial version of a public node
// that detaches one of its edges, or archives it, does so for that department's readers only; the
// public and other departments still read the node and follow the edge.
func testGuardedEditorialRulesKeepTheirAudience(t *testing.T, s store) {
	ctx := context.Background()
	m := manualBatch("m.html", "h1", "不排水")
	if _, err := s.Apply(ctx, m); err != nil {
		t.Fatal(err)
	}
	code, guide := fixgraph.ErrorCodeID("WF-8012D", "E102"), guideOf(t, m).ID
	wrong := fixgraph.Edge{From: code, Rel: fixgraph.RelFixedBy, To: guide}
	ec := &fixgraph.ErrorCode{ID: code, Code: "E102", Product: "WF-8012D", Symptom: fixgraph.Text{"zh": "排水超时"}}
	b := editorialBatch(code, "sales-1", fixgraph.StatusPublished, []fixgraph.Edge{wrong}, ec)
	b.Document.Visibility, b.Document.Department = fixgraph.VisibilityDepartment, "sales"
	if _, err := s.Apply(ctx, b); err != nil {
		t.Fatal(err)
	}
	sales := &fixgraph.Principal{ID: "user:sales", Role: fixgraph.RoleEditor, Department: "sales"}
	support := &fixgraph.Principal{ID: "user:support", Role: fixgraph.RoleEditor, Department: "support"}
	follows := func(p *fixgraph.Principal) bool {
		t.Helper()
		o, err := (Guarded{Store: noGeneration{s}}).Neighbors(fixgraph.WithPrincipal(ctx, p), []string{code}, fixgraph.RelFixedBy, fixgraph.Out)
		if err != nil {
			t.Fatal(err)
		}
		return slices.Contains(o[code], guide)
	}
	for p, want := range map[*fixgraph.Principal]bool{fixgraph.Anonymous: true, support: true, sales: false} {
		if got := follows(p); got != want {
			t.Errorf("%s follows the edge sales detached: %v, want %v", p.ID, got, want)
		}
	}
	a := editorialBatch(code, "sales-2", fixgraph.StatusArchived, nil, ec)
	a.Document.Visibility, a.Document.Department = fixgraph.VisibilityDepartment, "sales"
	if _, err := s.Apply(ctx, a); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[*fixgraph.Principal]bool{fixgraph.Anonymous: true, support: true, sales: false} {
		n, err := (Guarded{Store: noGeneration{s}}).Node(fixgraph.WithPrincipal(ctx, p), code)
		if got := err == nil && n != nil; got != want {
			t.Errorf("%s reads the code sales archived: %v (%v), want %v", p.ID, got, err, want)
		}
	}
}
