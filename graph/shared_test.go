package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fixgraph/fixgraph"
)

// deptManual is a manual of department dept, readable by vis, ingested at at, that says say of
// the shared nodes of model: the product's name and brand, the error code E102's symptom, cause
// and fixed-in version, the part's name and the video's title. Its guide and sections are its own.
func deptManual(source, model, dept string, vis fixgraph.Visibility, at time.Time, say, severity string) *fixgraph.Batch {
	doc := &fixgraph.Document{ID: fixgraph.DocumentID(source), Source: source, ContentHash: say, Kind: fixgraph.KindManual,
		Department: dept, Visibility: vis, Status: fixgraph.StatusPublished, IngestedAt: at}
	b := &fixgraph.Batch{Document: doc}
	p := &fixgraph.Product{ID: fixgraph.ProductID(model), Model: model, Name: fixgraph.Text{"zh": say + " 洗衣机"}, Brand: say}
	ec := &fixgraph.ErrorCode{ID: fixgraph.ErrorCodeID(model, "E102"), Code: "E102", Product: model,
		Symptom: fixgraph.Text{"zh": say}, Cause: fixgraph.Text{"zh": say + " cause"}, Severity: severity}
	if strings.HasPrefix(say, "INTERNAL") {
		ec.FixedIn = "INTERNAL-2.1"
	}
	sec := &fixgraph.Section{ID: fixgraph.HashID("sec", doc.ID, say), DocumentID: doc.ID, Heading: "E102", Text: say}
	g := &fixgraph.RepairGuide{ID: fixgraph.HashID("guide", doc.ID, "E102"), Code: "E102", Product: model, Steps: []string{say}, SectionID: sec.ID, DocumentID: doc.ID}
	part := &fixgraph.Part{ID: fixgraph.PartID("DC31-" + model), SKU: "DC31-" + model, Name: fixgraph.Text{"zh": say + " 排水泵"}}
	video := &fixgraph.Video{ID: fixgraph.VideoID("https://v.example/" + model), URL: "https://v.example/" + model, Title: fixgraph.Text{"zh": say + " 视频"}}
	b.Add(p, ec, sec, g, part, video)
	b.Link(p.ID, fixgraph.RelHasError, ec.ID)
	b.Link(ec.ID, fixgraph.RelFixedBy, g.ID)
	b.Link(g.ID, fixgraph.RelNeedsPart, part.ID)
	b.Link(g.ID, fixgraph.RelHasVideo, video.ID)
	b.Link(sec.ID, fixgraph.RelPartOf, doc.ID)
	return b
}

// sharedIDs are the ids of the nodes that deptManual's documents of model share.
func sharedIDs(model string) []string {
	return []string{fixgraph.ProductID(model), fixgraph.ErrorCodeID(model, "E102"), fixgraph.PartID("DC31-" + model),
		fixgraph.VideoID("https://v.example/" + model)}
}

var (
	publicBot = &fixgraph.Principal{ID: "key:bot", Name: "public bot", Role: fixgraph.RoleReader}
	botOfA    = &fixgraph.Principal{ID: "key:bot-a", Name: "bot of a", Role: fixgraph.RoleReader, Department: "a"}
	botOfB    = &fixgraph.Principal{ID: "key:bot-b", Name: "bot of b", Role: fixgraph.RoleReader, Department: "b"}
	editorOfA = &fixgraph.Principal{ID: "user:ann", Name: "ann", Role: fixgraph.RoleEditor, Department: "a"}
	editorOfB = &fixgraph.Principal{ID: "user:bob", Name: "bob", Role: fixgraph.RoleEditor, Department: "b"}
)

// everyRead returns, as JSON, everything g shows p of ids through each way of reading nodes:
// Node, Nodes, Scan and ErrorCodes.
func everyRead(t *testing.T, g Guarded, p *fixgraph.Principal, ids []string) map[string]string {
	t.Helper()
	ctx := fixgraph.WithPrincipal(context.Background(), p)
	out := map[string]string{}
	put := func(read string, n fixgraph.Node) {
		v, err := json.Marshal(n)
		if err != nil {
			t.Fatal(err)
		}
		out[read+" "+n.NodeID()] = string(v)
	}
	ns, err := g.Nodes(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		if ns[i] != nil {
			put("Nodes", ns[i])
		}
		if n, err := g.Node(ctx, id); err == nil {
			put("Node", n)
		}
		if err := g.Scan(ctx, fixgraph.KindOf(id)+":", func(n fixgraph.Node) error {
			if n.NodeID() == id {
				put("Scan", n)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	ecs, err := g.ErrorCodes(ctx, "E102")
	if err != nil {
		t.Fatal(err)
	}
	for _, ec := range ecs {
		put("ErrorCodes", ec)
	}
	return out
}

func TestSharedNodesShowEachReaderItsContributions(t *testing.T) {
	forEachStore(t, testSharedNodesShowEachReaderItsContributions)
}

// testSharedNodesShowEachReaderItsContributions: department a's internal manual and department
// b's public manual both describe E102 of one product (and its product, part and video). A
// public key, b's keys and b's editors never see a's text in any field of any shared node, by
// any read, nor an edge only a's manual made; a's editor sees a's own text and edges; the store
// itself keeps both.
func testSharedNodesShowEachReaderItsContributions(t *testing.T, s store) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	const model = "WF-8012D"
	internal := deptManual("a-internal.html", model, "a", fixgraph.VisibilityDepartment, t0, "INTERNAL: replace board X", "high")
	// Only a's manual says the part fits the product.
	internal.Link(fixgraph.PartID("DC31-"+model), fixgraph.RelFitsIn, fixgraph.ProductID(model))
	public := deptManual("b-public.html", model, "b", fixgraph.VisibilityPublic, t0.Add(time.Hour), "Drain blocked", "low")
	for _, b := range []*fixgraph.Batch{internal, public} {
		if _, err := s.Apply(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	ids := sharedIDs(model)
	part, product := ids[2], ids[0]
	guards := map[string]Guarded{"cached": {Store: s}, "uncached": {Store: noGeneration{s}}}
	for name, g := range guards {
		for _, p := range []*fixgraph.Principal{publicBot, botOfA, botOfB, editorOfB} {
			reads := everyRead(t, g, p, ids)
			if len(reads) == 0 {
				t.Errorf("%s as %s: nothing visible, want b's public contributions", name, p.ID)
			}
			for read, v := range reads {
				if strings.Contains(v, "INTERNAL") {
					t.Errorf("%s as %s: %s shows department a's internal text: %s", name, p.ID, read, v)
				}
			}
			for _, want := range []string{"Nodes " + ids[1], "ErrorCodes " + ids[1], "Scan " + product, "Node " + part} {
				if v := reads[want]; !strings.Contains(v, "Drain blocked") {
					t.Errorf("%s as %s: %s = %s, want b's public text", name, p.ID, want, v)
				}
			}
			if v := reads["Node "+ids[1]]; !strings.Contains(v, `"severity":"low"`) || strings.Contains(v, "fixedIn") {
				t.Errorf("%s as %s: E102 = %s, want b's severity and no fixed-in version", name, p.ID, v)
			}
			pctx := fixgraph.WithPrincipal(ctx, p)
			fits, err := g.Neighbors(pctx, []string{part}, fixgraph.RelFitsIn, fixgraph.Out)
			if err != nil {
				t.Fatal(err)
			}
			if len(fits[part]) != 0 {
				t.Errorf("%s as %s: FITS of the part = %v, an edge only a's internal manual made", name, p.ID, fits[part])
			}
		}

		reads := everyRead(t, g, editorOfA, ids)
		if v := reads["Node "+ids[1]]; !strings.Contains(v, "INTERNAL: replace board X") || !strings.Contains(v, `"severity":"high"`) || !strings.Contains(v, "INTERNAL-2.1") {
			t.Errorf("%s as a's editor: E102 = %s, want a's own symptom, severity and fixed-in version", name, v)
		}
		if v := reads["Node "+product]; !strings.Contains(v, `"brand":"INTERNAL`) {
			t.Errorf("%s as a's editor: product = %s, want a's own brand", name, v)
		}
		fits, err := g.Neighbors(fixgraph.WithPrincipal(ctx, editorOfA), []string{part}, fixgraph.RelFitsIn, fixgraph.Out)
		if err != nil || !slices.Equal(fits[part], []string{product}) {
			t.Errorf("%s as a's editor: FITS of the part = %v, %v; want a's edge", name, fits, err)
		}
	}
	// The store keeps both contributions.
	owners, err := s.Owners(ctx, ids[1:2])
	if err != nil || len(owners[ids[1]]) != 2 {
		t.Errorf("owners of E102 = %v, %v; want both manuals", owners, err)
	}
}

// sourcesAround returns two sources whose document ids sort one before and one after id.
func sourcesAround(id, prefix string) (before, after string) {
	for i := 0; before == "" || after == ""; i++ {
		src := fmt.Sprintf("%s%d.html", prefix, i)
		if fixgraph.DocumentID(src) < id && before == "" {
			before = src
		} else if fixgraph.DocumentID(src) > id && after == "" {
			after = src
		}
	}
	return before, after
}

func TestSharedNodesFoldOwnerAware(t *testing.T) { forEachStore(t, testSharedNodesFoldOwnerAware) }

// testSharedNodesFoldOwnerAware: department a publishes E102 first; department b then uploads a
// public manual that says otherwise, under a file name whose document id sorts after a's (the
// attack) or before it. a's readers, public readers and the store itself keep a's published
// fields; b's readers see b's; a new version of b's manual changes nothing for a; the conflict
// is kept side by side with each department's value; an editorial version settles it for all.
func testSharedNodesFoldOwnerAware(t *testing.T, s store) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for i, bAfter := range []bool{true, false} {
		model := fmt.Sprintf("WF-%d", i)
		code := fixgraph.ErrorCodeID(model, "E102")
		aSource := fmt.Sprintf("a-manual-%d.html", i)
		bBefore, bSource := sourcesAround(fixgraph.DocumentID(aSource), fmt.Sprintf("b-upload-%d-", i))
		if !bAfter {
			bSource = bBefore
		}
		a := deptManual(aSource, model, "a", fixgraph.VisibilityPublic, t0, "a: 排水堵塞", "medium")
		if _, err := s.Apply(ctx, a); err != nil {
			t.Fatal(err)
		}
		b := deptManual(bSource, model, "b", fixgraph.VisibilityPublic, t0.Add(time.Hour), "b: overridden", "high")
		if _, err := s.Apply(ctx, b); err != nil {
			t.Fatal(err)
		}
		symptom := func(g Guarded, p *fixgraph.Principal) (string, string) {
			t.Helper()
			n, err := g.Node(fixgraph.WithPrincipal(ctx, p), code)
			if err != nil {
				t.Fatalf("%s as %s: %v", bSource, p.ID, err)
			}
			ec := n.(*fixgraph.ErrorCode)
			return ec.Symptom["zh"], ec.Severity
		}
		check := func(when string, want map[*fixgraph.Principal]string) {
			t.Helper()
			for name, g := range map[string]Guarded{"cached": {Store: s}, "uncached": {Store: noGeneration{s}}} {
				for p, w := range want {
					if got, sev := symptom(g, p); got != w || (w == "a: 排水堵塞" && sev != "medium") {
						t.Errorf("%s, b's id after a's %v: %s as %s sees %q (%s), want %q", when, bAfter, name, p.ID, got, sev, w)
					}
				}
			}
			n, err := s.Node(ctx, code)
			if err != nil {
				t.Fatal(err)
			}
			if got := n.(*fixgraph.ErrorCode).Symptom["zh"]; got != want[fixgraph.Local] {
				t.Errorf("%s: the store's own node says %q, want %q", when, got, want[fixgraph.Local])
			}
		}
		check("b uploaded", map[*fixgraph.Principal]string{
			botOfA: "a: 排水堵塞", editorOfA: "a: 排水堵塞", publicBot: "a: 排水堵塞", fixgraph.Local: "a: 排水堵塞",
			botOfB: "b: overridden", editorOfB: "b: overridden",
		})

		b2 := deptManual(bSource, model, "b", fixgraph.VisibilityPublic, t0.Add(2*time.Hour), "b: again", "high")
		if _, err := s.Apply(ctx, b2); err != nil {
			t.Fatal(err)
		}
		check("b uploaded again", map[*fixgraph.Principal]string{
			botOfA: "a: 排水堵塞", publicBot: "a: 排水堵塞", fixgraph.Local: "a: 排水堵塞", botOfB: "b: again",
		})

		// A reviewer settles it: the editorial version wins for every reader.
		ed := editorialBatch(code, "e1", fixgraph.StatusPublished, nil,
			&fixgraph.ErrorCode{ID: code, Code: "E102", Product: model, Symptom: fixgraph.Text{"zh": "settled"}})
		if _, err := s.Apply(ctx, ed); err != nil {
			t.Fatal(err)
		}
		check("settled", map[*fixgraph.Principal]string{
			botOfA: "settled", publicBot: "settled", fixgraph.Local: "settled", botOfB: "settled",
		})
	}
}

func TestConflictsKeptSideBySide(t *testing.T) { forEachStore(t, testConflictsKeptSideBySide) }

// testConflictsKeptSideBySide: when departments give different values for fields of E102,
// Conflicts lists each field with each department's value and document; a reader sees only the
// values of documents it may read (no conflict at all for b's editor, who cannot read a's
// internal manual); an editorial version marks the fields it gives settled.
func testConflictsKeptSideBySide(t *testing.T, s store) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	const model = "WF-8012D"
	code := fixgraph.ErrorCodeID(model, "E102")
	a := deptManual("a.html", model, "a", fixgraph.VisibilityPublic, t0, "a: 排水堵塞", "medium")
	b := deptManual("b.html", model, "b", fixgraph.VisibilityPublic, t0.Add(time.Hour), "b: 不排水", "high")
	c := deptManual("c.html", model, "c", fixgraph.VisibilityDepartment, t0.Add(2*time.Hour), "INTERNAL: c", "high")
	for _, batch := range []*fixgraph.Batch{a, b, c} {
		if _, err := s.Apply(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	conflicts := func(p *fixgraph.Principal) map[string]fixgraph.Conflict {
		t.Helper()
		cs, err := Guarded{Store: s}.Conflicts(fixgraph.WithPrincipal(ctx, p), code)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]fixgraph.Conflict{}
		for _, c := range cs {
			out[c.Field] = c
		}
		return out
	}
	all := conflicts(fixgraph.Local)
	if got := slices.Sorted(maps.Keys(all)); !slices.Equal(got, []string{"cause.zh", "severity", "symptom.zh"}) {
		t.Errorf("conflicting fields = %v, want cause.zh, severity, symptom.zh", got)
	}
	sym := all["symptom.zh"].Values
	if len(sym) != 3 || sym[0].Department != "a" || sym[0].Value != "a: 排水堵塞" || sym[0].Document != a.Document.ID ||
		sym[1].Department != "b" || sym[1].Value != "b: 不排水" || sym[1].Document != b.Document.ID ||
		sym[2].Department != "c" || sym[2].Visibility != fixgraph.VisibilityDepartment || all["symptom.zh"].Settled {
		t.Errorf("symptom.zh = %+v; want a's, b's and c's values with their documents, unsettled", all["symptom.zh"])
	}
	// Department b's editor sees a's and b's values, never c's internal one.
	for f, c := range conflicts(editorOfB) {
		for _, v := range c.Values {
			if v.Department == "c" || strings.Contains(v.Value, "INTERNAL") {
				t.Errorf("b's editor sees c's internal value of %s: %+v", f, v)
			}
		}
	}
	// The public bot sees a's and b's public values only.
	if got := conflicts(publicBot)["symptom.zh"].Values; len(got) != 2 {
		t.Errorf("the public bot's view of symptom.zh = %+v, want a's and b's", got)
	}

	ed := editorialBatch(code, "e1", fixgraph.StatusPublished, nil,
		&fixgraph.ErrorCode{ID: code, Code: "E102", Product: model, Symptom: fixgraph.Text{"zh": "排水管堵塞"}})
	if _, err := s.Apply(ctx, ed); err != nil {
		t.Fatal(err)
	}
	all = conflicts(fixgraph.Local)
	if c := all["symptom.zh"]; !c.Settled || len(c.Values) != 4 || !c.Values[3].Editorial || c.Values[3].Value != "排水管堵塞" {
		t.Errorf("symptom.zh after the editorial version = %+v; want settled, the editor's value last", c)
	}
	if all["severity"].Settled {
		t.Errorf("severity = %+v; the editorial version does not give it", all["severity"])
	}
}

// TestGuardedWithoutContributionsHidesSharedNodes: a store that cannot give a node's
// contributions apart shows a node only when every document that contributed it is readable.
func TestGuardedWithoutContributionsHidesSharedNodes(t *testing.T) {
	s := MustOpenBolt(t)
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for _, b := range []*fixgraph.Batch{
		deptManual("a.html", "WF-1", "a", fixgraph.VisibilityDepartment, t0, "INTERNAL: a", "high"),
		deptManual("b.html", "WF-1", "b", fixgraph.VisibilityPublic, t0, "public b", "low"),
		deptManual("c.html", "WF-2", "b", fixgraph.VisibilityPublic, t0, "public c", "low"),
	} {
		if _, err := s.Apply(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	g := Guarded{Store: plainStore{s}}
	ns, err := g.Nodes(fixgraph.WithPrincipal(ctx, publicBot), []string{fixgraph.ErrorCodeID("WF-1", "E102"), fixgraph.ErrorCodeID("WF-2", "E102")})
	if err != nil {
		t.Fatal(err)
	}
	if ns[0] != nil || ns[1] == nil {
		t.Errorf("Nodes = %v; want the shared code hidden and the public one shown", ns)
	}
}

// plainStore is a store that gives only what GuardedStore asks for.
type plainStore struct{ GuardedStore }
