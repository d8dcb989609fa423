package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/auth"
	"github.com/fixgraph/fixgraph/editor"
	"github.com/fixgraph/fixgraph/extract"
	"github.com/fixgraph/fixgraph/gql"
	"github.com/fixgraph/fixgraph/ingest"
	"github.com/fixgraph/fixgraph/search"
)

func newFlags(name string, stderr io.Writer, cfg *config) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.data, "data", envOr("FIXGRAPH_DATA", "data"), "data directory ($FIXGRAPH_DATA)")
	fs.StringVar(&cfg.vectors, "vectors", os.Getenv("FIXGRAPH_VECTORS"), "search index: empty for the embedded one in the data directory, or http://HOST:PORT[?grpc=HOST:PORT] for Weaviate ($FIXGRAPH_VECTORS)")
	fs.StringVar(&cfg.graph, "graph", os.Getenv("FIXGRAPH_GRAPH"), "graph store: empty for the embedded one in the data directory, or bolt://USER:PASSWORD@HOST:PORT or neo4j://… for Neo4j ($FIXGRAPH_GRAPH)")
	fs.StringVar(&cfg.state, "state", os.Getenv("FIXGRAPH_STATE"), "shared state: empty for bbolt files in the data directory, or postgres://USER:PASSWORD@HOST:PORT/DATABASE, which every replica shares ($FIXGRAPH_STATE)")
	fs.StringVar(&cfg.models, "models", envOr("FIXGRAPH_MODELS", filepath.Join(".cache", "models")), "directory of ONNX Runtime and the embedding model, from make models ($FIXGRAPH_MODELS)")
	fs.StringVar(&cfg.embedder, "embedder", envOr("FIXGRAPH_EMBEDDER", "onnx"), "onnx, none (text search only), or the URL of an OpenAI-compatible embeddings server ($FIXGRAPH_EMBEDDER)")
	fs.StringVar(&cfg.model, "embedding-model", os.Getenv("FIXGRAPH_EMBEDDING_MODEL"), "embedding model: "+modelNames()+" (default "+search.DefaultModel+"; fetch others with scripts/fetch-model.sh NAME; $FIXGRAPH_EMBEDDING_MODEL)")
	fs.StringVar(&cfg.pii, "pii-mask", envOr("FIXGRAPH_PII_MASK", "all"), "personal data masked at ingest: all, none, or a list of phone,email,id_card,bank_card,name,address ($FIXGRAPH_PII_MASK)")
	fs.StringVar(&cfg.piiKeep, "pii-keep-domains", os.Getenv("FIXGRAPH_PII_KEEP_DOMAINS"), "e-mail domains kept unmasked, comma-separated: the company's own ($FIXGRAPH_PII_KEEP_DOMAINS)")
	return fs
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitError{0}
		}
		return exitError{2}
	}
	return nil
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	var cfg config
	fs := newFlags("serve", stderr, &cfg)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	loadFixtures := fs.Bool("fixtures", true, "load the demo corpus when the store is empty")
	timeout := fs.Duration("timeout", 30*time.Second, "longest time one request may take")
	maxUpload := fs.Int64("max-upload", ingest.DefaultMaxUploadSize, "largest upload request in bytes (one archive; single files are held to 64 MiB)")
	stockFeed := fs.String("stock-feed", os.Getenv("FIXGRAPH_STOCK_FEED"), "stock feed to poll: a CSV or JSON file path or http(s) URL ($FIXGRAPH_STOCK_FEED)")
	stockEvery := fs.Duration("stock-interval", ingest.DefaultStockInterval, "how often to poll the stock feed")
	stockMaxAge := fs.Duration("stock-max-age", fixgraph.DefaultStockMaxAge, "how old a stock count may be before answers call it stale")
	retention := fs.Duration("analytics-retention", 365*24*time.Hour, "how long asked questions are kept in the analytics (0: for ever)")
	open := fs.Bool("insecure-open", false, "serve requests without credentials as an anonymous reader (local development only; never on a network)")
	rateLimit := fs.Float64("rate-limit", 20, "requests per second per API key or user (0: no limit)")
	introspection := fs.Bool("introspection", true, "allow GraphQL introspection (GraphiQL needs it)")
	tlsCert := fs.String("tls-cert", os.Getenv("FIXGRAPH_TLS_CERT"), "TLS certificate file (PEM); with --tls-key, serve HTTPS ($FIXGRAPH_TLS_CERT)")
	tlsKey := fs.String("tls-key", os.Getenv("FIXGRAPH_TLS_KEY"), "TLS private key file (PEM) ($FIXGRAPH_TLS_KEY)")
	trusted := fs.String("trusted-proxies", os.Getenv("FIXGRAPH_TRUSTED_PROXIES"), "reverse proxies whose X-Forwarded-For is believed, as addresses or CIDR ranges, comma-separated; without them the header is ignored ($FIXGRAPH_TRUSTED_PROXIES)")
	lease := fs.Duration("job-lease", ingest.DefaultJobLease, "with shared state: how long a replica that stops (killed, cut off) keeps its jobs before another replica takes them over")
	workers := fs.Int("job-workers", ingest.DefaultJobWorkers, "background jobs (uploads, crawls) run at once; departments take turns, and one department never holds them all")
	gf := addGuardFlags(fs)
	bf := addBackupFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	guard, err := gf.guard()
	if err != nil {
		return err
	}
	backups, err := bf.schedule(fs, cfg.data)
	if err != nil {
		return err
	}
	if *workers < 1 {
		return fixgraph.Errorf(fixgraph.EINVALID, "--job-workers must be at least 1")
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		return fixgraph.Errorf(fixgraph.EINVALID, "give both --tls-cert and --tls-key, or neither")
	}
	proxies, err := auth.ParseProxies(*trusted)
	if err != nil {
		return fixgraph.WrapError(fixgraph.EINVALID, err, "bad --trusted-proxies %q", *trusted)
	}
	if err := checkAdminPassword(); err != nil {
		return err
	}
	a, err := openApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.firstStart(stdout); err != nil {
		return err
	}
	if *open {
		log.Warn("--insecure-open: requests without credentials are served as an anonymous reader; do not expose this server")
	}
	if empty, err := a.empty(ctx); err != nil {
		return err
	} else if empty && *loadFixtures {
		results, err := a.loadFixtures(ctx)
		if err != nil {
			return fmt.Errorf("loading the demo corpus: %w", err)
		}
		ok := 0
		for _, r := range results {
			if r.Err != nil {
				log.Error("demo corpus file failed", "source", r.Source, "err", r.Err)
				continue
			}
			ok++
		}
		log.Info("loaded the demo corpus", "files", ok)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", *addr, err)
	}
	// The token goes first: a command that finds the address must find the token too.
	token, err := writeServeToken(a.dir)
	if err != nil {
		return err
	}
	defer os.Remove(filepath.Join(a.dir, serveTokenFile))
	addrFile := filepath.Join(a.dir, serveAddrFile)
	if err := os.WriteFile(addrFile, []byte(ln.Addr().String()+"\n"), 0o644); err != nil {
		return fmt.Errorf("recording the server address: %w", err)
	}
	defer os.Remove(addrFile)
	a.jobs.MaxUploadSize = *maxUpload
	a.jobs.Workers = *workers
	a.jobs.Lease = *lease
	if a.shared != nil {
		go a.shared.Heartbeat(ctx, 5*time.Second)
	}
	a.jobs.Crawler.Guard = guard
	a.answers.StockMaxAge = *stockMaxAge
	go func() {
		if err := a.jobs.Run(ctx); err != nil {
			log.Error("the job runner stopped", "err", err)
		}
	}()
	if *retention > 0 {
		go a.pruneAnalytics(ctx, *retention)
	}
	if *stockFeed != "" {
		feed := &ingest.StockFeed{Source: *stockFeed, Interval: *stockEvery, Push: a.graph.SetStock, Log: log}
		go feed.Run(ctx)
	}
	stopBackups := a.startBackups(ctx, backups)
	defer stopBackups() // before the stores close
	a.serving = serving{gate: a.gate(token, *open, *rateLimit, *tlsCert != ""), introspection: *introspection, proxies: proxies}
	srv := newServer(a.handler(*timeout), a.serving.timeouts)
	scheme := "http"
	if *tlsCert != "" {
		scheme = "https"
	}
	fmt.Fprintf(stdout, "fixgraph serving GraphQL at %[1]s://%[2]s/graphql (GraphiQL at %[1]s://%[2]s/) and the editor at %[1]s://%[2]s/editor/ (data %[3]s)\n", scheme, ln.Addr(), a.dir)
	errc := make(chan error, 1)
	go func() {
		if *tlsCert != "" {
			errc <- srv.ServeTLS(ln, *tlsCert, *tlsKey)
			return
		}
		errc <- srv.Serve(ln)
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdown)
	a.serving.gate.FlushRefusals()
	return err
}

// serving is how serve exposes the app: who may in, and what GraphQL allows.
type serving struct {
	gate          *auth.Gate // nil: every request acts as the local operator (tests of the wiring)
	introspection bool
	proxies       auth.Proxies // whose X-Forwarded-For names the client (--trusted-proxies)
	timeouts      timeouts     // the HTTP server's time limits; zero fields mean defaultTimeouts
}

// handler serves GraphQL, GraphiQL, uploads, jobs, sign-in and the health check. Everything but
// GraphiQL's page, sign-in and the health check is behind the gate.
func (a *app) handler(timeout time.Duration) http.Handler {
	maxUpload := cmp.Or(a.jobs.MaxUploadSize, ingest.DefaultMaxUploadSize)
	guard := func(h http.Handler) http.Handler {
		if a.serving.gate == nil {
			return withPrincipal(h, fixgraph.Local)
		}
		return a.serving.gate.Wrap(h)
	}
	api := gql.NewHandler(a.resolver(), gql.Options{Introspection: a.serving.introspection || a.serving.gate == nil, Logger: a.log, MaxUploadSize: maxUpload})
	mux := http.NewServeMux()
	mux.Handle("/graphql", guard(limitBody(withTimeout(api, timeout), 1<<20, maxUpload)))
	mux.Handle("/upload", guard(gql.UploadHandler(jobQueue{a.jobs}, maxUpload, a.log, a.audit)))
	mux.Handle("GET /jobs/{id}", guard(gql.JobHandler(a.jobs, a.log)))
	mux.Handle("GET "+backupPath, guard(a.backupHandler()))
	if g := a.serving.gate; g != nil {
		mux.Handle("/auth/login", g.SignIn())
		mux.Handle("/auth/logout", g.SignOut())
	}
	if ed, err := a.editor(a.serving.gate != nil && a.serving.gate.Secure); err != nil {
		a.log.Error("the editor cannot start", "err", err)
	} else {
		mux.Handle(editor.Prefix, ed)
	}
	mux.Handle("/{$}", gql.Playground("/graphql"))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	return a.serving.proxies.Wrap(withRemote(withBodyDeadlines(mux, a.serving.timeouts)))
}

func withPrincipal(h http.Handler, p *fixgraph.Principal) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(fixgraph.WithPrincipal(r.Context(), p)))
	})
}

func withTimeout(h http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

// limitBody caps request bodies: n bytes, or upload bytes for a multipart upload.
func limitBody(h http.Handler, n, upload int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := n
		if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
			limit = upload
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		h.ServeHTTP(w, r)
	})
}

// askQuery is what `ask --json` prints: the answer with its guide's steps, videos, and parts with
// stock per warehouse, through the same GraphQL schema that bots use.
const askQuery = `query Ask($q: String!, $lang: String, $conv: ConversationInput) {
  ask(question: $q, conversation: $conv) {
    id question language kind text confidence
    product { model name(lang: $lang) category(lang: $lang) }
    errorCode { code symptom(lang: $lang) cause(lang: $lang) severity }
    guide {
      title steps warnings language
      videos { url title(lang: $lang) }
      parts { sku name(lang: $lang) totalStock stock { quantity updatedAt stale warehouse { code name } } }
    }
    faq { question answer }
    clause { number title page }
    citations { document source url heading headingPath page }
    notes
    handoff { recommended reason summary product errorCode suggested suggestions { title kind score citation { document url heading page } } }
    related { kind text errorCode product part }
  }
}`

const searchQuery = `query Search($q: String!, $limit: Int!) {
  search(query: $q, limit: $limit) {
    heading headingPath score snippet
    document { id title source kind }
    section { id anchor page }
  }
}`

func runAsk(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	var cfg config
	fs := newFlags("ask", stderr, &cfg)
	asJSON := fs.Bool("json", false, "print the answer as JSON")
	model := fs.String("model", "", "the customer's device model, as an app would send it")
	convFile := fs.String("conversation", "", "a JSON file of the turns before the question: [{\"role\": \"customer\"|\"bot\", \"text\": …, \"errorCode\": …}]")
	if err := parse(fs, args); err != nil {
		return err
	}
	question := strings.Join(fs.Args(), " ")
	var conv map[string]any
	if *model != "" || *convFile != "" {
		conv = map[string]any{}
		if *model != "" {
			conv["model"] = *model
		}
		if *convFile != "" {
			b, err := os.ReadFile(*convFile)
			if err != nil {
				return fixgraph.WrapError(fixgraph.EINVALID, err, "cannot read %s", *convFile)
			}
			var turns []map[string]any
			if err := json.Unmarshal(b, &turns); err != nil {
				return fixgraph.WrapError(fixgraph.EINVALID, err, "%s is not a JSON array of turns", *convFile)
			}
			conv["turns"] = turns
		}
	}
	if strings.TrimSpace(question) == "" {
		fmt.Fprintln(stderr, "usage: fixgraph ask [--data DIR] [--json] QUESTION")
		return exitError{2}
	}
	a, err := openQuerier(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	lang := extract.DetectLanguage(extract.Normalize(question))
	var out struct {
		Ask json.RawMessage `json:"ask"`
	}
	if err := a.query(ctx, askQuery, map[string]any{"q": question, "lang": lang, "conv": conv}, &out); err != nil {
		return err
	}
	if *asJSON {
		return writeIndented(stdout, out.Ask)
	}
	var ans struct {
		Kind, Text string
		Confidence float64
		Product    *struct{ Model, Name string }
		ErrorCode  *struct{ Code, Symptom string }
		Guide      *struct {
			Title  string
			Steps  []string
			Videos []struct{ URL, Title string }
			Parts  []struct {
				SKU, Name  string
				TotalStock int
				Stock      []struct {
					Quantity  int
					Warehouse struct{ Code, Name string }
				}
			}
		}
		Citations []struct {
			Document, URL string
			HeadingPath   []string
			Page          int
		}
		Notes   []string
		Handoff struct {
			Recommended     bool
			Reason, Summary string
		}
		Related []struct{ Text string }
	}
	if err := json.Unmarshal(out.Ask, &ans); err != nil {
		return err
	}
	if ans.Kind == fixgraph.AnswerNone {
		fmt.Fprintln(stdout, "No answer found; hand-off to a person recommended.")
		return nil
	}
	if ans.Product != nil {
		fmt.Fprintf(stdout, "Product:    %s %s\n", ans.Product.Model, ans.Product.Name)
	}
	if ans.ErrorCode != nil {
		fmt.Fprintf(stdout, "Error code: %s — %s\n", ans.ErrorCode.Code, ans.ErrorCode.Symptom)
	}
	fmt.Fprintf(stdout, "Answer:     %s\n", ans.Text)
	if g := ans.Guide; g != nil {
		for i, s := range g.Steps {
			fmt.Fprintf(stdout, "  %d. %s\n", i+1, s)
		}
		for _, v := range g.Videos {
			fmt.Fprintf(stdout, "Video:      %s %s\n", v.Title, v.URL)
		}
		for _, p := range g.Parts {
			var where []string
			for _, s := range p.Stock {
				where = append(where, fmt.Sprintf("%s %d", s.Warehouse.Code, s.Quantity))
			}
			fmt.Fprintf(stdout, "Part:       %s %s — %d in stock (%s)\n", p.SKU, p.Name, p.TotalStock, strings.Join(where, ", "))
		}
	}
	for _, c := range ans.Citations {
		page := ""
		if c.Page > 0 {
			page = fmt.Sprintf(", page %d", c.Page)
		}
		fmt.Fprintf(stdout, "Source:     %s › %s%s (%s)\n", c.Document, strings.Join(c.HeadingPath, " › "), page, c.URL)
	}
	for _, n := range ans.Notes {
		fmt.Fprintf(stdout, "Note:       %s\n", n)
	}
	for _, r := range ans.Related {
		fmt.Fprintf(stdout, "Related:    %s\n", r.Text)
	}
	fmt.Fprintf(stdout, "Confidence: %.2f\n", ans.Confidence)
	if ans.Handoff.Recommended {
		fmt.Fprintf(stdout, "Hand-off:   recommended (%s) — %s\n", ans.Handoff.Reason, ans.Handoff.Summary)
	}
	return nil
}

func runSearch(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	var cfg config
	fs := newFlags("search", stderr, &cfg)
	asJSON := fs.Bool("json", false, "print the hits as JSON")
	limit := fs.Int("limit", 10, "number of hits")
	if err := parse(fs, args); err != nil {
		return err
	}
	q := strings.Join(fs.Args(), " ")
	if strings.TrimSpace(q) == "" {
		fmt.Fprintln(stderr, "usage: fixgraph search [--data DIR] [--json] [--limit K] QUERY")
		return exitError{2}
	}
	a, err := openQuerier(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	var out struct {
		Search []struct {
			Heading     string   `json:"heading"`
			HeadingPath []string `json:"headingPath"`
			Score       float64  `json:"score"`
			Snippet     string   `json:"snippet"`
			Document    struct {
				ID     string `json:"id"`
				Title  string `json:"title"`
				Source string `json:"source"`
				Kind   string `json:"kind"`
			} `json:"document"`
			Section struct {
				ID     string `json:"id"`
				Anchor string `json:"anchor"`
				Page   int    `json:"page"`
			} `json:"section"`
		} `json:"search"`
	}
	if err := a.query(ctx, searchQuery, map[string]any{"q": q, "limit": *limit}, &out); err != nil {
		return err
	}
	if *asJSON {
		b, err := json.Marshal(out.Search)
		if err != nil {
			return err
		}
		return writeIndented(stdout, b)
	}
	for i, h := range out.Search {
		fmt.Fprintf(stdout, "%2d. %.3f  %s\n    %s\n    %s\n", i+1, h.Score, strings.Join(h.HeadingPath, " › "), h.Snippet, h.Document.Source)
	}
	return nil
}

// querier runs GraphQL operations: in process on the stores, or against the server that holds them.
type querier interface {
	query(ctx context.Context, q string, vars map[string]any, out any) error
	Close() error
}

// openQuerier opens the stores in dir. When a running `fixgraph serve` holds them, it sends the
// operations to that server instead, at the address the server wrote into dir.
func openQuerier(ctx context.Context, cfg config, log *slog.Logger) (querier, error) {
	dir := cfg.data
	a, err := openApp(ctx, cfg, log)
	if err == nil {
		return a, nil
	}
	if fixgraph.CodeOf(err) == fixgraph.EUNAVAILABLE {
		if addr, rerr := os.ReadFile(filepath.Join(dir, serveAddrFile)); rerr == nil {
			return &remote{url: "http://" + strings.TrimSpace(string(addr)) + "/graphql", token: readServeToken(dir)}, nil
		}
	}
	return nil, err
}

// serveAddrFile, in the data directory, holds the address of the server using it.
const serveAddrFile = "serve.addr"

// query runs a GraphQL operation in process, through the same handler that serve exposes.
func (a *app) query(ctx context.Context, q string, vars map[string]any, out any) error {
	body, err := json.Marshal(map[string]any{"query": q, "variables": vars})
	if err != nil {
		return err
	}
	// The command line on its own data directory is the local operator.
	req := httptest.NewRequestWithContext(fixgraph.WithPrincipal(ctx, fixgraph.Local), http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	gql.NewHandler(a.resolver(), gql.Options{Logger: a.log}).ServeHTTP(rec, req)
	return decodeResponse(rec.Code, rec.Body.Bytes(), out)
}

// remote is a running fixgraph server.
type remote struct {
	url    string
	token  string       // the server's local operator token
	client *http.Client // nil: http.DefaultClient
}

func (r *remote) query(ctx context.Context, q string, vars map[string]any, out any) error {
	body, err := json.Marshal(map[string]any{"query": q, "variables": vars})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	c := r.client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return fixgraph.WrapError(fixgraph.EUNAVAILABLE, err, "the data directory is in use by a fixgraph server at %s that does not answer", r.url)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	return decodeResponse(resp.StatusCode, b, out)
}

func (r *remote) Close() error { return nil }

// decodeResponse decodes a GraphQL response's data into out. GraphQL errors come back as the
// application error they were.
func decodeResponse(status int, body []byte, out any) error {
	var resp struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message    string         `json:"message"`
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return fmt.Errorf("decoding GraphQL response (status %d): %w", status, err)
	}
	if len(resp.Errors) > 0 {
		code, _ := resp.Errors[0].Extensions["code"].(string)
		if code == "" {
			code = fixgraph.EINVALID
		}
		return fixgraph.Errorf(code, "%s", resp.Errors[0].Message)
	}
	return json.Unmarshal(resp.Data, out)
}

func writeIndented(w io.Writer, raw []byte) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return err
	}
	buf.WriteByte('\n')
	_, err := w.Write(buf.Bytes())
	return err
}

// runReindex drops the search indexes in the data directory and builds them again from the
// graph, embedded or on a Neo4j server.
func runReindex(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	var cfg config
	fs := newFlags("reindex", stderr, &cfg)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fmt.Fprintln(stderr, "usage: fixgraph reindex [--data DIR] [--graph URL]")
		return exitError{2}
	}
	if addr, err := os.ReadFile(filepath.Join(cfg.data, serveAddrFile)); err == nil {
		if c, err := net.DialTimeout("tcp", strings.TrimSpace(string(addr)), time.Second); err == nil {
			c.Close()
			return fixgraph.Errorf(fixgraph.EUNAVAILABLE, "a fixgraph server at %s is using %s: stop it before reindexing", strings.TrimSpace(string(addr)), cfg.data)
		}
	}
	// The graph first: the embedded store refuses a second process, so nothing is removed
	// from under a running one.
	g, err := openGraph(ctx, cfg)
	if err != nil {
		return err
	}
	a := &app{dir: cfg.data, graph: g, log: log}
	defer a.Close()
	if err := os.RemoveAll(filepath.Join(cfg.data, "index")); err != nil {
		return fmt.Errorf("removing the old indexes: %w", err)
	}
	if err := a.openIndex(ctx, cfg); err != nil {
		return err
	}
	if w, ok := a.index.(*search.Weaviate); ok {
		if err := w.Reset(ctx); err != nil {
			return err
		}
	}
	start := time.Now()
	st, err := a.index.Sync(ctx, g)
	if err != nil {
		return fmt.Errorf("rebuilding the search indexes: %w", err)
	}
	fmt.Fprintf(stdout, "reindexed %d documents in %.1fs\n", st.Reindexed, time.Since(start).Seconds())
	return nil
}
