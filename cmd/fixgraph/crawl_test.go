package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/ingest"
	"github.com/fixgraph/fixgraph/internal/fixgraphtest"
)

// allowLoopbackCrawls lets the app's crawls reach test sites on 127.0.0.1, as --allow-hosts
// 127.0.0.1 does; a serveApp prepare function.
func allowLoopbackCrawls(_ context.Context, a *app) {
	g, err := ingest.NewNetGuard(false, []string{"127.0.0.1"})
	if err != nil {
		panic(err)
	}
	a.jobs.Crawler.Guard = g
}

// TestCrawlGalaxyS10 crawls the real Galaxy S10 manual site, served unchanged on loopback, with
// the fixgraph command: every chapter page is ingested; a second crawl fetches nothing new (every
// page answers 304 to its conditional GET) and writes nothing.
func TestCrawlGalaxyS10(t *testing.T) {
	galaxyS10 := filepath.Join(fixgraphtest.EManualDir(t), "galaxy-s10")
	var pages, notModified atomic.Int64
	files := http.FileServer(http.Dir(galaxyS10))
	srv := httptest.NewServer(http.StripPrefix("/s10", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		files.ServeHTTP(rec, r)
		switch rec.status {
		case http.StatusOK:
			pages.Add(1)
		case http.StatusNotModified:
			notModified.Add(1)
		}
	})))
	defer srv.Close()
	dir := t.TempDir()
	args := []string{"crawl", "--data", dir, "--embedder", "none", "--rate", "50", "--allow-hosts", "127.0.0.1", srv.URL + "/s10/index.html"}

	out := MustRun(t, args...)
	added := regexp.MustCompile(`(?m)^added +\S+/s10/chapter-\d{3}\.html \(manual`).FindAllString(out, -1)
	if len(added) != 36 {
		t.Fatalf("first crawl added %d chapter pages, want 36:\n%s", len(added), out)
	}
	if !strings.Contains(out, "0 updated, 0 unchanged, 0 removed") {
		t.Errorf("first crawl summary:\n%s", out)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "failed") && !strings.Contains(line, "404") {
			t.Errorf("a failure that is not a dead link in the manual: %s", line)
		}
	}
	firstPages := pages.Load()

	again := MustRun(t, args...)
	if got := pages.Load() - firstPages; got != 0 {
		t.Errorf("re-crawl fetched %d pages with a body; want 0 (all 304):\n%s", got, again)
	}
	if !strings.Contains(again, " 0 added, 0 updated, 0 unchanged, 0 removed") || !strings.Contains(again, " 37 not modified") {
		t.Errorf("re-crawl summary:\n%s", again)
	}
	if notModified.Load() < 37 {
		t.Errorf("%d answers were 304; want the 37 known pages", notModified.Load())
	}
	hits := MustRun(t, "search", "--data", dir, "--embedder", "none", "--limit", "1", "wireless powershare")
	if !strings.Contains(strings.ToLower(hits), "powershare") {
		t.Errorf("search after the crawl:\n%s", hits)
	}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// TestCrawlAddressFlags: by default `fixgraph crawl` refuses a site on a loopback address without
// asking it anything, reporting the page as failed with the reason and the flag, and exits 0 as
// for any page that failed; --allow-private-addresses and --allow-hosts each let it through; a
// bad --allow-hosts is refused before anything runs.
func TestCrawlAddressFlags(t *testing.T) {
	var requests atomic.Int64
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if r.URL.Path != "/help/index.html" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<html lang="en"><body><h1>Heater care</h1><h2>Anode</h2><p>Replace the magnesium anode every two years.</p></body></html>`)
	}))
	defer site.Close()
	seed := site.URL + "/help/index.html"

	out := MustRun(t, "crawl", "--data", t.TempDir(), "--embedder", "none", seed)
	if !strings.Contains(out, "failed    "+seed+": cannot fetch") || !strings.Contains(out, "address 127.0.0.1 is loopback; crawling non-public addresses is off (--allow-private-addresses") {
		t.Errorf("a crawl of a loopback site without the flags printed:\n%s", out)
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("the refused site got %d requests", n)
	}
	for _, flags := range [][]string{{"--allow-private-addresses"}, {"--allow-hosts", "intranet.example, 127.0.0.0/8"}} {
		args := append([]string{"crawl", "--data", t.TempDir(), "--embedder", "none"}, flags...)
		if out := MustRun(t, append(args, seed)...); !strings.Contains(out, "added     "+seed) {
			t.Errorf("crawl %s printed:\n%s", strings.Join(flags, " "), out)
		}
	}
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"crawl", "--data", t.TempDir(), "--embedder", "none", "--allow-hosts", "http://intranet/", seed}, &stdout, &stderr)
	if fixgraph.CodeOf(err) != fixgraph.EINVALID || !strings.Contains(fixgraph.MessageOf(err), "--allow-hosts") {
		t.Errorf("a bad --allow-hosts: %v; want invalid, naming the flag", err)
	}
	err = run(context.Background(), []string{"crawl", "--data", t.TempDir(), "--embedder", "none", "--depth", "50", seed}, &stdout, &stderr)
	if fixgraph.CodeOf(err) != fixgraph.EINVALID || !strings.Contains(fixgraph.MessageOf(err), "depth 50 is over the limit of 20") {
		t.Errorf("--depth 50: %v; want invalid, naming the limit", err)
	}
}

// TestCancelJobMutation starts a crawl of a site that hangs over GraphQL and cancels it with
// cancelJob: the job ends cancelled, keeping the page it wrote before the site hung.
func TestCancelJobMutation(t *testing.T) {
	base, _ := serveApp(t, allowLoopbackCrawls)
	release := make(chan struct{})
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/help/index.html":
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, `<html lang="en"><body><h1>Help</h1><p>Start here.</p><a href="slow.html">slow</a></body></html>`)
		case "/help/slow.html":
			select {
			case <-release:
			case <-r.Context().Done():
			}
		default:
			http.NotFound(w, r)
		}
	}))
	defer site.Close()
	defer close(release)
	var started struct{ Crawl struct{ ID string } }
	gqlPost(t, base, `mutation($u: String!) { crawl(input: {seeds: [$u], rate: 50}) { id } }`, map[string]any{"u": site.URL + "/help/index.html"}, &started)
	id := started.Crawl.ID
	var job struct {
		Job struct {
			State     string
			Processed int
		}
	}
	for deadline := time.Now().Add(30 * time.Second); job.Job.Processed == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the crawl never wrote its first page: %+v", job)
		}
		gqlPost(t, base, `query($id: ID!) { job(id: $id) { state processed } }`, map[string]any{"id": id}, &job)
	}
	var cancelled struct {
		CancelJob struct {
			State  string
			Counts struct{ Added int }
		}
	}
	gqlPost(t, base, `mutation($id: ID!) { cancelJob(id: $id) { state counts { added } } }`, map[string]any{"id": id}, &cancelled)
	if cancelled.CancelJob.State != fixgraph.JobCancelled || cancelled.CancelJob.Counts.Added != 1 {
		t.Errorf("cancelJob: %+v; want cancelled with the index page added", cancelled.CancelJob)
	}
}

// TestServeAddressFlags: `serve --allow-hosts 127.0.0.1` lets a crawl started over GraphQL reach a
// site on loopback; bad --allow-hosts or --job-workers are refused before serve starts.
func TestServeAddressFlags(t *testing.T) {
	for _, tc := range []struct {
		flags []string
		want  string
	}{
		{[]string{"--allow-hosts", "http://intranet/"}, "--allow-hosts"},
		{[]string{"--job-workers", "0"}, "--job-workers must be at least 1"},
	} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), append([]string{"serve", "--data", t.TempDir(), "--embedder", "none", "--addr", "127.0.0.1:0"}, tc.flags...), &stdout, &stderr)
		if fixgraph.CodeOf(err) != fixgraph.EINVALID || !strings.Contains(fixgraph.MessageOf(err), tc.want) {
			t.Errorf("serve %s: %v; want invalid with %q", strings.Join(tc.flags, " "), err, tc.want)
		}
	}

	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/help/index.html" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<html lang="en"><body><h1>Heater care</h1><h2>Anode</h2><p>Replace the magnesium anode every two years.</p></body></html>`)
	}))
	defer site.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--data", t.TempDir(), "--embedder", "none", "--fixtures=false", "--addr", "127.0.0.1:0",
			"--allow-hosts", "127.0.0.1", "--job-workers", "3"}, &out, &errOut)
	}()
	defer func() { cancel(); <-done }()
	var base, key string
	for deadline := time.Now().Add(30 * time.Second); base == "" || key == ""; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s\n%s", out.String(), errOut.String())
		}
		select {
		case err := <-done:
			done <- err
			t.Fatalf("serve stopped: %v\n%s", err, errOut.String())
		default:
		}
		if _, rest, ok := strings.Cut(out.String(), "GraphQL at "); ok && len(strings.Fields(rest)) > 0 {
			base = strings.TrimSuffix(strings.Fields(rest)[0], "/graphql")
		}
		key = regexp.MustCompile(`fgk_[0-9a-f]{8}_[A-Za-z0-9_-]{43}`).FindString(out.String())
	}
	send := func(method, path, body string) []byte {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return b.Bytes()
	}
	started := send(http.MethodPost, "/graphql", `{"query":"mutation { crawl(input: {seeds: [\"`+site.URL+`/help/index.html\"], rate: 50}) { id } }"}`)
	id := regexp.MustCompile(`job-[0-9a-f]{16}`).FindString(string(started))
	if id == "" {
		t.Fatalf("the crawl mutation answered %s", started)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		job := string(send(http.MethodGet, "/jobs/"+id, ""))
		if strings.Contains(job, `"state":"done"`) {
			if !strings.Contains(job, `"outcome":"added"`) {
				t.Errorf("the crawl through serve --allow-hosts 127.0.0.1: %s; want the page added", job)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the crawl job did not finish: %s", job)
		}
	}
}
