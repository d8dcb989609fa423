package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/answer"
	"github.com/fixgraph/fixgraph/fixtures"
	"github.com/fixgraph/fixgraph/ingest"
	"github.com/fixgraph/fixgraph/internal/servertest"
	"github.com/fixgraph/fixgraph/search"
)

// TestServerDeployment ingests the fixtures once into the embedded stores and once into the
// server-backed deployment (the Bolt server and Weaviate), and checks that both give the same
// top answer to every fixture question (misspelt ones included) and the same troubleshooting
// answer; a second ingest into the servers changes nothing.
func TestServerDeployment(t *testing.T) {
	url := servertest.Neo4jURL(t)
	weaviateURL := servertest.WeaviateURL(t, search.WeaviateClasses...)
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	open := func(graph, vectors string) *app {
		a, err := openApp(ctx, config{data: t.TempDir(), graph: graph, vectors: vectors, embedder: "none"}, quiet)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close() })
		return a
	}
	embedded, server := open("", ""), open(url, weaviateURL)
	for _, a := range []*app{embedded, server} {
		results, err := a.loadFixtures(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range results {
			if r.Err != nil && !strings.Contains(r.Source, "type3") {
				t.Fatalf("%s: %v", r.Source, r.Err)
			}
		}
	}
	count := func(a *app) int {
		n := 0
		if err := a.graph.Scan(ctx, fixgraph.PrefixSection+":", func(fixgraph.Node) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if e, s := count(embedded), count(server); e == 0 || e != s {
		t.Fatalf("sections: embedded %d, server %d", e, s)
	}
	// Ingesting again into the server is a no-op: nothing duplicated, every file unchanged.
	before := count(server)
	results, err := server.loadFixtures(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Err == nil && r.Outcome != ingest.Unchanged {
			t.Errorf("re-ingest of %s: %s, want unchanged", r.Source, r.Outcome)
		}
	}
	if after := count(server); after != before {
		t.Errorf("re-ingest changed the section count from %d to %d", before, after)
	}

	questions, err := fixtureQuestions()
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range questions {
		e, err1 := embedded.answers.Search(ctx, q, 1, answer.Published)
		s, err2 := server.answers.Search(ctx, q, 1, answer.Published)
		if err1 != nil || err2 != nil {
			t.Fatalf("%q: %v, %v", q, err1, err2)
		}
		if len(e) != len(s) || len(e) > 0 && e[0].Section.ID != s[0].Section.ID {
			t.Errorf("%q: embedded top %v, server top %v", q, ids(e), ids(s))
		}
	}
	ea, err1 := embedded.answers.Ask(ctx, "我的洗衣机显示E102怎么办")
	sa, err2 := server.answers.Ask(ctx, "我的洗衣机显示E102怎么办")
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if sa.Kind != fixgraph.AnswerTroubleshoot || sa.Guide == nil || ea.Guide == nil ||
		strings.Join(sa.Guide.Steps, "|") != strings.Join(ea.Guide.Steps, "|") || sa.ErrorCode.ID != ea.ErrorCode.ID || len(sa.Citations) != len(ea.Citations) {
		t.Errorf("E102 answers differ:\nembedded %+v\nserver   %+v", ea, sa)
	}
}

func ids(hits []fixgraph.Hit) []string {
	var out []string
	for _, h := range hits {
		out = append(out, h.Section.ID)
	}
	return out
}

// cutter forwards TCP connections to a server until it is cut: then every open connection is
// closed and new ones are refused, as when the server goes down; restore brings it back.
type cutter struct {
	target string
	ln     net.Listener
	addr   string
	mu     sync.Mutex
	conns  []net.Conn
	down   bool
}

func newCutter(t *testing.T, target string) *cutter {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &cutter{target: target, ln: ln, addr: ln.Addr().String()}
	t.Cleanup(func() { ln.Close(); c.cut() })
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			c.mu.Lock()
			down := c.down
			c.mu.Unlock()
			out, err := net.Dial("tcp", target)
			if down || err != nil {
				in.Close()
				continue
			}
			c.mu.Lock()
			c.conns = append(c.conns, in, out)
			c.mu.Unlock()
			go func() { io.Copy(out, in); out.Close() }()
			go func() { io.Copy(in, out); in.Close() }()
		}
	}()
	return c
}

func (c *cutter) cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.down = true
	for _, conn := range c.conns {
		conn.Close()
	}
	c.conns = nil
}

func (c *cutter) restore() {
	c.mu.Lock()
	c.down = false
	c.mu.Unlock()
}

// TestNeo4jDownMidIngest cuts the connection to the Bolt server half way through an ingest: the
// files written while it is away fail with a clear error, those before are kept, and once it is
// back the same ingest completes without duplicating anything.
func TestNeo4jDownMidIngest(t *testing.T) {
	addr := servertest.Neo4jURL(t)
	u, err := neturl.Parse(addr)
	if err != nil {
		t.Fatal(err)
	}
	c := newCutter(t, u.Host)
	u.Host = c.addr
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := openApp(ctx, config{data: t.TempDir(), graph: u.String(), embedder: "none"}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	files := []string{"faq/faq-general-en.html", "faq/faq-general-zh.html", "manuals/wf-8012d-zh.html", "manuals/wf-8012d-en.html"}
	ingestAll := func(timeout time.Duration) []ingest.FileResult { // cuts the server after two files
		var out []ingest.FileResult
		for _, f := range files {
			data, err := fixtures.Corpus.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			fctx, cancel := context.WithTimeout(ctx, timeout)
			out = append(out, a.pipeline.IngestFile(fctx, f, data))
			cancel()
			if len(out) == 2 {
				c.cut() // the server goes away after two files
			}
		}
		return out
	}
	first := ingestAll(5 * time.Second)
	for i, r := range first {
		switch {
		case i < 2 && r.Err != nil:
			t.Errorf("%s before the cut: %v", r.Source, r.Err)
		case i >= 2 && (r.Err == nil || fixgraph.CodeOf(r.Err) != fixgraph.EUNAVAILABLE || !strings.Contains(r.Error, c.addr)):
			t.Errorf("%s while the server is away: %v (code %s), want an unavailable error naming %s", r.Source, r.Err, fixgraph.CodeOf(r.Err), c.addr)
		}
	}

	// The server is back: the same ingest again, with no deadline of its own.
	c.restore()
	var third []ingest.FileResult
	for _, f := range files {
		data, _ := fixtures.Corpus.ReadFile(f)
		third = append(third, a.pipeline.IngestFile(ctx, f, data))
	}
	for _, r := range third {
		if r.Err != nil {
			t.Fatalf("%s after the server is back: %v", r.Source, r.Err)
		}
	}

	// Against a clean embedded store, the same files make the same sections: nothing lost,
	// nothing twice.
	ref, err := openApp(ctx, config{data: t.TempDir(), embedder: "none"}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	for _, f := range files {
		data, _ := fixtures.Corpus.ReadFile(f)
		if r := ref.pipeline.IngestFile(ctx, f, data); r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	sections := func(a *app) []string {
		var ids []string
		if err := a.graph.Scan(ctx, fixgraph.PrefixSection+":", func(n fixgraph.Node) error { ids = append(ids, n.NodeID()); return nil }); err != nil {
			t.Fatal(err)
		}
		return ids
	}
	if got, want := sections(a), sections(ref); !slices.Equal(got, want) {
		t.Errorf("server has %d sections after the outage, a clean store %d", len(got), len(want))
	}
	for _, f := range files[:2] {
		id := fixgraph.DocumentID(f)
		n, err := a.graph.Node(ctx, id)
		if err != nil || n.(*fixgraph.Document).Version != 1 {
			t.Errorf("%s: %v, %v; want version 1, written once", f, n, err)
		}
	}
}

// TestWeaviateDownMidIngest cuts Weaviate (HTTP and gRPC) half way through an ingest: the files
// written meanwhile fail with a clear error and are not searchable; once it is back, ingesting
// them again makes them searchable, though the graph had them already, without duplicates.
func TestWeaviateDownMidIngest(t *testing.T) {
	addr := servertest.WeaviateURL(t, search.WeaviateClasses...)
	u, err := neturl.Parse(addr)
	if err != nil {
		t.Fatal(err)
	}
	rest, grpcProxy := newCutter(t, u.Host), newCutter(t, u.Query().Get("grpc"))
	proxied := "http://" + rest.addr + "?grpc=" + grpcProxy.addr
	ctx := context.Background()
	a, err := openApp(ctx, config{data: t.TempDir(), vectors: proxied, embedder: "none"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	files := []string{"faq/faq-general-en.html", "faq/faq-general-zh.html", "faq/faq-products-zh.html", "faq/faq-products-en.html"}
	for i, f := range files {
		if i == 2 {
			rest.cut()
			grpcProxy.cut()
		}
		data, _ := fixtures.Corpus.ReadFile(f)
		fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		r := a.pipeline.IngestFile(fctx, f, data)
		cancel()
		switch {
		case i < 2 && r.Err != nil:
			t.Errorf("%s before the cut: %v", f, r.Err)
		case i >= 2 && fixgraph.CodeOf(r.Err) != fixgraph.EUNAVAILABLE:
			t.Errorf("%s while Weaviate is away: %v (code %s), want unavailable", f, r.Err, fixgraph.CodeOf(r.Err))
		}
	}
	rest.restore()
	grpcProxy.restore()
	for _, f := range files {
		data, _ := fixtures.Corpus.ReadFile(f)
		if r := a.pipeline.IngestFile(ctx, f, data); r.Err != nil {
			t.Fatalf("%s after Weaviate is back: %v", f, r.Err)
		}
	}
	// Every section of the graph is in Weaviate once: its own heading finds it.
	var secs []*fixgraph.Section
	a.graph.Scan(ctx, fixgraph.PrefixSection+":", func(n fixgraph.Node) error {
		if s := n.(*fixgraph.Section); strings.TrimSpace(s.Text) != "" {
			secs = append(secs, s)
		}
		return nil
	})
	if len(secs) == 0 {
		t.Fatal("no sections in the graph")
	}
	for _, s := range secs {
		hits, err := a.index.Search(ctx, s.Heading+" "+s.Text, 50, fixgraph.SearchFilter{})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, h := range hits {
			if h.Section.ID == s.ID {
				n++
			}
		}
		if n != 1 {
			t.Errorf("section %q found %d times, want once", s.Heading, n)
		}
	}
}

// TestServerCrawlRetiresPages runs the crawler's change and removal paths on the server-backed
// deployment: a changed page's old section leaves Weaviate, and a page that now answers 404 leaves
// the Bolt server's graph (kept in its history) and Weaviate.
func TestServerCrawlRetiresPages(t *testing.T) {
	url := servertest.Neo4jURL(t)
	weaviateURL := servertest.WeaviateURL(t, search.WeaviateClasses...)
	ctx := context.Background()
	a, err := openApp(ctx, config{data: t.TempDir(), graph: url, vectors: weaviateURL, embedder: "none"}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	allowLoopbackCrawls(ctx, a)
	pages := map[string][]byte{
		"/help/index.html": []byte(`<html><body><h1>Help</h1><p>Start here.</p><a href="heater.html">Heater</a> <a href="faq.html">FAQ</a></body></html>`),
		"/help/heater.html": []byte(`<html lang="en"><body><h1>Heater care</h1><h2>Anode replacement</h2><p>Replace the magnesium anode every two years.</p>
<h2>Descaling</h2><p>Descale the tank with citric acid each spring.</p></body></html>`),
		"/help/faq.html": []byte(`<html lang="en"><body><h1>Heater questions</h1><h2>Why does the heater hum?</h2><p>A humming heater has a loose element clamp.</p></body></html>`),
	}
	var mu sync.Mutex
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		body, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		w.Write(body)
	}))
	defer site.Close()
	crawl := func() fixgraph.JobCounts {
		t.Helper()
		job, err := a.jobs.SubmitCrawl(fixgraph.JobSpec{}, fixgraph.CrawlConfig{Seeds: []string{site.URL + "/help/index.html"}, Rate: ingest.MaxCrawlRate})
		if err != nil {
			t.Fatal(err)
		}
		if err := a.jobs.Process(ctx, job.ID, nil); err != nil {
			t.Fatal(err)
		}
		j, err := a.jobs.Get(ctx, job.ID)
		if err != nil {
			t.Fatal(err)
		}
		return j.Counts
	}
	found := func(q, heading string) bool {
		t.Helper()
		hits, err := a.answers.Search(ctx, q, 10, answer.Published)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hits {
			if h.Section.Heading == heading {
				return true
			}
		}
		return false
	}
	if c := crawl(); c.Added != 3 {
		t.Fatalf("first crawl: %+v", c)
	}
	if !found("descale citric acid", "Descaling") || !found("heater hum loose clamp", "Why does the heater hum?") {
		t.Fatal("crawled pages are not searchable")
	}
	mu.Lock()
	pages["/help/heater.html"] = []byte(`<html lang="en"><body><h1>Heater care</h1><h2>Anode replacement</h2><p>Replace the magnesium anode every two years.</p></body></html>`)
	delete(pages, "/help/faq.html")
	mu.Unlock()
	if c := crawl(); c.Updated != 1 || c.Removed != 1 {
		t.Fatalf("re-crawl: %+v; want 1 updated and 1 removed", c)
	}
	if found("descale citric acid", "Descaling") {
		t.Error("the section a changed page dropped is still found")
	}
	if found("heater hum loose clamp", "Why does the heater hum?") {
		t.Error("the removed page is still found")
	}
	faq := fixgraph.DocumentID(site.URL + "/help/faq.html")
	if _, err := a.graph.Node(ctx, faq); fixgraph.CodeOf(err) != fixgraph.ENOTFOUND {
		t.Errorf("the removed page's document: %v", err)
	}
	h, err := a.graph.History(ctx, faq)
	if err != nil || len(h) != 1 || h[0].EndReason != fixgraph.Retired {
		t.Errorf("the removed page's history: %v, %v", h, err)
	}
}
