package editor_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/answer"
	"github.com/fixgraph/fixgraph/editor"
	"github.com/fixgraph/fixgraph/graph"
	"github.com/fixgraph/fixgraph/internal/fixgraphtest"
)

// The tests run the editor on the real stores: the embedded graph and the text index in a
// temporary directory, loaded with the fixture corpus through the ingest pipeline, and the
// editor's own bbolt store.

var (
	admin     = fixgraph.WithPrincipal(context.Background(), fixgraph.Local)
	reader    = fixgraph.WithPrincipal(context.Background(), &fixgraph.Principal{ID: "key:bot", Name: "bot", Role: fixgraph.RoleReader})
	editor1   = fixgraph.WithPrincipal(context.Background(), &fixgraph.Principal{ID: "user:ed1", Name: "ed1", Role: fixgraph.RoleEditor})
	editor2   = fixgraph.WithPrincipal(context.Background(), &fixgraph.Principal{ID: "user:ed2", Name: "ed2", Role: fixgraph.RoleEditor})
	reviewer1 = fixgraph.WithPrincipal(context.Background(), &fixgraph.Principal{ID: "user:rev", Name: "rev", Role: fixgraph.RoleReviewer})
)

type env struct {
	stores  *fixgraphtest.Stores
	graph   graph.Guarded // the graph as queries read it
	answers *answer.Service
	svc     *editor.Service
}

func newEnv(t *testing.T) *env {
	t.Helper()
	s := fixgraphtest.MustOpen(t)
	s.MustLoadFixtures(t)
	st, err := editor.OpenStore(filepath.Join(t.TempDir(), "editor.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	answers := &answer.Service{Graph: graph.Guarded{Store: s.Graph}, Index: s.Index}
	svc := &editor.Service{Store: st, Graph: graph.Guarded{Store: s.Graph}, Owners: s.Graph, Writer: s.Pipeline, Answers: answers}
	return &env{stores: s, graph: graph.Guarded{Store: s.Graph}, answers: answers, svc: svc}
}

const (
	e102Question   = "WF-8012D 显示E102怎么办"
	e102QuestionEn = "My WF-8012D shows error E102, what should I do?"
)

var e102 = fixgraph.ErrorCodeID("WF-8012D", "E102")

// guide returns the repair guide of the code in lang, as the graph serves it.
func (e *env) guide(t *testing.T, codeID, lang string) *fixgraph.RepairGuide {
	t.Helper()
	guides, err := e.answers.Guides(admin, codeID)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range guides {
		if g.Language == lang {
			return g
		}
	}
	t.Fatalf("%s has no %s repair guide among %d", codeID, lang, len(guides))
	return nil
}

// askGuide asks as a bot and wants a troubleshooting answer with a guide.
func (e *env) askGuide(t *testing.T, q string) *fixgraph.RepairGuide {
	t.Helper()
	a, err := e.answers.Ask(reader, q)
	if err != nil {
		t.Fatal(err)
	}
	if a.Kind != fixgraph.AnswerTroubleshoot || a.Guide == nil {
		t.Fatalf("Ask(%q) = kind %s, guide %v; want a troubleshooting answer with a guide", q, a.Kind, a.Guide)
	}
	return a.Guide
}

// working returns the decoded node of an entity's working copy.
func working[T fixgraph.Node](t *testing.T, e *editor.Entity) T {
	t.Helper()
	n, err := e.Decode()
	if err != nil {
		t.Fatal(err)
	}
	v, ok := n.(T)
	if !ok {
		t.Fatalf("%s decodes to %T", e.ID, n)
	}
	return v
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if fixgraph.CodeOf(err) != code {
		t.Fatalf("err = %v (code %q), want code %q", err, fixgraph.CodeOf(err), code)
	}
}

var newSteps = []string{
	"拔下电源插头，等待 30 分钟让机内的水冷却。",
	"打开右下方检修盖，先用应急排水管放净积水。",
	"逆时针旋出排水泵过滤器，用软毛刷清除异物后装回并拧紧。",
	"插电运行“单脱水”，确认排水正常。",
}

func TestEditGuideDraftPreviewPublishRollback(t *testing.T) {
	e := newEnv(t)
	orig := e.guide(t, e102, "zh")
	oldSteps := slices.Clone(orig.Steps)
	if got := e.askGuide(t, e102Question); got.ID != orig.ID || !slices.Equal(got.Steps, oldSteps) {
		t.Fatalf("before any edit Ask gives guide %s with steps %q, want %s with the ingested steps", got.ID, got.Steps, orig.ID)
	}

	cur, err := e.svc.Current(editor1, orig.ID)
	if err != nil {
		t.Fatal(err)
	}
	if cur.Rev != 0 || cur.Status != fixgraph.StatusPublished || cur.Visibility != fixgraph.VisibilityPublic {
		t.Fatalf("untouched working copy: rev %d, status %s, visibility %s", cur.Rev, cur.Status, cur.Visibility)
	}
	g := working[*fixgraph.RepairGuide](t, cur)
	if !slices.Equal(g.Steps, oldSteps) {
		t.Fatalf("the working copy of an untouched guide has steps %q, want the graph's", g.Steps)
	}

	// Save as a draft: the bots still get the old steps, the preview the new ones.
	g.Steps = newSteps
	saved, err := e.svc.Save(editor1, orig.ID, cur.Rev, editor.Change{Node: g, Visibility: cur.Visibility, Department: cur.Department, Note: "shorter steps"})
	if err != nil {
		t.Fatal(err)
	}
	if saved.Status != fixgraph.StatusDraft || saved.Rev != 2 || saved.Live != 1 {
		t.Fatalf("saved: status %s, rev %d, live %d; want draft, 2 (after the ingested revision 1), live 1", saved.Status, saved.Rev, saved.Live)
	}
	if got := e.askGuide(t, e102Question); !slices.Equal(got.Steps, oldSteps) {
		t.Fatalf("a draft is served to bots: Ask gives steps %q", got.Steps)
	}
	if _, err := e.graph.Node(admin, fixgraph.DocumentID(fixgraph.EditorialSource(orig.ID))); fixgraph.CodeOf(err) != fixgraph.ENOTFOUND {
		t.Fatalf("saving a draft wrote an editorial document into the graph (err %v)", err)
	}
	prev, err := e.svc.Preview(editor1, orig.ID, e102Question)
	if err != nil {
		t.Fatal(err)
	}
	if prev.Kind != fixgraph.AnswerTroubleshoot || prev.Guide == nil || prev.Guide.ID != orig.ID || !slices.Equal(prev.Guide.Steps, newSteps) {
		t.Fatalf("Preview = kind %s, guide %+v; want the draft's steps", prev.Kind, prev.Guide)
	}
	if got := e.askGuide(t, e102Question); !slices.Equal(got.Steps, oldSteps) {
		t.Fatalf("Preview changed what bots get: steps %q", got.Steps)
	}

	// Publish: the bots get the new steps.
	pub, err := e.svc.Transition(reviewer1, orig.ID, saved.Rev, "publish")
	if err != nil {
		t.Fatal(err)
	}
	if pub.Status != fixgraph.StatusPublished || pub.Rev != 3 || pub.Live != 3 {
		t.Fatalf("published: status %s, rev %d, live %d", pub.Status, pub.Rev, pub.Live)
	}
	if got := e.askGuide(t, e102Question); got.ID != orig.ID || !slices.Equal(got.Steps, newSteps) {
		t.Fatalf("after publishing Ask gives guide %s with steps %q, want the new steps", got.ID, got.Steps)
	}
	// The English guide is another entity and keeps its steps.
	if got := e.askGuide(t, e102QuestionEn); got.Language != "en" || slices.Equal(got.Steps, newSteps) {
		t.Fatalf("the English question got guide %s (%s) with steps %q", got.ID, got.Language, got.Steps)
	}

	hist, err := e.svc.Store.History(orig.ID)
	if err != nil {
		t.Fatal(err)
	}
	var acts []string
	for _, r := range hist {
		acts = append(acts, r.Action)
	}
	if want := []string{editor.ActPublished, editor.ActSaved, editor.ActIngested}; !slices.Equal(acts, want) {
		t.Fatalf("history actions, newest first: %q, want %q", acts, want)
	}
	if hist[1].By != "user:ed1" || hist[1].Note != "shorter steps" || hist[0].By != "user:rev" {
		t.Fatalf("history authors or note wrong: %+v", hist[:2])
	}
	if g := working[*fixgraph.RepairGuide](t, &hist[2].Entity); !slices.Equal(g.Steps, oldSteps) {
		t.Fatalf("the ingested revision holds steps %q, want the ingested ones", g.Steps)
	}

	// Roll back to the ingested revision: the old steps again, and no editorial document.
	rb, err := e.svc.Rollback(reviewer1, orig.ID, pub.Rev, 1)
	if err != nil {
		t.Fatal(err)
	}
	if rb.Rev != 4 || rb.Live != 4 || rb.Status != fixgraph.StatusPublished {
		t.Fatalf("rolled back: rev %d, live %d, status %s", rb.Rev, rb.Live, rb.Status)
	}
	if got := e.askGuide(t, e102Question); got.ID != orig.ID || !slices.Equal(got.Steps, oldSteps) {
		t.Fatalf("after rolling back to the ingested revision Ask gives steps %q, want the ingested ones", got.Steps)
	}
	for _, ctx := range []context.Context{admin, reader} {
		if _, err := e.graph.Node(ctx, fixgraph.DocumentID(fixgraph.EditorialSource(orig.ID))); fixgraph.CodeOf(err) != fixgraph.ENOTFOUND {
			t.Fatalf("the editorial document is still in the graph after rolling back to the ingested revision (err %v)", err)
		}
	}
	hist, err = e.svc.Store.History(orig.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 4 || hist[0].Action != editor.ActRolledBack || hist[0].Note != "to revision 1" {
		t.Fatalf("history after the rollback: %d revisions, newest %q %q", len(hist), hist[0].Action, hist[0].Note)
	}
	// The history keeps what was published, so it can be restored in turn.
	if _, err := e.svc.Rollback(reviewer1, orig.ID, rb.Rev, 3); err != nil {
		t.Fatal(err)
	}
	if got := e.askGuide(t, e102Question); !slices.Equal(got.Steps, newSteps) {
		t.Fatalf("rolling forward to revision 3 gives steps %q, want the published edit", got.Steps)
	}
}

func TestSaveConflict(t *testing.T) {
	e := newEnv(t)
	id := e.guide(t, e102, "zh").ID
	change := func(t *testing.T, base *editor.Entity, step string) editor.Change {
		g := working[*fixgraph.RepairGuide](t, base)
		g.Steps = []string{step}
		return editor.Change{Node: g, Visibility: base.Visibility, Department: base.Department}
	}

	// Both open the untouched guide (revision 0).
	open1, err := e.svc.Current(editor1, id)
	if err != nil {
		t.Fatal(err)
	}
	open2, err := e.svc.Current(editor2, id)
	if err != nil {
		t.Fatal(err)
	}
	first, err := e.svc.Save(editor1, id, open1.Rev, change(t, open1, "第一位编辑的步骤"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Save(editor2, id, open2.Rev, change(t, open2, "第二位编辑的步骤"))
	wantCode(t, err, fixgraph.ECONFLICT)
	stored, err := e.svc.Store.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	if g := working[*fixgraph.RepairGuide](t, stored); stored.Rev != first.Rev || stored.UpdatedBy != "user:ed1" || !slices.Equal(g.Steps, []string{"第一位编辑的步骤"}) {
		t.Fatalf("after the conflict the stored copy is rev %d by %s with steps %q, want the first editor's", stored.Rev, stored.UpdatedBy, g.Steps)
	}

	// Again at a later revision N: both open N, the first save wins.
	open1, _ = e.svc.Current(editor1, id)
	open2, _ = e.svc.Current(editor2, id)
	if open1.Rev != first.Rev || open2.Rev != first.Rev {
		t.Fatalf("opened revisions %d and %d, want %d", open1.Rev, open2.Rev, first.Rev)
	}
	second, err := e.svc.Save(editor2, id, open2.Rev, change(t, open2, "第二位编辑先保存"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Save(editor1, id, open1.Rev, change(t, open1, "第一位编辑晚了一步"))
	wantCode(t, err, fixgraph.ECONFLICT)
	stored, _ = e.svc.Store.Get(id)
	if g := working[*fixgraph.RepairGuide](t, stored); stored.Rev != second.Rev || !slices.Equal(g.Steps, []string{"第二位编辑先保存"}) {
		t.Fatalf("the stored copy is rev %d with steps %q, want the second editor's save", stored.Rev, g.Steps)
	}
	hist, _ := e.svc.Store.History(id)
	if len(hist) != 3 { // ingested, saved, saved
		t.Fatalf("%d revisions; a refused save must not write one", len(hist))
	}

	// A publish must name the revision the reviewer saw.
	_, err = e.svc.Transition(reviewer1, id, first.Rev, "publish")
	wantCode(t, err, fixgraph.ECONFLICT)
}

// A stale revision for an entity without a working copy (a form from before the editor store
// was restored, say) is a conflict, not a crash.
func TestSaveStaleBaseWithoutWorkingCopy(t *testing.T) {
	e := newEnv(t)
	g := e.guide(t, e102, "zh")
	g.Steps = []string{"一步"}
	_, err := e.svc.Save(editor1, g.ID, 3, editor.Change{Node: g})
	wantCode(t, err, fixgraph.ECONFLICT)
	_, err = e.svc.Transition(reviewer1, g.ID, 3, "archive")
	wantCode(t, err, fixgraph.ECONFLICT)
	if wc, err := e.svc.Store.Get(g.ID); err != nil || wc != nil {
		t.Fatalf("a refused change left a working copy %+v (err %v)", wc, err)
	}
}

func TestWorkflowPermissions(t *testing.T) {
	e := newEnv(t)
	id := e.guide(t, e102, "zh").ID
	cur, err := e.svc.Current(editor1, id)
	if err != nil {
		t.Fatal(err)
	}
	g := working[*fixgraph.RepairGuide](t, cur)
	g.Steps = newSteps

	// A reader may not edit at all.
	_, err = e.svc.Save(reader, id, 0, editor.Change{Node: g})
	wantCode(t, err, fixgraph.EFORBIDDEN)
	// Nothing to submit yet: the untouched guide is published.
	_, err = e.svc.Transition(editor1, id, -1, "submit")
	wantCode(t, err, fixgraph.ECONFLICT)

	d, err := e.svc.Save(editor1, id, 0, editor.Change{Node: g, Visibility: cur.Visibility})
	if err != nil {
		t.Fatal(err)
	}
	for _, action := range []string{"publish", "archive", "reject"} {
		_, err = e.svc.Transition(editor1, id, d.Rev, action)
		wantCode(t, err, fixgraph.EFORBIDDEN)
	}
	_, err = e.svc.Rollback(editor1, id, d.Rev, 1)
	wantCode(t, err, fixgraph.EFORBIDDEN)
	if wc, _ := e.svc.Store.Get(id); wc.Rev != d.Rev || wc.Status != fixgraph.StatusDraft {
		t.Fatalf("refused steps changed the working copy: rev %d, status %s", wc.Rev, wc.Status)
	}
	if got := e.askGuide(t, e102Question); slices.Equal(got.Steps, newSteps) {
		t.Fatal("an editor's refused publish reached the bots")
	}

	sub, err := e.svc.Transition(editor1, id, d.Rev, "submit")
	if err != nil {
		t.Fatal(err)
	}
	if sub.Status != fixgraph.StatusReview {
		t.Fatalf("submitted: status %s", sub.Status)
	}
	_, err = e.svc.Transition(editor1, id, sub.Rev, "submit")
	wantCode(t, err, fixgraph.ECONFLICT) // in review, not a draft
	_, err = e.svc.Transition(editor1, id, sub.Rev, "publish")
	wantCode(t, err, fixgraph.EFORBIDDEN)
	_, err = e.svc.Transition(editor1, id, sub.Rev, "dance")
	wantCode(t, err, fixgraph.EINVALID)

	// A reviewer may reject and publish.
	rej, err := e.svc.Transition(reviewer1, id, sub.Rev, "reject")
	if err != nil {
		t.Fatal(err)
	}
	if rej.Status != fixgraph.StatusDraft {
		t.Fatalf("rejected: status %s", rej.Status)
	}
	_, err = e.svc.Transition(reviewer1, id, rej.Rev, "reject")
	wantCode(t, err, fixgraph.ECONFLICT) // a draft is not in review
	pub, err := e.svc.Transition(reviewer1, id, rej.Rev, "publish")
	if err != nil {
		t.Fatal(err)
	}
	if got := e.askGuide(t, e102Question); !slices.Equal(got.Steps, newSteps) {
		t.Fatalf("the reviewer's publish did not reach the bots: steps %q", got.Steps)
	}
	_, err = e.svc.Transition(editor1, id, pub.Rev, "submit")
	wantCode(t, err, fixgraph.ECONFLICT) // published, not a draft
	_, err = e.svc.Transition(reviewer1, id, pub.Rev, "publish")
	wantCode(t, err, fixgraph.ECONFLICT) // published already
}

func TestDetachFixedBy(t *testing.T) {
	e := newEnv(t)
	en := e.guide(t, e102, "en")
	zh := e.guide(t, e102, "zh")
	fixedBy := func(ctx context.Context) []string {
		t.Helper()
		m, err := e.graph.Neighbors(ctx, []string{e102}, fixgraph.RelFixedBy, fixgraph.Out)
		if err != nil {
			t.Fatal(err)
		}
		return m[e102]
	}
	if got := fixedBy(reader); !slices.Contains(got, en.ID) || !slices.Contains(got, zh.ID) {
		t.Fatalf("before: %s FIXED_BY %q, want both guides", e102, got)
	}
	if got := e.askGuide(t, e102QuestionEn); got.ID != en.ID {
		t.Fatalf("before: the English question gets guide %s, want the English guide %s", got.ID, en.ID)
	}

	cur, err := e.svc.Current(editor1, e102)
	if err != nil {
		t.Fatal(err)
	}
	code := working[*fixgraph.ErrorCode](t, cur)
	edge := fixgraph.Edge{From: e102, Rel: fixgraph.RelFixedBy, To: en.ID}
	d, err := e.svc.Save(editor1, e102, cur.Rev, editor.Change{Node: code, Detached: []fixgraph.Edge{edge}, Visibility: cur.Visibility, Department: cur.Department})
	if err != nil {
		t.Fatal(err)
	}
	if got := fixedBy(reader); !slices.Contains(got, en.ID) {
		t.Fatalf("a draft's detached edge is already gone: %q", got)
	}
	if _, err := e.svc.Transition(reviewer1, e102, d.Rev, "publish"); err != nil {
		t.Fatal(err)
	}
	for _, ctx := range []context.Context{reader, admin} {
		if got := fixedBy(ctx); slices.Contains(got, en.ID) || !slices.Contains(got, zh.ID) {
			t.Fatalf("after publishing the detach: %s FIXED_BY %q, want the Chinese guide only", e102, got)
		}
	}
	a, err := e.answers.Ask(reader, e102QuestionEn)
	if err != nil {
		t.Fatal(err)
	}
	if a.Kind != fixgraph.AnswerTroubleshoot || a.Guide != nil && a.Guide.ID == en.ID {
		t.Fatalf("after the detach the English question gets kind %s, guide %v; want no English guide", a.Kind, a.Guide)
	}
	// The store keeps the edge, so that the detach can be undone.
	raw, err := e.stores.Graph.Neighbors(admin, []string{e102}, fixgraph.RelFixedBy, fixgraph.Out)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(raw[e102], en.ID) {
		t.Fatalf("the store lost the detached edge: %q", raw[e102])
	}
	wc, _ := e.svc.Store.Get(e102)
	if _, err := e.svc.Rollback(reviewer1, e102, wc.Rev, 1); err != nil {
		t.Fatal(err)
	}
	if got := fixedBy(reader); !slices.Contains(got, en.ID) {
		t.Fatalf("rolling back did not attach the edge again: %q", got)
	}
	if got := e.askGuide(t, e102QuestionEn); got.ID != en.ID {
		t.Fatalf("after rolling back the English question gets guide %s", got.ID)
	}
}

const saltQuestion = "洗碗机一定要放软水盐吗？"

func TestArchiveFAQ(t *testing.T) {
	e := newEnv(t)
	a, err := e.answers.Ask(reader, saltQuestion)
	if err != nil {
		t.Fatal(err)
	}
	if a.Kind != fixgraph.AnswerFAQ || a.FAQ == nil {
		t.Fatalf("before: Ask(%q) = kind %s, want the FAQ", saltQuestion, a.Kind)
	}
	id := a.FAQ.ID

	_, err = e.svc.Transition(editor1, id, 0, "archive")
	wantCode(t, err, fixgraph.EFORBIDDEN)
	arch, err := e.svc.Transition(reviewer1, id, 0, "archive")
	if err != nil {
		t.Fatal(err)
	}
	if arch.Status != fixgraph.StatusArchived || arch.Live != arch.Rev {
		t.Fatalf("archived: status %s, rev %d, live %d", arch.Status, arch.Rev, arch.Live)
	}

	for _, ctx := range []context.Context{reader, admin} {
		if _, err := e.graph.Node(ctx, id); fixgraph.CodeOf(err) != fixgraph.ENOTFOUND {
			t.Fatalf("the archived FAQ is still a node of the guarded graph (err %v)", err)
		}
	}
	err = e.graph.Scan(reader, fixgraph.PrefixFAQ+":", func(n fixgraph.Node) error {
		if n.NodeID() == id {
			t.Errorf("Scan lists the archived FAQ")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	a, err = e.answers.Ask(reader, saltQuestion)
	if err != nil {
		t.Fatal(err)
	}
	if a.Kind == fixgraph.AnswerFAQ || a.FAQ != nil {
		t.Fatalf("after archiving Ask still answers with an FAQ: %+v", a.FAQ)
	}
	// The archived editorial document's section is not searchable for bots.
	hits, err := e.answers.Search(reader, saltQuestion, 20, answer.Published)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hits {
		if fixgraph.IsEditorial(h.Document.ID) {
			t.Fatalf("a bot's search finds the archived editorial document %s", h.Document.ID)
		}
	}
	// The editor still has it, and can bring it back.
	if wc, err := e.svc.Current(editor1, id); err != nil || wc.Status != fixgraph.StatusArchived {
		t.Fatalf("the editor lost the archived FAQ: %+v, %v", wc, err)
	}
	if _, err := e.svc.Rollback(reviewer1, id, arch.Rev, 1); err != nil {
		t.Fatal(err)
	}
	if a, err = e.answers.Ask(reader, saltQuestion); err != nil || a.FAQ == nil || a.FAQ.ID != id {
		t.Fatalf("after rolling back the archive Ask = %+v, %v; want the FAQ again", a, err)
	}
}

// An archived FAQ's answer does not reach the bots in any form: the section of the FAQ page it
// was read from describes nothing else, so the graph's guard hides it with the FAQ, and Ask does
// not fall back to answering with that section's text.
func TestArchivedFAQTextNotServed(t *testing.T) {
	e := newEnv(t)
	a, err := e.answers.Ask(reader, saltQuestion)
	if err != nil {
		t.Fatal(err)
	}
	faq := a.FAQ
	if _, err := e.svc.Transition(reviewer1, faq.ID, 0, "archive"); err != nil {
		t.Fatal(err)
	}
	if a, err = e.answers.Ask(reader, saltQuestion); err != nil {
		t.Fatal(err)
	}
	if a.Text == faq.Answer {
		t.Fatalf("the archived FAQ's answer is served as a %s answer", a.Kind)
	}
}

func TestNewFAQPublished(t *testing.T) {
	e := newEnv(t)
	const q = "空调外机一直滴水正常吗"
	const ans = "空调制冷时外机滴水是正常的冷凝水，不影响使用；如滴水量很大或室内机漏水，请联系售后检查排水管。"
	before, err := e.answers.Ask(reader, q)
	if err != nil {
		t.Fatal(err)
	}
	if before.Kind == fixgraph.AnswerFAQ && before.Text == ans {
		t.Fatal("the corpus already answers the question")
	}

	id := fixgraph.HashID(fixgraph.PrefixFAQ, "editor", q)
	if _, err := e.svc.Current(editor1, id); fixgraph.CodeOf(err) != fixgraph.ENOTFOUND {
		t.Fatalf("Current of a new id: %v, want ENOTFOUND", err)
	}
	faq := &fixgraph.FAQ{ID: id, Question: q, Variants: []string{"空调室外机滴水"}, Answer: ans, Language: "zh"}
	_, err = e.svc.Save(editor1, id, 0, editor.Change{Node: &fixgraph.FAQ{ID: id, Question: q}})
	wantCode(t, err, fixgraph.EINVALID) // no answer
	_, err = e.svc.Save(editor1, "faq:other", 0, editor.Change{Node: faq})
	wantCode(t, err, fixgraph.EINVALID) // not the entity's node
	d, err := e.svc.Save(editor1, id, 0, editor.Change{Node: faq, Answers: []string{"ev-9"}})
	if err != nil {
		t.Fatal(err)
	}
	if !d.Created || d.Rev != 1 || d.Live != 0 || d.Status != fixgraph.StatusDraft || d.Visibility != fixgraph.VisibilityPublic {
		t.Fatalf("new FAQ: created %v, rev %d, live %d, status %s, visibility %s", d.Created, d.Rev, d.Live, d.Status, d.Visibility)
	}
	hist, _ := e.svc.Store.History(id)
	if len(hist) != 1 || hist[0].Action != editor.ActCreated {
		t.Fatalf("history of a new FAQ: %+v", hist)
	}
	if a, err := e.answers.Ask(reader, q); err != nil || a.Kind == fixgraph.AnswerFAQ && a.Text == ans {
		t.Fatalf("the draft FAQ is served: %+v, %v", a, err)
	}
	if prev, err := e.svc.Preview(editor1, id, q); err != nil || prev.Kind != fixgraph.AnswerFAQ || prev.Text != ans {
		t.Fatalf("Preview of the new FAQ = %+v, %v", prev, err)
	}

	// The asks the FAQ answers stay in the queue while it is a draft.
	if h, err := e.svc.Store.Handled([]string{"ev-9"}); err != nil || len(h) != 0 {
		t.Fatalf("a draft took its asks out of the queue: %v, %v", h, err)
	}
	events := []string{"ev-1", "ev-2"}
	if err := e.svc.Store.MarkHandled(events, id); err != nil {
		t.Fatal(err)
	}
	handled, err := e.svc.Store.Handled([]string{"ev-1", "ev-2", "ev-3"})
	if err != nil {
		t.Fatal(err)
	}
	if len(handled) != 2 || handled["ev-1"] != id || handled["ev-2"] != id {
		t.Fatalf("Handled = %v, want ev-1 and ev-2 answered by %s", handled, id)
	}

	if _, err := e.svc.Transition(reviewer1, id, d.Rev, "publish"); err != nil {
		t.Fatal(err)
	}
	if h, err := e.svc.Store.Handled([]string{"ev-9"}); err != nil || h["ev-9"] != id {
		t.Fatalf("publishing did not take its asks out of the queue: %v, %v", h, err)
	}
	a, err := e.answers.Ask(reader, q)
	if err != nil {
		t.Fatal(err)
	}
	if a.Kind != fixgraph.AnswerFAQ || a.FAQ == nil || a.FAQ.ID != id || a.Text != ans {
		t.Fatalf("after publishing Ask(%q) = kind %s, text %q; want the new FAQ", q, a.Kind, a.Text)
	}
	if len(a.Citations) == 0 || !fixgraph.IsEditorial(a.Citations[0].DocumentID) {
		t.Fatalf("the answer cites %+v, want the editorial document", a.Citations)
	}
	// The variant finds it too.
	if a, err := e.answers.Ask(reader, "空调室外机滴水"); err != nil || a.FAQ == nil || a.FAQ.ID != id {
		t.Fatalf("the variant gets %+v, %v", a, err)
	}
	// The working copy is live at its latest revision.
	if wc, _ := e.svc.Store.Get(id); !wc.Created || wc.Live != wc.Rev {
		t.Fatalf("published new FAQ: %+v", wc)
	}
}

func TestCurrentHidesOtherDepartments(t *testing.T) {
	e := newEnv(t)
	support := fixgraph.WithPrincipal(context.Background(), &fixgraph.Principal{ID: "user:sup", Name: "sup", Role: fixgraph.RoleEditor, Department: "support"})
	sales := fixgraph.WithPrincipal(context.Background(), &fixgraph.Principal{ID: "user:sal", Name: "sal", Role: fixgraph.RoleEditor, Department: "sales"})
	id := fixgraph.HashID(fixgraph.PrefixFAQ, "editor", "内部：上门维修如何申请配件？")
	faq := &fixgraph.FAQ{ID: id, Question: "内部：上门维修如何申请配件？", Answer: "在工单系统提交配件申请。", Language: "zh"}
	d, err := e.svc.Save(support, id, 0, editor.Change{Node: faq, Visibility: fixgraph.VisibilityDepartment, Department: "support"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Current(support, id); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Current(sales, id)
	wantCode(t, err, fixgraph.ENOTFOUND)
	_, err = e.svc.Preview(sales, id, faq.Question)
	wantCode(t, err, fixgraph.ENOTFOUND)
	_, err = e.svc.Transition(sales, id, d.Rev, "submit")
	wantCode(t, err, fixgraph.ENOTFOUND)
	// Nor may the other department write over it.
	other := *faq
	other.Answer = "随便写的答案"
	_, err = e.svc.Save(sales, id, d.Rev, editor.Change{Node: &other, Visibility: fixgraph.VisibilityPublic})
	wantCode(t, err, fixgraph.ENOTFOUND)
	if wc, _ := e.svc.Store.Get(id); working[*fixgraph.FAQ](t, wc).Answer != faq.Answer || wc.Visibility != fixgraph.VisibilityDepartment {
		t.Fatalf("another department's editor overwrote the FAQ: %+v", wc)
	}

	// An ingested node of a department-only document no editor has touched: the other
	// department may neither open it nor write over it as if it were new.
	src := "support/internal-faq.html"
	doc := &fixgraph.Document{ID: fixgraph.DocumentID(src), Source: src, Title: "内部常见问题", Kind: fixgraph.KindFAQ, Language: "zh",
		ContentHash: "internal-faq-1", Department: "support", Visibility: fixgraph.VisibilityDepartment, Status: fixgraph.StatusPublished}
	sec := &fixgraph.Section{ID: fixgraph.HashID(fixgraph.PrefixSection, doc.ID, "1"), DocumentID: doc.ID, Heading: "如何申请备用机？", Text: "填写备用机申请单。", Language: "zh"}
	hidden := &fixgraph.FAQ{ID: fixgraph.HashID(fixgraph.PrefixFAQ, src, "1"), Question: "如何申请备用机？", Answer: "填写备用机申请单。", SectionID: sec.ID, DocumentID: doc.ID, Language: "zh"}
	b := &fixgraph.Batch{Document: doc}
	b.Add(sec, hidden)
	b.Link(sec.ID, fixgraph.RelPartOf, doc.ID)
	b.Link(sec.ID, fixgraph.RelDescribes, hidden.ID)
	if r := e.stores.Pipeline.Write(admin, src, b); r.Err != nil {
		t.Fatal(r.Err)
	}
	if wc, err := e.svc.Current(support, hidden.ID); err != nil || wc.Visibility != fixgraph.VisibilityDepartment || wc.Department != "support" {
		t.Fatalf("support opens its own FAQ as %+v, %v; want it with its document's audience", wc, err)
	}
	_, err = e.svc.Current(sales, hidden.ID)
	wantCode(t, err, fixgraph.ENOTFOUND)
	over := *hidden
	over.Answer = "销售部改写的答案"
	_, err = e.svc.Save(sales, hidden.ID, 0, editor.Change{Node: &over, Visibility: fixgraph.VisibilityPublic})
	wantCode(t, err, fixgraph.ENOTFOUND)
	if wc, _ := e.svc.Store.Get(hidden.ID); wc != nil {
		t.Fatalf("another department's editor made a working copy of a node it cannot see: %+v", wc)
	}
}

// Revisions take their time from Service.Now, in UTC; a missing revision is ENOTFOUND.
func TestRevisionTimes(t *testing.T) {
	e := newEnv(t)
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.FixedZone("CST", 8*3600))
	e.svc.Now = func() time.Time { return at }
	g := e.guide(t, e102, "zh")
	g.Steps = newSteps
	s, err := e.svc.Save(editor1, g.ID, 0, editor.Change{Node: g})
	if err != nil {
		t.Fatal(err)
	}
	if !s.UpdatedAt.Equal(at) || s.UpdatedAt.Location() != time.UTC {
		t.Fatalf("UpdatedAt = %v, want %v in UTC", s.UpdatedAt, at)
	}
	r, err := e.svc.Store.Revision(g.ID, 1)
	if err != nil || r.Action != editor.ActIngested || !r.At.Equal(at) {
		t.Fatalf("revision 1 = %+v, %v", r, err)
	}
	_, err = e.svc.Store.Revision(g.ID, 9)
	wantCode(t, err, fixgraph.ENOTFOUND)
}
