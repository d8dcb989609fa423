package ingest_test

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/fixtures"
	"github.com/fixgraph/fixgraph/ingest"
	"github.com/fixgraph/fixgraph/internal/fixgraphtest"
)

// crawlEnv is the real embedded stores and pipeline with a crawler and its state file.
type crawlEnv struct {
	*stores
	state   *ingest.State
	crawler *ingest.Crawler
}

func mustCrawlEnv(tb testing.TB) *crawlEnv {
	tb.Helper()
	s := mustStores(tb)
	st, err := ingest.OpenState(filepath.Join(tb.TempDir(), "state.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return &crawlEnv{stores: s, state: st, crawler: &ingest.Crawler{Pipeline: s.p, State: st, Guard: mustLoopbackGuard(tb)}}
}

// mustLoopbackGuard returns a guard that lets the crawler reach the test sites on 127.0.0.1, as
// --allow-hosts 127.0.0.1 does, and no other non-public address.
func mustLoopbackGuard(tb testing.TB) *ingest.NetGuard {
	tb.Helper()
	g, err := ingest.NewNetGuard(false, []string{"127.0.0.1"})
	if err != nil {
		tb.Fatal(err)
	}
	return g
}

// crawl runs a crawl with no rate limit unless cfg sets one, and fails the test on an error.
func (e *crawlEnv) crawl(tb testing.TB, cfg ingest.CrawlConfig) *ingest.CrawlReport {
	tb.Helper()
	if cfg.Rate == 0 {
		cfg.Rate = -1
	}
	var mu sync.Mutex
	calls := 0
	rep, err := e.crawler.Crawl(context.Background(), cfg, func(ingest.FileResult) {
		mu.Lock()
		calls++
		mu.Unlock()
	})
	if err != nil {
		tb.Fatalf("crawl: %v", err)
	}
	if calls != len(rep.Files) {
		tb.Errorf("progress called %d times for %d results", calls, len(rep.Files))
	}
	return rep
}

// generation returns the graph's write generation.
func (e *crawlEnv) generation(tb testing.TB) uint64 {
	tb.Helper()
	g, err := e.Graph.Generation(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return g
}

// documents returns the number of sections of each document in the graph, by source.
func (e *crawlEnv) documents(tb testing.TB) map[string]int {
	tb.Helper()
	ctx := context.Background()
	bySource := make(map[string]string)
	var ids []string
	err := e.Graph.Scan(ctx, fixgraph.PrefixDocument+":", func(n fixgraph.Node) error {
		d := n.(*fixgraph.Document)
		bySource[d.ID] = d.Source
		ids = append(ids, d.ID)
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	secs, err := e.Graph.Neighbors(ctx, ids, fixgraph.RelPartOf, fixgraph.In)
	if err != nil {
		tb.Fatal(err)
	}
	out := make(map[string]int, len(ids))
	for _, id := range ids {
		n := 0
		for _, s := range secs[id] {
			if fixgraph.KindOf(s) == fixgraph.PrefixSection {
				n++
			}
		}
		out[bySource[id]] = n
	}
	return out
}

// resultFor returns the result for source, failing the test when there is none.
func resultFor(tb testing.TB, rep *ingest.CrawlReport, source string) ingest.FileResult {
	tb.Helper()
	for _, r := range rep.Files {
		if r.Source == source {
			return r
		}
	}
	tb.Fatalf("no result for %s in %s", source, describe(rep))
	return ingest.FileResult{}
}

// describe prints a report's counts and results for failure messages.
func describe(rep *ingest.CrawlReport) string {
	var b strings.Builder
	fmt.Fprintf(&b, "fetched %d, 304 %d, added %d, updated %d, unchanged %d, removed %d, failed %d, skipped %d, duplicates %d, requests %d",
		rep.Fetched, rep.NotModified, rep.Added, rep.Updated, rep.Unchanged, rep.Removed, rep.Failed, rep.Skipped, rep.Duplicates, rep.Requests)
	for _, r := range rep.Files {
		fmt.Fprintf(&b, "\n  %s %s %s", r.Outcome, r.Source, r.Error)
	}
	for _, s := range rep.Skips {
		fmt.Fprintf(&b, "\n  skip %s: %s", s.URL, s.Reason)
	}
	for _, w := range rep.Warnings {
		fmt.Fprintf(&b, "\n  warning: %s", w)
	}
	return b.String()
}

// TestCrawlGalaxyS10 crawls the real Galaxy S10 manual site from its index, as http.FileServer
// serves it (with Last-Modified), then crawls it again.
func TestCrawlGalaxyS10(t *testing.T) {
	dir := filepath.Join(fixgraphtest.EManualDir(t), "galaxy-s10")
	chapters, _ := filepath.Glob(filepath.Join(dir, "chapter-*.html"))
	if len(chapters) == 0 {
		t.Fatalf("the Galaxy S10 site has no chapters in %s", dir)
	}
	mux := http.NewServeMux()
	mux.Handle("/s10/", http.StripPrefix("/s10/", http.FileServer(http.Dir(dir))))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	e := mustCrawlEnv(t)
	root := srv.URL + "/s10/"

	rep := e.crawl(t, ingest.CrawlConfig{Seeds: []string{root + "index.html"}})
	docs := e.documents(t)
	sections := 0
	for _, ch := range chapters {
		src := root + filepath.Base(ch)
		if docs[src] == 0 {
			t.Errorf("chapter %s is not a document with sections", src)
		}
		sections += docs[src]
	}
	// http.FileServer redirects /s10/index.html to /s10/, so the index is the document of /s10/:
	// its one h1 heading is one section that lists the chapters.
	if docs[root] != 1 {
		t.Errorf("the index page %s has %d sections; want 1", root, docs[root])
	}
	if len(docs) != len(chapters)+1 {
		t.Errorf("%d documents; want %d chapters and the index", len(docs), len(chapters))
	}
	if rep.Added != len(chapters)+1 || rep.Fetched != len(chapters)+1 {
		t.Errorf("added %d of %d pages fetched; want %d of %d", rep.Added, rep.Fetched, len(chapters)+1, len(chapters)+1)
	}
	// The manual links to pages that were never part of the site: each is a 404 that fails alone.
	for _, r := range rep.Files {
		if r.Outcome != ingest.Failed {
			continue
		}
		name := strings.TrimPrefix(r.Source, root)
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(name))); err == nil || fixgraph.CodeOf(r.Err) != fixgraph.ENOTFOUND || !strings.Contains(r.Error, "404 Not Found") {
			t.Errorf("failure %s (%s); want only 404s of files that do not exist", r.Source, r.Error)
		}
	}
	t.Logf("first crawl: %d pages fetched, %d documents with %d chapter sections; %d broken links; %d requests",
		rep.Fetched, len(docs), sections, rep.Failed, rep.Requests)

	gen := e.generation(t)
	again := e.crawl(t, ingest.CrawlConfig{Seeds: []string{root + "index.html"}})
	if again.NotModified != len(chapters)+1 || again.Fetched != 0 || again.Added+again.Updated+again.Removed+again.Failed != 0 || len(again.Files) != 0 {
		t.Errorf("re-crawl: %s; want every page not modified and nothing written", describe(again))
	}
	if g := e.generation(t); g != gen {
		t.Errorf("re-crawl changed the graph: generation %d → %d", gen, g)
	}
	t.Logf("re-crawl: %d not modified, %d fetched, %d requests", again.NotModified, again.Fetched, again.Requests)
}

// hitCounter counts requests per path.
type hitCounter struct {
	mu   sync.Mutex
	hits map[string]int
}

func (h *hitCounter) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		if h.hits == nil {
			h.hits = make(map[string]int)
		}
		h.hits[r.URL.Path]++
		h.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

func (h *hitCounter) get(p string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.hits[p]
}

// TestCrawlFixturesSite crawls the fixture corpus as a site: an index page under /site/ links the
// manuals, FAQ pages and policy PDFs (the PDFs live outside /site/ on the same host); robots.txt
// disallows one manual; the sitemap names a FAQ page no page links to.
func TestCrawlFixturesSite(t *testing.T) {
	var hits hitCounter
	mux := http.NewServeMux()
	srv := httptest.NewServer(hits.wrap(mux))
	defer srv.Close()

	const disallowed = "/site/manuals/wh-5020-zh.html"
	const fromSitemap = "/site/faq/faq-products-zh.html" // in /sitemap.xml
	const fromIndex = "/site/faq/faq-products-en.html"   // in a sitemap of the index robots.txt names
	var links []string
	for _, pat := range []string{"manuals/*.html", "faq/*.html"} {
		names, _ := fs.Glob(fixtures.Corpus, pat)
		for _, n := range names {
			if "/site/"+n != fromSitemap && "/site/"+n != fromIndex {
				links = append(links, "/site/"+n)
			}
		}
	}
	pdfs := []string{"/files/policy/returns-zh.pdf", "/files/policy/warranty-zh.pdf"}
	links = append(links, pdfs...)
	links = append(links, "/other/outside.html")
	var index strings.Builder
	index.WriteString("<html><body><h1>Fixtures</h1><ul>")
	for _, l := range links {
		fmt.Fprintf(&index, `<li><a href="%s">%s</a></li>`, l, path.Base(l))
	}
	index.WriteString(`<li><a href="mailto:help@example.com">mail</a></li></ul></body></html>`)

	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "User-agent: *\nDisallow: %s\nSitemap: %s/sitemaps/index.xml\n", disallowed, srv.URL)
	})
	mux.HandleFunc("/sitemaps/index.xml", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>%s/sitemaps/faq.xml</loc></sitemap></sitemapindex>`, srv.URL)
	})
	mux.HandleFunc("/sitemaps/faq.xml", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>%s%s</loc></url><url><loc>%s/elsewhere/x.html</loc></url></urlset>`, srv.URL, fromIndex, srv.URL)
	})
	mux.HandleFunc("/sitemap.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprintf(w, `<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>%s%s</loc></url></urlset>`, srv.URL, fromSitemap)
	})
	mux.HandleFunc("/site/index.html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, index.String())
	})
	corpus := http.FileServer(http.FS(fixtures.Corpus))
	mux.Handle("/site/", http.StripPrefix("/site/", corpus))
	mux.Handle("/files/", http.StripPrefix("/files/", corpus))
	mux.HandleFunc("/other/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<html><body><h1>Out of scope</h1></body></html>")
	})

	e := mustCrawlEnv(t)
	rep := e.crawl(t, ingest.CrawlConfig{Seeds: []string{srv.URL + "/site/index.html"}})
	if n := hits.get(disallowed); n != 0 {
		t.Errorf("the page robots.txt disallows was fetched %d times", n)
	}
	if n := hits.get("/robots.txt"); n != 1 {
		t.Errorf("robots.txt fetched %d times; want once per crawl", n)
	}
	if n := hits.get("/other/outside.html"); n != 0 {
		t.Errorf("an out-of-scope page was fetched %d times", n)
	}
	for _, p := range pdfs {
		r := resultFor(t, rep, srv.URL+p)
		if r.Outcome != ingest.Added || r.Kind != fixgraph.KindPolicy || r.Sections == 0 {
			t.Errorf("%s: %+v; want a policy added with sections", p, r)
		}
	}
	if r := resultFor(t, rep, srv.URL+fromSitemap); r.Outcome != ingest.Added || r.Kind != fixgraph.KindFAQ {
		t.Errorf("the page only the sitemap names: %+v; want an FAQ added", r)
	}
	if r := resultFor(t, rep, srv.URL+fromIndex); r.Outcome != ingest.Added || r.Kind != fixgraph.KindFAQ {
		t.Errorf("the page a sitemap of the sitemap index names: %+v; want an FAQ added", r)
	}
	if n := hits.get("/elsewhere/x.html"); n != 0 {
		t.Errorf("a sitemap's URL out of scope was fetched %d times", n)
	}
	// The index, every linked manual and FAQ page but the disallowed one, the sitemaps' two pages, the PDFs.
	want := len(links) - 1 - 1 + 2 + 1
	if rep.Added != want || rep.Failed != 0 || rep.Skipped != 1 {
		t.Errorf("%s\nwant %d added, none failed, the disallowed page skipped", describe(rep), want)
	}
	if !e.searchHas(t, "drain pump filter", srv.URL+"/site/manuals/wf-8012d-en.html") {
		t.Error("a crawled manual is not searchable")
	}
}

// page is one answer of a testSite.
type page struct {
	body     string
	ctype    string // "" = text/html; charset=utf-8
	status   int    // 0 = 200
	location string
	noETag   bool // answer every request in full
}

// testSite is a site whose pages change between crawls. It answers If-None-Match with 304, counts
// requests per path and the most requests in flight at once.
type testSite struct {
	mu       sync.Mutex
	pages    map[string]page // by path, or path?query
	hits     map[string]int
	inflight int
	peak     int
	delay    time.Duration
	srv      *httptest.Server
}

func newTestSite(tb testing.TB, pages map[string]page) *testSite {
	s := &testSite{pages: pages, hits: make(map[string]int)}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(s.srv.Close)
	return s
}

func (s *testSite) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.hits[r.URL.Path]++
	s.inflight++
	s.peak = max(s.peak, s.inflight)
	p, ok := s.pages[r.URL.RequestURI()]
	if !ok {
		p, ok = s.pages[r.URL.Path]
	}
	delay := s.delay
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inflight--
		s.mu.Unlock()
	}()
	time.Sleep(delay)
	switch {
	case !ok:
		http.NotFound(w, r)
	case p.location != "":
		http.Redirect(w, r, p.location, cmp.Or(p.status, http.StatusFound))
	case p.status != 0:
		http.Error(w, http.StatusText(p.status), p.status)
	default:
		sum := sha256.Sum256([]byte(p.body))
		etag := `"` + hex.EncodeToString(sum[:8]) + `"`
		if !p.noETag {
			w.Header().Set("ETag", etag)
		}
		if !p.noETag && r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", cmp.Or(p.ctype, "text/html; charset=utf-8"))
		fmt.Fprint(w, p.body)
	}
}

func (s *testSite) set(p string, pg page) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pages[p] = pg
}

func (s *testSite) hitsOf(p string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[p]
}

func html(title string, body string) page {
	return page{body: "<!DOCTYPE html><html lang=\"en\"><head><title>" + title + "</title></head><body>" + body + "</body></html>"}
}

const kettleA = `<h1>Kettle KT-200 manual</h1>
<h2 id="descale">Descaling the kettle</h2><p>Fill with citric acid solution and boil twice to remove limescale deposits.</p>
<h2 id="base">Cleaning the power base</h2><p>Wipe the base with a dry cloth; never immerse it in water.</p>`

const kettleB = `<h1>Toaster TS-90 manual</h1>
<h2 id="crumbs">Emptying the crumb tray</h2><p>Slide out the crumb tray underneath and shake it over the bin weekly.</p>`

// TestCrawlChangedPage re-crawls a site after one page lost a section: only that page is fetched
// and written again; the old section leaves the index, the new text is found, and the graph keeps
// the old version in its history.
func TestCrawlChangedPage(t *testing.T) {
	ctx := context.Background()
	plain := html("Blender", `<h1>Blender BL-7 manual</h1><h2>Cleaning the jug</h2><p>Rinse the jug with warm water.</p>`)
	plain.noETag = true
	site := newTestSite(t, map[string]page{
		"/kb/index.html": html("KB", `<h1>Knowledge base</h1><a href="a.html">kettle</a> <a href="b.html">toaster</a> <a href="c.html">blender</a>`),
		"/kb/a.html":     html("Kettle", kettleA),
		"/kb/b.html":     html("Toaster", kettleB),
		"/kb/c.html":     plain,
	})
	e := mustCrawlEnv(t)
	cfg := ingest.CrawlConfig{Seeds: []string{site.srv.URL + "/kb/index.html"}}
	a := site.srv.URL + "/kb/a.html"
	if rep := e.crawl(t, cfg); rep.Added != 4 {
		t.Fatalf("first crawl: %s; want 4 added", describe(rep))
	}
	gen := e.generation(t)
	if !e.searchHas(t, "citric acid limescale", a) {
		t.Fatal("the descaling section is not searchable after the first crawl")
	}

	changed := strings.Replace(kettleA, `<h2 id="descale">Descaling the kettle</h2><p>Fill with citric acid solution and boil twice to remove limescale deposits.</p>`,
		`<p>Replace the charcoal water filter cartridge every six months.</p>`, 1)
	site.set("/kb/a.html", html("Kettle", changed))
	rep := e.crawl(t, cfg)
	if r := resultFor(t, rep, a); r.Outcome != ingest.Updated || r.Version != 2 {
		t.Errorf("changed page: %+v; want updated to version 2", r)
	}
	// The blender page comes in full, without an ETag, but its bytes are those of the last crawl.
	if rep.Updated != 1 || rep.NotModified != 2 || rep.Fetched != 2 || rep.Unchanged != 1 || len(rep.Files) != 1 {
		t.Errorf("re-crawl: %s; want the changed page updated, two not modified, the page without an ETag unchanged", describe(rep))
	}
	if g := e.generation(t); g != gen+1 {
		t.Errorf("generation %d → %d; want one write", gen, g)
	}
	if e.searchHas(t, "citric acid limescale", a) {
		t.Error("the removed section is still searchable")
	}
	if !e.searchHas(t, "charcoal filter cartridge", a) {
		t.Error("the new text is not searchable")
	}
	hist, err := e.Graph.History(ctx, fixgraph.DocumentID(a))
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 1 || hist[0].EndReason != fixgraph.Superseded || !slices.ContainsFunc(hist[0].Sections, func(s *fixgraph.Section) bool {
		return s.Heading == "Descaling the kettle"
	}) {
		t.Errorf("history = %+v; want version 1 with the descaling section, superseded", hist)
	}
}

// TestCrawlRemovedPage: a 500 on re-crawl removes nothing; a 404 removes the page's document even
// though nothing links to it any more, and the state forgets it.
func TestCrawlRemovedPage(t *testing.T) {
	ctx := context.Background()
	site := newTestSite(t, map[string]page{
		"/kb/index.html": html("KB", `<h1>Knowledge base</h1><a href="a.html">kettle</a> <a href="b.html">toaster</a>`),
		"/kb/a.html":     html("Kettle", kettleA),
		"/kb/b.html":     html("Toaster", kettleB),
	})
	e := mustCrawlEnv(t)
	cfg := ingest.CrawlConfig{Seeds: []string{site.srv.URL + "/kb/index.html"}}
	b := site.srv.URL + "/kb/b.html"
	if rep := e.crawl(t, cfg); rep.Added != 3 {
		t.Fatalf("first crawl: %s", describe(rep))
	}

	site.set("/kb/b.html", page{status: http.StatusInternalServerError})
	rep := e.crawl(t, cfg)
	if r := resultFor(t, rep, b); r.Outcome != ingest.Failed || fixgraph.CodeOf(r.Err) != fixgraph.EUNAVAILABLE || !strings.Contains(r.Error, "500") {
		t.Errorf("a 500: %+v; want failed, unavailable, naming the status", r)
	}
	if rep.Removed != 0 || !e.searchHas(t, "crumb tray", b) {
		t.Errorf("a 500 removed something: %s", describe(rep))
	}

	// The page is gone and the index no longer links to it.
	site.set("/kb/b.html", page{status: http.StatusNotFound})
	site.set("/kb/index.html", html("KB", `<h1>Knowledge base</h1><a href="a.html">kettle</a>`))
	rep = e.crawl(t, cfg)
	if r := resultFor(t, rep, b); r.Outcome != ingest.Removed || r.DocumentID != fixgraph.DocumentID(b) {
		t.Errorf("a 404 of a known page: %+v; want removed", r)
	}
	if rep.Removed != 1 || rep.Updated != 1 || rep.Failed != 0 {
		t.Errorf("%s; want the page removed and the index updated", describe(rep))
	}
	if e.searchHas(t, "crumb tray", b) {
		t.Error("the removed page is still searchable")
	}
	if _, err := e.Graph.Node(ctx, fixgraph.DocumentID(b)); fixgraph.CodeOf(err) != fixgraph.ENOTFOUND {
		t.Errorf("document node of the removed page: %v; want not found", err)
	}
	if hist, _ := e.Graph.History(ctx, fixgraph.DocumentID(b)); len(hist) != 1 || hist[0].EndReason != fixgraph.Retired {
		t.Errorf("history = %+v; want the last version, removed", hist)
	}
	if rec, err := e.state.CrawlRecord("", b); err != nil || rec != nil {
		t.Errorf("state still has the removed page: %+v, %v", rec, err)
	}
	before := site.hitsOf("/kb/b.html")
	if rep := e.crawl(t, cfg); rep.Removed != 0 || rep.Failed != 0 || site.hitsOf("/kb/b.html") != before {
		t.Errorf("the crawl after the removal: %s, %d requests for the page; want none", describe(rep), site.hitsOf("/kb/b.html")-before)
	}
}

// TestCrawlFailuresStayLocal: a broken link, a redirect loop and a redirect out of scope each fail
// alone with a clear message; out-of-scope links are never fetched; the rest is crawled.
func TestCrawlFailuresStayLocal(t *testing.T) {
	site := newTestSite(t, map[string]page{
		"/kb/index.html": html("KB", `<h1>Knowledge base</h1>
			<a href="missing.html">missing</a> <a href="loop-a">loop</a> <a href="away">away</a>
			<a href="/other/page.html">other</a> <a href="https://example.invalid/x.html">elsewhere</a>
			<a href="moved">moved</a> <a href="a.html#descale">kettle</a> <a href="javascript:alert(1)">js</a>
			<a href="feed">feed</a> <a href="b.html" rel="nofollow">nofollow</a>`),
		"/kb/loop-a":          {location: "/kb/loop-b"},
		"/kb/loop-b":          {location: "/kb/loop-a"},
		"/kb/away":            {location: "/other/page.html", status: http.StatusMovedPermanently},
		"/kb/moved":           {location: "/kb/sub/../moved-here.html", status: http.StatusMovedPermanently},
		"/kb/moved-here.html": html("Toaster", kettleB),
		"/kb/a.html":          html("Kettle", kettleA),
		"/kb/b.html":          html("Toaster", kettleB),
		"/kb/feed":            {body: `{"items":[]}`, ctype: "application/json"},
		"/other/page.html":    html("Other", "<h1>Other</h1>"),
	})
	e := mustCrawlEnv(t)
	u := site.srv.URL
	rep := e.crawl(t, ingest.CrawlConfig{Seeds: []string{u + "/kb/index.html"}})

	tests := []struct {
		source, code, msg string
	}{
		{u + "/kb/missing.html", fixgraph.ENOTFOUND, "404 Not Found"},
		{u + "/kb/loop-a", fixgraph.EUNREADABLE, "redirect loop: " + u + "/kb/loop-a → " + u + "/kb/loop-b → " + u + "/kb/loop-a"},
		{u + "/kb/away", fixgraph.EINVALID, "redirects out of the crawl's scope to \"" + u + "/other/page.html\""},
	}
	for _, tt := range tests {
		r := resultFor(t, rep, tt.source)
		if r.Outcome != ingest.Failed || fixgraph.CodeOf(r.Err) != tt.code || !strings.Contains(r.Error, tt.msg) {
			t.Errorf("%s: %s %s %q; want failed, %s, with %q", tt.source, r.Outcome, fixgraph.CodeOf(r.Err), r.Error, tt.code, tt.msg)
		}
	}
	if n := site.hitsOf("/other/page.html"); n != 0 {
		t.Errorf("the out-of-scope page was fetched %d times", n)
	}
	if n := site.hitsOf("/kb/b.html"); n != 0 {
		t.Errorf("a nofollow link was fetched %d times", n)
	}
	if r := resultFor(t, rep, u+"/kb/moved-here.html"); r.Outcome != ingest.Added {
		t.Errorf("the target of a redirect in scope: %+v; want added", r)
	}
	if r := resultFor(t, rep, u+"/kb/a.html"); r.Outcome != ingest.Added {
		t.Errorf("a page linked with a fragment: %+v; want added", r)
	}
	if rep.Added != 3 || rep.Failed != 3 || rep.Skipped != 1 || !slices.ContainsFunc(rep.Skips, func(s ingest.CrawlSkip) bool {
		return s.URL == u+"/kb/feed" && strings.Contains(s.Reason, "application/json")
	}) {
		t.Errorf("%s\nwant 3 added (index, kettle, moved), 3 failed, the JSON feed skipped", describe(rep))
	}
}

// TestCrawlCanonicalAndDuplicates: URLs of one page are one document, whether they name it as
// their canonical URL or serve the same bytes.
func TestCrawlCanonicalAndDuplicates(t *testing.T) {
	same := html("Kettle", `<link rel="canonical" href="/kb/kettle.html">`+kettleA)
	site := newTestSite(t, map[string]page{
		"/kb/index.html": html("KB", `<h1>Knowledge base</h1>
			<a href="kettle.html">kettle</a> <a href="kettle.html?utm_source=mail">kettle again</a>
			<a href="print/kettle.html">printable</a> <a href="toaster.html">toaster</a> <a href="TOASTER-copy.html">copy</a>`),
		"/kb/kettle.html":       same,
		"/kb/print/kettle.html": html("Kettle (print)", `<link rel="canonical" href="../kettle.html">`+kettleA+`<p>Printer friendly version.</p>`),
		"/kb/toaster.html":      html("Toaster", kettleB),
		"/kb/TOASTER-copy.html": html("Toaster", kettleB),
	})
	e := mustCrawlEnv(t)
	u := site.srv.URL
	rep := e.crawl(t, ingest.CrawlConfig{Seeds: []string{u + "/kb/index.html"}, Concurrency: 1})
	docs := e.documents(t)
	var names []string
	for src := range docs {
		names = append(names, strings.TrimPrefix(src, u))
	}
	slices.Sort(names)
	want := []string{"/kb/index.html", "/kb/kettle.html", "/kb/toaster.html"}
	if !slices.Equal(names, want) {
		t.Errorf("documents %q; want %q\n%s", names, want, describe(rep))
	}
	if rep.Duplicates != 3 || rep.Added != 3 {
		t.Errorf("%s\nwant 3 added and 3 duplicates", describe(rep))
	}
	if e.searchHas(t, "printer friendly version", u+"/kb/kettle.html") {
		t.Error("the printable copy's text went into the canonical page's document")
	}
	// Nothing changed: the second crawl writes nothing, duplicates included.
	gen := e.generation(t)
	if rep := e.crawl(t, ingest.CrawlConfig{Seeds: []string{u + "/kb/index.html"}}); rep.NotModified != 6 || len(rep.Files) != 0 || e.generation(t) != gen {
		t.Errorf("re-crawl: %s; want all 6 URLs not modified and nothing written", describe(rep))
	}
}

// TestCrawlLimits: depth, page, byte, time, rate and concurrency limits hold; a crawl stopped by
// its byte or time limit keeps what it did and says which limit stopped it.
func TestCrawlLimits(t *testing.T) {
	pages := map[string]page{}
	var index strings.Builder
	index.WriteString("<h1>Index</h1>")
	for i := range 12 {
		fmt.Fprintf(&index, `<a href="p%d.html">p%d</a> `, i, i)
		pages[fmt.Sprintf("/kb/p%d.html", i)] = html("P", fmt.Sprintf(`<h1>Page %d</h1><p>Text of page %d. <a href="deep%d.html">deeper</a></p>`, i, i, i))
		pages[fmt.Sprintf("/kb/deep%d.html", i)] = html("D", fmt.Sprintf(`<h1>Deep %d</h1><p>Deep text.</p>`, i))
	}
	pages["/kb/index.html"] = html("Index", index.String())

	t.Run("concurrency", func(t *testing.T) {
		site := newTestSite(t, pages)
		site.delay = 10 * time.Millisecond
		e := mustCrawlEnv(t)
		rep := e.crawl(t, ingest.CrawlConfig{Seeds: []string{site.srv.URL + "/kb/index.html"}, Concurrency: 3})
		if rep.Added != 25 {
			t.Errorf("%s\nwant all 25 pages added", describe(rep))
		}
		if site.peak > 3 {
			t.Errorf("%d requests in flight at once; the limit is 3", site.peak)
		}
	})
	t.Run("depth", func(t *testing.T) {
		site := newTestSite(t, pages)
		e := mustCrawlEnv(t)
		rep := e.crawl(t, ingest.CrawlConfig{Seeds: []string{site.srv.URL + "/kb/index.html"}, MaxDepth: 1})
		if rep.Added != 13 || site.hitsOf("/kb/deep0.html") != 0 {
			t.Errorf("%s\nwant the index and its 12 pages, nothing deeper", describe(rep))
		}
	})
	t.Run("pages", func(t *testing.T) {
		site := newTestSite(t, pages)
		e := mustCrawlEnv(t)
		rep := e.crawl(t, ingest.CrawlConfig{Seeds: []string{site.srv.URL + "/kb/index.html"}, MaxPages: 5})
		pageHits := 0
		for p := range pages {
			pageHits += site.hitsOf(p)
		}
		if pageHits != 5 || rep.Added != 5 || rep.Unvisited != 12 {
			t.Errorf("%s, %d unvisited, %d page requests\nwant 5 pages fetched and 12 left (8 pages and the 4 deeper links of those fetched)", describe(rep), rep.Unvisited, pageHits)
		}
	})
	t.Run("bytes", func(t *testing.T) {
		site := newTestSite(t, pages)
		e := mustCrawlEnv(t)
		rep := e.crawl(t, ingest.CrawlConfig{Seeds: []string{site.srv.URL + "/kb/index.html"}, MaxBytes: 600, Concurrency: 1})
		if rep.Bytes < 600 || rep.Added == 0 || rep.Added > 4 || rep.Unvisited == 0 || rep.Failed != 0 ||
			!slices.ContainsFunc(rep.Warnings, func(w string) bool { return strings.Contains(w, "limit of 600 bytes") }) {
			t.Errorf("%s, %d bytes, %d unvisited\nwant a few pages, the rest unvisited, and a warning naming the limit", describe(rep), rep.Bytes, rep.Unvisited)
		}
	})
	t.Run("time", func(t *testing.T) {
		site := newTestSite(t, pages)
		site.delay = 50 * time.Millisecond
		e := mustCrawlEnv(t)
		start := time.Now()
		rep := e.crawl(t, ingest.CrawlConfig{Seeds: []string{site.srv.URL + "/kb/index.html"}, MaxTime: 400 * time.Millisecond, Concurrency: 1})
		if took := time.Since(start); took > 5*time.Second || rep.Added == 0 || rep.Added >= 25 || rep.Unvisited == 0 || rep.Failed != 0 ||
			!slices.ContainsFunc(rep.Warnings, func(w string) bool { return strings.Contains(w, "time limit of 400ms") }) {
			t.Errorf("%s, %d unvisited, in %v\nwant some pages, the rest unvisited, no failures, and a warning naming the limit", describe(rep), rep.Unvisited, took)
		}
	})
	t.Run("rate", func(t *testing.T) {
		// 4 requests at 20 per second take at least 150 ms; only the lower bound is sure.
		site := newTestSite(t, map[string]page{
			"/kb/index.html": html("I", `<h1>I</h1><a href="a.html">a</a>`),
			"/kb/a.html":     html("A", `<h1>A</h1>`),
		})
		e := mustCrawlEnv(t)
		start := time.Now()
		rep := e.crawl(t, ingest.CrawlConfig{Seeds: []string{site.srv.URL + "/kb/index.html"}, Rate: 20})
		if rep.Requests != 4 || time.Since(start) < 140*time.Millisecond {
			t.Errorf("%d requests (robots.txt, sitemap.xml, 2 pages) in %v; want 4, at least 50 ms apart", rep.Requests, time.Since(start))
		}
	})
}

// TestCrawlCharsetsAndSizes: a GBK page is read as GBK; a page over the pipeline's size limit fails
// with too_large; a PDF served as octet-stream is read by its extension.
func TestCrawlCharsetsAndSizes(t *testing.T) {
	gbk, err := simplifiedchinese.GBK.NewEncoder().String(`<html><head><meta charset="gbk"><title>洗碗机</title></head><body>
<h1>洗碗机 DW-6035 说明书</h1><h2>软水盐</h2><p>每月检查一次软水盐余量，并及时添加专用软水盐。</p></body></html>`)
	if err != nil {
		t.Fatal(err)
	}
	pdf := fixture(t, "policy/warranty-zh.pdf")
	site := newTestSite(t, map[string]page{
		"/kb/index.html": html("KB", `<h1>KB</h1><a href="gbk.html">gbk</a> <a href="big.html">big</a> <a href="w.pdf">pdf</a>`),
		"/kb/gbk.html":   {body: gbk, ctype: "text/html"},
		"/kb/big.html":   html("Big", "<h1>Big</h1><p>"+strings.Repeat("x", 300<<10)+"</p>"),
		"/kb/w.pdf":      {body: string(pdf), ctype: "application/octet-stream"},
	})
	e := mustCrawlEnv(t)
	e.p.MaxFileSize = 200 << 10
	u := site.srv.URL
	rep := e.crawl(t, ingest.CrawlConfig{Seeds: []string{u + "/kb/index.html"}})
	if r := resultFor(t, rep, u+"/kb/gbk.html"); r.Outcome != ingest.Added || !e.searchHas(t, "软水盐余量", u+"/kb/gbk.html") {
		t.Errorf("GBK page: %+v; want added and its Chinese text searchable", r)
	}
	if r := resultFor(t, rep, u+"/kb/big.html"); r.Outcome != ingest.Failed || fixgraph.CodeOf(r.Err) != fixgraph.ETOOLARGE || !strings.Contains(r.Error, "204800 bytes") {
		t.Errorf("oversized page: %+v; want too_large naming the limit", r)
	}
	if r := resultFor(t, rep, u+"/kb/w.pdf"); r.Outcome != ingest.Added || r.Kind != fixgraph.KindPolicy {
		t.Errorf("PDF served as octet-stream: %+v; want a policy added", r)
	}
}

func TestCrawlInvalidConfig(t *testing.T) {
	e := mustCrawlEnv(t)
	tests := []struct {
		name string
		cfg  ingest.CrawlConfig
		msg  string
	}{
		{"no seeds", ingest.CrawlConfig{}, "at least one seed"},
		{"not http", ingest.CrawlConfig{Seeds: []string{"ftp://example.com/"}}, `seed "ftp://example.com/" is not an http or https URL`},
		{"relative", ingest.CrawlConfig{Seeds: []string{"/docs/index.html"}}, "is not an http or https URL"},
		{"outside scope", ingest.CrawlConfig{Seeds: []string{"http://example.com/a/"}, Scope: "http://example.com/b/"}, "outside the scope"},
		{"negative", ingest.CrawlConfig{Seeds: []string{"http://example.com/"}, MaxPages: -1}, "cannot be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.crawler.Crawl(context.Background(), tt.cfg, nil)
			if fixgraph.CodeOf(err) != fixgraph.EINVALID || !strings.Contains(fixgraph.MessageOf(err), tt.msg) {
				t.Errorf("err = %v; want invalid with %q", err, tt.msg)
			}
		})
	}
}

// TestCrawlMovedPage: a known page that now redirects for good to a new URL, with the same content,
// is written under the new URL and its old document is removed.
func TestCrawlMovedPage(t *testing.T) {
	ctx := context.Background()
	site := newTestSite(t, map[string]page{
		"/kb/index.html": html("KB", `<h1>Knowledge base</h1><a href="a.html">kettle</a>`),
		"/kb/a.html":     html("Kettle", kettleA),
	})
	e := mustCrawlEnv(t)
	u := site.srv.URL
	cfg := ingest.CrawlConfig{Seeds: []string{u + "/kb/index.html"}}
	if rep := e.crawl(t, cfg); rep.Added != 2 {
		t.Fatalf("first crawl: %s", describe(rep))
	}
	site.set("/kb/a.html", page{location: "/kb/kettles/kt-200.html", status: http.StatusMovedPermanently})
	site.set("/kb/kettles/kt-200.html", html("Kettle", kettleA))
	rep := e.crawl(t, cfg)
	if r := resultFor(t, rep, u+"/kb/kettles/kt-200.html"); r.Outcome != ingest.Added {
		t.Errorf("the new URL: %+v; want added", r)
	}
	if r := resultFor(t, rep, u+"/kb/a.html"); r.Outcome != ingest.Removed {
		t.Errorf("the old URL: %+v; want removed", r)
	}
	if _, err := e.Graph.Node(ctx, fixgraph.DocumentID(u+"/kb/a.html")); fixgraph.CodeOf(err) != fixgraph.ENOTFOUND {
		t.Errorf("the old document: %v; want gone", err)
	}
	if !e.searchHas(t, "citric acid limescale", u+"/kb/kettles/kt-200.html") || e.searchHas(t, "citric acid limescale", u+"/kb/a.html") {
		t.Error("search does not find the page at its new URL only")
	}
	gen := e.generation(t)
	if rep := e.crawl(t, cfg); len(rep.Files) != 0 || e.generation(t) != gen {
		t.Errorf("the crawl after the move: %s; want nothing written", describe(rep))
	}
}

// TestCrawlCancelled: cancelling the context stops the crawl with the context's error and the
// report so far.
func TestCrawlCancelled(t *testing.T) {
	pages := map[string]page{}
	var index strings.Builder
	index.WriteString("<h1>Index</h1>")
	for i := range 20 {
		fmt.Fprintf(&index, `<a href="p%d.html">p%d</a> `, i, i)
		pages[fmt.Sprintf("/kb/p%d.html", i)] = html("P", fmt.Sprintf(`<h1>Page %d</h1><p>Text %d.</p>`, i, i))
	}
	pages["/kb/index.html"] = html("Index", index.String())
	site := newTestSite(t, pages)
	e := mustCrawlEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rep, err := e.crawler.Crawl(ctx, ingest.CrawlConfig{Seeds: []string{site.srv.URL + "/kb/index.html"}, Rate: -1, Concurrency: 1},
		func(r ingest.FileResult) {
			if r.Outcome == ingest.Added && strings.HasSuffix(r.Source, "p2.html") {
				cancel()
			}
		})
	if !errors.Is(err, context.Canceled) || rep == nil || rep.Added < 3 || rep.Added > 4 {
		t.Fatalf("err %v, report %+v; want cancelled after 3 or 4 pages", err, rep)
	}
}

// TestCrawlDepartmentsOwnTheirPages: department B crawls a site; department A crawls the same URLs
// after one page changed and another went away. A's crawl leaves B's documents as they were (and
// says so in its report); B's own next crawl still updates and retires them.
func TestCrawlDepartmentsOwnTheirPages(t *testing.T) {
	ctx := context.Background()
	site := newTestSite(t, map[string]page{
		"/kb/index.html": html("KB", `<h1>Knowledge base</h1><a href="a.html">kettle</a> <a href="b.html">toaster</a>`),
		"/kb/a.html":     html("Kettle", kettleA),
		"/kb/b.html":     html("Toaster", kettleB),
	})
	e := mustCrawlEnv(t)
	crawlerOf := func(dept string) *ingest.Crawler {
		p := *e.p
		p.Department = dept
		c := *e.crawler
		c.Pipeline = &p
		return &c
	}
	crawlAs := func(dept string) *ingest.CrawlReport {
		t.Helper()
		rep, err := crawlerOf(dept).Crawl(ctx, ingest.CrawlConfig{Seeds: []string{site.srv.URL + "/kb/index.html"}, Rate: -1}, nil)
		if err != nil {
			t.Fatalf("crawl for %s: %v", dept, err)
		}
		return rep
	}
	a, b := site.srv.URL+"/kb/a.html", site.srv.URL+"/kb/b.html"
	owned := func(src string) *fixgraph.Document {
		t.Helper()
		n, err := e.Graph.Node(ctx, fixgraph.DocumentID(src))
		if err != nil {
			t.Fatalf("document of %s: %v", src, err)
		}
		return n.(*fixgraph.Document)
	}
	if rep := crawlAs("b"); rep.Added != 3 {
		t.Fatalf("B's crawl: %s", describe(rep))
	}
	gen := e.generation(t)

	site.set("/kb/a.html", html("Kettle", strings.Replace(kettleA, "citric acid", "white vinegar", 1)))
	site.set("/kb/b.html", page{status: http.StatusNotFound})
	rep := crawlAs("a")
	if rep.Added+rep.Updated+rep.Removed != 0 || e.generation(t) != gen {
		t.Errorf("A's crawl wrote to the graph: %s", describe(rep))
	}
	for _, src := range []string{site.srv.URL + "/kb/index.html", a, b} {
		if d := owned(src); d.Department != "b" || d.Version != 1 {
			t.Errorf("%s after A's crawl: department %q, version %d; want B's version 1", src, d.Department, d.Version)
		}
	}
	if !e.searchHas(t, "citric acid limescale", a) || !e.searchHas(t, "crumb tray", b) {
		t.Error("B's pages are not searchable as B wrote them after A's crawl")
	}
	if !slices.ContainsFunc(rep.Warnings, func(w string) bool { return strings.Contains(w, a) && strings.Contains(w, `department "b"`) }) {
		t.Errorf("A's report does not say it left B's page alone:\n%s", describe(rep))
	}

	// B's own state is intact: its next crawl updates the changed page and retires the gone one.
	rep = crawlAs("b")
	if r := resultFor(t, rep, a); r.Outcome != ingest.Updated {
		t.Errorf("B's re-crawl of the changed page: %+v; want updated", r)
	}
	if r := resultFor(t, rep, b); r.Outcome != ingest.Removed {
		t.Errorf("B's re-crawl of the gone page: %+v; want removed", r)
	}
}

// TestCrawlRedirectsStayInScope: a page that redirects to another origin (another loopback port)
// fails without that origin being asked; a sitemap that redirects to another origin is not
// followed; a chain of more than five redirects fails. A robots.txt that redirects to another
// origin is not followed either, and the host is not crawled: its rules are unknown.
func TestCrawlRedirectsStayInScope(t *testing.T) {
	var otherHits hitCounter
	other := httptest.NewServer(otherHits.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/robots.txt":
			fmt.Fprint(w, "User-agent: *\nAllow: /\n")
		case "/sitemap.xml":
			fmt.Fprint(w, `<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>http://example.invalid/</loc></url></urlset>`)
		default:
			fmt.Fprint(w, "<html><body><h1>Another origin</h1><p>Secrets of another origin.</p></body></html>")
		}
	})))
	defer other.Close()
	pages := map[string]page{
		"/sitemap.xml":   {location: other.URL + "/sitemap.xml"},
		"/kb/index.html": html("KB", `<h1>Knowledge base</h1><a href="away.html">away</a> <a href="r0">chain</a> <a href="a.html">kettle</a>`),
		"/kb/away.html":  {location: other.URL + "/"},
		"/kb/a.html":     html("Kettle", kettleA),
	}
	for i := range 6 {
		pages[fmt.Sprintf("/kb/r%d", i)] = page{location: fmt.Sprintf("/kb/r%d", i+1)}
	}
	pages["/kb/r6"] = html("End", "<h1>End of the chain</h1>")
	site := newTestSite(t, pages)
	e := mustCrawlEnv(t)
	u := site.srv.URL
	rep := e.crawl(t, ingest.CrawlConfig{Seeds: []string{u + "/kb/index.html"}})
	for _, p := range []string{"/", "/robots.txt", "/sitemap.xml"} {
		if n := otherHits.get(p); n != 0 {
			t.Errorf("the other origin's %s was asked %d times", p, n)
		}
	}
	if r := resultFor(t, rep, u+"/kb/away.html"); r.Outcome != ingest.Failed || !strings.Contains(r.Error, "out of the crawl's scope") {
		t.Errorf("a redirect to another origin: %+v; want failed, out of scope", r)
	}
	if r := resultFor(t, rep, u+"/kb/r0"); r.Outcome != ingest.Failed || !strings.Contains(r.Error, "more than 5 times") {
		t.Errorf("six redirects: %+v; want failed, more than 5", r)
	}
	if r := resultFor(t, rep, u+"/kb/a.html"); r.Outcome != ingest.Added {
		t.Errorf("a page in scope: %+v; want added", r)
	}
	if !slices.ContainsFunc(rep.Warnings, func(w string) bool { return strings.Contains(w, "sitemap") && strings.Contains(w, other.URL) }) {
		t.Errorf("no warning about the sitemap's redirect:\n%s", describe(rep))
	}

	fenced := newTestSite(t, map[string]page{
		"/robots.txt":    {location: other.URL + "/robots.txt"},
		"/kb/index.html": html("KB", `<h1>Knowledge base</h1>`),
	})
	rep = e.crawl(t, ingest.CrawlConfig{Seeds: []string{fenced.srv.URL + "/kb/index.html"}})
	if n := otherHits.get("/robots.txt"); n != 0 {
		t.Errorf("the other origin's robots.txt was asked %d times", n)
	}
	if r := resultFor(t, rep, fenced.srv.URL+"/kb/index.html"); r.Outcome != ingest.Failed || !strings.Contains(r.Error, "robots.txt") || !strings.Contains(r.Error, other.URL) {
		t.Errorf("a page of a host whose robots.txt redirects to another origin: %+v; want failed, naming the redirect", r)
	}
	if fenced.hitsOf("/kb/index.html") != 0 {
		t.Error("a page of a host whose robots.txt redirects to another origin was fetched")
	}
}

// TestCrawlRefusesNonPublicAddresses: a crawler left at its default refuses the loopback test site
// without sending it a request, and one guarding with a resolver refuses a private address and a
// name that resolves to the metadata address, each reported per URL with the reason, never a crash
// and never a connection.
func TestCrawlRefusesNonPublicAddresses(t *testing.T) {
	site := newTestSite(t, map[string]page{"/kb/index.html": html("KB", `<h1>Knowledge base</h1>`)})
	e := mustCrawlEnv(t)
	e.crawler.Guard = nil
	u := site.srv.URL + "/kb/index.html"
	rep := e.crawl(t, ingest.CrawlConfig{Seeds: []string{u}})
	r := resultFor(t, rep, u)
	if r.Outcome != ingest.Failed || fixgraph.CodeOf(r.Err) != fixgraph.EFORBIDDEN ||
		!strings.Contains(r.Error, "address 127.0.0.1 is loopback; crawling non-public addresses is off (--allow-private-addresses") {
		t.Errorf("the loopback site: %+v; want failed, forbidden, naming the address and the flag", r)
	}
	site.mu.Lock()
	hits := len(site.hits)
	site.mu.Unlock()
	if hits != 0 {
		t.Errorf("the refused site was asked for %d paths", hits)
	}

	res := &stubResolver{answers: map[string][][]string{"metadata.test": {{"169.254.169.254"}}}}
	g, err := ingest.NewNetGuard(false, nil)
	if err != nil {
		t.Fatal(err)
	}
	g.Resolver = res
	var mu sync.Mutex
	var dialled []string
	ingest.SetDial(g, recordingDial(t, &dialled, &mu))
	e.crawler.Guard = g
	private, metadata := "http://10.0.0.5:8080/kb/index.html", "http://metadata.test/latest/meta-data/"
	rep = e.crawl(t, ingest.CrawlConfig{Seeds: []string{private, metadata}})
	for _, tt := range []struct{ url, msg string }{
		{private, "address 10.0.0.5 is private; crawling non-public addresses is off"},
		{metadata, "address 169.254.169.254 of host metadata.test is link-local; crawling non-public addresses is off"},
	} {
		if r := resultFor(t, rep, tt.url); r.Outcome != ingest.Failed || fixgraph.CodeOf(r.Err) != fixgraph.EFORBIDDEN || !strings.Contains(r.Error, tt.msg) {
			t.Errorf("%s: %+v; want failed with %q", tt.url, r, tt.msg)
		}
	}
	if len(dialled) != 0 {
		t.Errorf("the guard dialled %q", dialled)
	}
	if rep.Added != 0 || rep.Failed != 2 {
		t.Errorf("%s\nwant the two seeds failed and nothing else", describe(rep))
	}
}
