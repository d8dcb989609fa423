package editor_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/editor"
)

// TestEntityPageShowsConflicts: when the sales department publishes a manual that says
// something else of E102's symptom than the manuals already published, the entity page lists
// the field with each department's value for a reviewer; sales' reviewer sees sales' value in
// the fields, everyone else the value published first; publishing an editorial version marks
// the field settled.
func TestEntityPageShowsConflicts(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	const salesSymptom = "销售部：排水泵损坏"
	src := "sales/wf-8012d-service.html"
	doc := &fixgraph.Document{ID: fixgraph.DocumentID(src), Source: src, Title: "WF-8012D service notes", ContentHash: "s1",
		Kind: fixgraph.KindManual, Department: "sales", Visibility: fixgraph.VisibilityPublic, Status: fixgraph.StatusPublished,
		IngestedAt: time.Now().Add(time.Hour).UTC()}
	b := &fixgraph.Batch{Document: doc}
	b.Add(&fixgraph.ErrorCode{ID: e102, Code: "E102", Product: "WF-8012D", Symptom: fixgraph.Text{"zh": salesSymptom}})
	if _, err := s.stores.Graph.Apply(ctx, b); err != nil {
		t.Fatal(err)
	}
	path := "/editor/entity?id=" + url.QueryEscape(e102)

	rev := s.signedIn(t, "rev")
	d := rev.page(path).doc(t)
	row := d.Find("#conflicts tr.conflict").FilterFunction(func(_ int, r *goquery.Selection) bool {
		return strings.HasPrefix(strings.TrimSpace(r.Find("th").Text()), "symptom.zh")
	})
	if row.Length() != 1 {
		t.Fatalf("the entity page lists no conflict on symptom.zh:\n%s", d.Find("#conflicts").Text())
	}
	if txt := row.Text(); !strings.Contains(txt, "sales") || !strings.Contains(txt, salesSymptom) || row.Find("li").Length() < 2 {
		t.Errorf("the symptom.zh conflict = %q; want sales' value beside the other department's", txt)
	}
	if strings.Contains(d.Find("#fields").Text(), salesSymptom) {
		t.Errorf("a reviewer of no department sees sales' later symptom in the fields; want the one published first")
	}

	sal := s.signedIn(t, "sal")
	if txt := sal.page(path).doc(t).Find("#fields").Text(); !strings.Contains(txt, salesSymptom) {
		t.Errorf("sales' reviewer sees fields %q; want sales' own symptom", txt)
	}

	// Settling: the reviewer publishes an editorial version.
	ec := &fixgraph.ErrorCode{ID: e102, Code: "E102", Product: "WF-8012D", Symptom: fixgraph.Text{"zh": "排水超时"}, Severity: "medium"}
	if _, err := s.svc.Save(reviewer1, e102, 0, editor.Change{Node: ec, Visibility: fixgraph.VisibilityPublic}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.Transition(reviewer1, e102, -1, "publish"); err != nil {
		t.Fatal(err)
	}
	d = rev.page(path).doc(t)
	if d.Find("#conflicts tr.conflict.settled th:contains('symptom.zh')").Length() != 1 {
		t.Errorf("after publishing the editor's version, symptom.zh is not marked settled:\n%s", d.Find("#conflicts").Text())
	}
}
