package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"html"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/eval"
	"github.com/fixgraph/fixgraph/fixtures"
	"github.com/fixgraph/fixgraph/ingest"
	"github.com/fixgraph/fixgraph/search"
)

// benchReport is what `fixgraph bench` measured.
type benchReport struct {
	Load    string         `json:"load"` // the machine's load average before and after
	Embed   []embedResult  `json:"embed,omitempty"`
	Ingest  []ingestResult `json:"ingest"`
	Manual  *manualResult  `json:"manual,omitempty"`
	OCR     *ocrResult     `json:"ocr,omitempty"`
	Vectors []vectorResult `json:"vectors,omitempty"`
	Latency []latency      `json:"latency"`
}

type embedResult struct {
	Tokens      int     `json:"tokens"`
	Texts       int     `json:"texts"`
	TextsPerSec float64 `json:"textsPerSec"`
}

type ingestResult struct {
	Corpus         string  `json:"corpus"`
	Files          int     `json:"files"`
	Sections       int     `json:"sections"`
	Pages          int     `json:"pages"`
	Seconds        float64 `json:"seconds"`
	SectionsPerSec float64 `json:"sectionsPerSec"`
	PagesPerSec    float64 `json:"pagesPerSec"`
	// EmbedSeconds is how long the embedder alone takes for the same sections; Overhead is the
	// share of ingest time spent beyond it (parsing, graph and text index writes).
	EmbedSeconds float64 `json:"embedSeconds,omitempty"`
	Overhead     float64 `json:"overhead,omitempty"`
}

// vectorResult compares the quantised scan with the exact float scan on real query embeddings.
type vectorResult struct {
	Corpus    string  `json:"corpus"`
	Vectors   int     `json:"vectors"`
	Recall10  float64 `json:"recall@10"` // of the quantised scan against the exact one
	ScanMS    float64 `json:"scanMs"`    // quantised scan and re-rank, per query
	ExactMS   float64 `json:"exactMs"`   // exact scan, per query
	Questions int     `json:"questions"`
}

type latency struct {
	Corpus    string  `json:"corpus"`
	Op        string  `json:"op"`
	Clients   int     `json:"clients"`
	Requests  int     `json:"requests"`
	Errors    int     `json:"errors"`
	P50       float64 `json:"p50ms"`
	P95       float64 `json:"p95ms"`
	P99       float64 `json:"p99ms"`
	PerSecond float64 `json:"perSecond"`
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	var cfg config
	flags := newFlags("bench", stderr, &cfg)
	sections := flags.Int("sections", 100000, "sections in the generated corpus; 0 skips it")
	manualPages := flags.Int("manual-pages", 200, "pages of the long PDF manual whose parsing and embedding are timed; 0 skips it")
	ocr := flags.Bool("ocr", true, "time OCR on a scanned copy of the demo service manual (needs tesseract)")
	clientList := flags.String("clients", "1,8,32", "concurrent clients, comma-separated")
	requests := flags.Int("requests", 300, "requests per operation and client count")
	asJSON := flags.Bool("json", false, "print the report as JSON")
	targets := flags.String("targets", "", "only time ask and search through running fixgraph servers (base URLs, comma-separated: replicas behind one load balancer, say) that hold the demo corpus, with --key")
	key := flags.String("key", os.Getenv("FIXGRAPH_KEY"), "API key for --targets ($FIXGRAPH_KEY)")
	if err := parse(flags, args); err != nil {
		return err
	}
	var clients []int
	for _, s := range strings.Split(*clientList, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return fixgraph.Errorf(fixgraph.EINVALID, "--clients wants positive numbers separated by commas, not %q", *clientList)
		}
		clients = append(clients, n)
	}
	if *targets != "" {
		return benchTargets(ctx, strings.Split(*targets, ","), *key, clients, *requests, *asJSON, stdout)
	}
	// The bench writes its own stores: under --data when given explicitly, never into the data
	// directory of $FIXGRAPH_DATA; by default in a temporary directory removed afterwards.
	explicit := false
	flags.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "data" })
	if !explicit {
		dir, err := os.MkdirTemp("", "fixgraph-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		cfg.data = dir
	}
	rep := &benchReport{Load: loadAverage()}

	emb, closer, err := openEmbedder(ctx, cfg)
	if err != nil {
		return err
	}
	if emb != nil {
		for _, tokens := range []int{64, 256} {
			r, err := benchEmbed(ctx, emb, tokens)
			if err != nil {
				closer.Close()
				return err
			}
			rep.Embed = append(rep.Embed, r)
			fmt.Fprintf(stderr, "embedder: %d texts/s at %d tokens\n", int(r.TextsPerSec), tokens)
		}
	}
	if *manualPages > 0 {
		m, err := benchManual(ctx, emb, *manualPages, cfg.data)
		if err != nil {
			if closer != nil {
				closer.Close()
			}
			return err
		}
		rep.Manual = &m
		fmt.Fprintf(stderr, "manual: %d pages parsed at %.1f pages/s\n", m.Pages, m.PagesPerSec)
	}
	if *ocr {
		o, err := benchOCR(ctx)
		if err != nil {
			if closer != nil {
				closer.Close()
			}
			return fmt.Errorf("OCR bench (--ocr=false skips it): %w", err)
		}
		rep.OCR = &o
		fmt.Fprintf(stderr, "ocr: %d scanned pages read at %.2f pages/s\n", o.Pages, o.PagesPerSec)
	}
	if closer != nil {
		closer.Close()
	}

	questions, err := fixtureQuestions()
	if err != nil {
		return err
	}
	// The embedded deployment always; with --graph or --vectors set, the fixtures also on those
	// servers, in the same run, so the two can be compared.
	corpora := []benchCorpus{{name: "fixtures", load: ingestFixtures}}
	if cfg.graph != "" || cfg.vectors != "" {
		corpora = append(corpora, benchCorpus{name: "fixtures-servers", load: ingestFixtures, servers: true})
	}
	if *sections > 0 {
		corpora = append(corpora, benchCorpus{name: fmt.Sprintf("generated-%d", *sections), load: func(ctx context.Context, a *app) (ingestResult, error) {
			return ingestGenerated(ctx, a, *sections, stderr)
		}})
	}
	for _, corpus := range corpora {
		sub := cfg
		if !corpus.servers {
			sub.graph, sub.vectors = "", ""
		}
		sub.data = filepath.Join(cfg.data, corpus.name)
		if err := corpus.run(ctx, sub, rep, questions, clients, *requests, stderr); err != nil {
			return err
		}
	}
	rep.Load += " → " + loadAverage()
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printBench(stdout, rep)
	return nil
}

// benchTargets times ask and search through running servers, the clients spread over them.
func benchTargets(ctx context.Context, targets []string, key string, clients []int, requests int, asJSON bool, stdout io.Writer) error {
	if key == "" {
		return fixgraph.Errorf(fixgraph.EINVALID, "--targets needs --key (or $FIXGRAPH_KEY): a key without a rate limit that matters, on a server started with --rate-limit 0")
	}
	var servers []*remote
	for _, t := range targets {
		if t = strings.TrimRight(strings.TrimSpace(t), "/"); t != "" {
			servers = append(servers, &remote{url: t + "/graphql", token: key, client: benchClient()})
		}
	}
	questions, err := fixtureQuestions()
	if err != nil {
		return err
	}
	rep := &benchReport{Load: loadAverage()}
	lat, err := measureLatency(ctx, servers, fmt.Sprintf("fixtures via %d servers", len(servers)), questions, clients, requests)
	if err != nil {
		return err
	}
	rep.Latency = lat
	rep.Load += " → " + loadAverage()
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printBench(stdout, rep)
	return nil
}

// benchCorpus is a corpus the bench loads into its own store and then queries.
type benchCorpus struct {
	name    string
	load    func(context.Context, *app) (ingestResult, error)
	servers bool // on the servers of --graph and --vectors, not the embedded stores
}

// run loads the corpus into a store in cfg.data and adds its ingest, vector and latency figures to rep.
func (c benchCorpus) run(ctx context.Context, cfg config, rep *benchReport, questions []string, clients []int, requests int, progress io.Writer) error {
	a, err := openApp(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	defer a.Close()
	ir, err := c.load(ctx, a)
	if err != nil {
		return err
	}
	ir.Corpus = c.name
	if a.embedder != nil {
		if ir.EmbedSeconds, err = embedAlone(ctx, a); err != nil {
			return err
		}
		ir.Overhead = ir.Seconds/ir.EmbedSeconds - 1
		if h, ok := a.index.(*search.Hybrid); ok && h.Vectors != nil { // the embedded scan only
			vr, err := vectorRecall(ctx, a, questions)
			if err != nil {
				return err
			}
			vr.Corpus = c.name
			rep.Vectors = append(rep.Vectors, vr)
		}
	}
	rep.Ingest = append(rep.Ingest, ir)
	fmt.Fprintf(progress, "ingested %s: %d sections in %.1fs\n", c.name, ir.Sections, ir.Seconds)
	lat, err := benchLatency(ctx, a, c.name, questions, clients, requests)
	rep.Latency = append(rep.Latency, lat...)
	return err
}

func printBench(w io.Writer, rep *benchReport) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "load average %s\n\n", rep.Load)
	if len(rep.Embed) > 0 {
		fmt.Fprintln(tw, "embedder\ttokens\ttexts\ttexts/s\t")
		for _, e := range rep.Embed {
			fmt.Fprintf(tw, "\t%d\t%d\t%.1f\t\n", e.Tokens, e.Texts, e.TextsPerSec)
		}
		fmt.Fprintln(tw, "\t\t\t\t")
	}
	fmt.Fprintln(tw, "ingest\tfiles\tsections\tpages\tseconds\tsections/s\tpages/s\tembedding alone s\tover embedder\t")
	for _, r := range rep.Ingest {
		embed, over := "-", "-" // no embedder
		if r.EmbedSeconds > 0 {
			embed, over = fmt.Sprintf("%.1f", r.EmbedSeconds), fmt.Sprintf("%+.0f%%", 100*r.Overhead)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.1f\t%.1f\t%.1f\t%s\t%s\t\n", r.Corpus, r.Files, r.Sections, r.Pages, r.Seconds, r.SectionsPerSec, r.PagesPerSec, embed, over)
	}
	fmt.Fprintln(tw, "\t\t\t\t\t\t\t\t\t")
	if m := rep.Manual; m != nil {
		embed, share := "-", "-"
		if m.EmbedSeconds > 0 {
			embed, share = fmt.Sprintf("%.1f", m.EmbedSeconds), fmt.Sprintf("%.0f%%", 100*m.ExtractShare)
		}
		fmt.Fprintln(tw, "manual PDF\tpages\tsections\tcodes\tparse s\tpages/s\tembedding s\textraction share\t")
		fmt.Fprintf(tw, "\t%d\t%d\t%d\t%.1f\t%.1f\t%s\t%s\t\n", m.Pages, m.Sections, m.Codes, m.ParseSeconds, m.PagesPerSec, embed, share)
		fmt.Fprintln(tw, "\t\t\t\t\t\t\t\t")
	}
	if o := rep.OCR; o != nil {
		fmt.Fprintln(tw, "OCR\tpages\tcodes\tseconds\tpages/s\t")
		fmt.Fprintf(tw, "\t%d\t%d\t%.1f\t%.2f\t\n", o.Pages, o.Codes, o.Seconds, o.PagesPerSec)
		fmt.Fprintln(tw, "\t\t\t\t\t")
	}
	if len(rep.Vectors) > 0 {
		fmt.Fprintln(tw, "vectors\tcount\tquestions\trecall@10\tscan ms\texact ms\t")
		for _, v := range rep.Vectors {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%.3f\t%.2f\t%.2f\t\n", v.Corpus, v.Vectors, v.Questions, v.Recall10, v.ScanMS, v.ExactMS)
		}
		fmt.Fprintln(tw, "\t\t\t\t\t\t")
	}
	fmt.Fprintln(tw, "latency\top\tclients\trequests\terrors\tp50 ms\tp95 ms\tp99 ms\treq/s\t")
	for _, l := range rep.Latency {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t\n", l.Corpus, l.Op, l.Clients, l.Requests, l.Errors, l.P50, l.P95, l.P99, l.PerSecond)
	}
	tw.Flush()
}

// loadAverage returns the one-minute load average and the number of CPUs, where Linux tells them.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "unknown"
	}
	return fmt.Sprintf("%s (1 min, %d CPUs)", f[0], runtime.NumCPU())
}

// benchEmbed embeds passages of about the given number of tokens. A Chinese character is one
// token to the default model; two go to [CLS] and [SEP].
func benchEmbed(ctx context.Context, emb search.Embedder, tokens int) (embedResult, error) {
	n := 16384 / tokens // the same amount of text at each length
	texts := make([]string, n)
	rng := rand.New(rand.NewPCG(1, uint64(tokens)))
	for i := range texts {
		texts[i] = chineseText(rng, tokens-2)
	}
	start := time.Now()
	if _, err := emb.Embed(ctx, texts, false); err != nil {
		return embedResult{}, fmt.Errorf("embedding: %w", err)
	}
	return embedResult{Tokens: tokens, Texts: n, TextsPerSec: float64(n) / time.Since(start).Seconds()}, nil
}

// benchChars are the characters benchEmbed draws from: common ones of the support domain.
var benchChars = []rune("洗衣机排水泵堵塞清理过滤器门锁故障显示屏加热管温度传感器进水阀软水盐镁棒更换保修政策退货安装服务费用检测维修热水器洗碗机程序按键电源插头漏电保护")

func chineseText(rng *rand.Rand, n int) string {
	r := make([]rune, n)
	for i := range r {
		r[i] = benchChars[rng.IntN(len(benchChars))]
	}
	return string(r)
}

// ingestFixtures ingests the demo corpus and counts what it held.
func ingestFixtures(ctx context.Context, a *app) (ingestResult, error) {
	start := time.Now()
	results, err := a.loadFixtures(ctx)
	if err != nil {
		return ingestResult{}, err
	}
	return ingestTally(ctx, a, results, time.Since(start))
}

// ingestGenerated writes n sections of generated manuals, 100 sections to a page, through the
// pipeline. The text is drawn from the fixture sections, shuffled, so its vocabulary and the
// embedder's work are those of real pages.
func ingestGenerated(ctx context.Context, a *app, n int, progress io.Writer) (ingestResult, error) {
	pool, err := fixtureParagraphs(ctx, a)
	if err != nil {
		return ingestResult{}, err
	}
	rng := rand.New(rand.NewPCG(7, 11))
	var results []ingest.FileResult
	var elapsed time.Duration
	const perPage = 100
	for page := 0; page*perPage < n; page++ {
		html := generatedPage(rng, pool, page, min(perPage, n-page*perPage))
		start := time.Now()
		r := a.pipeline.IngestFile(ctx, fmt.Sprintf("generated/manual-%05d.html", page), html)
		elapsed += time.Since(start)
		if r.Err != nil {
			return ingestResult{}, fmt.Errorf("generated page %d: %w", page, r.Err)
		}
		results = append(results, r)
		if page%100 == 99 {
			fmt.Fprintf(progress, "generated corpus: %d of %d sections\n", (page+1)*perPage, n)
		}
	}
	return ingestTally(ctx, a, results, elapsed)
}

// fixtureParagraphs returns the texts of the fixture sections, parsed without being stored.
func fixtureParagraphs(ctx context.Context, a *app) ([]string, error) {
	var out []string
	err := fs.WalkDir(fixtures.Corpus, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fixtures.Corpus.ReadFile(name)
		if err != nil {
			return err
		}
		b, err := a.pipeline.Parse(ctx, name, data)
		if err != nil {
			return nil // the stock feed has no sections; the Type 3 PDF may need pdftotext
		}
		for _, s := range b.Sections() {
			if len([]rune(s.Text)) > 20 {
				out = append(out, s.Text)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no fixture text to generate a corpus from")
	}
	return out, nil
}

func generatedPage(rng *rand.Rand, pool []string, page, sections int) []byte {
	model := fmt.Sprintf("GX-%04d", page%10000)
	var b strings.Builder
	fmt.Fprintf(&b, "<!doctype html><html lang=\"zh\"><head><meta charset=\"utf-8\"><title>%s 使用说明书</title></head><body><h1>%s 使用说明书</h1>\n", model, model)
	for i := 0; i < sections; i++ {
		text := pool[rng.IntN(len(pool))]
		words := strings.Fields(text)
		rng.Shuffle(len(words), func(i, j int) { words[i], words[j] = words[j], words[i] })
		fmt.Fprintf(&b, "<h2 id=\"s%d\">%s %d</h2><p>%s</p>\n", i, html.EscapeString(firstRunes(text, 12)), i, html.EscapeString(strings.Join(words, " ")))
	}
	b.WriteString("</body></html>\n")
	return []byte(b.String())
}

func firstRunes(s string, n int) string {
	r := []rune(s)
	return string(r[:min(n, len(r))])
}

// ingestTally counts the files, sections and pages an ingest wrote.
func ingestTally(ctx context.Context, a *app, results []ingest.FileResult, took time.Duration) (ingestResult, error) {
	r := ingestResult{Seconds: took.Seconds()}
	for _, f := range results {
		if f.Err != nil {
			continue
		}
		r.Files++
		r.Sections += f.Sections
	}
	err := a.graph.Scan(ctx, fixgraph.PrefixDocument+":", func(n fixgraph.Node) error {
		if d, ok := n.(*fixgraph.Document); ok && d.Kind != fixgraph.KindStock {
			r.Pages += max(d.Pages, 1) // an HTML page is one page
		}
		return nil
	})
	if took > 0 {
		r.SectionsPerSec = float64(r.Sections) / took.Seconds()
		r.PagesPerSec = float64(r.Pages) / took.Seconds()
	}
	return r, err
}

// embedAlone times the embedder on the passages of the sections in the store, as ingest embeds
// them, so ingest's overhead beyond embedding can be told. Past 5,000 sections it embeds an even
// sample of 5,000 and scales the time up.
func embedAlone(ctx context.Context, a *app) (float64, error) {
	var texts []string
	err := a.graph.Scan(ctx, fixgraph.PrefixSection+":", func(n fixgraph.Node) error {
		if s, ok := n.(*fixgraph.Section); ok && strings.TrimSpace(s.Text) != "" {
			texts = append(texts, search.PassageText(s))
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	const most = 5000
	sample := texts
	if len(texts) > most {
		sample = make([]string, most)
		for i := range sample {
			sample[i] = texts[i*len(texts)/most]
		}
	}
	start := time.Now()
	for i := 0; i < len(sample); i += 256 {
		if _, err := a.embedder.Embed(ctx, sample[i:min(i+256, len(sample))], false); err != nil {
			return 0, err
		}
	}
	return time.Since(start).Seconds() * float64(len(texts)) / float64(max(len(sample), 1)), nil
}

// vectorRecall embeds the questions and compares the top ten of the quantised scan with those
// of the exact scan.
func vectorRecall(ctx context.Context, a *app, questions []string) (vectorResult, error) {
	vecs, err := a.embedder.Embed(ctx, questions, true)
	if err != nil {
		return vectorResult{}, err
	}
	h, ok := a.index.(*search.Hybrid)
	if !ok || h.Vectors == nil {
		return vectorResult{}, fmt.Errorf("the vector recall is measured on the embedded vector index")
	}
	v := h.Vectors
	r := vectorResult{Vectors: v.Len(), Questions: len(questions)}
	var found, total int
	var scan, exact time.Duration
	for _, q := range vecs {
		t := time.Now()
		want := v.Exact(q, 10)
		exact += time.Since(t)
		t = time.Now()
		got := v.Nearest(q, 10, fixgraph.SearchFilter{})
		scan += time.Since(t)
		for _, w := range want {
			total++
			if slices.ContainsFunc(got, func(h fixgraph.Hit) bool { return h.Section.ID == w.Section.ID }) {
				found++
			}
		}
	}
	if total > 0 {
		r.Recall10 = float64(found) / float64(total)
	}
	r.ScanMS = float64(scan.Microseconds()) / 1000 / float64(len(vecs))
	r.ExactMS = float64(exact.Microseconds()) / 1000 / float64(len(vecs))
	return r, nil
}

func fixtureQuestions() ([]string, error) {
	f, err := fixtures.Eval.Open("eval/questions.jsonl")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	qs, err := eval.Load(f, "questions.jsonl")
	if err != nil {
		return nil, err
	}
	out := make([]string, len(qs))
	for i, q := range qs {
		out[i] = q.Question
	}
	return out, nil
}

// benchLatency serves a over loopback HTTP and sends ask and search requests from concurrent
// clients, cycling through the questions.
func benchLatency(ctx context.Context, a *app, corpus string, questions []string, clients []int, requests int) ([]latency, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: a.handler(30 * time.Second), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	client := &remote{url: "http://" + ln.Addr().String() + "/graphql", client: benchClient()}
	return measureLatency(ctx, []*remote{client}, corpus, questions, clients, requests)
}

func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}, Timeout: time.Minute}
}

// measureLatency times ask and search at each number of clients; client k sends its requests to
// servers[k mod len(servers)], as a load balancer spreading connections would.
func measureLatency(ctx context.Context, servers []*remote, corpus string, questions []string, clients []int, requests int) ([]latency, error) {
	ops := []struct {
		name  string
		query string
		vars  func(q string) map[string]any
	}{
		{"ask", askQuery, func(q string) map[string]any { return map[string]any{"q": q} }},
		{"search", searchQuery, func(q string) map[string]any { return map[string]any{"q": q, "limit": 10} }},
	}
	var out []latency
	for _, op := range ops {
		// One untimed pass warms caches and connections.
		for _, client := range servers {
			for _, q := range questions[:min(10, len(questions))] {
				var sink json.RawMessage
				client.query(ctx, op.query, op.vars(q), &sink)
			}
		}
		for _, c := range clients {
			total := max(requests, 4*c)
			durs := make([]time.Duration, total)
			errs := make([]bool, total)
			var next int
			var mu sync.Mutex
			var wg sync.WaitGroup
			start := time.Now()
			for k := range c {
				client := servers[k%len(servers)]
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						mu.Lock()
						i := next
						next++
						mu.Unlock()
						if i >= total || ctx.Err() != nil {
							return
						}
						var sink json.RawMessage
						t := time.Now()
						err := client.query(ctx, op.query, op.vars(questions[i%len(questions)]), &sink)
						durs[i], errs[i] = time.Since(t), err != nil
					}
				}()
			}
			wg.Wait()
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			wall := time.Since(start)
			l := latency{Corpus: corpus, Op: op.name, Clients: c, Requests: total, PerSecond: float64(total) / wall.Seconds()}
			for _, e := range errs {
				if e {
					l.Errors++
				}
			}
			slices.Sort(durs)
			pct := func(p float64) float64 {
				return float64(durs[min(len(durs)-1, int(p*float64(len(durs))))].Microseconds()) / 1000
			}
			l.P50, l.P95, l.P99 = pct(0.50), pct(0.95), pct(0.99)
			out = append(out, l)
		}
	}
	return out, nil
}
