package editor_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/editor"
	"github.com/fixgraph/fixgraph/ingest"
)

// The pipeline the editor writes through masks what the editor keeps.
var _ editor.Masker = (*ingest.Pipeline)(nil)

// piiRaw are the personal data the tests below type into drafts and notes, as written.
var piiRaw = []string{"13812345678", "li.lei@example.com", "139 1234 5678", "张三@例子.中国"}

// holdsPII returns the first of piiRaw that v, as JSON, still holds.
func holdsPII(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, p := range piiRaw {
		if strings.Contains(s, p) {
			return p
		}
	}
	return ""
}

// TestHistoryKeepsNoPersonalData: a customer's phone number and e-mail address typed into a draft
// and its revision note are masked in the working copy and in every stored revision, as
// publishing masks them in the graph, so the history and its diffs never show them. Revisions
// stored before the editor masked (written raw here) are masked when the history is read, and
// rolling back to one stores its masked content.
func TestHistoryKeepsNoPersonalData(t *testing.T) {
	e := newEnv(t)
	q := "客户 13812345678 反馈洗衣机漏水怎么办？"
	id := fixgraph.HashID(fixgraph.PrefixFAQ, "editor", q)
	faq := &fixgraph.FAQ{ID: id, Question: q, Answer: "已回电 13812345678，并按 li.lei@example.com 的来信说明：检查进水管接口。", Language: "zh"}
	if _, err := e.svc.Save(editor1, id, 0, editor.Change{Node: faq, Note: "按 li.lei@example.com 的来信修改，电话 139 1234 5678，张三@例子.中国"}); err != nil {
		t.Fatal(err)
	}
	cur, err := e.svc.Current(editor1, id)
	if err != nil {
		t.Fatal(err)
	}
	if p := holdsPII(t, cur); p != "" {
		t.Errorf("the working copy holds %q", p)
	}
	if got := working[*fixgraph.FAQ](t, cur); !strings.Contains(got.Answer, "138****5678") || !strings.Contains(got.Answer, "l***@example.com") {
		t.Errorf("the working copy's answer is %q; want the masked forms", got.Answer)
	}
	if _, err := e.svc.Transition(reviewer1, id, cur.Rev, "publish"); err != nil {
		t.Fatal(err)
	}
	stored, err := e.svc.Store.History(id)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 2 || stored[1].Note == "" {
		t.Fatalf("history: %+v", stored)
	}
	if p := holdsPII(t, stored); p != "" {
		t.Errorf("the stored history holds %q", p)
	}
	if !strings.Contains(stored[1].Note, "139 **** 5678") || !strings.Contains(stored[1].Note, "张***@例子.中国") {
		t.Errorf("the note is stored as %q; want it masked", stored[1].Note)
	}

	// A revision stored raw, as before the editor masked.
	q2 := "客户 13812345678 的童锁怎么解除？"
	id2 := fixgraph.HashID(fixgraph.PrefixFAQ, "editor", q2)
	raw, err := json.Marshal(&fixgraph.FAQ{ID: id2, Question: q2, Answer: "长按童锁键 3 秒；已告知 li.lei@example.com。", Language: "zh"})
	if err != nil {
		t.Fatal(err)
	}
	old, err := e.svc.Store.Commit(id2, 0, "user:ed1", time.Now(), nil, func(*editor.Entity) (*editor.Entity, string, string, error) {
		return &editor.Entity{Node: raw, Visibility: fixgraph.VisibilityPublic, Status: fixgraph.StatusDraft, Created: true},
			editor.ActCreated, "来电 139 1234 5678", nil
	})
	if err != nil {
		t.Fatal(err)
	}
	hist, err := e.svc.History(id2)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 1 || holdsPII(t, hist) != "" {
		t.Errorf("History of a revision stored raw: %+v", hist)
	}
	back, err := e.svc.Rollback(reviewer1, id2, old.Rev, 1)
	if err != nil {
		t.Fatal(err)
	}
	if p := holdsPII(t, back); p != "" {
		t.Errorf("rolling back to a raw revision stored %q in the working copy", p)
	}
	if rev, err := e.svc.Store.Revision(id2, back.Rev); err != nil || holdsPII(t, rev) != "" {
		t.Errorf("rolling back to a raw revision stored %+v (%v)", rev, err)
	}
}
