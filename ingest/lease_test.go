package ingest_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/ingest"
)

// replicas returns two job runners that share one state and spool, as two replicas on
// PostgreSQL do, with a short lease.
func replicas(t *testing.T, s *stores) (a, b *ingest.Jobs) {
	st, err := ingest.OpenState(filepath.Join(t.TempDir(), "ingest.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	spool := ingest.KVSpool{DB: st.DB()}
	mk := func(name string) *ingest.Jobs {
		return &ingest.Jobs{State: st, Pipeline: s.p, Spooled: spool, Replica: name, Lease: 600 * time.Millisecond}
	}
	return mk("a"), mk("b")
}

func run(t *testing.T, js *ingest.Jobs) {
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { js.Run(ctx); close(done) }()
	t.Cleanup(func() { stop(); <-done })
}

// waitFinished polls the shared state until the job is finished (the runner that finishes it
// may be another than the one asked).
func waitFinished(t *testing.T, js *ingest.Jobs, id string) *fixgraph.Job {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		j, err := js.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if j.Finished() {
			return j
		}
	}
	t.Fatalf("job %s did not finish within a minute", id)
	return nil
}

func manyFiles(n int) (map[string][]byte, []string) {
	files := map[string][]byte{}
	var order []string
	for i := range n {
		name := fmt.Sprintf("faq-%03d.md", i)
		files[name] = fmt.Appendf(nil, "# FAQ %d\n\n## How do I reset device %d?\n\nHold the power key of device %d for ten seconds.\n", i, i, i)
		order = append(order, name)
	}
	return files, order
}

// TestJobSubmittedToOneReplicaRunsOnAnother: replica a takes an upload into the shared spool
// and never runs a job; replica b finds the job and runs it.
func TestJobSubmittedToOneReplicaRunsOnAnother(t *testing.T) {
	s := mustStores(t)
	a, b := replicas(t, s)
	files, order := manyFiles(12)
	job := mustUpload(t, a, fixgraph.JobSpec{Department: "support"}, files, order...)
	run(t, b)
	j := waitFinished(t, a, job.ID)
	if j.State != fixgraph.JobDone || j.Processed != 12 || j.Counts.Added != 12 {
		t.Fatalf("job run by the other replica: %+v", j)
	}
	if f, err := a.Spooled.Open(job.ID, 0); err == nil {
		f.Close()
		t.Error("the finished job's files are still in the shared spool")
	}
}

// TestJobOfADeadReplicaIsTakenOver: a job whose replica claimed it and stopped renewing its
// lease waits until the lease runs out, then another replica finishes it, every file once.
func TestJobOfADeadReplicaIsTakenOver(t *testing.T) {
	s := mustStores(t)
	a, b := replicas(t, s)
	files, order := manyFiles(8)
	job := mustUpload(t, a, fixgraph.JobSpec{}, files, order...)
	// a runs half of the job, then dies holding its lease.
	stop, cancel := context.WithCancel(context.Background())
	a.Process(stop, job.ID, func(j *fixgraph.Job, f fixgraph.JobFile) {
		if j.Processed == 4 {
			cancel()
		}
	})
	if err := ingest.HoldLease(a, job.ID, "a"); err != nil {
		t.Fatal(err)
	}
	held := time.Now()
	run(t, b)
	j := waitFinished(t, b, job.ID)
	if waited := time.Since(held); waited < 500*time.Millisecond {
		t.Errorf("b took the job over %v after a's last claim, before its 600ms lease ran out", waited)
	}
	if j.State != fixgraph.JobDone || j.Processed != 8 || j.Resumed != 1 || j.Counts.Added != 8 {
		t.Fatalf("job taken over: %+v; want done, 8 added, resumed once", j)
	}
	if n := len(jobFiles(t, b, job.ID)); n != 8 {
		t.Errorf("%d file records; want 8, none twice", n)
	}
}

// TestCancelReachesTheReplicaRunningTheJob: a crawl hangs on a slow site on replica a; cancelling
// it through replica b stops it on a, and it ends cancelled.
func TestCancelReachesTheReplicaRunningTheJob(t *testing.T) {
	s := mustStores(t)
	a, b := replicas(t, s)
	a.Crawler = &ingest.Crawler{Pipeline: s.p, State: a.State, Guard: mustLoopbackGuard(t)}
	site := newStuckSite(t)
	crawl, err := a.SubmitCrawl(fixgraph.JobSpec{}, fixgraph.CrawlConfig{Seeds: []string{site.srv.URL + "/kb/index.html"}, Rate: 50, Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	run(t, a)
	for deadline := time.Now().Add(10 * time.Second); site.asked.Load() == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the crawl never reached its slow pages")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	j, err := b.Cancel(ctx, crawl.ID)
	if err != nil || j.State != fixgraph.JobCancelled {
		t.Fatalf("cancelling through the other replica: %+v, %v", j, err)
	}
	if j.Counts.Added != 1 {
		t.Errorf("the cancelled crawl's counts: %+v; want the index page it wrote kept", j.Counts)
	}
}
