package ingest_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/ingest"
)

// mustJobs returns a job runner over fresh stores, with its state and spool in a temp dir.
func mustJobs(tb testing.TB, s *stores, dir string) *ingest.Jobs {
	tb.Helper()
	st, err := ingest.OpenState(filepath.Join(dir, "ingest.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return &ingest.Jobs{State: st, Pipeline: s.p, Spool: filepath.Join(dir, "spool")}
}

func mustUpload(tb testing.TB, js *ingest.Jobs, spec fixgraph.JobSpec, files map[string][]byte, order ...string) *fixgraph.Job {
	tb.Helper()
	up, err := js.NewUpload(spec)
	if err != nil {
		tb.Fatal(err)
	}
	for _, name := range order {
		if err := up.Add(name, bytes.NewReader(files[name])); err != nil && err != ingest.ErrTooLarge {
			tb.Fatal(err)
		}
	}
	j, err := up.Submit()
	if err != nil {
		tb.Fatal(err)
	}
	return j
}

func jobFiles(tb testing.TB, js *ingest.Jobs, id string) map[string]fixgraph.JobFile {
	tb.Helper()
	files, err := js.Files(context.Background(), id, "", 0, 0)
	if err != nil {
		tb.Fatal(err)
	}
	out := make(map[string]fixgraph.JobFile)
	for _, f := range files {
		out[f.Name] = f
	}
	return out
}

// TestUploadJobReportsEachFile: an upload of good files, bad files and an archive holding both
// finishes with one outcome per file, each failure naming its problem, the good files searchable,
// and the spool emptied.
func TestUploadJobReportsEachFile(t *testing.T) {
	ctx := context.Background()
	s := mustStores(t)
	dir := t.TempDir()
	js := mustJobs(t, s, dir)
	s.p.MaxFileSize = 1 << 20
	archive := mustZip(t,
		zipFile{name: "manuals/wf-8012d-zh.html", data: fixture(t, "manuals/wf-8012d-zh.html")},
		zipFile{name: "../escape.html", data: []byte("<h1>x</h1>")},
		zipFile{name: "nested.zip", data: []byte("PK")},
		zipFile{name: "notes.odt", data: []byte("not ours")},
	)
	files := map[string][]byte{
		"faq-general-zh.html": fixture(t, "faq/faq-general-zh.html"),
		"warranty-zh.pdf":     fixture(t, "policy/warranty-zh.pdf"),
		"broken.pdf":          fixture(t, "policy/warranty-zh.pdf")[:2048],
		"huge.html":           bytes.Repeat([]byte("<p>x</p>"), 200_000),
		"empty.csv":           nil,
		"bundle.zip":          archive,
	}
	job := mustUpload(t, js, fixgraph.JobSpec{Department: "support"}, files,
		"faq-general-zh.html", "warranty-zh.pdf", "broken.pdf", "huge.html", "empty.csv", "bundle.zip")
	if err := js.Process(ctx, job.ID, nil); err != nil {
		t.Fatal(err)
	}
	job, err := js.Get(ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{ // file → outcome, or a part of its error
		"faq-general-zh.html":                 ingest.Added,
		"warranty-zh.pdf":                     ingest.Added,
		"broken.pdf":                          "PDF",
		"huge.html":                           "over the limit of 1048576 bytes",
		"empty.csv":                           "empty",
		"bundle.zip/manuals/wf-8012d-zh.html": ingest.Added,
		"bundle.zip/../escape.html":           "path traversal",
		"bundle.zip/nested.zip":               "nested archives",
		"bundle.zip/notes.odt":                "unsupported file type",
	}
	got := jobFiles(t, js, job.ID)
	if job.State != fixgraph.JobDone || job.Total != len(want) || job.Processed != len(want) || len(got) != len(want) {
		t.Fatalf("job %s: total %d, processed %d, %d file records; want done with %d", job.State, job.Total, job.Processed, len(got), len(want))
	}
	for name, w := range want {
		f, ok := got[name]
		switch {
		case !ok:
			t.Errorf("no outcome for %s (have %v)", name, got)
		case w == ingest.Added && f.Outcome != ingest.Added:
			t.Errorf("%s: %s %s", name, f.Outcome, f.Error)
		case w != ingest.Added && (f.Outcome != ingest.Failed || !strings.Contains(f.Error, w) || f.Code == ""):
			t.Errorf("%s: %s %q (code %q); want failed with %q", name, f.Outcome, f.Error, f.Code, w)
		}
	}
	if job.Counts.Added != 3 || job.Counts.Failed != 6 {
		t.Errorf("counts %+v; want 3 added, 6 failed", job.Counts)
	}
	if !s.searchHas(t, "E102 排水", "upload:support/manuals/wf-8012d-zh.html") {
		t.Error("the manual from the archive is not searchable under its upload name")
	}
	doc, err := s.Graph.Node(ctx, fixgraph.DocumentID("upload:support/faq-general-zh.html"))
	if err != nil || doc.(*fixgraph.Document).Department != "support" {
		t.Errorf("uploaded FAQ: %v, %v; want a document of department support", doc, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "spool", job.ID)); !os.IsNotExist(err) {
		t.Errorf("spool of a finished job is still there: %v", err)
	}
}

// TestReuploadMakesVersions: the same bytes again change nothing; a changed file of the same name
// becomes version 2, the old version's text leaves search and stays in the history.
func TestReuploadMakesVersions(t *testing.T) {
	ctx := context.Background()
	s := mustStores(t)
	js := mustJobs(t, s, t.TempDir())
	v1 := fixture(t, "faq/faq-general-zh.html")
	run := func(data []byte) fixgraph.JobFile {
		t.Helper()
		j := mustUpload(t, js, fixgraph.JobSpec{Department: "support"}, map[string][]byte{"faq.html": data}, "faq.html")
		if err := js.Process(ctx, j.ID, nil); err != nil {
			t.Fatal(err)
		}
		return jobFiles(t, js, j.ID)["faq.html"]
	}
	if f := run(v1); f.Outcome != ingest.Added || f.Version != 1 {
		t.Fatalf("first upload: %+v", f)
	}
	if f := run(v1); f.Outcome != ingest.Unchanged || f.Version != 1 {
		t.Fatalf("identical upload: %+v; want unchanged", f)
	}
	const marker = "取消后款项在1–3个工作日内原路退回"
	if !strings.Contains(string(v1), marker) {
		t.Fatalf("fixture lost the phrase %q the test changes", marker)
	}
	v2 := bytes.ReplaceAll(v1, []byte(marker), []byte("电池仓的防水圈需要每年更换"))
	if f := run(v2); f.Outcome != ingest.Updated || f.Version != 2 {
		t.Fatalf("changed upload: %+v; want updated to version 2", f)
	}
	src := "upload:support/faq.html"
	if s.servedText(t, marker) {
		t.Error("the superseded version's text is still served")
	}
	if !s.servedText(t, "电池仓的防水圈需要每年更换") {
		t.Error("the new version's text is not searchable")
	}
	h, err := s.Graph.History(ctx, fixgraph.DocumentID(src))
	if err != nil || len(h) != 1 || h[0].Document.Version != 1 {
		t.Fatalf("history = %v, %v; want version 1", h, err)
	}
	var old strings.Builder
	for _, sec := range h[0].Sections {
		old.WriteString(sec.Text)
	}
	if !strings.Contains(old.String(), marker) {
		t.Error("history's version 1 does not hold its old text")
	}
}

// TestJobResumesAfterRestart: a job stopped half way (its context cancelled, as a restart does)
// is resumed by the next runner, which skips the files already done and finishes the rest.
func TestJobResumesAfterRestart(t *testing.T) {
	ctx := context.Background()
	s := mustStores(t)
	dir := t.TempDir()
	js := mustJobs(t, s, dir)
	files := map[string][]byte{}
	var order []string
	for _, name := range []string{"manuals/wf-8012d-zh.html", "manuals/wf-8012d-en.html", "manuals/dw-6035-zh.html", "faq/faq-general-zh.html", "faq/faq-products-zh.html"} {
		files[filepath.Base(name)] = fixture(t, name)
		order = append(order, filepath.Base(name))
	}
	job := mustUpload(t, js, fixgraph.JobSpec{}, files, order...)
	stop, cancel := context.WithCancel(ctx)
	err := js.Process(stop, job.ID, func(j *fixgraph.Job, f fixgraph.JobFile) {
		if j.Processed == 2 {
			cancel()
		}
	})
	if err == nil {
		t.Fatal("a cancelled job reported success")
	}
	half, _ := js.Get(ctx, job.ID)
	if half.State != fixgraph.JobRunning || half.Processed != 2 {
		t.Fatalf("after the stop: %s with %d processed; want running with 2", half.State, half.Processed)
	}
	// A new runner over the same state file, as after a restart.
	restarted := &ingest.Jobs{State: js.State, Pipeline: s.p, Spool: js.Spool}
	run, stopRun := context.WithCancel(ctx)
	defer stopRun()
	go restarted.Run(run)
	for {
		j, err := restarted.Get(ctx, job.ID)
		if err != nil {
			t.Fatal(err)
		}
		if j.Finished() {
			if j.State != fixgraph.JobDone || j.Processed != 5 || j.Resumed != 1 || j.Counts.Added != 5 {
				t.Fatalf("resumed job: %+v; want done, 5 processed and added, resumed once", j)
			}
			break
		}
		<-restarted.Changed()
	}
	if n := len(jobFiles(t, restarted, job.ID)); n != 5 {
		t.Errorf("%d file records; want 5 (none twice)", n)
	}
}

// TestUploadOfMissingSpoolIsReported: a job whose uploaded files vanished from the spool (a data
// directory cleaned by hand) reports each file, not a silent success.
func TestUploadOfMissingSpoolIsReported(t *testing.T) {
	ctx := context.Background()
	s := mustStores(t)
	js := mustJobs(t, s, t.TempDir())
	job := mustUpload(t, js, fixgraph.JobSpec{}, map[string][]byte{"a.html": fixture(t, "manuals/wf-8012d-zh.html")}, "a.html")
	os.RemoveAll(filepath.Join(js.Spool, job.ID))
	if err := js.Process(ctx, job.ID, nil); err != nil {
		t.Fatal(err)
	}
	if f := jobFiles(t, js, job.ID)["a.html"]; f.Outcome != ingest.Failed || !strings.Contains(f.Error, "gone from the spool") {
		t.Errorf("file of a cleaned spool: %+v", f)
	}
}

// servedText reports whether a search for phrase returns a section whose text holds it.
func (s *stores) servedText(tb testing.TB, phrase string) bool {
	tb.Helper()
	hits, err := s.Text.Search(context.Background(), phrase, 20, fixgraph.SearchFilter{})
	if err != nil {
		tb.Fatal(err)
	}
	for _, h := range hits {
		n, err := s.Graph.Node(context.Background(), h.Section.ID)
		if err == nil && strings.Contains(n.(*fixgraph.Section).Text, phrase) {
			return true
		}
	}
	return false
}

// stuckSite is a site whose pages under /kb/ answer only when released: a crawl of it runs until
// the test lets it go (or cancels it). It counts the pages answered.
type stuckSite struct {
	srv      *httptest.Server
	release  chan struct{}
	answered atomic.Int64
	asked    atomic.Int64
}

func newStuckSite(tb testing.TB) *stuckSite {
	s := &stuckSite{release: make(chan struct{})}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/kb/index.html":
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, `<html><body><h1>Index</h1>`)
			for i := range 20 {
				fmt.Fprintf(w, `<a href="p%d.html">p%d</a> `, i, i)
			}
			fmt.Fprint(w, `</body></html>`)
		case strings.HasPrefix(r.URL.Path, "/kb/p"):
			s.asked.Add(1)
			select {
			case <-s.release:
			case <-r.Context().Done():
				return
			}
			s.answered.Add(1)
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprintf(w, `<html><body><h1>Page %[1]s</h1><p>The text of page %[1]s.</p></body></html>`, r.URL.Path)
		default:
			http.NotFound(w, r)
		}
	}))
	tb.Cleanup(func() {
		select {
		case <-s.release:
		default:
			close(s.release)
		}
		s.srv.Close()
	})
	return s
}

// waitJob waits until the job is finished, failing the test after a minute.
func waitJob(tb testing.TB, js *ingest.Jobs, id string) *fixgraph.Job {
	tb.Helper()
	deadline := time.After(time.Minute)
	for {
		changed := js.Changed()
		j, err := js.Get(context.Background(), id)
		if err != nil {
			tb.Fatal(err)
		}
		if j.Finished() {
			return j
		}
		select {
		case <-changed:
		case <-deadline:
			tb.Fatalf("job %s is still %s after a minute", id, j.State)
		}
	}
}

// TestJobsShareWorkersAcrossDepartments: while one department's two crawls hang on a slow site,
// another department's upload still runs and finishes.
func TestJobsShareWorkersAcrossDepartments(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s := mustStores(t)
	js := mustJobs(t, s, t.TempDir())
	js.Crawler = &ingest.Crawler{Pipeline: s.p, State: js.State, Guard: mustLoopbackGuard(t)}
	site := newStuckSite(t)
	for range 2 {
		if _, err := js.SubmitCrawl(fixgraph.JobSpec{Department: "a"}, fixgraph.CrawlConfig{Seeds: []string{site.srv.URL + "/kb/index.html"}, Rate: 50, Concurrency: 1}); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan struct{})
	go func() { js.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	// Both crawls get going (or wait their turn) before the other department asks.
	for deadline := time.Now().Add(10 * time.Second); site.asked.Load() == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the crawls never reached the site")
		}
		time.Sleep(10 * time.Millisecond)
	}
	up := mustUpload(t, js, fixgraph.JobSpec{Department: "b"}, map[string][]byte{"faq.html": fixture(t, "faq/faq-general-zh.html")}, "faq.html")
	finished := make(chan *fixgraph.Job, 1)
	go func() {
		for {
			changed := js.Changed()
			if j, err := js.Get(context.Background(), up.ID); err == nil && j.Finished() {
				finished <- j
				return
			}
			select {
			case <-changed:
			case <-ctx.Done():
				return
			}
		}
	}()
	select {
	case j := <-finished:
		if j.State != fixgraph.JobDone || j.Counts.Added != 1 {
			t.Errorf("department b's upload: %+v; want done with the file added", j)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("department b's upload did not run while department a's crawls hung")
	}
	if n := site.answered.Load(); n != 0 {
		t.Errorf("%d slow pages answered; the crawls should still hang", n)
	}
}

// TestJobCancel: a queued job that is cancelled never runs; a running crawl that is cancelled stops
// at once, ends cancelled and keeps the pages it wrote; cancelling again changes nothing; a job
// that finished cannot be cancelled, and an unknown one is not found.
func TestJobCancel(t *testing.T) {
	ctx, stop := context.WithCancel(context.Background())
	s := mustStores(t)
	js := mustJobs(t, s, t.TempDir())
	js.Workers = 1
	js.Crawler = &ingest.Crawler{Pipeline: s.p, State: js.State, Guard: mustLoopbackGuard(t)}
	site := newStuckSite(t)
	index := site.srv.URL + "/kb/index.html"
	crawl, err := js.SubmitCrawl(fixgraph.JobSpec{Department: "a"}, fixgraph.CrawlConfig{Seeds: []string{index}, Rate: 50, Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	queued := mustUpload(t, js, fixgraph.JobSpec{Department: "a"}, map[string][]byte{"faq.html": fixture(t, "faq/faq-general-zh.html")}, "faq.html")
	done := make(chan struct{})
	go func() { js.Run(ctx); close(done) }()
	defer func() { stop(); <-done }()
	for deadline := time.Now().Add(10 * time.Second); site.asked.Load() == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the crawl never reached its slow pages")
		}
		time.Sleep(10 * time.Millisecond)
	}

	j, err := js.Cancel(context.Background(), queued.ID)
	if err != nil || j.State != fixgraph.JobCancelled || j.FinishedAt.IsZero() {
		t.Fatalf("cancelling the queued upload: %+v, %v; want cancelled", j, err)
	}
	if _, err := os.Stat(filepath.Join(js.Spool, queued.ID)); !os.IsNotExist(err) {
		t.Errorf("the cancelled upload's spool is still there: %v", err)
	}

	j, err = js.Cancel(context.Background(), crawl.ID)
	if err != nil || j.State != fixgraph.JobCancelled || j.FinishedAt.IsZero() || j.Error != "" {
		t.Fatalf("cancelling the running crawl: %+v, %v; want cancelled", j, err)
	}
	if j.Counts.Added != 1 || j.Crawled == nil || j.Crawled.Fetched != 1 || site.answered.Load() != 0 {
		t.Errorf("the cancelled crawl: counts %+v, stats %+v; want the index page it wrote kept", j.Counts, j.Crawled)
	}
	if f := jobFiles(t, js, crawl.ID)[index]; f.Outcome != ingest.Added {
		t.Errorf("the index page's outcome: %+v; want added", f)
	}
	if _, err := s.Graph.Node(context.Background(), fixgraph.DocumentID(index)); err != nil {
		t.Errorf("the page the cancelled crawl wrote is gone: %v", err)
	}
	if again, err := js.Cancel(context.Background(), crawl.ID); err != nil || again.State != fixgraph.JobCancelled {
		t.Errorf("cancelling again: %+v, %v; want it cancelled still", again, err)
	}

	// The worker is free again; the cancelled upload never ran.
	next := mustUpload(t, js, fixgraph.JobSpec{Department: "a"}, map[string][]byte{"manual.html": fixture(t, "manuals/wf-8012d-zh.html")}, "manual.html")
	if j := waitJob(t, js, next.ID); j.State != fixgraph.JobDone {
		t.Fatalf("the next upload: %+v", j)
	}
	if j, _ := js.Get(context.Background(), queued.ID); j.State != fixgraph.JobCancelled || j.Processed != 0 {
		t.Errorf("the cancelled upload ran: %+v", j)
	}
	if _, err := s.Graph.Node(context.Background(), fixgraph.DocumentID("upload:a/faq.html")); fixgraph.CodeOf(err) != fixgraph.ENOTFOUND {
		t.Errorf("the cancelled upload's file was written: %v", err)
	}
	if _, err := js.Cancel(context.Background(), next.ID); fixgraph.CodeOf(err) != fixgraph.ECONFLICT || !strings.Contains(fixgraph.MessageOf(err), "is done already") {
		t.Errorf("cancelling a finished job: %v; want a conflict", err)
	}
	if _, err := js.Cancel(context.Background(), "job-0000000000000000"); fixgraph.CodeOf(err) != fixgraph.ENOTFOUND {
		t.Errorf("cancelling an unknown job: %v; want not found", err)
	}
}

// TestCrawlJobLimits: a crawl job over any of the crawl limits, or with a negative setting, is
// refused with an invalid error naming the setting and the limit; one at the limits is accepted.
func TestCrawlJobLimits(t *testing.T) {
	s := mustStores(t)
	js := mustJobs(t, s, t.TempDir())
	js.Crawler = &ingest.Crawler{Pipeline: s.p, State: js.State}
	seeds := []string{"https://example.com/help/"}
	tests := []struct {
		cfg fixgraph.CrawlConfig
		msg string // "" = accepted
	}{
		{fixgraph.CrawlConfig{Seeds: seeds, MaxDepth: ingest.MaxCrawlDepth, MaxPages: ingest.MaxCrawlPages, MaxBytes: ingest.MaxCrawlBytes,
			MaxTime: ingest.MaxCrawlTime, Rate: ingest.MaxCrawlRate, Concurrency: ingest.MaxCrawlConcurrency}, ""},
		{fixgraph.CrawlConfig{Seeds: seeds}, ""},
		{fixgraph.CrawlConfig{}, "at least one seed"},
		{fixgraph.CrawlConfig{Seeds: seeds, MaxDepth: 21}, "depth 21 is over the limit of 20"},
		{fixgraph.CrawlConfig{Seeds: seeds, MaxPages: 100_001}, "page limit 100001 is over the limit of 100000"},
		{fixgraph.CrawlConfig{Seeds: seeds, MaxBytes: ingest.MaxCrawlBytes + 1}, "byte limit 21474836481 is over the limit of 21474836480 bytes"},
		{fixgraph.CrawlConfig{Seeds: seeds, MaxTime: 25 * time.Hour}, "time limit 25h0m0s is over the limit of 24h0m0s"},
		{fixgraph.CrawlConfig{Seeds: seeds, Rate: 51}, "rate 51 is over the limit of 50 requests per second per host"},
		{fixgraph.CrawlConfig{Seeds: seeds, Rate: -1}, "rate cannot be negative"},
		{fixgraph.CrawlConfig{Seeds: seeds, Concurrency: 17}, "concurrency 17 is over the limit of 16"},
		{fixgraph.CrawlConfig{Seeds: seeds, MaxPages: -5}, "page limit cannot be negative"},
	}
	for _, tt := range tests {
		_, err := js.SubmitCrawl(fixgraph.JobSpec{}, tt.cfg)
		if tt.msg == "" {
			if err != nil {
				t.Errorf("%+v: %v; want accepted", tt.cfg, err)
			}
			continue
		}
		if fixgraph.CodeOf(err) != fixgraph.EINVALID || !strings.Contains(fixgraph.MessageOf(err), tt.msg) {
			t.Errorf("%+v: %v; want invalid with %q", tt.cfg, err, tt.msg)
		}
	}
}
