package editor_test

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/auth"
	"github.com/fixgraph/fixgraph/editor"
	"github.com/fixgraph/fixgraph/fixtures"
	"github.com/fixgraph/fixgraph/ingest"
)

// reviewSite is the editor on the real stores with the real job runner, whose department qa
// reviews before publishing, and the audit entries the editor wrote.
type reviewSite struct {
	*site
	jobs  *ingest.Jobs
	state *ingest.State

	mu    sync.Mutex
	audit []string // "action target key=value…"
}

func newReviewSite(t *testing.T) *reviewSite {
	t.Helper()
	e := newEnv(t)
	dir := t.TempDir()
	accounts, err := auth.Open(filepath.Join(dir, "auth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { accounts.Close() })
	for _, u := range []struct {
		name string
		role fixgraph.Role
		dept string
	}{
		{"boss", fixgraph.RoleAdmin, ""},
		{"qarev", fixgraph.RoleReviewer, "qa"},
		{"qaed", fixgraph.RoleEditor, "qa"},
		{"opsrev", fixgraph.RoleReviewer, "ops"},
	} {
		if _, err := accounts.CreateUser(u.name, password, u.role, u.dept); err != nil {
			t.Fatal(err)
		}
	}
	st, err := ingest.OpenState(filepath.Join(dir, "ingest.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	rs := &reviewSite{state: st, jobs: &ingest.Jobs{State: st, Pipeline: e.stores.Pipeline, Spool: filepath.Join(dir, "spool")}}
	e.svc.Audit = func(ctx context.Context, action, target string, detail map[string]string) {
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s by=%s", action, target, fixgraph.PrincipalFrom(ctx).Name)
		for _, k := range []string{"job", "bulk", "department", "reviewBeforePublish"} {
			if v, ok := detail[k]; ok {
				fmt.Fprintf(&b, " %s=%s", k, v)
			}
		}
		rs.mu.Lock()
		rs.audit = append(rs.audit, b.String())
		rs.mu.Unlock()
	}
	h := &editor.Handler{Service: e.svc, Accounts: accounts, Jobs: rs.jobs, Reviews: rs.jobs, Departments: st, Log: slog.New(slog.DiscardHandler)}
	if err := h.Init(); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/editor/signin" && r.Method == http.MethodPost {
			r.RemoteAddr = fmt.Sprintf("[2001:db8::%x]:4000", signInAddr.Add(1))
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	rs.site = &site{env: e, srv: srv, accounts: accounts}
	return rs
}

// upload runs an upload job of department dept now and returns it as it ended.
func (rs *reviewSite) upload(t *testing.T, dept string, files map[string][]byte) *fixgraph.Job {
	t.Helper()
	up, err := rs.jobs.NewUpload(fixgraph.JobSpec{Department: dept})
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		if err := up.Add(name, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
	}
	j, err := up.Submit()
	if err != nil {
		t.Fatal(err)
	}
	if err := rs.jobs.Process(context.Background(), j.ID, nil); err != nil {
		t.Fatal(err)
	}
	if j, err = rs.jobs.Get(context.Background(), j.ID); err != nil {
		t.Fatal(err)
	}
	return j
}

func (rs *reviewSite) audited(prefix string) []string {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	var out []string
	for _, a := range rs.audit {
		if strings.HasPrefix(a, prefix) {
			out = append(out, a)
		}
	}
	return out
}

// newModel is a washer model only the uploaded manual describes: the fixture manual of
// WF-8012D with its model renamed, so its error codes, guides and parts are new knowledge.
const newModel = "WF-9990Q"

func renamedManual(t *testing.T) []byte {
	t.Helper()
	b, err := fs.ReadFile(fixtures.Corpus, "manuals/wf-8012d-zh.html")
	if err != nil {
		t.Fatal(err)
	}
	return bytes.ReplaceAll(b, []byte("WF-8012D"), []byte(newModel))
}

func notePage(word string) []byte {
	return fmt.Appendf(nil, "<html><head><title>保养须知 %s</title></head><body><h1>保养须知</h1><h2>滤网</h2><p>每月清洁一次 %s 滤网，保持通风。</p></body></html>", word, word)
}

// botSees says what a public bot key gets of the uploads: whether troubleshoot finds E102 of
// newModel, whether ask answers with its repair guide, and whether search finds word.
func (rs *reviewSite) botSees(t *testing.T, word string) (troubleshoot, ask, search bool) {
	t.Helper()
	codes, err := rs.answers.Troubleshoot(reader, "E102", newModel)
	if err != nil && fixgraph.CodeOf(err) != fixgraph.ENOTFOUND {
		t.Fatal(err)
	}
	a, err := rs.answers.Ask(reader, newModel+" 显示E102怎么办")
	if err != nil {
		t.Fatal(err)
	}
	hits, err := rs.answers.Search(reader, word, 10, fixgraph.SearchFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return len(codes) > 0, a.Guide != nil && a.Guide.Product == newModel, len(hits) > 0
}

// TestHTTPReviewBeforePublish: an admin turns review on for department qa in the editor; qa
// uploads two files, which a public bot's troubleshoot, ask and search do not see; the uploads
// page says they await review and the review page lists them with links to their documents; the
// department's editor cannot approve and another department's reviewer finds no such job; the
// department's reviewer approves the whole upload at once and the bot answers from it. A second
// upload rejected leaves nothing visible, and a department without the setting publishes at once.
func TestHTTPReviewBeforePublish(t *testing.T) {
	rs := newReviewSite(t)
	boss := rs.signedIn(t, "boss")
	qaed := rs.signedIn(t, "qaed")
	if r := qaed.post("/editor/departments", url.Values{"csrf": {qaed.csrf}, "name": {"qa"}, "review": {"on"}}); r.status != http.StatusForbidden {
		t.Fatalf("an editor sets a department's review: %d, want 403", r.status)
	}
	if !linksTo(boss.page("/editor/uploads").doc(t), "#department-settings", "/editor/departments") {
		t.Error("the uploads page offers an admin no link to the department settings")
	}
	action, v := form(t, boss.page("/editor/departments"), "#department-form")
	v.Set("name", "qa")
	if r := boss.post(action, v); r.status != http.StatusSeeOther {
		t.Fatalf("setting qa's review: %d\n%s", r.status, r.body)
	}
	if d, err := rs.state.Department("qa"); err != nil || !d.ReviewBeforePublish || d.UpdatedBy != "user:boss" {
		t.Fatalf("qa's settings = %+v, %v", d, err)
	}
	if got := boss.page("/editor/departments").doc(t).Find(`tr[data-department="qa"] .review`).Text(); got != "✓" {
		t.Errorf("the settings page shows qa's review as %q", got)
	}
	if a := rs.audited("department.set"); len(a) != 1 || !strings.Contains(a[0], "reviewBeforePublish=true") {
		t.Errorf("audit of the setting: %q", a)
	}

	j := rs.upload(t, "qa", map[string][]byte{"wf-9990q.html": renamedManual(t), "note.html": notePage("zebrafrost")})
	if !j.Review || j.Counts.Added != 2 {
		t.Fatalf("job = review %v, counts %+v", j.Review, j.Counts)
	}
	if ts, ask, search := rs.botSees(t, "zebrafrost"); ts || ask || search {
		t.Fatalf("a public bot sees the upload before review: troubleshoot %v, ask %v, search %v", ts, ask, search)
	}

	// The department's editor sees the job and its review, but cannot approve.
	d := qaed.page("/editor/uploads").doc(t)
	row := d.Find(fmt.Sprintf(`tr[data-job="%s"]`, j.ID))
	if got := row.Find(".review-link .pending").Text(); got != "2" {
		t.Fatalf("the uploads page says %q await review, want 2", got)
	}
	reviewPath := "/editor/review?job=" + url.QueryEscape(j.ID)
	if !linksTo(d, ".review-link", reviewPath) {
		t.Errorf("the job's row does not link to %s", reviewPath)
	}
	d = qaed.page(reviewPath).doc(t)
	rows := d.Find("tr.review-pending")
	if rows.Length() != 2 {
		t.Fatalf("the review page lists %d pending documents, want 2", rows.Length())
	}
	var docs []string
	rows.Each(func(_ int, s *goquery.Selection) {
		id, _ := s.Attr("data-doc")
		docs = append(docs, id)
		if !linksTo(d, fmt.Sprintf(`tr[data-doc="%s"] a.doc`, id), "/editor/entity?id="+id) {
			h, _ := goquery.OuterHtml(s)
			t.Errorf("the review page does not link to the document %s: %s", id, h)
		}
	})
	if d.Find("#approve-all").Length() != 0 {
		t.Error("the department's editor is offered to approve")
	}
	// The document's page shows its sections to the department.
	if sec := qaed.page("/editor/entity?id=" + url.QueryEscape(docs[0])).doc(t).Find(`a[href*="sec%3a"], a[href*="sec:"]`); sec.Length() == 0 {
		t.Error("the document's page in review links to none of its sections")
	}
	if r := qaed.post(reviewPath, url.Values{"csrf": {qaed.csrf}, "action": {"approve"}}); r.status != http.StatusForbidden {
		t.Errorf("the department's editor approves: %d, want 403", r.status)
	}
	// Another department's reviewer finds no such job, and cannot approve it.
	ops := rs.signedIn(t, "opsrev")
	if r := ops.get(reviewPath); r.status != http.StatusNotFound {
		t.Errorf("another department's reviewer opens the review: %d, want 404", r.status)
	}
	if r := ops.post(reviewPath, url.Values{"csrf": {ops.csrf}, "action": {"approve"}}); r.status != http.StatusNotFound {
		t.Errorf("another department's reviewer approves: %d, want 404", r.status)
	}
	if r := ops.post(reviewPath, url.Values{"csrf": {ops.csrf}, "action": {"approve"}, "doc": {docs[0]}}); r.status != http.StatusNotFound {
		t.Errorf("another department's reviewer approves one document: %d, want 404", r.status)
	}
	if ts, ask, search := rs.botSees(t, "zebrafrost"); ts || ask || search {
		t.Fatal("a refused approval published something")
	}
	if a := rs.audited("review."); len(a) != 0 {
		t.Errorf("refused approvals were audited as done: %q", a)
	}

	// The department's reviewer approves the whole upload.
	qarev := rs.signedIn(t, "qarev")
	action, v = form(t, qarev.page(reviewPath), "#approve-all")
	v.Set("action", "approve") // the button clicked
	if r := qarev.post(action, v); r.status != http.StatusSeeOther {
		t.Fatalf("bulk approve: %d\n%s", r.status, r.body)
	}
	if ts, ask, search := rs.botSees(t, "zebrafrost"); !ts || !ask || !search {
		t.Fatalf("after approval a public bot gets: troubleshoot %v, ask %v, search %v; want all", ts, ask, search)
	}
	d = qarev.page(reviewPath).doc(t)
	if n := d.Find("tr.review-approved").Length(); n != 2 || d.Find("#pending").Text() != "0" {
		t.Errorf("after approval the review page shows %d approved, %s pending", n, d.Find("#pending").Text())
	}
	if a := rs.audited("review.approve"); len(a) != 2 || !strings.Contains(a[0], "by=qarev") || !strings.Contains(a[0], "bulk=true") || !strings.Contains(a[0], "department=qa") {
		t.Errorf("audit of the approval: %q", a)
	}

	// A second upload, rejected document by document, leaves nothing visible.
	j2 := rs.upload(t, "qa", map[string][]byte{"note2.html": notePage("quokkamint")})
	path2 := "/editor/review?job=" + url.QueryEscape(j2.ID)
	action, v = form(t, qarev.page(path2), "tr.review-pending form.reject")
	v.Set("action", "reject")
	if r := qarev.post(action, v); r.status != http.StatusSeeOther {
		t.Fatalf("reject: %d\n%s", r.status, r.body)
	}
	if _, _, search := rs.botSees(t, "quokkamint"); search {
		t.Error("a public bot finds a rejected document")
	}
	hits, err := rs.answers.Search(admin, "quokkamint", 10, fixgraph.SearchFilter{})
	if err != nil || len(hits) != 0 {
		t.Errorf("an admin's search finds a rejected document: %d hits, %v", len(hits), err)
	}
	if qarev.page(path2).doc(t).Find("tr.review-rejected").Length() != 1 {
		t.Error("the review page does not show the document rejected")
	}
	if a := rs.audited("review.reject"); len(a) != 1 || strings.Contains(a[0], "bulk") {
		t.Errorf("audit of the rejection: %q", a)
	}

	// A department without the setting publishes at once, and its job has no review.
	j3 := rs.upload(t, "ops", map[string][]byte{"note3.html": notePage("narwhalpeak")})
	if _, _, search := rs.botSees(t, "narwhalpeak"); !search || j3.Review {
		t.Errorf("an upload of a department without review: bot finds it %v, job reviews %v", search, j3.Review)
	}
	if boss.page("/editor/uploads").doc(t).Find(fmt.Sprintf(`tr[data-job="%s"] .review-link`, j3.ID)).Length() != 0 {
		t.Error("a job without review links to a review")
	}
}
