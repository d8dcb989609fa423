package main

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/fixgraph/fixgraph/internal/fixgraphtest"
)

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
	args := []string{"crawl", "--data", dir, "--embedder", "none", "--rate", "200", srv.URL + "/s10/index.html"}

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
