package editor_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/editor"
)

// TestHistoryPageMasksOldRevisions: the history page, its diffs and its notes show a revision
// stored before the editor masked with its personal data masked.
func TestHistoryPageMasksOldRevisions(t *testing.T) {
	s := newSite(t)
	q := "客户 13812345678 的童锁怎么解除？"
	id := fixgraph.HashID(fixgraph.PrefixFAQ, "editor", q)
	raw, err := json.Marshal(&fixgraph.FAQ{ID: id, Question: q, Answer: "长按童锁键 3 秒；已告知 li.lei@example.com。", Language: "zh"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.svc.Store.Commit(id, 0, "user:ed1", time.Now(), nil, func(*editor.Entity) (*editor.Entity, string, string, error) {
		return &editor.Entity{Node: raw, Visibility: fixgraph.VisibilityPublic, Status: fixgraph.StatusDraft, Created: true},
			editor.ActCreated, "来电 139 1234 5678，张三@例子.中国", nil
	})
	if err != nil {
		t.Fatal(err)
	}
	page := s.signedIn(t, "rev").page("/editor/history?id=" + url.QueryEscape(id))
	for _, want := range []string{"138****5678", "l***@example.com", "139 **** 5678"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the history page does not show %q:\n%s", want, page.body)
		}
	}
	for _, p := range append(piiRaw, "li.lei&#64;example.com", "li.lei%40example.com") {
		if strings.Contains(page.body, p) {
			t.Errorf("the history page shows %q", p)
		}
	}
}
