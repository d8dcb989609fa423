package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-openapi/strfmt"
	"github.com/google/uuid"
	"github.com/weaviate/weaviate-go-client/v4/weaviate"
	"github.com/weaviate/weaviate-go-client/v4/weaviate/data/replication"
	"github.com/weaviate/weaviate-go-client/v4/weaviate/fault"
	"github.com/weaviate/weaviate-go-client/v4/weaviate/filters"
	"github.com/weaviate/weaviate-go-client/v4/weaviate/graphql"
	"github.com/weaviate/weaviate-go-client/v4/weaviate/grpc"
	"github.com/weaviate/weaviate/entities/models"

	"github.com/fixgraph/fixgraph"
)

// Weaviate is the search index of the server-backed deployment: sections with their vectors
// and fixgraph's own tokens in a Weaviate class, so that any number of stateless fixgraph
// processes share one index.
//
// Weaviate's tokenizers do not fit mixed Chinese and English (gse splits Latin words into
// letters, trigram misses two-character words), so fixgraph analyses text itself and stores the
// tokens space-separated in properties with whitespace tokenization: BM25 then sees exactly the
// terms of the embedded index, with the same fields (text 1, heading 0.5, parent path 0.2) and
// the same k1 and b. Fusion happens in fixgraph (fuse), as for the embedded indexes. Misspelt
// query terms are corrected from a vocabulary each process keeps (vocab.go), Weaviate exposing
// no term dictionary.
//
// On a Weaviate cluster the classes are kept on as many nodes as the address's replicas
// parameter asks; reads then need one replica to answer and writes one (two of three or more),
// so the index keeps answering and taking writes with a node down, and Weaviate's async
// replication brings the node that was away up to date.
type Weaviate struct {
	client *weaviate.Client
	emb    Embedder // nil: BM25 only
	an     *Analyzer
	vocab  *vocabulary
	where  string
	Mode   Mode
	Fusion Fusion

	replicas int  // the replication factor asked for, or of the classes found
	asked    bool // whether the address named the replication factor
	read     string
	write    string // consistency levels; "" on a class that is not replicated
}

const (
	weaviateSections  = "FixgraphSection"
	weaviateDocuments = "FixgraphDocument"
	weaviateBatch     = 200 // objects per batch request
	weaviateTimeout   = 30 * time.Second
	weaviateReconnect = 15 * time.Second // how long a write waits for gRPC to reconnect
)

// WeaviateClasses are the classes fixgraph keeps in Weaviate.
var WeaviateClasses = []string{weaviateSections, weaviateDocuments}

// idSpace makes the Weaviate object ids of sections and documents from their fixgraph ids, so
// a write repeated after a failure replaces rather than duplicates.
var idSpace = uuid.MustParse("8d3c1f46-5a0e-4f0b-9f62-2f7d0b8f6a11")

func objectID(id string) strfmt.UUID { return strfmt.UUID(uuid.NewSHA1(idSpace, []byte(id)).String()) }

// OpenWeaviate connects to the Weaviate server at rawURL (http://HOST:PORT, with ?grpc=HOST:PORT
// when gRPC is not on port 50051 of the same host, and ?replicas=N to keep the classes on N
// nodes of a cluster), checks that it answers and creates the classes fixgraph needs, or checks
// those it finds. emb embeds sections and queries; nil keeps to BM25. A server that cannot be
// reached is an EUNAVAILABLE error; more replicas than the cluster has nodes, or another number
// than the classes already have, is an EINVALID one.
func OpenWeaviate(ctx context.Context, rawURL string, emb Embedder) (*Weaviate, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fixgraph.Errorf(fixgraph.EINVALID, "search server address %q: want http://HOST:PORT[?grpc=HOST:PORT&replicas=N]", rawURL)
	}
	replicas, asked := 1, u.Query().Has("replicas")
	if asked {
		if replicas, err = strconv.Atoi(u.Query().Get("replicas")); err != nil || replicas < 1 {
			return nil, fixgraph.Errorf(fixgraph.EINVALID, "search server address %q: replicas must be a whole number from 1", rawURL)
		}
	}
	grpcHost := u.Query().Get("grpc")
	if grpcHost == "" {
		grpcHost = net.JoinHostPort(u.Hostname(), "50051")
	}
	client, err := weaviate.NewClient(weaviate.Config{
		Host: u.Host, Scheme: u.Scheme,
		GrpcConfig: &grpc.Config{Host: grpcHost, Secured: u.Scheme == "https"},
		Timeout:    weaviateTimeout,
	})
	if err != nil {
		return nil, fixgraph.WrapError(fixgraph.EINVALID, err, "search server address %s", u.Host)
	}
	an, err := NewAnalyzer()
	if err != nil {
		return nil, err
	}
	w := &Weaviate{client: client, emb: emb, an: an, vocab: newVocabulary(), where: u.Host, replicas: replicas, asked: asked}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if ready, err := client.Misc().ReadyChecker().Do(cctx); err != nil || !ready {
		if err == nil {
			err = errors.New("not ready")
		}
		return nil, fixgraph.WrapError(fixgraph.EUNAVAILABLE, cause(err), "search server %s cannot be reached", u.Host)
	}
	if err := w.ensureClasses(cctx); err != nil {
		if fixgraph.CodeOf(err) == fixgraph.EINVALID {
			return nil, err
		}
		return nil, w.fail(err, "creating the classes")
	}
	return w, nil
}

// consistency sets the consistency levels for the classes' replication factor: one replica
// answering is enough to read; a write waits for one of two replicas, or for most of three or
// more, so that it succeeds with one node down.
func (w *Weaviate) consistency() {
	switch {
	case w.replicas <= 1:
		w.read, w.write = "", ""
	case w.replicas == 2:
		w.read, w.write = replication.ConsistencyLevel.ONE, replication.ConsistencyLevel.ONE
	default:
		w.read, w.write = replication.ConsistencyLevel.ONE, replication.ConsistencyLevel.QUORUM
	}
}

// query starts a Get query on class with the read consistency.
func (w *Weaviate) query(class string) *graphql.GetBuilder {
	b := w.client.GraphQL().Get().WithClassName(class)
	if w.read != "" {
		b = b.WithConsistencyLevel(w.read)
	}
	return b
}

// nodes returns how many nodes the Weaviate cluster has.
func (w *Weaviate) nodes(ctx context.Context) (int, error) {
	st, err := w.client.Cluster().NodesStatusGetter().Do(ctx)
	if err != nil {
		return 0, err
	}
	return len(st.Nodes), nil
}

// replicasOf returns the replication factor of an existing class.
func replicasOf(c *models.Class) int {
	if c.ReplicationConfig == nil || c.ReplicationConfig.Factor < 1 {
		return 1
	}
	return int(c.ReplicationConfig.Factor)
}

// cause digs the network error out of the client's error type, which does not unwrap.
func cause(err error) error {
	var we *fault.WeaviateClientError
	if errors.As(err, &we) && we.DerivedFromError != nil {
		return we.DerivedFromError
	}
	return err
}

// fail wraps an error of the server: a connection that fails becomes EUNAVAILABLE.
func (w *Weaviate) fail(err error, doing string) error {
	var we *fault.WeaviateClientError
	var ne net.Error
	if errors.As(err, &we) && we.StatusCode < 0 || errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) ||
		strings.Contains(err.Error(), "code = Unavailable") {
		return fixgraph.WrapError(fixgraph.EUNAVAILABLE, cause(err), "search server %s: %s", w.where, doing)
	}
	return fmt.Errorf("search server %s: %s: %w", w.where, doing, cause(err))
}

func (w *Weaviate) ensureClasses(ctx context.Context) error {
	text := func(name, tokenization string, array bool) *models.Property {
		t := "text"
		if array {
			t = "text[]"
		}
		return &models.Property{Name: name, DataType: []string{t}, Tokenization: tokenization}
	}
	classes := []*models.Class{
		{
			Class: weaviateSections, Vectorizer: "none",
			InvertedIndexConfig: &models.InvertedIndexConfig{Bm25: &models.BM25Config{K1: bm25K1, B: bm25B}},
			Properties: []*models.Property{
				text("sectionId", "field", false), text("doc", "field", false), text("kind", "field", false),
				text("lang", "field", false), text("status", "field", false), text("visibility", "field", false),
				text("products", "field", true),
				text("tokens", "whitespace", false), text("heading", "whitespace", false), text("path", "whitespace", false),
			},
		},
		{
			Class: weaviateDocuments, Vectorizer: "none",
			Properties: []*models.Property{text("docId", "field", false), text("stamp", "field", false)},
		},
	}
	found := 0 // the replication factor of the classes found; 0 before the first
	for _, c := range classes {
		have, err := w.class(ctx, c.Class)
		if err != nil {
			return err
		}
		if have == nil {
			if err := w.createClass(ctx, c); err != nil {
				return err
			}
			if have, err = w.class(ctx, c.Class); err != nil {
				return err
			}
			if have == nil {
				return fmt.Errorf("class %s is missing right after it was created", c.Class)
			}
		}
		r := replicasOf(have)
		switch {
		case w.asked && r != w.replicas:
			return fixgraph.Errorf(fixgraph.EINVALID, "search server %s: class %s is kept on %d nodes, the address asks for replicas=%d; reindex into empty classes to change it", w.where, c.Class, r, w.replicas)
		case found != 0 && r != found:
			return fixgraph.Errorf(fixgraph.EINVALID, "search server %s: classes %s and %s are kept on %d and %d nodes; reindex into empty classes", w.where, classes[0].Class, c.Class, found, r)
		}
		found = r
		if c.InvertedIndexConfig != nil {
			if err := w.updateBM25(ctx, have, c.InvertedIndexConfig.Bm25); err != nil {
				return err
			}
		}
	}
	w.replicas = found
	w.consistency()
	return nil
}

// class returns the schema of a class, or nil when there is none.
func (w *Weaviate) class(ctx context.Context, name string) (*models.Class, error) {
	exists, err := w.client.Schema().ClassExistenceChecker().WithClassName(name).Do(ctx)
	if err != nil || !exists {
		return nil, err
	}
	return w.client.Schema().ClassGetter().WithClassName(name).Do(ctx)
}

// createClass creates c with the replication factor asked for, after checking that the cluster
// has the nodes for it. Another fixgraph process creating the same class at the same moment is
// fine: the caller reads the class afterwards either way.
func (w *Weaviate) createClass(ctx context.Context, c *models.Class) error {
	if w.replicas > 1 {
		n, err := w.nodes(ctx)
		if err != nil {
			return err
		}
		if w.replicas > n {
			return fixgraph.Errorf(fixgraph.EINVALID, "search server %s: replicas=%d, but the Weaviate cluster has %d node(s)", w.where, w.replicas, n)
		}
		c.ReplicationConfig = &models.ReplicationConfig{Factor: int64(w.replicas), AsyncEnabled: true}
	}
	// One shard, whatever the number of nodes (Weaviate's default is one per node): BM25's
	// statistics are per shard, and the scores must be those of the embedded index.
	c.ShardingConfig = map[string]any{"desiredCount": 1}
	err := w.client.Schema().ClassCreator().WithClass(c).Do(ctx)
	if err == nil {
		return nil
	}
	if have, err2 := w.class(ctx, c.Class); err2 == nil && have != nil {
		return nil // created by another process meanwhile
	}
	return err
}

// updateBM25 gives an existing class the BM25 parameters of the embedded index, when it was
// created with others (an older fixgraph): they are mutable, and the postings do not change.
func (w *Weaviate) updateBM25(ctx context.Context, have *models.Class, want *models.BM25Config) error {
	cfg := have.InvertedIndexConfig
	if cfg == nil {
		cfg = &models.InvertedIndexConfig{}
		have.InvertedIndexConfig = cfg
	}
	if cfg.Bm25 != nil && cfg.Bm25.K1 == want.K1 && cfg.Bm25.B == want.B {
		return nil
	}
	cfg.Bm25 = &models.BM25Config{K1: want.K1, B: want.B}
	return w.client.Schema().ClassUpdater().WithClass(have).Do(ctx)
}

// Reset deletes everything fixgraph keeps in Weaviate and creates the classes again, empty;
// Sync then refills them (fixgraph reindex).
func (w *Weaviate) Reset(ctx context.Context) error {
	for _, c := range WeaviateClasses {
		if err := w.client.Schema().ClassDeleter().WithClassName(c).Do(ctx); err != nil {
			var we *fault.WeaviateClientError
			if !errors.As(err, &we) || we.StatusCode != 404 {
				return w.fail(err, "deleting class "+c)
			}
		}
	}
	if err := w.ensureClasses(ctx); err != nil {
		return w.fail(err, "creating the classes")
	}
	return nil
}

// WithMode returns the index answering with one ranking (bm25, vector) or both (hybrid).
func (w *Weaviate) WithMode(m Mode) (*Weaviate, error) {
	if m == ModeVector && w.emb == nil {
		return nil, fixgraph.Errorf(fixgraph.EINVALID, "vector search needs an embedder")
	}
	c := *w
	c.Mode = m
	return &c, nil
}

// Replicas returns how many nodes of the Weaviate cluster keep the classes.
func (w *Weaviate) Replicas() int { return w.replicas }

// Close lets the index go; the client holds no resources that need closing.
func (w *Weaviate) Close() error { return nil }

// Analyze returns fixgraph's tokens of s.
func (w *Weaviate) Analyze(s string) []string { return w.an.Analyze(s) }

// Search returns up to limit sections for q, best first.
func (w *Weaviate) Search(ctx context.Context, q string, limit int, f fixgraph.SearchFilter) ([]fixgraph.Hit, error) {
	mode := w.Mode
	if mode == "" {
		mode = ModeHybrid
		if w.emb == nil {
			mode = ModeBM25
		}
	}
	switch mode {
	case ModeBM25:
		return w.lexical(ctx, q, limit, f)
	case ModeVector:
		return w.semantic(ctx, q, limit, f)
	}
	return fuse(ctx, w, w.Fusion, q, limit, f)
}

type weaviateHit struct {
	SectionID  string `json:"sectionId"`
	Additional struct {
		Score    string   `json:"score"` // BM25 scores come as strings
		Distance *float64 `json:"distance"`
	} `json:"_additional"`
}

// get runs a Get query on the sections and returns its hits.
func (w *Weaviate) get(ctx context.Context, doing string, b *graphql.GetBuilder) ([]weaviateHit, error) {
	ctx, cancel := context.WithTimeout(ctx, weaviateTimeout)
	defer cancel()
	resp, err := b.Do(ctx)
	if err != nil {
		return nil, w.fail(err, doing)
	}
	if len(resp.Errors) > 0 {
		return nil, fmt.Errorf("search server %s: %s: %s", w.where, doing, resp.Errors[0].Message)
	}
	raw, err := json.Marshal(resp.Data)
	if err != nil {
		return nil, err
	}
	var out struct{ Get map[string][]weaviateHit }
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("search server %s: %s: reading the answer: %w", w.where, doing, err)
	}
	return out.Get[weaviateSections], nil
}

// lexical is BM25 over the three fields of the embedded index, with its weights. Weaviate's
// own multi-property BM25 is BM25F (term frequencies pooled before saturation), which ranks
// differently; so each field is asked on its own and the weighted scores added here, as
// bm25.go does. The text field (which holds the heading too) picks the candidates, deeper than
// limit; the heading and path fields are then scored for those candidates only.
func (w *Weaviate) lexical(ctx context.Context, q string, limit int, f fixgraph.SearchFilter) ([]fixgraph.Hit, error) {
	terms := w.vocab.correct(slices.Compact(slices.Sorted(slices.Values(w.an.Analyze(q)))))
	if len(terms) == 0 || limit <= 0 {
		return nil, nil
	}
	query := strings.Join(terms, " ")
	bm25 := func(field string, depth int, where *filters.WhereBuilder) ([]weaviateHit, error) {
		b := w.query(weaviateSections).
			WithBM25(w.client.GraphQL().Bm25ArgBuilder().WithQuery(query).WithProperties(weaviateField[field])).
			WithLimit(depth).
			WithFields(graphql.Field{Name: "sectionId"}, graphql.Field{Name: "_additional", Fields: []graphql.Field{{Name: "score"}}})
		if where != nil {
			b = b.WithWhere(where)
		}
		return w.get(ctx, "text search", b)
	}
	score := map[string]float64{}
	add := func(hs []weaviateHit, weight float64) {
		for _, h := range hs {
			s, _ := strconv.ParseFloat(h.Additional.Score, 64)
			score[h.SectionID] += weight * s
		}
	}
	where := weaviateFilter(f)
	first, err := bm25(fieldWeights[0].field, max(4*limit, 200), where)
	if err != nil || len(first) == 0 {
		return nil, err
	}
	add(first, fieldWeights[0].weight)
	cands := make([]string, len(first))
	for i, h := range first {
		cands[i] = h.SectionID
	}
	only := filters.Where().WithPath([]string{"sectionId"}).WithOperator(filters.ContainsAny).WithValueText(cands...)
	if where != nil {
		only = filters.Where().WithOperator(filters.And).WithOperands([]*filters.WhereBuilder{where, only})
	}
	for _, fw := range fieldWeights[1:] {
		hs, err := bm25(fw.field, len(cands), only)
		if err != nil {
			return nil, err
		}
		add(hs, fw.weight)
	}
	hits := make([]fixgraph.Hit, 0, len(score))
	for id, s := range score {
		hits = append(hits, fixgraph.Hit{Section: &fixgraph.Section{ID: id}, Score: s})
	}
	sortHits(hits)
	return hits[:min(limit, len(hits))], nil
}

// weaviateField is the property holding each field of the embedded index.
var weaviateField = map[string]string{"all": "tokens", "heading": "heading", "path": "path"}

func (w *Weaviate) semantic(ctx context.Context, q string, limit int, f fixgraph.SearchFilter) ([]fixgraph.Hit, error) {
	if w.emb == nil || limit <= 0 {
		return nil, nil
	}
	vecs, err := w.emb.Embed(ctx, []string{q}, true)
	if err != nil {
		return nil, fmt.Errorf("embedding the query: %w", err)
	}
	b := w.query(weaviateSections).
		WithNearVector(w.client.GraphQL().NearVectorArgBuilder().WithVector(vecs[0])).
		WithLimit(limit).
		WithFields(graphql.Field{Name: "sectionId"}, graphql.Field{Name: "_additional", Fields: []graphql.Field{{Name: "distance"}}})
	if where := weaviateFilter(f); where != nil {
		b = b.WithWhere(where)
	}
	hs, err := w.get(ctx, "vector search", b)
	if err != nil {
		return nil, err
	}
	hits := make([]fixgraph.Hit, 0, len(hs))
	for _, h := range hs {
		s := 0.0
		if h.Additional.Distance != nil {
			s = 1 - *h.Additional.Distance // cosine distance to similarity
		}
		hits = append(hits, fixgraph.Hit{Section: &fixgraph.Section{ID: h.SectionID}, Score: s})
	}
	sortHits(hits)
	return hits, nil
}

func (w *Weaviate) knownProducts(ctx context.Context, models []string) ([]string, error) {
	var out []string
	for _, m := range models {
		hs, err := w.get(ctx, "product look-up", w.query(weaviateSections).
			WithWhere(filters.Where().WithPath([]string{"products"}).WithOperator(filters.Equal).WithValueText(m)).
			WithLimit(1).WithFields(graphql.Field{Name: "sectionId"}))
		if err != nil {
			return nil, err
		}
		if len(hs) > 0 {
			out = append(out, m)
		}
	}
	return out, nil
}

func (w *Weaviate) headed(ctx context.Context, tokens []string, limit int, f fixgraph.SearchFilter) ([]string, error) {
	where := filters.Where().WithPath([]string{"heading"}).WithOperator(filters.ContainsAny).WithValueText(tokens...)
	if fw := weaviateFilter(f); fw != nil {
		where = filters.Where().WithOperator(filters.And).WithOperands([]*filters.WhereBuilder{fw, where})
	}
	hs, err := w.get(ctx, "exact-match search", w.query(weaviateSections).
		WithWhere(where).WithLimit(limit).WithFields(graphql.Field{Name: "sectionId"}))
	if err != nil {
		return nil, err
	}
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.SectionID
	}
	return out, nil
}

// weaviateFilter is the filter as a where clause, or nil when it lets everything through.
func weaviateFilter(f fixgraph.SearchFilter) *filters.WhereBuilder {
	var ops []*filters.WhereBuilder
	add := func(path string, values []string) {
		if len(values) > 0 {
			ops = append(ops, filters.Where().WithPath([]string{path}).WithOperator(filters.ContainsAny).WithValueText(values...))
		}
	}
	add("kind", strs(f.Kinds))
	add("lang", f.Languages)
	add("status", strs(f.Statuses))
	add("visibility", strs(f.Visibility))
	add("products", productFilter(f))
	switch len(ops) {
	case 0:
		return nil
	case 1:
		return ops[0]
	}
	return filters.Where().WithOperator(filters.And).WithOperands(ops)
}

// Update writes a document's sections and then its version: the sections first, so that a
// failure leaves the old version recorded and Sync repeats the write. Sections of the document
// that are not among the given ones go. Sections without text are not indexed.
func (w *Weaviate) Update(ctx context.Context, doc *fixgraph.Document, sections []*fixgraph.Section, removed []string) error {
	var keep []*fixgraph.Section
	var texts []string
	for _, s := range sections {
		if strings.TrimSpace(s.Text) != "" {
			keep = append(keep, s)
			texts = append(texts, PassageText(s))
		}
	}
	var vecs [][]float32
	if w.emb != nil && len(texts) > 0 {
		var err error
		if vecs, err = w.emb.Embed(ctx, texts, false); err != nil {
			return fmt.Errorf("embedding sections of %q: %w", doc.Source, err)
		}
	}
	objs := make([]*models.Object, len(keep))
	for i, s := range keep {
		tokens := w.an.Analyze(s.Heading + "\n" + s.Text)
		w.vocab.add(tokens)
		path := strings.Join(s.HeadingPath[:max(len(s.HeadingPath)-1, 0)], " / ")
		objs[i] = &models.Object{
			Class: weaviateSections,
			ID:    objectID(s.ID),
			Properties: map[string]any{
				"sectionId": s.ID, "doc": doc.ID, "kind": string(doc.Kind), "lang": s.Language,
				"status": string(doc.Status), "visibility": string(fixgraph.Audience(doc)),
				"products": productTerms(s.Products),
				"tokens":   strings.Join(tokens, " "),
				"heading":  strings.Join(w.an.Analyze(s.Heading), " "),
				"path":     strings.Join(w.an.Analyze(path), " "),
			},
		}
		if vecs != nil {
			objs[i].Vector = vecs[i]
		}
	}
	if err := w.put(ctx, objs, "writing sections of "+doc.Source); err != nil {
		return err
	}
	// Whatever else the index holds of the document is stale.
	held, err := w.sectionsOf(ctx, doc.ID)
	if err != nil {
		return err
	}
	now := make(map[string]bool, len(keep))
	for _, s := range keep {
		now[s.ID] = true
	}
	stale := slices.DeleteFunc(append(held, removed...), func(id string) bool { return now[id] })
	if err := w.deleteSections(ctx, stale); err != nil {
		return err
	}
	return w.put(ctx, []*models.Object{{
		Class: weaviateDocuments, ID: objectID("document\x00" + doc.ID),
		Properties: map[string]any{"docId": doc.ID, "stamp": docStamp(doc)},
	}}, "recording the version of "+doc.Source)
}

// put writes objects in batches, failing on the first object the server refuses.
func (w *Weaviate) put(ctx context.Context, objs []*models.Object, doing string) error {
	for chunk := range slices.Chunk(objs, weaviateBatch) {
		// A gRPC connection that broke reconnects with a back-off; a write in that window is
		// refused as unavailable, so it is tried again a few times before giving up.
		var res []models.ObjectsGetResponse
		var err error
		giveUp := time.Now().Add(weaviateReconnect)
		for wait := 250 * time.Millisecond; ; wait = min(2*wait, 2*time.Second) {
			cctx, cancel := context.WithTimeout(ctx, weaviateTimeout)
			b := w.client.Batch().ObjectsBatcher().WithObjects(chunk...)
			if w.write != "" {
				b = b.WithConsistencyLevel(w.write)
			}
			res, err = b.Do(cctx)
			cancel()
			if err == nil || time.Now().After(giveUp) || !strings.Contains(err.Error(), "code = Unavailable") {
				break
			}
			select {
			case <-ctx.Done():
				return w.fail(ctx.Err(), doing)
			case <-time.After(wait):
			}
		}
		if err != nil {
			return w.fail(err, doing)
		}
		for _, r := range res {
			if r.Result != nil && r.Result.Errors != nil && len(r.Result.Errors.Error) > 0 {
				return fmt.Errorf("search server %s: %s: object %s: %s", w.where, doing, r.ID, r.Result.Errors.Error[0].Message)
			}
		}
	}
	return nil
}

// sectionsOf returns the ids of the sections the index holds of a document.
func (w *Weaviate) sectionsOf(ctx context.Context, docID string) ([]string, error) {
	hs, err := w.get(ctx, "listing sections", w.query(weaviateSections).
		WithWhere(filters.Where().WithPath([]string{"doc"}).WithOperator(filters.Equal).WithValueText(docID)).
		WithLimit(10000).WithFields(graphql.Field{Name: "sectionId"}))
	if err != nil {
		return nil, err
	}
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.SectionID
	}
	return out, nil
}

func (w *Weaviate) deleteSections(ctx context.Context, ids []string) error {
	slices.Sort(ids)
	ids = slices.Compact(ids)
	for chunk := range slices.Chunk(ids, weaviateBatch) {
		if err := w.deleteWhere(ctx, weaviateSections, filters.Where().WithPath([]string{"sectionId"}).WithOperator(filters.ContainsAny).WithValueText(chunk...)); err != nil {
			return err
		}
	}
	return nil
}

func (w *Weaviate) deleteWhere(ctx context.Context, class string, where *filters.WhereBuilder) error {
	ctx, cancel := context.WithTimeout(ctx, weaviateTimeout)
	defer cancel()
	b := w.client.Batch().ObjectsBatchDeleter().WithClassName(class).WithWhere(where)
	if w.write != "" {
		b = b.WithConsistencyLevel(w.write)
	}
	res, err := b.Do(ctx)
	if err != nil {
		return w.fail(err, "deleting from "+class)
	}
	if res.Results != nil && res.Results.Failed > 0 {
		return fmt.Errorf("search server %s: deleting from %s: %d objects not deleted", w.where, class, res.Results.Failed)
	}
	return nil
}

// Remove deletes a document's sections and its record.
func (w *Weaviate) Remove(ctx context.Context, docID string, sections []string) error {
	if err := w.deleteWhere(ctx, weaviateSections, filters.Where().WithPath([]string{"doc"}).WithOperator(filters.Equal).WithValueText(docID)); err != nil {
		return err
	}
	if err := w.deleteSections(ctx, sections); err != nil {
		return err
	}
	return w.deleteWhere(ctx, weaviateDocuments, filters.Where().WithPath([]string{"docId"}).WithOperator(filters.Equal).WithValueText(docID))
}

// Stamp returns what the index recorded of a document's version, or "" if it has none.
func (w *Weaviate) Stamp(docID string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), weaviateTimeout)
	defer cancel()
	g := w.client.Data().ObjectsGetter().WithClassName(weaviateDocuments).WithID(string(objectID("document\x00" + docID)))
	if w.read != "" {
		g = g.WithConsistencyLevel(w.read)
	}
	objs, err := g.Do(ctx)
	var we *fault.WeaviateClientError
	if errors.As(err, &we) && we.StatusCode == 404 {
		return "", nil
	}
	if err != nil {
		return "", w.fail(err, "reading a document's version")
	}
	if len(objs) == 0 {
		return "", nil
	}
	props, _ := objs[0].Properties.(map[string]any)
	s, _ := props["stamp"].(string)
	return s, nil
}

// Holds reports whether the index holds the document's current version.
func (w *Weaviate) Holds(doc *fixgraph.Document) (bool, error) {
	s, err := w.Stamp(doc.ID)
	return err == nil && s == docStamp(doc), err
}

// indexed returns the documents the index holds; their sections are found by Remove itself.
func (w *Weaviate) indexed(ctx context.Context) (map[string][]string, error) {
	out := map[string][]string{}
	after := ""
	for {
		b := w.query(weaviateDocuments).WithLimit(1000).
			WithFields(graphql.Field{Name: "docId"}, graphql.Field{Name: "_additional", Fields: []graphql.Field{{Name: "id"}}})
		if after != "" {
			b = b.WithAfter(after)
		}
		cctx, cancel := context.WithTimeout(ctx, weaviateTimeout)
		resp, err := b.Do(cctx)
		cancel()
		if err != nil {
			return nil, w.fail(err, "listing documents")
		}
		if len(resp.Errors) > 0 {
			return nil, fmt.Errorf("search server %s: listing documents: %s", w.where, resp.Errors[0].Message)
		}
		raw, _ := json.Marshal(resp.Data)
		var page struct {
			Get map[string][]struct {
				DocID      string `json:"docId"`
				Additional struct {
					ID string `json:"id"`
				} `json:"_additional"`
			}
		}
		if err := json.Unmarshal(raw, &page); err != nil {
			return nil, err
		}
		docs := page.Get[weaviateDocuments]
		for _, d := range docs {
			out[d.DocID] = nil
		}
		if len(docs) < 1000 {
			return out, nil
		}
		after = docs[len(docs)-1].Additional.ID
	}
}

// Sync brings the index in line with the graph: stale documents are written again, documents
// the graph no longer has are removed. The vocabulary for typo correction is read from the
// graph's sections afresh.
func (w *Weaviate) Sync(ctx context.Context, src Source) (SyncStats, error) {
	st, err := syncIndex(ctx, src, w)
	if err != nil {
		return st, err
	}
	vocab := newVocabulary()
	err = src.Scan(ctx, fixgraph.PrefixSection+":", func(n fixgraph.Node) error {
		if s, ok := n.(*fixgraph.Section); ok && strings.TrimSpace(s.Text) != "" {
			vocab.add(w.an.Analyze(s.Heading + "\n" + s.Text))
		}
		return nil
	})
	if err != nil {
		return st, fmt.Errorf("reading the vocabulary from the graph: %w", err)
	}
	w.vocab.replace(vocab)
	return st, nil
}
