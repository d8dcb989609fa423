package gql_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/client"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/gql"
	"github.com/fixgraph/fixgraph/graph"
	"github.com/fixgraph/fixgraph/ingest"
	"github.com/fixgraph/fixgraph/internal/fixgraphtest"
)

// TestReviewThroughTheAPI: an admin sets department qa to review before publishing; an upload
// of qa waits in review, which a public bot's search does not find; the job says how many await
// review; another department's reviewer sees no review and cannot approve; qa's reviewer
// approves the whole upload and the bot finds it. Every approval is audited.
func TestReviewThroughTheAPI(t *testing.T) {
	s := fixgraphtest.MustOpen(t)
	dir := t.TempDir()
	st, err := ingest.OpenState(filepath.Join(dir, "ingest.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	js := &ingest.Jobs{State: st, Pipeline: s.Pipeline, Spool: filepath.Join(dir, "spool")}
	var audited []string
	r := &gql.Resolver{Answers: s.Answers(), Graph: graph.Guarded{Store: s.Graph}, Jobs: jobRunner{js}, JobLog: js,
		Reviews: js, DeptSettings: st, Audit: func(ctx context.Context, action, target string, detail map[string]string) {
			audited = append(audited, action+" "+detail["bulk"])
		}}
	c := client.New(gql.NewHandler(r, gql.Options{}))
	admin := as(&fixgraph.Principal{ID: "user:root", Role: fixgraph.RoleAdmin})
	bot := as(&fixgraph.Principal{ID: "key:bot", Role: fixgraph.RoleReader})
	qaRev := as(&fixgraph.Principal{ID: "user:qa", Role: fixgraph.RoleReviewer, Department: "qa"})
	opsRev := as(&fixgraph.Principal{ID: "user:ops", Role: fixgraph.RoleReviewer, Department: "ops"})

	const set = `mutation { setDepartment(name: "qa", reviewBeforePublish: true) { name reviewBeforePublish updatedBy } }`
	var setOut struct {
		SetDepartment struct {
			Name, UpdatedBy     string
			ReviewBeforePublish bool
		}
	}
	if err := c.Post(set, &setOut, qaRev); err == nil || !strings.Contains(err.Error(), "forbidden") {
		t.Fatalf("a reviewer sets department settings: %v", err)
	}
	if err := c.Post(set, &setOut, admin); err != nil || setOut.SetDepartment.UpdatedBy != "user:root" {
		t.Fatalf("setDepartment = %+v, %v", setOut, err)
	}
	var deps struct {
		Departments []struct {
			Name                string
			ReviewBeforePublish bool
		}
	}
	if err := c.Post(`{ departments { name reviewBeforePublish } }`, &deps, opsRev); err != nil || len(deps.Departments) != 1 || deps.Departments[0].Name != "ops" {
		t.Errorf("another department's settings as ops sees them: %+v, %v", deps, err)
	}

	up, err := js.NewUpload(fixgraph.JobSpec{Department: "qa"})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"zebrafrost", "quokkamint"} {
		page := fmt.Sprintf("<html><head><title>%s</title></head><body><h1>保养</h1><h2>滤网</h2><p>每月清洁 %s 滤网。</p></body></html>", w, w)
		if err := up.Add(w+".html", bytes.NewReader([]byte(page))); err != nil {
			t.Fatal(err)
		}
	}
	j, err := up.Submit()
	if err != nil {
		t.Fatal(err)
	}
	if err := js.Process(context.Background(), j.ID, nil); err != nil {
		t.Fatal(err)
	}
	botFinds := func(w string) bool {
		var out struct{ Search []struct{ Heading string } }
		if err := c.Post(`query($q: String!) { search(query: $q, limit: 5) { heading } }`, &out, bot, client.Var("q", w)); err != nil {
			t.Fatal(err)
		}
		return len(out.Search) > 0
	}
	if botFinds("zebrafrost") || botFinds("quokkamint") {
		t.Fatal("a public bot finds an upload in review")
	}
	var job struct {
		Job struct {
			Review         bool
			AwaitingReview int
			Files          []struct{ InReview bool }
		}
	}
	if err := c.Post(`query($id: ID!) { job(id: $id) { review awaitingReview files { inReview } } }`, &job, qaRev, client.Var("id", j.ID)); err != nil {
		t.Fatal(err)
	}
	if !job.Job.Review || job.Job.AwaitingReview != 2 || len(job.Job.Files) != 2 || !job.Job.Files[0].InReview {
		t.Fatalf("job = %+v; want review with 2 awaiting", job.Job)
	}
	var review struct {
		JobReview []struct {
			State    string
			File     struct{ Name string }
			Document struct{ ID, Title string }
		}
	}
	if err := c.Post(`query($id: ID!) { jobReview(id: $id) { state file { name } document { id title } } }`, &review, opsRev, client.Var("id", j.ID)); err != nil || review.JobReview != nil {
		t.Errorf("another department's reviewer reads the review: %+v, %v", review, err)
	}
	const approve = `mutation($job: ID!) { approveDocuments(job: $job) { state document { status } } }`
	var approved struct {
		ApproveDocuments []struct {
			State    string
			Document struct{ Status string }
		}
	}
	if err := c.Post(approve, &approved, opsRev, client.Var("job", j.ID)); err == nil || !strings.Contains(err.Error(), "no job") {
		t.Errorf("another department's reviewer approves: %v, want no such job", err)
	}
	if botFinds("zebrafrost") || len(audited) != 1 {
		t.Fatalf("a refused approval published or was audited: %q", audited)
	}
	if err := c.Post(approve, &approved, qaRev, client.Var("job", j.ID)); err != nil || len(approved.ApproveDocuments) != 2 || approved.ApproveDocuments[0].Document.Status != "published" {
		t.Fatalf("approveDocuments = %+v, %v", approved, err)
	}
	if !botFinds("zebrafrost") || !botFinds("quokkamint") {
		t.Error("a public bot does not find the approved upload")
	}
	if want := []string{"department.set ", "review.approve true", "review.approve true"}; strings.Join(audited, ",") != strings.Join(want, ",") {
		t.Errorf("audited %q, want %q", audited, want)
	}
}
