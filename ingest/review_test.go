package ingest_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/ingest"
)

var (
	publicBot   = fixgraph.WithPrincipal(context.Background(), &fixgraph.Principal{ID: "key:bot", Name: "bot", Role: fixgraph.RoleReader})
	qaReviewer  = fixgraph.WithPrincipal(context.Background(), &fixgraph.Principal{ID: "user:qa-rev", Name: "qa-rev", Role: fixgraph.RoleReviewer, Department: "qa"})
	qaEditor    = fixgraph.WithPrincipal(context.Background(), &fixgraph.Principal{ID: "user:qa-ed", Name: "qa-ed", Role: fixgraph.RoleEditor, Department: "qa"})
	opsReviewer = fixgraph.WithPrincipal(context.Background(), &fixgraph.Principal{ID: "user:ops-rev", Name: "ops-rev", Role: fixgraph.RoleReviewer, Department: "ops"})
)

// reviewPage is a small manual whose one section says word.
func reviewPage(title, word string) []byte {
	return fmt.Appendf(nil, "<html><head><title>%s</title></head><body><h1>%s</h1><h2>维护说明</h2><p>每月清洁一次 %s 过滤网，保持通风。</p></body></html>", title, title, word)
}

// botFinds reports whether a public bot's search for word returns a section.
func botFinds(tb testing.TB, s *stores, word string) bool {
	tb.Helper()
	hits, err := s.Answers().Search(publicBot, word, 10, fixgraph.SearchFilter{})
	if err != nil {
		tb.Fatal(err)
	}
	return len(hits) > 0
}

func mustProcess(tb testing.TB, js *ingest.Jobs, j *fixgraph.Job) *fixgraph.Job {
	tb.Helper()
	if err := js.Process(context.Background(), j.ID, nil); err != nil {
		tb.Fatal(err)
	}
	j, err := js.Get(context.Background(), j.ID)
	if err != nil {
		tb.Fatal(err)
	}
	return j
}

// TestReviewBeforePublish: a department that reviews before publishing uploads two files; they
// are stored in review, which a public bot's search does not see, and the job says so; another
// department's reviewer cannot see the job and the department's editor cannot approve; its
// reviewer's bulk approve publishes both, in the graph and the index. The same files uploaded
// again stay published; a changed one waits for review again.
func TestReviewBeforePublish(t *testing.T) {
	ctx := context.Background()
	s := mustStores(t)
	js := mustJobs(t, s, t.TempDir())
	if err := js.State.SetDepartment(fixgraph.Department{Name: "qa", ReviewBeforePublish: true, UpdatedBy: "test"}); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"a.html": reviewPage("空调A", "zebrafrost"), "b.html": reviewPage("空调B", "quokkamint")}
	j := mustProcess(t, js, mustUpload(t, js, fixgraph.JobSpec{Department: "qa"}, files, "a.html", "b.html"))
	if !j.Review || j.Counts.Added != 2 {
		t.Fatalf("job = review %v, counts %+v; want review and 2 added", j.Review, j.Counts)
	}
	for name, f := range jobFiles(t, js, j.ID) {
		if f.Status != fixgraph.StatusReview {
			t.Errorf("%s written %q, want review", name, f.Status)
		}
	}
	for _, w := range []string{"zebrafrost", "quokkamint"} {
		if botFinds(t, s, w) {
			t.Errorf("a public bot finds %q before review", w)
		}
		if !s.servedText(t, w) {
			t.Errorf("the index lacks %q: reviewers could not find it", w)
		}
	}
	if n, err := js.Pending(ctx, j); err != nil || n != 2 {
		t.Fatalf("Pending = %d, %v; want 2", n, err)
	}

	if _, _, err := js.Review(opsReviewer, j.ID); fixgraph.CodeOf(err) != fixgraph.ENOTFOUND {
		t.Errorf("another department's reviewer reads the review: %v, want not found", err)
	}
	if _, err := js.Settle(opsReviewer, j.ID, nil, true); fixgraph.CodeOf(err) != fixgraph.ENOTFOUND {
		t.Errorf("another department's reviewer approves: %v, want not found", err)
	}
	if _, err := js.Settle(qaEditor, j.ID, nil, true); fixgraph.CodeOf(err) != fixgraph.EFORBIDDEN {
		t.Errorf("the department's editor approves: %v, want forbidden", err)
	}
	if _, err := js.Settle(qaReviewer, j.ID, []string{"doc:other"}, true); fixgraph.CodeOf(err) != fixgraph.ENOTFOUND {
		t.Errorf("approving a document the job did not write: %v, want not found", err)
	}
	if botFinds(t, s, "zebrafrost") {
		t.Fatal("a refused approval published")
	}

	settled, err := js.Settle(qaReviewer, j.ID, nil, true)
	if err != nil || len(settled) != 2 {
		t.Fatalf("bulk approve = %d items, %v; want 2", len(settled), err)
	}
	for _, w := range []string{"zebrafrost", "quokkamint"} {
		if !botFinds(t, s, w) {
			t.Errorf("a public bot does not find %q after approval", w)
		}
	}
	_, items, err := js.Review(qaReviewer, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if it.State != fixgraph.ReviewApproved || it.Document.Status != fixgraph.StatusPublished {
			t.Errorf("%s: %s, document %s; want approved and published", it.File.Name, it.State, it.Document.Status)
		}
	}
	// Approving again changes nothing.
	if again, err := js.Settle(qaReviewer, j.ID, nil, true); err != nil || len(again) != 0 {
		t.Errorf("approving again = %d items, %v", len(again), err)
	}

	files["b.html"] = reviewPage("空调B", "quokkamint 和 narwhalpeak")
	j2 := mustProcess(t, js, mustUpload(t, js, fixgraph.JobSpec{Department: "qa"}, files, "a.html", "b.html"))
	got := jobFiles(t, js, j2.ID)
	if f := got["a.html"]; f.Outcome != ingest.Unchanged || f.Status != "" {
		t.Errorf("the approved file again: %s, status %q; want unchanged and published", f.Outcome, f.Status)
	}
	if f := got["b.html"]; f.Outcome != ingest.Updated || f.Status != fixgraph.StatusReview {
		t.Errorf("the changed file: %s, status %q; want updated in review", f.Outcome, f.Status)
	}
	if !botFinds(t, s, "zebrafrost") || botFinds(t, s, "narwhalpeak") {
		t.Error("after the second upload a bot should find the approved file and not the changed one")
	}
	// The first job's review of b is superseded: the second job reviews it.
	_, items, _ = js.Review(qaReviewer, j.ID)
	if items[1].State != fixgraph.ReviewSuperseded {
		t.Errorf("the first job's b.html is %s, want superseded", items[1].State)
	}
	if _, err := js.Settle(qaReviewer, j.ID, []string{items[1].File.DocumentID}, true); fixgraph.CodeOf(err) != fixgraph.ECONFLICT {
		t.Errorf("approving a superseded version: %v, want conflict", err)
	}
}

// TestReviewReject: rejecting what a job wrote removes it from the graph and the index; nobody
// sees it, and approving it afterwards is a conflict.
func TestReviewReject(t *testing.T) {
	ctx := context.Background()
	s := mustStores(t)
	js := mustJobs(t, s, t.TempDir())
	if err := js.State.SetDepartment(fixgraph.Department{Name: "qa", ReviewBeforePublish: true}); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"a.html": reviewPage("空调A", "zebrafrost"), "b.html": reviewPage("空调B", "quokkamint")}
	j := mustProcess(t, js, mustUpload(t, js, fixgraph.JobSpec{Department: "qa"}, files, "a.html", "b.html"))
	admin := fixgraph.WithPrincipal(ctx, fixgraph.Local)
	settled, err := js.Settle(admin, j.ID, nil, false)
	if err != nil || len(settled) != 2 {
		t.Fatalf("reject = %d items, %v", len(settled), err)
	}
	for _, w := range []string{"zebrafrost", "quokkamint"} {
		if botFinds(t, s, w) || s.servedText(t, w) {
			t.Errorf("%q is still searchable after rejection", w)
		}
	}
	for _, it := range settled {
		if _, err := s.Graph.Node(ctx, it.File.DocumentID); fixgraph.CodeOf(err) != fixgraph.ENOTFOUND {
			t.Errorf("the graph still has rejected %s: %v", it.File.Name, err)
		}
	}
	if _, err := js.Settle(admin, j.ID, []string{settled[0].File.DocumentID}, true); fixgraph.CodeOf(err) != fixgraph.ECONFLICT {
		t.Errorf("approving a rejected document: %v, want conflict", err)
	}
}

// TestNoReviewPublishesAtOnce: a department without the setting, and an upload of no department,
// publish at once, as before.
func TestNoReviewPublishesAtOnce(t *testing.T) {
	s := mustStores(t)
	js := mustJobs(t, s, t.TempDir())
	if err := js.State.SetDepartment(fixgraph.Department{Name: "qa", ReviewBeforePublish: true}); err != nil {
		t.Fatal(err)
	}
	for i, dept := range []string{"ops", ""} {
		word := []string{"zebrafrost", "quokkamint"}[i]
		j := mustProcess(t, js, mustUpload(t, js, fixgraph.JobSpec{Department: dept}, map[string][]byte{"a.html": reviewPage("空调", word)}, "a.html"))
		if j.Review {
			t.Errorf("a job of department %q reviews", dept)
		}
		if f := jobFiles(t, js, j.ID)["a.html"]; f.Status != "" || f.Outcome != ingest.Added {
			t.Errorf("department %q: %s, status %q; want added and published", dept, f.Outcome, f.Status)
		}
		if !botFinds(t, s, word) {
			t.Errorf("department %q: a bot does not find %q at once", dept, word)
		}
		if n, err := js.Pending(context.Background(), j); n != 0 || err != nil {
			t.Errorf("Pending = %d, %v", n, err)
		}
	}
}

// TestDepartmentSettings: settings are kept per department and listed by name.
func TestDepartmentSettings(t *testing.T) {
	s := mustStores(t)
	js := mustJobs(t, s, t.TempDir())
	if d, err := js.State.Department("qa"); err != nil || d.ReviewBeforePublish || d.Name != "qa" {
		t.Fatalf("unset department = %+v, %v", d, err)
	}
	for _, d := range []fixgraph.Department{{Name: "qa", ReviewBeforePublish: true}, {Name: "ops"}, {Name: "qa", ReviewBeforePublish: true}} {
		if err := js.State.SetDepartment(d); err != nil {
			t.Fatal(err)
		}
	}
	if err := js.State.SetDepartment(fixgraph.Department{Name: " "}); fixgraph.CodeOf(err) != fixgraph.EINVALID {
		t.Errorf("a department without a name: %v", err)
	}
	all, err := js.State.Departments()
	if err != nil || len(all) != 2 || all[0].Name != "ops" || all[1].Name != "qa" || !all[1].ReviewBeforePublish {
		t.Fatalf("Departments = %+v, %v", all, err)
	}
}

// TestReviewCrawl: a crawl of a department that reviews before publishing stores its pages in
// review; a public bot finds them only once the department's reviewer approves the crawl. A
// crawl again of the unchanged site leaves them published.
func TestReviewCrawl(t *testing.T) {
	s := mustStores(t)
	js := mustJobs(t, s, t.TempDir())
	js.Crawler = &ingest.Crawler{Pipeline: s.p, State: js.State, Guard: mustLoopbackGuard(t)}
	if err := js.State.SetDepartment(fixgraph.Department{Name: "qa", ReviewBeforePublish: true}); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/kb/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch r.URL.Path {
		case "/kb/":
			w.Write([]byte(`<html><head><title>知识库</title></head><body><h1>知识库</h1><h2>目录</h2><p>见 <a href="/kb/filter.html">滤网</a>。</p></body></html>`))
		case "/kb/filter.html":
			w.Write(reviewPage("滤网保养", "zebrafrost"))
		default:
			http.NotFound(w, r)
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	crawl := func() *fixgraph.Job {
		t.Helper()
		j, err := js.SubmitCrawl(fixgraph.JobSpec{Department: "qa"}, fixgraph.CrawlConfig{Seeds: []string{srv.URL + "/kb/"}, Rate: 50})
		if err != nil {
			t.Fatal(err)
		}
		return mustProcess(t, js, j)
	}
	j := crawl()
	if !j.Review || j.Counts.Added != 2 {
		t.Fatalf("crawl job = review %v, counts %+v", j.Review, j.Counts)
	}
	if botFinds(t, s, "zebrafrost") {
		t.Fatal("a public bot finds a crawled page before review")
	}
	if settled, err := js.Settle(qaReviewer, j.ID, nil, true); err != nil || len(settled) != 2 {
		t.Fatalf("approving the crawl = %d, %v", len(settled), err)
	}
	if !botFinds(t, s, "zebrafrost") {
		t.Fatal("a public bot does not find the approved page")
	}
	j2 := crawl()
	if n, err := js.Pending(context.Background(), j2); err != nil || n != 0 || !botFinds(t, s, "zebrafrost") {
		t.Errorf("the unchanged site crawled again: %d pending, %v; want none and still published", n, err)
	}
}
