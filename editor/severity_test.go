package editor_test

import (
	"testing"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/editor"
)

// TestEditSeverityDanger marks an error code dangerous in the editor: once published, an ask
// about it is handed to a person with reason dangerous_code and leads with the safety step; a
// severity outside the list is refused.
func TestEditSeverityDanger(t *testing.T) {
	e := newEnv(t)
	if a, err := e.answers.AskIn(reader, e102Question, nil); err != nil || a.Handoff.Recommended {
		t.Fatalf("before the edit E102 = %+v, %v; want an answer without hand-off", a.Handoff, err)
	}
	cur, err := e.svc.Current(editor1, e102)
	if err != nil {
		t.Fatal(err)
	}
	ec := working[*fixgraph.ErrorCode](t, cur)
	bad := *ec
	bad.Severity = "extreme"
	_, err = e.svc.Save(editor1, e102, cur.Rev, editor.Change{Node: &bad, Visibility: cur.Visibility, Department: cur.Department})
	wantCode(t, err, fixgraph.EINVALID)

	ec.Severity = fixgraph.SeverityDanger
	saved, err := e.svc.Save(editor1, e102, cur.Rev, editor.Change{Node: ec, Visibility: cur.Visibility, Department: cur.Department, Note: "the drain pump can overheat"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Transition(reviewer1, e102, saved.Rev, "publish"); err != nil {
		t.Fatal(err)
	}
	a, err := e.answers.AskIn(reader, e102Question, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Handoff.Recommended || a.Handoff.Reason != fixgraph.HandoffDangerousCode || a.Safety == nil || a.Safety.Text == "" {
		t.Fatalf("after marking E102 dangerous: handoff %+v, safety %+v; want dangerous_code with a safety step", a.Handoff, a.Safety)
	}
	if a.Text[:len(a.Safety.Text)] != a.Safety.Text {
		t.Errorf("the answer %q does not lead with the safety step %q", a.Text, a.Safety.Text)
	}
}
