package gql_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/client"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/gql"
	"github.com/fixgraph/fixgraph/ingest"
	"github.com/fixgraph/fixgraph/internal/fixgraphtest"
)

// jobRunner is the real job runner as the resolvers see it.
type jobRunner struct{ *ingest.Jobs }

func (q jobRunner) NewUpload(spec fixgraph.JobSpec) (gql.Spool, error) { return q.Jobs.NewUpload(spec) }

// mustJobsClient returns a client over a job runner that is not running, so submitted jobs stay
// queued, and that runner.
func mustJobsClient(t *testing.T) (*client.Client, *ingest.Jobs) {
	t.Helper()
	s := fixgraphtest.MustOpen(t)
	dir := t.TempDir()
	st, err := ingest.OpenState(filepath.Join(dir, "ingest.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	js := &ingest.Jobs{State: st, Pipeline: s.Pipeline, Spool: filepath.Join(dir, "spool"),
		Crawler: &ingest.Crawler{Pipeline: s.Pipeline, State: st}}
	r := &gql.Resolver{Graph: s.Graph, Jobs: jobRunner{js}, JobLog: js}
	return client.New(gql.NewHandler(r, gql.Options{})), js
}

// TestCancelJob: cancelJob cancels a queued job for its department's uploader and for an admin;
// another department's uploader is told there is no such job, and a reader may not.
func TestCancelJob(t *testing.T) {
	c, js := mustJobsClient(t)
	submit := func(dept string) string {
		t.Helper()
		j, err := js.SubmitCrawl(fixgraph.JobSpec{Department: dept}, fixgraph.CrawlConfig{Seeds: []string{"https://example.com/help/"}})
		if err != nil {
			t.Fatal(err)
		}
		return j.ID
	}
	support, legal := submit("support"), submit("legal")
	bot := as(&fixgraph.Principal{ID: "key:bot", Role: fixgraph.RoleReader})
	legalUp := as(&fixgraph.Principal{ID: "key:legal", Role: fixgraph.RoleUploader, Department: "legal"})
	supportUp := as(&fixgraph.Principal{ID: "key:support", Role: fixgraph.RoleUploader, Department: "support"})
	admin := as(&fixgraph.Principal{ID: "user:root", Role: fixgraph.RoleAdmin})
	editor := as(&fixgraph.Principal{ID: "user:ed", Role: fixgraph.RoleEditor}) // of no department
	const cancel = `mutation($id: ID!) { cancelJob(id: $id) { id state department } }`
	var out struct{ CancelJob struct{ ID, State, Department string } }
	for _, tc := range []struct {
		name string
		id   string
		opt  client.Option
		want string
	}{
		{"reader", support, bot, "forbidden"},
		{"another department's uploader", support, legalUp, "no job"},
		{"an editor of no department", support, editor, "no job"}, // jobs of a department are its own and the admins
		{"unknown job", "job-0000000000000000", admin, "no job"},
	} {
		if err := c.Post(cancel, &out, client.Var("id", tc.id), tc.opt); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want an error saying %q", tc.name, err, tc.want)
		}
	}
	if j, _ := js.Get(context.Background(), support); j.State != fixgraph.JobQueued {
		t.Fatalf("a refused cancel changed the job: %+v", j)
	}
	for _, tc := range []struct {
		id  string
		opt client.Option
	}{{support, supportUp}, {legal, admin}, {legal, legalUp}} {
		if err := c.Post(cancel, &out, client.Var("id", tc.id), tc.opt); err != nil || out.CancelJob.State != fixgraph.JobCancelled || out.CancelJob.ID != tc.id {
			t.Errorf("cancelling %s: %+v, %v; want cancelled", tc.id, out.CancelJob, err)
		}
	}
}

// TestCrawlInputLimits: crawl settings over the crawl limits are refused with an error naming the
// setting and its limit.
func TestCrawlInputLimits(t *testing.T) {
	c, _ := mustJobsClient(t)
	admin := as(&fixgraph.Principal{ID: "user:root", Role: fixgraph.RoleAdmin})
	for _, tc := range []struct{ input, want string }{
		{`maxDepth: 21`, "depth 21 is over the limit of 20"},
		{`maxPages: 200000`, "page limit 200000 is over the limit of 100000"},
		{`maxMegabytes: 30000`, "byte limit 31457280000 is over the limit of 21474836480 bytes"},
		{`maxMinutes: 1441`, "time limit 24h1m0s is over the limit of 24h0m0s"},
		{`rate: 500`, "rate 500 is over the limit of 50 requests per second per host"},
		{`concurrency: 64`, "concurrency 64 is over the limit of 16"},
		{`rate: -1`, "rate cannot be negative"},
		{`maxMinutes: -5`, "cannot be negative"},
	} {
		var out map[string]any
		err := c.Post(`mutation { crawl(input: {seeds: ["https://example.com/help/"], `+tc.input+`}) { id } }`, &out, admin)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want an error saying %q", tc.input, err, tc.want)
		}
	}
	var out struct{ Crawl struct{ State string } }
	if err := c.Post(`mutation { crawl(input: {seeds: ["https://example.com/help/"], maxDepth: 20, maxMegabytes: 20480, maxMinutes: 1440, rate: 50, concurrency: 16}) { state } }`, &out, admin); err != nil || out.Crawl.State != fixgraph.JobQueued {
		t.Errorf("a crawl at the limits: %+v, %v; want queued", out, err)
	}
}
